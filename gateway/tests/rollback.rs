//! Redis restarted from a snapshot that lacks its last writes, under running
//! gateways: no seq is handed out twice under one epoch, a client that holds
//! the lost seqs is told to reload, and every acknowledged message is stored.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{Socket, Stack, User};
use serde_json::{Value, json};
use test_support::RedisServer;
use uuid::Uuid;

/// Sends until the gateway acknowledges (Redis may still be coming back).
async fn send_acked(socket: &mut Socket, room: Uuid, client_msg_id: &str) -> Value {
    let mut tries = 0;
    loop {
        let answer = socket
            .send_message(room, client_msg_id, client_msg_id)
            .await;
        if answer["type"] == "ack" {
            return answer;
        }
        tries += 1;
        assert!(tries < 50, "no ack for {client_msg_id}: {answer}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn after_redis_rolls_back_no_seq_is_reused_silently_and_every_ack_is_stored() {
    let mut stack = Stack::start_on(RedisServer::start_with_snapshots()).await;
    stack.stop_writer().await; // the writer is behind: nothing is stored yet
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let room = alice.create_room("rollback", "public").await;
    let mut a = alice.connect(gateway.addr).await;
    a.subscribe(room, Some(0)).await;

    let mut acks = Vec::new();
    for i in 0..3 {
        acks.push(send_acked(&mut a, room, &format!("kept-{i}")).await);
    }
    stack.redis.snapshot();
    for i in 0..3 {
        acks.push(send_acked(&mut a, room, &format!("lost-{i}")).await);
    }
    let old_epoch = acks[5]["epoch"].as_u64().expect("epoch");
    let last_seq = acks[5]["seq"].as_i64().expect("seq");
    stack.redis.restart_from_snapshot();
    for i in 0..3 {
        acks.push(send_acked(&mut a, room, &format!("after-{i}")).await);
    }

    // a client that saw the lost seqs resubscribes with them
    let mut b = alice.connect(gateway.addr).await;
    b.send(json!({"type": "subscribe", "room": room, "last_seq": last_seq, "epoch": old_epoch}))
        .await;
    let subscribed = b.next_of("subscribed").await;
    let resync = b.next_of("resync").await;

    stack.start_writer().await;
    stack.wait_stored(room, 9).await;
    let stored: Vec<(Uuid, i64)> =
        sqlx::query_as("SELECT id, seq FROM messages WHERE room_id = $1 ORDER BY seq")
            .bind(room)
            .fetch_all(&stack.db.pool)
            .await
            .expect("stored");

    let mut places: HashMap<(i64, u64), &str> = HashMap::new();
    for ack in &acks {
        let place = (
            ack["seq"].as_i64().expect("seq"),
            ack["epoch"].as_u64().expect("epoch"),
        );
        let id = ack["id"].as_str().expect("id");
        let owner = places.entry(place).or_insert(id);
        assert_eq!(*owner, id, "seq {place:?} acknowledged for two messages");
    }
    assert_ne!(subscribed["epoch"].as_u64(), Some(old_epoch), "a new epoch");
    assert_eq!(resync["reason"], "epoch");
    let mut acked: Vec<Uuid> = acks
        .iter()
        .map(|a| a["id"].as_str().expect("id").parse().expect("uuid"))
        .collect();
    let mut stored_ids: Vec<Uuid> = stored.iter().map(|(id, _)| *id).collect();
    acked.sort_unstable();
    stored_ids.sort_unstable();
    assert_eq!(
        stored_ids, acked,
        "acknowledged ids = stored ids, once each"
    );
    // The repair made every seq up to the new counter final: the messages that
    // held one without being stored are sequenced again above it, and a
    // resume passes over the seqs left empty; above the base, no hole.
    let base = subscribed["base_seq"].as_i64().expect("base_seq");
    let above: Vec<i64> = stored
        .iter()
        .map(|(_, seq)| *seq)
        .filter(|&seq| seq > base)
        .collect();
    assert_eq!(
        above,
        (base + 1..=base + 9).collect::<Vec<_>>(),
        "no hole above the base"
    );
}

#[tokio::test]
async fn a_resend_whose_seq_key_was_lost_gets_the_stored_seq_and_publishes_nothing() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let room = alice.create_room("lost-key", "public").await;
    let mut a = alice.connect(gateway.addr).await;
    a.subscribe(room, Some(0)).await;
    let first = send_acked(&mut a, room, "once").await;
    stack.wait_stored(room, 1).await;
    // its id -> seq key expired, or Redis lost it
    let id: Uuid = first["id"].as_str().expect("id").parse().expect("uuid");
    let mut redis = redis::Client::open(stack.redis.url())
        .expect("client")
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    redis::cmd("DEL")
        .arg(chat_core::sequencer::message_key(room, id))
        .query_async::<()>(&mut redis)
        .await
        .expect("del");

    let again = send_acked(&mut a, room, "once").await;
    let next = send_acked(&mut a, room, "next").await;
    let live: Vec<i64> = [a.next_of("message").await, a.next_of("message").await]
        .iter()
        .map(|m| m["seq"].as_i64().expect("seq"))
        .collect();

    assert_eq!((&again["id"], &again["seq"]), (&first["id"], &first["seq"]));
    assert_eq!(next["seq"], 2, "no seq was spent on the resend");
    assert_eq!(live, vec![1, 2], "live shows what history will");
}

#[tokio::test]
async fn a_live_feed_that_receives_another_epoch_is_told_to_resync() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let room = alice.create_room("live-epoch", "public").await;
    let mut a = alice.connect(gateway.addr).await;
    let subscribed = a.subscribe(room, Some(0)).await;
    let epoch = subscribed["epoch"].as_u64().expect("epoch");
    send_acked(&mut a, room, "first").await;
    assert_eq!(a.next_of("message").await["seq"], 1);

    // another client holds a seq of this epoch that the room no longer has
    let mut b = alice.connect(gateway.addr).await;
    b.send(json!({"type": "subscribe", "room": room, "last_seq": 5, "epoch": epoch}))
        .await;
    let renewed = b.next_of("subscribed").await;
    let told = b.next_of("resync").await;
    let next = send_acked(&mut a, room, "second").await;
    let resync = a.next_of("resync").await;

    assert_ne!(
        renewed["epoch"].as_u64(),
        Some(epoch),
        "the room was repaired"
    );
    assert_eq!(told["reason"], "epoch");
    assert_eq!(next["epoch"], renewed["epoch"]);
    assert_eq!(resync["reason"], "epoch", "the live feed is told, not fed");
}

