//! Search: only the caller's rooms (members now), ranked, phrases, Unicode,
//! and input that looks like SQL or tsquery syntax answered without error.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::{Stack, User};
use crate::helpers::*;

async fn search(user: &User, query: &[(&str, &str)]) -> reqwest::Response {
    let url =
        reqwest::Url::parse_with_params(&format!("{}/api/search", user.base), query).expect("url");
    user.http
        .get(url)
        .bearer_auth(&user.token)
        .send()
        .await
        .expect("request")
}

/// The ids of the results of `q`.
async fn found(user: &User, q: &str) -> Vec<Uuid> {
    let answer = search(user, &[("q", q)]).await;
    assert_eq!(answer.status(), StatusCode::OK, "{q}");
    ids(&json_of(answer).await)
}

fn ids(page: &Value) -> Vec<Uuid> {
    page["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["id"].as_str().expect("id").parse().expect("uuid"))
        .collect()
}

#[tokio::test]
async fn search_finds_only_the_callers_rooms_best_match_first() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let bob = User::sign_up(&gateway, "bob").await;
    let mine = alice.create_room("foxes", "public").await;
    let other = alice.create_room("food", "public").await;
    let bobs = bob.create_room("bobs secrets", "private").await;
    let two = store_message(&stack, mine, alice.id, 1, "the quick fox").await;
    let three = store_message(&stack, mine, bob.id, 2, "a quick brown fox").await;
    let cafe = store_message(&stack, other, alice.id, 1, "Un café crème, s'il vous plaît").await;
    let cjk = store_message(&stack, other, alice.id, 2, "東京 タワー に 行く").await;
    let reversed = store_message(&stack, other, alice.id, 3, "a fox brown and red").await;
    store_message(&stack, bobs, bob.id, 1, "quick secret fox plans").await;

    // more terms matched ranks first; bob's private room never shows
    let ranked = found(&alice, "quick or brown or fox").await;
    assert_eq!(ranked.len(), 3, "{ranked:?}");
    assert_eq!(ranked[0], three, "three terms before two");
    // equal ranks: the later message first
    assert_eq!(ranked[1..], [reversed, two]);
    assert_eq!(found(&alice, "secret").await, Vec::<Uuid>::new());
    assert_eq!(
        found(&alice, "quick fox").await.len(),
        2,
        "only alice's rooms"
    );
    // a quoted phrase is matched in order
    assert_eq!(found(&alice, "\"brown fox\"").await, vec![three]);
    assert_eq!(found(&alice, "\"fox brown\"").await, vec![reversed]);
    // accents and CJK, matched whole words whatever the case
    assert_eq!(found(&alice, "CAFÉ").await, vec![cafe]);
    assert_eq!(found(&alice, "東京").await, vec![cjk]);
    assert_eq!(
        found(&alice, "cafe").await,
        Vec::<Uuid>::new(),
        "no unaccenting"
    );

    // the snippet is plain segments, the hits marked
    let page = json_of(search(&alice, &[("q", "brown"), ("room", &mine.to_string())]).await).await;
    let result = &page["results"][0];
    assert_eq!(result["room"], json!({ "id": mine, "name": "foxes" }));
    assert_eq!(result["sender"]["username"], bob.username.as_str());
    assert_eq!(result["seq"], 2);
    let snippet = result["snippet"].as_array().expect("snippet");
    let text: String = snippet
        .iter()
        .map(|s| s["text"].as_str().expect("text"))
        .collect();
    assert_eq!(text, "a quick brown fox");
    let hits: Vec<&str> = snippet
        .iter()
        .filter(|s| s["hit"] == true)
        .map(|s| s["text"].as_str().expect("text"))
        .collect();
    assert_eq!(hits, ["brown"]);

    // paging
    let page = json_of(search(&alice, &[("q", "fox"), ("limit", "1")]).await).await;
    assert_eq!(page["has_more"], true);
    assert_eq!(ids(&page).len(), 1);
    let last =
        json_of(search(&alice, &[("q", "fox"), ("limit", "1"), ("offset", "2")]).await).await;
    assert_eq!(last["has_more"], false);

    // a deleted message no longer matches; a room left stops matching
    sqlx::query("UPDATE messages SET body = '', deleted_at = now() WHERE id = $1")
        .bind(two)
        .execute(&stack.db.pool)
        .await
        .expect("deleted");
    assert_eq!(found(&alice, "quick").await, vec![three]);
    let left = alice
        .post(&format!("/api/rooms/{other}/leave"), json!({}))
        .await;
    assert_eq!(left.status(), StatusCode::NO_CONTENT);
    assert_eq!(found(&alice, "café").await, Vec::<Uuid>::new());
}

#[tokio::test]
async fn search_input_that_looks_like_syntax_is_harmless_and_bounds_are_enforced() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let room = alice.create_room("syntax", "public").await;
    let id = store_message(&stack, room, alice.id, 1, "please drop table messages").await;

    for q in [
        "'; DROP TABLE messages; --",
        "a & b | !c",
        ":*",
        "!!!",
        "((( \"",
        "\\",
        "-",
        "or",
        "<b>x</b>",
        "\u{202e}drop",
    ] {
        let answer = search(&alice, &[("q", q)]).await;
        assert_eq!(answer.status(), StatusCode::OK, "{q:?}");
        json_of(answer).await;
    }
    // the table is still there, and the words of such input still match as words
    assert_eq!(found(&alice, "'; DROP TABLE messages; --").await, vec![id]);

    for bad in [
        vec![("q", "")],
        vec![("q", "   ")],
        vec![("q", &*"x".repeat(201))],
        vec![("q", "x"), ("limit", "0")],
        vec![("q", "x"), ("limit", "51")],
        vec![("q", "x"), ("offset", "1001")],
        vec![("q", "x"), ("offset", "-1")],
    ] {
        let answer = search(&alice, &bad).await;
        assert_eq!(answer.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
    }
    let fits = search(&alice, &[("q", &*"é".repeat(200))]).await;
    assert_eq!(fits.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_search_past_its_time_limit_is_told_apart_from_a_failure() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let room = alice.create_room("haystack", "public").await;
    sqlx::query(
        "INSERT INTO messages (id, room_id, seq, sender_id, client_msg_id, kind, body, sent_at)
         SELECT gen_random_uuid(), $1, s, $2, 'h-' || s, 'user', 'hay and more hay ' || s, now()
         FROM generate_series(1, 50000) s",
    )
    .bind(room)
    .bind(alice.id)
    .execute(&stack.db.pool)
    .await
    .expect("seeded");
    let search = |timeout_ms| {
        chat_gateway::db::search::messages(
            &stack.db.pool,
            alice.id,
            "hay",
            None,
            (20, 0),
            timeout_ms,
        )
    };
    let cut = search(1).await;
    assert!(
        matches!(cut, Err(chat_gateway::db::search::SearchError::TooBroad)),
        "{cut:?}"
    );
    let page = search(chat_gateway::db::search::SEARCH_TIMEOUT_MS)
        .await
        .expect("a page");
    assert_eq!(page.len(), 20);
}
