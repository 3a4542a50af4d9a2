//! Resends that Redis no longer remembers (G2 with no time limit): the stored
//! row answers them, nothing is produced again, and membership is checked in
//! the room the message was posted to. And what lets Redis forget (G9): every
//! key a message leaves there expires.

mod common;

use common::*;
use serde_json::{Value, json};
use test_support::kafka;
use uuid::Uuid;

/// Records produced to the messages topic so far (all partitions).
fn produced(stack: &Stack) -> i64 {
    kafka::end_offsets(&stack.topics.brokers, &stack.topics.topic, 4)
        .iter()
        .sum()
}

/// Deletes the Redis keys matching `pattern`, as their expiry would.
async fn expire_keys(stack: &Stack, pattern: &str) {
    let client = redis::Client::open(stack.redis.url()).expect("redis url");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(pattern)
        .query_async(&mut conn)
        .await
        .expect("keys");
    assert!(!keys.is_empty(), "no key matches {pattern}");
    let _: () = redis::cmd("DEL")
        .arg(&keys)
        .query_async(&mut conn)
        .await
        .expect("del");
}

/// The dedupe claims in Redis.
async fn claims(stack: &Stack) -> Vec<String> {
    let client = redis::Client::open(stack.redis.url()).expect("redis url");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    redis::cmd("KEYS")
        .arg("chat:dedupe:*")
        .query_async(&mut conn)
        .await
        .expect("keys")
}

/// Sends until the answer is not `unavailable`: right after a Redis restart the
/// gateway's first commands on its broken connections fail, and a client
/// resends then, as the protocol says.
async fn send_until_answered(socket: &mut Socket, room: Uuid, id: &str, body: &str) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let frame = socket.send_message(room, id, body).await;
        if frame["code"] != "unavailable" {
            return frame;
        }
        assert!(tokio::time::Instant::now() < deadline, "still {frame}");
    }
}

fn assert_same_message(again: &Value, first: &Value) {
    assert_eq!(again["type"], "ack", "the resend is acknowledged: {again}");
    assert_eq!(again["id"], first["id"], "same id");
    assert_eq!(again["seq"], first["seq"], "same seq");
    assert_eq!(again["room"], first["room"], "same room");
}

#[tokio::test]
async fn a_resend_after_its_redis_keys_expired_gets_the_stored_id_and_seq() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let room = alice.create_room("old-resend", "public").await;
    let mut socket = alice.connect(gateway.addr).await;
    let first = socket.send_message(room, "old", "sent long ago").await;
    stack.wait_stored(room, 1).await;

    expire_keys(&stack, "chat:dedupe:*").await;
    expire_keys(&stack, &format!("chat:{{{room}}}:msg:*")).await;
    let again = socket.send_message(room, "old", "sent long ago").await;
    let other_body = socket.send_message(room, "old", "not what was sent").await;

    assert_same_message(&again, &first);
    assert_eq!(other_body["type"], "error", "{other_body}");
    assert_eq!(other_body["code"], "invalid", "{other_body}");
    let next = socket.send_message(room, "next", "a new message").await;
    assert_eq!(next["seq"], 2, "the resend took no seq");
    stack.wait_stored(room, 2).await;
    assert_eq!(produced(&stack), 2, "the resend was not produced again");
    assert_eq!(stack.stored_count(room).await, 2);
}

/// A plain message's claim is made while its membership is read: a send that
/// is refused, or answered from its row, takes it back.
#[tokio::test]
async fn a_send_refused_or_answered_from_its_row_leaves_no_claim() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let bob = User::sign_up(&gateway, "bob").await;
    let room = alice.create_room("claims", "public").await;
    let mut socket = bob.connect(gateway.addr).await;

    let refused = socket.send_message(room, "c1", "before joining").await;
    assert_eq!(refused["code"], "forbidden", "{refused}");
    assert_eq!(claims(&stack).await, Vec::<String>::new());
    // so the client message id is free: a member's send with it is a new message
    bob.join(room).await;
    let first = socket.send_message(room, "c1", "after joining").await;
    assert_eq!(first["type"], "ack", "{first}");
    stack.wait_stored(room, 1).await;
    let body: String = sqlx::query_scalar("SELECT body FROM messages WHERE room_id = $1")
        .bind(room)
        .fetch_one(&stack.db.pool)
        .await
        .expect("body");
    assert_eq!(body, "after joining");

    expire_keys(&stack, "chat:dedupe:*").await;
    let again = socket.send_message(room, "c1", "after joining").await;
    assert_same_message(&again, &first);
    assert_eq!(
        claims(&stack).await,
        Vec::<String>::new(),
        "a resend answered from its row claims nothing"
    );
}

