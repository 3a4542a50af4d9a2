//! `GET /api/preview`, the landing page's look at the public rooms without an
//! account: public rooms only, never a deleted message, people's messages
//! only, bounded, and built once per interval.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::{Stack, User};
use crate::helpers::*;

/// Stores one event as the writer would; `deleted` makes it a tombstone.
async fn store(
    stack: &Stack,
    room: Uuid,
    sender: Uuid,
    seq: i64,
    kind: &str,
    body: &str,
    deleted: bool,
) {
    sqlx::query(
        "INSERT INTO messages (id, room_id, seq, sender_id, client_msg_id, kind, body, sent_at, deleted_at)
         VALUES (gen_random_uuid(), $1, $2, $3, gen_random_uuid()::text, $4::message_kind, $5,
                 now() - make_interval(secs => 100 - $2), CASE WHEN $6 THEN now() END)",
    )
    .bind(room)
    .bind(seq)
    .bind(sender)
    .bind(kind)
    .bind(body)
    .bind(deleted)
    .execute(&stack.db.pool)
    .await
    .expect("message stored");
}

async fn preview(base: &str) -> Value {
    let response = bare_client()
        .get(format!("{base}/api/preview"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

fn bodies(room: &Value) -> Vec<&str> {
    room["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["body"].as_str().expect("body"))
        .collect()
}

#[tokio::test]
async fn the_preview_shows_public_rooms_only_and_no_deleted_message() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let bob = User::sign_up(&gateway, "bob").await;
    let public = alice.create_room(&unique("lobby"), "public").await;
    bob.join(public).await;
    let private = alice.create_room(&unique("secret"), "private").await;
    let dm = alice
        .post("/api/dm", json!({ "username": bob.username }))
        .await;
    assert!(dm.status().is_success(), "{}", dm.status());
    let dm: Value = dm.json().await.expect("dm");
    let direct: Uuid = dm["room"]["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("uuid");

    for seq in 1..=6 {
        store(
            &stack,
            public,
            alice.id,
            seq,
            "user",
            &format!("public {seq}"),
            false,
        )
        .await;
    }
    store(&stack, public, bob.id, 7, "user", "deleted", true).await;
    store(
        &stack,
        public,
        alice.id,
        8,
        "system",
        "a system line",
        false,
    )
    .await;
    store(&stack, public, bob.id, 9, "user", "public 9", false).await;
    store(&stack, private, alice.id, 1, "user", "private words", false).await;
    store(&stack, direct, alice.id, 1, "user", "direct words", false).await;

    let body = preview(&gateway.url("")).await;
    let rooms = body["rooms"].as_array().expect("rooms");
    assert_eq!(rooms.len(), 1, "only the public room: {body}");
    let room = &rooms[0];
    assert_eq!(room["id"], public.to_string());
    assert_eq!(room["members"], 2);
    assert_eq!(room["topic"], "");
    // the 5 latest people's messages, oldest first; not the deleted one nor the system line
    assert_eq!(
        bodies(room),
        ["public 3", "public 4", "public 5", "public 6", "public 9"]
    );
    assert_eq!(room["messages"][4]["sender"]["id"], bob.id.to_string());
    assert_eq!(room["messages"][4]["sender"]["username"], bob.username);
    let text = body.to_string();
    for hidden in ["private words", "direct words", "deleted", "a system line"] {
        assert!(!text.contains(hidden), "{hidden:?} leaked: {text}");
    }
    gateway.stop().await;
}

#[tokio::test]
async fn the_preview_holds_at_most_six_rooms_the_most_recently_active_first() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let mut rooms = Vec::new();
    for i in 0..8 {
        let room = alice
            .create_room(&unique(&format!("room{i}")), "public")
            .await;
        rooms.push(room);
    }
    // room i's only message is i seconds newer than room i-1's
    for (i, room) in rooms.iter().enumerate() {
        sqlx::query(
            "INSERT INTO messages (id, room_id, seq, sender_id, client_msg_id, kind, body, sent_at)
             VALUES (gen_random_uuid(), $1, 1, $2, gen_random_uuid()::text, 'user', 'hi', now() - make_interval(secs => 100 - $3))",
        )
        .bind(room)
        .bind(alice.id)
        .bind(i as f64)
        .execute(&stack.db.pool)
        .await
        .expect("stored");
    }
    let body = preview(&gateway.url("")).await;
    let listed: Vec<&str> = body["rooms"]
        .as_array()
        .expect("rooms")
        .iter()
        .map(|r| r["id"].as_str().expect("id"))
        .collect();
    let expected: Vec<String> = rooms.iter().rev().take(6).map(Uuid::to_string).collect();
    assert_eq!(listed, expected);
    gateway.stop().await;
}

#[tokio::test]
async fn a_flood_of_requests_within_the_interval_is_answered_from_one_query() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let room = alice.create_room(&unique("lobby"), "public").await;
    store(&stack, room, alice.id, 1, "user", "first", false).await;

    let first = preview(&gateway.url("")).await;
    assert_eq!(bodies(&first["rooms"][0]), ["first"]);
    // stored after the preview was built: within the interval nobody sees it,
    // however many ask (each of them would, had it queried the database)
    store(&stack, room, alice.id, 2, "user", "second", false).await;
    let base = gateway.url("");
    let flood: Vec<_> = (0..50)
        .map(|_| {
            let base = base.clone();
            tokio::spawn(async move { preview(&base).await })
        })
        .collect();
    for answer in flood {
        assert_eq!(answer.await.expect("task"), first);
    }
    gateway.stop().await;
}
