//! Unread counts and read markers: a marker never passes the room's head,
//! and a user's own messages are never unread for them.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::{Stack, User};
use crate::helpers::*;

/// Stores messages with seqs `from..=to` from `sender` in `room`, as the writer would.
async fn store_messages(stack: &Stack, room: Uuid, sender: Uuid, from: i64, to: i64) {
    sqlx::query(
        "INSERT INTO messages (id, room_id, seq, sender_id, client_msg_id, kind, body, sent_at)
         SELECT gen_random_uuid(), $1, s, $2, gen_random_uuid()::text, 'user', 'message ' || s, now()
         FROM generate_series($3::bigint, $4::bigint) s",
    )
    .bind(room)
    .bind(sender)
    .bind(from)
    .bind(to)
    .execute(&stack.db.pool)
    .await
    .expect("messages stored");
}

async fn head_and_unread(user: &User, room: Uuid) -> (i64, i64) {
    let mine: Value = json_of(user.get("/api/rooms/mine").await).await;
    let entry = mine
        .as_array()
        .expect("list")
        .iter()
        .find(|r| r["id"] == room.to_string())
        .expect("the room is listed");
    (
        entry["last_seq"].as_i64().expect("last_seq"),
        entry["unread"].as_i64().expect("unread"),
    )
}

#[tokio::test]
async fn a_read_marker_beyond_the_head_stops_at_the_head() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let writer = User::sign_up(&gateway, "wanda").await;
    let reader = User::sign_up(&gateway, "rolf").await;
    let room = writer.create_room(&unique("desk"), "public").await;
    reader.join(room).await;
    store_messages(&stack, room, writer.id, 1, 2).await;

    let marked = reader
        .post(&format!("/api/rooms/{room}/read"), json!({ "seq": 1000 }))
        .await;
    assert_eq!(marked.status(), StatusCode::NO_CONTENT);
    assert_eq!(head_and_unread(&reader, room).await, (2, 0));
    let marker: i64 = sqlx::query_scalar(
        "SELECT last_read_seq FROM room_members WHERE room_id = $1 AND user_id = $2",
    )
    .bind(room)
    .bind(reader.id)
    .fetch_one(&stack.db.pool)
    .await
    .expect("marker");
    assert_eq!(marker, 2, "the stored marker is the head");

    store_messages(&stack, room, writer.id, 3, 5).await;

    assert_eq!(
        head_and_unread(&reader, room).await,
        (5, 3),
        "new messages count as unread"
    );
}

#[tokio::test]
async fn my_own_messages_are_not_unread_for_me() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let me = User::sign_up(&gateway, "ivan").await;
    let friend = User::sign_up(&gateway, "jill").await;
    let room = me.create_room(&unique("chat"), "public").await;
    friend.join(room).await;

    store_messages(&stack, room, me.id, 1, 3).await;
    store_messages(&stack, room, friend.id, 4, 5).await;
    store_messages(&stack, room, me.id, 6, 6).await;

    assert_eq!(head_and_unread(&me, room).await, (6, 2));
    assert_eq!(head_and_unread(&friend, room).await, (6, 4));
    me.post(&format!("/api/rooms/{room}/read"), json!({ "seq": 4 }))
        .await;
    assert_eq!(head_and_unread(&me, room).await, (6, 1));
}

#[tokio::test]
async fn a_read_marker_may_reach_messages_shown_live_but_not_stored_yet() {
    let mut stack = Stack::start().await;
    stack.stop_writer().await;
    let gateway = stack.gateway().await;
    let sender = User::sign_up(&gateway, "sven").await;
    let reader = User::sign_up(&gateway, "rhea").await;
    let room = sender.create_room(&unique("live"), "public").await;
    reader.join(room).await;
    let mut socket = sender.connect(gateway.addr).await;
    socket.subscribe(room, None).await;
    for i in 1..=2 {
        let ack = socket.send_message(room, &format!("m{i}"), "hello").await;
        assert_eq!(ack["seq"], i, "{ack}");
    }

    let marked = reader
        .post(&format!("/api/rooms/{room}/read"), json!({ "seq": 9 }))
        .await;

    assert_eq!(marked.status(), StatusCode::NO_CONTENT);
    let marker: i64 = sqlx::query_scalar(
        "SELECT last_read_seq FROM room_members WHERE room_id = $1 AND user_id = $2",
    )
    .bind(room)
    .bind(reader.id)
    .fetch_one(&stack.db.pool)
    .await
    .expect("marker");
    assert_eq!(
        marker, 2,
        "the sequencer's head, ahead of the stored one (0)"
    );
}