#[tokio::test]
async fn a_client_claiming_seqs_ahead_of_the_room_again_and_again_renews_its_epoch_once() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let room = alice.create_room("ahead-again", "public").await;
    let mut a = alice.connect(gateway.addr).await;
    let mut epoch = a.subscribe(room, Some(0)).await["epoch"]
        .as_u64()
        .expect("epoch");
    send_acked(&mut a, room, "first").await;

    // a hostile or broken client keeps claiming seqs the room never had
    let mut epochs = Vec::new();
    for _ in 0..3 {
        let mut b = alice.connect(gateway.addr).await;
        b.send(json!({"type": "subscribe", "room": room, "last_seq": 50, "epoch": epoch}))
            .await;
        let subscribed = b.next_of("subscribed").await;
        assert_eq!(b.next_of("resync").await["reason"], "epoch");
        epoch = subscribed["epoch"].as_u64().expect("epoch");
        epochs.push(epoch);
    }

    epochs.dedup();
    assert_eq!(
        epochs.len(),
        1,
        "only the first claim renews the room's epoch (everyone reloads once): {epochs:?}"
    );
}

/// The writer stores a room's records in their Kafka order, which is not
/// always their seq order (two sends produced in one order can be sequenced
/// in the other): for a moment the stored log has a hole. If Redis loses its
/// data then, the hole's message is sequenced again above the restored counter
/// and the hole stays for good. A resume across it must go on, not answer
/// `resync gap` again and again (the loop the fault test under load hit).
#[tokio::test]
async fn a_resume_across_a_seq_that_redis_lost_before_it_was_stored_reaches_the_head() {
    let mut stack = Stack::start().await;
    stack.stop_writer().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let room = alice.create_room("hole", "public").await;
    let mut a = alice.connect(gateway.addr).await;
    let first = a
        .send_message(room, "first", "sequenced first, stored second")
        .await;
    let second = a
        .send_message(room, "second", "sequenced second, stored first")
        .await;
    assert_eq!(
        (first["seq"].as_i64(), second["seq"].as_i64()),
        (Some(1), Some(2))
    );

    // what the writer does when `second`'s record precedes `first`'s in the partition
    sqlx::query(
        "INSERT INTO messages (id, room_id, seq, sender_id, client_msg_id, kind, body, sent_at)
         VALUES ($1, $2, 2, $3, 'second', 'user', 'sequenced second, stored first', now())",
    )
    .bind(
        second["id"]
            .as_str()
            .expect("id")
            .parse::<Uuid>()
            .expect("uuid"),
    )
    .bind(room)
    .bind(alice.id)
    .execute(&stack.db.pool)
    .await
    .expect("insert");
    stack.redis.restart_empty();
    stack.start_writer().await;
    stack.wait_stored(room, 2).await;
    let stored: Vec<i64> =
        sqlx::query_scalar("SELECT seq FROM messages WHERE room_id = $1 ORDER BY seq")
            .bind(room)
            .fetch_all(&stack.db.pool)
            .await
            .expect("seqs");
    assert_eq!(
        stored,
        [2, 3],
        "`first` was sequenced again after the restore"
    );

    // a client reloading the room resumes from its start
    let mut b = alice.connect(gateway.addr).await;
    let subscribed = loop {
        // the gateway's first Redis commands after the restart may fail
        b.send(json!({"type": "subscribe", "room": room, "last_seq": 0}))
            .await;
        let answer = b
            .next_matching("subscribed", |f| {
                f["type"] == "subscribed" || f["type"] == "error"
            })
            .await;
        if answer["code"] != "unavailable" {
            break answer;
        }
    };
    assert_eq!(subscribed["head_seq"], 3, "{subscribed}");
    assert_eq!(
        subscribed["base_seq"], 2,
        "seq 1 will never be stored: {subscribed}"
    );
    let third = send_acked(&mut a, room, "third").await;
    let mut seen = Vec::new();
    while !seen
        .iter()
        .any(|f: &Value| f["seq"] == 4 || f["type"] == "resync")
    {
        let frame = b.next_frame().await;
        if frame["type"] == "message" || frame["type"] == "resync" {
            seen.push(frame);
        }
    }
    let seqs: Vec<_> = seen
        .iter()
        .map(|f| (f["type"].clone(), f["seq"].clone()))
        .collect();
    assert_eq!(
        seqs,
        [
            (json!("message"), json!(2)),
            (json!("message"), json!(3)),
            (json!("message"), json!(4))
        ],
        "the stored messages, then the live one, and no resync: {seen:?}"
    );
    assert_eq!(seen[2]["id"], third["id"]);
}
