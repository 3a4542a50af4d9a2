//! What the moderation tests share: PUT and DELETE as a user, a public room
//! with members, and rows seeded straight into Postgres.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::{Gateway, Stack, User};

pub async fn put(user: &User, path: &str, body: Value) -> reqwest::Response {
    user.http
        .put(format!("{}{path}", user.base))
        .bearer_auth(&user.token)
        .json(&body)
        .send()
        .await
        .expect("request")
}

pub async fn delete(user: &User, path: &str) -> reqwest::Response {
    user.http
        .delete(format!("{}{path}", user.base))
        .bearer_auth(&user.token)
        .send()
        .await
        .expect("request")
}

pub async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.expect("json body")
}

/// An owner's public room that each of `members` joined.
pub async fn room_with(owner: &User, members: &[&User]) -> Uuid {
    let room = owner.create_room("moderated", "public").await;
    for member in members {
        member.join(room).await;
    }
    room
}

/// Makes `member` a moderator of `room` (as its owner).
pub async fn promote(owner: &User, room: Uuid, member: &User) {
    let response = put(
        owner,
        &format!("/api/rooms/{room}/members/{}/role", member.id),
        json!({ "role": "moderator" }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK, "promoted");
}

pub async fn ban(by: &User, room: Uuid, user: Uuid) -> reqwest::Response {
    by.post(
        &format!("/api/rooms/{room}/bans"),
        json!({ "user_id": user }),
    )
    .await
}

/// The `code` of an error answer.
pub async fn code_of(response: reqwest::Response) -> String {
    json_of(response).await["error"]["code"]
        .as_str()
        .expect("error code")
        .to_owned()
}

/// Signs up `n` users through `gateway`.
pub async fn users(gateway: &Gateway, prefixes: &[&str]) -> Vec<User> {
    let mut out = Vec::new();
    for prefix in prefixes {
        out.push(User::sign_up(gateway, prefix).await);
    }
    out
}

/// Stores a message as the writer would, with the next seq `seq`.
pub async fn store_message(stack: &Stack, room: Uuid, sender: Uuid, seq: i64, body: &str) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO messages (id, room_id, seq, sender_id, client_msg_id, kind, body, sent_at)
         VALUES ($1, $2, $3, $4, $1::text, 'user', $5, now())",
    )
    .bind(id)
    .bind(room)
    .bind(seq)
    .bind(sender)
    .bind(body)
    .execute(&stack.db.pool)
    .await
    .expect("message stored");
    id
}
