//! Rooms: public, private and direct; membership, invitations, read markers.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::{Stack, User};
use crate::helpers::*;

#[tokio::test]
async fn a_public_room_can_be_created_found_joined_and_left() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let owner = User::sign_up(&gateway, "kate").await;
    let guest = User::sign_up(&gateway, "liam").await;
    let name = unique("Rust Lovers");

    let created = owner
        .post("/api/rooms", json!({ "name": name, "kind": "public" }))
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let room = json_of(created).await;
    assert_eq!(room["kind"], "public");
    assert_eq!(room["member_count"], 1);
    let id: Uuid = room["id"].as_str().expect("id").parse().expect("uuid");

    let found = json_of(
        guest
            .get(&format!(
                "/api/rooms?q={}",
                name.to_uppercase().replace(' ', "+")
            ))
            .await,
    )
    .await;
    assert_eq!(
        found.as_array().expect("list").len(),
        1,
        "search ignores case"
    );
    assert_eq!(found[0]["id"], room["id"]);

    let joined = guest
        .post(&format!("/api/rooms/{id}/join"), json!({}))
        .await;
    assert_eq!(joined.status(), StatusCode::OK);
    assert_eq!(json_of(joined).await["member_count"], 2);
    let again = guest
        .post(&format!("/api/rooms/{id}/join"), json!({}))
        .await;
    assert_eq!(again.status(), StatusCode::OK, "joining twice is harmless");
    assert_eq!(json_of(again).await["member_count"], 2);

    let members = json_of(guest.get(&format!("/api/rooms/{id}/members")).await).await;
    let roles: Vec<(&str, &str)> = members
        .as_array()
        .expect("members")
        .iter()
        .map(|m| {
            (
                m["username"].as_str().expect("name"),
                m["role"].as_str().expect("role"),
            )
        })
        .collect();
    assert_eq!(
        roles,
        vec![
            (owner.username.as_str(), "owner"),
            (guest.username.as_str(), "member")
        ]
    );

    let left = guest
        .post(&format!("/api/rooms/{id}/leave"), json!({}))
        .await;
    assert_eq!(left.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        guest
            .get(&format!("/api/rooms/{id}/members"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let mine = json_of(guest.get("/api/rooms/mine").await).await;
    assert_eq!(mine.as_array().expect("list").len(), 0);
}

#[tokio::test]
async fn search_lists_only_public_rooms_newest_first_within_the_limit() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let user = User::sign_up(&gateway, "mia").await;
    let tag = unique("club");
    let older = user.create_room(&format!("{tag} one"), "public").await;
    let newer = user.create_room(&format!("{tag} two"), "public").await;
    user.create_room(&format!("{tag} secret"), "private").await;
    user.create_room("unrelated", "public").await;

    let found = json_of(user.get(&format!("/api/rooms?q={tag}")).await).await;
    let ids: Vec<&str> = found
        .as_array()
        .expect("list")
        .iter()
        .map(|r| r["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, vec![newer.to_string(), older.to_string()]);

    let limited = json_of(user.get(&format!("/api/rooms?q={tag}&limit=1")).await).await;
    assert_eq!(limited.as_array().expect("list").len(), 1);
    assert_eq!(
        user.get("/api/rooms?limit=0").await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let everything = json_of(user.get("/api/rooms?limit=1000").await).await;
    assert_eq!(
        everything.as_array().expect("list").len(),
        3,
        "no query: every public room"
    );
}

#[tokio::test]
async fn a_private_room_is_closed_to_non_members_until_they_are_invited() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let owner = User::sign_up(&gateway, "nina").await;
    let outsider = User::sign_up(&gateway, "oscar").await;
    let room = owner.create_room(&unique("hideout"), "private").await;
    seed_messages(&stack, room, owner.id, 3).await;

    let join = outsider
        .post(&format!("/api/rooms/{room}/join"), json!({}))
        .await;
    assert_eq!(join.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        outsider
            .get(&format!("/api/rooms/{room}/messages"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        outsider
            .get(&format!("/api/rooms/{room}/members"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let self_invite = outsider
        .post(
            &format!("/api/rooms/{room}/invite"),
            json!({ "username": outsider.username }),
        )
        .await;
    assert_eq!(
        self_invite.status(),
        StatusCode::FORBIDDEN,
        "only members invite"
    );
    let search = json_of(outsider.get("/api/rooms?q=hideout").await).await;
    assert_eq!(
        search.as_array().expect("list").len(),
        0,
        "private rooms are not listed"
    );
    let unknown = Uuid::now_v7();
    assert_eq!(
        outsider
            .get(&format!("/api/rooms/{unknown}/messages"))
            .await
            .status(),
        StatusCode::FORBIDDEN,
        "an unknown room looks like a closed one"
    );

    let invited = owner
        .post(
            &format!("/api/rooms/{room}/invite"),
            json!({ "username": outsider.username.to_uppercase() }),
        )
        .await;
    assert_eq!(invited.status(), StatusCode::OK);
    assert_eq!(json_of(invited).await["id"], outsider.id.to_string());
    let nobody = owner
        .post(
            &format!("/api/rooms/{room}/invite"),
            json!({ "username": unique("nobody") }),
        )
        .await;
    assert_eq!(nobody.status(), StatusCode::NOT_FOUND);

    assert_eq!(seqs(&history(&outsider, room, "").await), vec![1, 2, 3]);
    assert_eq!(
        outsider
            .get(&format!("/api/rooms/{room}/members"))
            .await
            .status(),
        StatusCode::OK
    );
    let accepted = outsider
        .post(&format!("/api/rooms/{room}/join"), json!({}))
        .await;
    assert_eq!(
        accepted.status(),
        StatusCode::OK,
        "an invited member may join"
    );
}

#[tokio::test]
async fn a_direct_room_is_the_same_room_from_both_sides() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let bob = User::sign_up(&gateway, "bob").await;
    let eve = User::sign_up(&gateway, "eve").await;

    let from_alice = alice
        .post("/api/dm", json!({ "username": bob.username }))
        .await;
    assert_eq!(from_alice.status(), StatusCode::OK);
    let from_alice = json_of(from_alice).await;
    let from_bob = json_of(
        bob.post(
            "/api/dm",
            json!({ "username": alice.username.to_uppercase() }),
        )
        .await,
    )
    .await;
    let again = json_of(
        alice
            .post("/api/dm", json!({ "username": bob.username }))
            .await,
    )
    .await;

    assert_eq!(from_alice["room"]["id"], from_bob["room"]["id"]);
    assert_eq!(from_alice["room"]["id"], again["room"]["id"]);
    assert_eq!(from_alice["room"]["kind"], "direct");
    assert_eq!(from_alice["room"]["name"], bob.username.as_str());
    assert_eq!(from_bob["room"]["name"], alice.username.as_str());
    let room: Uuid = from_alice["room"]["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("uuid");
    let rooms: i64 = sqlx::query_scalar("SELECT count(*) FROM rooms WHERE kind = 'direct'")
        .fetch_one(&stack.db.pool)
        .await
        .expect("count");
    assert_eq!(rooms, 1);

    let bobs_rooms = json_of(bob.get("/api/rooms/mine").await).await;
    assert_eq!(bobs_rooms[0]["id"], room.to_string());
    assert_eq!(bobs_rooms[0]["name"], alice.username.as_str());
    assert_eq!(
        eve.post(&format!("/api/rooms/{room}/join"), json!({}))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        eve.get(&format!("/api/rooms/{room}/messages"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        alice
            .post("/api/dm", json!({ "username": unique("nobody") }))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        alice
            .post("/api/dm", json!({ "username": alice.username }))
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

#[tokio::test]
async fn my_rooms_count_unread_messages_and_read_markers_only_move_forward() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let reader = User::sign_up(&gateway, "paul").await;
    let outsider = User::sign_up(&gateway, "quinn").await;
    let room = reader.create_room(&unique("news"), "public").await;
    // from someone else: the reader's own messages are never unread for them
    seed_messages(&stack, room, outsider.id, 5).await;

    let unread = |rooms: &Value| (rooms[0]["last_seq"].as_i64(), rooms[0]["unread"].as_i64());
    assert_eq!(
        unread(&json_of(reader.get("/api/rooms/mine").await).await),
        (Some(5), Some(5))
    );

    let marked = reader
        .post(&format!("/api/rooms/{room}/read"), json!({ "seq": 3 }))
        .await;
    assert_eq!(marked.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        unread(&json_of(reader.get("/api/rooms/mine").await).await),
        (Some(5), Some(2))
    );

    reader
        .post(&format!("/api/rooms/{room}/read"), json!({ "seq": 1 }))
        .await;
    assert_eq!(
        unread(&json_of(reader.get("/api/rooms/mine").await).await),
        (Some(5), Some(2)),
        "never back"
    );

    let not_member = outsider
        .post(&format!("/api/rooms/{room}/read"), json!({ "seq": 1 }))
        .await;
    assert_eq!(not_member.status(), StatusCode::FORBIDDEN);
    let negative = reader
        .post(&format!("/api/rooms/{room}/read"), json!({ "seq": -1 }))
        .await;
    assert_eq!(negative.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn rooms_refuse_anonymous_callers_and_bad_input() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let user = User::sign_up(&gateway, "rita").await;

    let anonymous = bare_client()
        .get(gateway.url("/api/rooms/mine"))
        .send()
        .await
        .expect("request");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    for body in [
        json!({ "name": "   ", "kind": "public" }),
        json!({ "name": "x".repeat(81), "kind": "public" }),
        json!({ "name": "dm", "kind": "direct" }),
        json!({ "name": "no kind" }),
    ] {
        let response = user.post("/api/rooms", body.clone()).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}"
        );
        assert_eq!(json_of(response).await["error"]["code"], "invalid");
    }
    assert_eq!(
        user.get("/api/rooms/not-a-uuid/members").await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
}
