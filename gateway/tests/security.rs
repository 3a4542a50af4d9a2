//! G8 and G7 at the socket: who may connect, read and write, and what happens past a limit.

mod common;

use common::*;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn a_non_member_can_neither_read_nor_write_a_private_room() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let mallory = User::sign_up(&gateway, "mallory").await;
    let room = alice.create_room("secret", "private").await;

    let mut socket = mallory.connect(gateway.addr).await;
    socket
        .send(json!({"type": "subscribe", "room": room, "last_seq": 0}))
        .await;
    let refused = socket.next_of("error").await;
    assert_eq!(refused["code"], "forbidden");
    let send = socket.send_message(room, "m1", "let me in").await;
    assert_eq!(
        (send["type"].as_str(), send["code"].as_str()),
        (Some("error"), Some("forbidden"))
    );
    assert_eq!(
        mallory
            .get(&format!("/api/rooms/{room}/messages"))
            .await
            .status(),
        403
    );

    // a member's message after the refused one, in the same room (so the same
    // partition): once it is stored, the writer is past where mallory's would be
    let mut own = alice.connect(gateway.addr).await;
    let later = own.send_message(room, "a1", "members only").await;
    assert_eq!(later["type"], "ack");
    let later: uuid::Uuid = later["id"].as_str().expect("id").parse().expect("uuid");
    test_support::wait_until("the member's later message stored", WAIT, || async {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM messages WHERE id = $1")
            .bind(later)
            .fetch_one(&stack.db.pool)
            .await
            .ok()?;
        (n == 1).then_some(())
    })
    .await;
    let bodies: Vec<String> = sqlx::query_scalar("SELECT body FROM messages")
        .fetch_all(&stack.db.pool)
        .await
        .expect("rows");
    assert_eq!(bodies, vec!["members only".to_owned()]);
}

#[tokio::test]
async fn a_foreign_origin_a_bad_ticket_and_a_used_ticket_are_refused_before_the_upgrade() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;

    let ticket = alice.ticket().await;
    assert!(
        Socket::open(gateway.addr, &ticket, "https://evil.example")
            .await
            .is_err(),
        "foreign origin"
    );
    assert!(
        Socket::open(gateway.addr, &"0".repeat(64), ORIGIN)
            .await
            .is_err(),
        "unknown ticket"
    );
    assert!(
        Socket::open(gateway.addr, "not-a-ticket", ORIGIN)
            .await
            .is_err(),
        "malformed ticket"
    );
    let ticket = alice.ticket().await;
    assert!(
        Socket::open(gateway.addr, &ticket, ORIGIN).await.is_ok(),
        "a fresh ticket works"
    );
    assert!(
        Socket::open(gateway.addr, &ticket, ORIGIN).await.is_err(),
        "a ticket works once"
    );
    let anonymous = reqwest::Client::new()
        .post(gateway.url("/api/ws-ticket"))
        .send()
        .await
        .expect("request");
    assert_eq!(anonymous.status(), 401, "no ticket without a token");
}

#[tokio::test]
async fn oversized_and_malformed_input_gets_a_clear_answer_and_stores_nothing() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let room = alice.create_room("limits", "public").await;
    let mut socket = alice.connect(gateway.addr).await;

    let too_long = "x".repeat(chat_core::event::MAX_BODY_CHARS + 1);
    let refused = socket.send_message(room, "big", &too_long).await;
    assert_eq!(
        (refused["type"].as_str(), refused["code"].as_str()),
        (Some("error"), Some("invalid"))
    );
    let empty = socket.send_message(room, "empty", "   ").await;
    assert_eq!(empty["code"], "invalid");
    socket.send_raw(Message::text("{not json")).await;
    assert_eq!(socket.next_of("error").await["code"], "bad_frame");
    let ok = socket.send_message(room, "fine", "still connected").await;
    assert_eq!(ok["type"], "ack");

    let limit = stack.gateway_config().ws_max_message_bytes;
    socket.send_raw(Message::text("x".repeat(limit + 1))).await;
    assert_eq!(
        socket.closed_with().await,
        Some(1009),
        "a frame past the size limit closes with 1009"
    );

    test_support::wait_until("the good message stored", WAIT, || async {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM messages")
            .fetch_one(&stack.db.pool)
            .await
            .ok()?;
        (n >= 1).then_some(())
    })
    .await;
    let bodies: Vec<String> = sqlx::query_scalar("SELECT body FROM messages")
        .fetch_all(&stack.db.pool)
        .await
        .expect("rows");
    assert_eq!(bodies, vec!["still connected".to_owned()]);
}

#[tokio::test]
async fn a_user_past_the_message_rate_is_told_to_slow_down() {
    let stack = Stack::start().await;
    let mut config = stack.gateway_config();
    config.ws_messages_per_sec = 1;
    config.ws_messages_burst = 3;
    let gateway = Gateway::start(config).await;
    let alice = User::sign_up(&gateway, "alice").await;
    let room = alice.create_room("rate", "public").await;
    let mut socket = alice.connect(gateway.addr).await;

    for i in 0..6 {
        socket.send(json!({"type": "send", "room": room, "client_msg_id": format!("r{i}"), "body": "spam"})).await;
    }
    let mut acks = 0;
    let mut limited = 0;
    while acks + limited < 6 {
        let frame = socket.next_frame().await;
        match (frame["type"].as_str(), frame["code"].as_str()) {
            (Some("ack"), _) => acks += 1,
            (Some("error"), Some("rate_limited")) => limited += 1,
            _ => {}
        }
    }
    assert_eq!(
        (acks, limited),
        (3, 3),
        "the burst passes, the rest is refused"
    );
}

#[tokio::test]
async fn a_connection_whose_token_expires_is_closed_with_1008() {
    let stack = Stack::start().await;
    let mut config = stack.gateway_config();
    config.access_ttl_secs = 2;
    let gateway = Gateway::start(config).await;
    let alice = User::sign_up(&gateway, "alice").await;
    let mut socket = alice.connect(gateway.addr).await;

    assert_eq!(socket.closed_with().await, Some(1008));
}

#[tokio::test]
async fn a_gateway_shutting_down_closes_its_sockets_with_1001() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let room = alice.create_room("going-away", "public").await;
    let mut socket = alice.connect(gateway.addr).await;
    socket.subscribe(room, Some(0)).await;

    gateway.shutdown.cancel();

    assert_eq!(
        socket.closed_with().await,
        Some(1001),
        "clients are told to go elsewhere"
    );
}