#[tokio::test]
async fn a_resend_after_redis_lost_its_data_gets_the_stored_id_and_seq() {
    let mut stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let room = alice.create_room("lost-resend", "public").await;
    let mut socket = alice.connect(gateway.addr).await;
    let first = socket
        .send_message(room, "lost", "before the restart")
        .await;
    stack.wait_stored(room, 1).await;

    stack.redis.restart_empty();
    // the first commands on the gateway's broken Redis connections may fail
    // with `unavailable`: a client resends then, as the protocol says
    let again = send_until_answered(&mut socket, room, "lost", "before the restart").await;

    assert_same_message(&again, &first);
    let next = send_until_answered(&mut socket, room, "after", "after the restart").await;
    assert_eq!(next["seq"], 2, "the resend took no seq: {next}");
    stack.wait_stored(room, 2).await;
    assert_eq!(
        produced(&stack),
        2,
        "the resend was not produced again (so nothing can be dead-lettered)"
    );
}

#[tokio::test]
async fn a_resend_after_redis_lost_its_claim_before_the_message_was_stored_gets_the_same_id() {
    let mut stack = Stack::start().await;
    // the writer is behind: the first send is in Kafka, not in Postgres
    stack
        .writer
        .take()
        .expect("the stack's writer")
        .stop()
        .await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let room = alice.create_room("unstored-resend", "public").await;
    let mut socket = alice.connect(gateway.addr).await;
    let first = socket.send_message(room, "pending", "not stored yet").await;
    assert_eq!(first["type"], "ack", "{first}");

    // Redis loses the claim (and the room's state) before the writer stores the message
    stack.redis.restart_empty();
    let again = send_until_answered(&mut socket, room, "pending", "not stored yet").await;
    assert_eq!(again["type"], "ack", "the resend is acknowledged: {again}");
    assert_eq!(again["id"], first["id"], "a resend names the same message");

    stack.start_writer().await;
    stack.wait_stored(room, 1).await;
    let ids: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM messages WHERE room_id = $1")
        .bind(room)
        .fetch_all(&stack.db.pool)
        .await
        .expect("ids");
    let acked: Uuid = first["id"].as_str().expect("id").parse().expect("uuid");
    assert_eq!(
        ids,
        vec![acked],
        "the acknowledged id is the one stored, once"
    );
}

#[tokio::test]
async fn a_resend_naming_another_room_is_refused_when_the_sender_left_the_original_room() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let bob = User::sign_up(&gateway, "bob").await;
    let left = alice.create_room("left", "public").await;
    let stayed = alice.create_room("stayed", "public").await;
    bob.join(left).await;
    bob.join(stayed).await;
    let mut socket = bob.connect(gateway.addr).await;
    let first = socket
        .send_message(left, "c1", "posted in the left room")
        .await;
    assert_eq!(first["type"], "ack");

    let response = bob
        .post(&format!("/api/rooms/{left}/leave"), json!({}))
        .await;
    assert_eq!(response.status(), 204);
    let again = socket
        .send_message(stayed, "c1", "posted in the left room")
        .await;

    assert_eq!(again["type"], "error", "{again}");
    assert_eq!(again["code"], "forbidden", "{again}");
}

#[tokio::test]
async fn every_key_a_message_leaves_in_redis_expires_within_the_ttl() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let room = alice.create_room("expiring", "public").await;
    let mut socket = alice.connect(gateway.addr).await;
    let ack = socket
        .send_message(room, "expiring", "gone in minutes")
        .await;
    assert_eq!(ack["type"], "ack");

    let ttl = i64::try_from(stack.gateway_config().sequencer.ttl_secs).expect("ttl");
    let client = redis::Client::open(stack.redis.url()).expect("redis url");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("chat:*")
        .query_async(&mut conn)
        .await
        .expect("keys");
    let per_message: Vec<&String> = keys
        .iter()
        .filter(|k| k.starts_with("chat:dedupe:") || k.contains(":msg:") || k.ends_with(":tail"))
        .collect();
    assert_eq!(per_message.len(), 3, "dedupe, id -> seq and tail: {keys:?}");
    for key in per_message {
        let left: i64 = redis::cmd("TTL")
            .arg(key)
            .query_async(&mut conn)
            .await
            .expect("TTL");
        assert!(
            0 < left && left <= ttl,
            "{key} expires in {left} s, not within {ttl} s"
        );
    }
}
