//! Live chat across two gateways against real Postgres, Redis, Kafka and the writer.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::*;
use serde_json::{Value, json};
use uuid::Uuid;

async fn stored_seqs(stack: &Stack, room: Uuid) -> Vec<(i64, Uuid)> {
    sqlx::query_as("SELECT seq, id FROM messages WHERE room_id = $1 ORDER BY seq")
        .bind(room)
        .fetch_all(&stack.db.pool)
        .await
        .expect("stored rows")
}

async fn wait_stored(stack: &Stack, room: Uuid, n: usize) -> Vec<(i64, Uuid)> {
    test_support::wait_until(
        &format!("{n} rows stored"),
        Duration::from_secs(60),
        || async {
            let rows = stored_seqs(stack, room).await;
            (rows.len() >= n).then_some(rows)
        },
    )
    .await
}

fn id_of(frame: &Value) -> Uuid {
    frame["id"].as_str().expect("id").parse().expect("uuid")
}

#[tokio::test]
async fn two_users_on_different_gateways_chat_both_ways_in_one_order_that_history_repeats() {
    let stack = Stack::start().await;
    let (east, west) = (stack.gateway().await, stack.gateway().await);
    let alice = User::sign_up(&east, "alice").await;
    let bob = User::sign_up(&west, "bob").await;
    let room = alice.create_room("general", "public").await;
    bob.join(room).await;
    let mut a = alice.connect(east.addr).await;
    let mut b = bob.connect(west.addr).await;
    a.subscribe(room, Some(0)).await;
    b.subscribe(room, Some(0)).await;

    let mut acks = Vec::new();
    for i in 0..5 {
        acks.push(
            a.send_message(room, &format!("a{i}"), &format!("hello from alice {i}"))
                .await,
        );
        acks.push(
            b.send_message(room, &format!("b{i}"), &format!("hello from bob {i}"))
                .await,
        );
    }
    assert!(
        acks.iter().all(|f| f["type"] == "ack"),
        "every send acknowledged: {acks:?}"
    );

    let mut seen: HashMap<&str, Vec<(i64, Uuid)>> = HashMap::new();
    for (name, socket) in [("alice", &mut a), ("bob", &mut b)] {
        for _ in 0..10 {
            let m = socket.next_of("message").await;
            seen.entry(name)
                .or_default()
                .push((m["seq"].as_i64().expect("seq"), id_of(&m)));
        }
    }
    let expected: Vec<i64> = (1..=10).collect();
    assert_eq!(
        seen["alice"].iter().map(|s| s.0).collect::<Vec<_>>(),
        expected
    );
    assert_eq!(seen["alice"], seen["bob"], "both see one order");

    wait_stored(&stack, room, 10).await;
    let history: Value = bob
        .get(&format!("/api/rooms/{room}/messages?limit=100"))
        .await
        .json()
        .await
        .expect("json");
    let from_history: Vec<(i64, Uuid)> = history["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| (m["seq"].as_i64().expect("seq"), id_of(m)))
        .collect();
    assert_eq!(
        from_history, seen["alice"],
        "history repeats the live order"
    );
}

#[tokio::test]
async fn twenty_clients_on_two_gateways_sending_fifty_each_all_see_seq_one_to_a_thousand_in_order()
{
    let stack = Stack::start().await;
    let gateways = [stack.gateway().await, stack.gateway().await];
    let owner = User::sign_up(&gateways[0], "owner").await;
    let room = owner.create_room("busy", "public").await;

    let mut clients = Vec::new();
    for i in 0..20 {
        let gateway = &gateways[i % 2];
        let user = User::sign_up(gateway, &format!("u{i}")).await;
        user.join(room).await;
        let mut socket = user.connect(gateway.addr).await;
        socket.subscribe(room, Some(0)).await;
        clients.push(socket);
    }

    let tasks: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(i, mut socket)| {
            tokio::spawn(async move {
                for n in 0..50 {
                    socket
                        .send(json!({"type": "send", "room": room, "client_msg_id": format!("{i}-{n}"), "body": format!("{i}:{n}")}))
                        .await;
                }
                let mut seqs = Vec::new();
                let mut acks = 0;
                while seqs.len() < 1000 || acks < 50 {
                    let frame = socket.next_frame().await;
                    match frame["type"].as_str() {
                        Some("message") => seqs.push((frame["seq"].as_i64().expect("seq"), id_of(&frame))),
                        Some("ack") => acks += 1,
                        Some("error") => panic!("send refused: {frame}"),
                        _ => {}
                    }
                }
                seqs
            })
        })
        .collect();
    let mut views = Vec::new();
    for task in tasks {
        views.push(task.await.expect("client"));
    }
    let expected: Vec<i64> = (1..=1000).collect();
    for view in &views {
        assert_eq!(
            view.iter().map(|s| s.0).collect::<Vec<_>>(),
            expected,
            "seq 1..1000, once each, in order"
        );
        assert_eq!(
            view, &views[0],
            "every receiver sees the same messages at the same seqs"
        );
    }
    let stored = wait_stored(&stack, room, 1000).await;
    assert_eq!(
        &stored, &views[0],
        "Postgres holds exactly those 1000 rows in that order"
    );
}

#[tokio::test]
async fn a_resend_with_the_same_client_message_id_gets_the_same_id_and_seq_and_one_row() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let other = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let room = alice.create_room("resend", "public").await;
    let mut socket = alice.connect(gateway.addr).await;

    let first = socket.send_message(room, "same-id", "only once").await;
    let again = socket.send_message(room, "same-id", "only once").await;
    // after a reconnect, through another gateway
    let mut elsewhere = alice.connect(other.addr).await;
    let third = elsewhere.send_message(room, "same-id", "only once").await;

    for frame in [&again, &third] {
        assert_eq!(frame["type"], "ack");
        assert_eq!(frame["id"], first["id"]);
        assert_eq!(frame["seq"], first["seq"]);
    }
    let next = socket.send_message(room, "next-id", "second message").await;
    assert_eq!(next["seq"], 2, "the resends did not take a seq");
    wait_stored(&stack, room, 2).await;
    let rows: i64 =
        sqlx::query_scalar("SELECT count(*) FROM messages WHERE client_msg_id = 'same-id'")
            .fetch_one(&stack.db.pool)
            .await
            .expect("count");
    assert_eq!(rows, 1);
}

async fn resume_after_a_gap(writer_stopped: bool) {
    let mut stack = Stack::start().await;
    let (east, west) = (stack.gateway().await, stack.gateway().await);
    let alice = User::sign_up(&east, "alice").await;
    let bob = User::sign_up(&west, "bob").await;
    let room = alice.create_room("resume", "public").await;
    bob.join(room).await;
    let mut b = bob.connect(west.addr).await;
    b.subscribe(room, Some(0)).await;
    let mut a = alice.connect(east.addr).await;
    let ack = a.send_message(room, "before", "before the gap").await;
    let seen = b.next_of("message").await;
    assert_eq!(seen["seq"], ack["seq"]);
    let last_seq = seen["seq"].as_i64().expect("seq");
    drop(b);

    if writer_stopped {
        stack.stop_writer().await;
    }
    let mut sent = Vec::new();
    for i in 0..500 {
        let ack = a
            .send_message(
                room,
                &format!("gap-{i}"),
                &format!("while bob was away {i}"),
            )
            .await;
        assert_eq!(ack["type"], "ack");
        sent.push((ack["seq"].as_i64().expect("seq"), id_of(&ack)));
    }

    let mut b = bob.connect(west.addr).await;
    b.subscribe(room, Some(last_seq)).await;
    let mut got = Vec::new();
    while got.len() < 500 {
        let m = b.next_of("message").await;
        got.push((m["seq"].as_i64().expect("seq"), id_of(&m)));
    }
    assert_eq!(got, sent, "exactly the missed messages, in order, once");
    // and live again afterwards
    let live = a.send_message(room, "after", "after the gap").await;
    let next = b.next_of("message").await;
    assert_eq!(next["seq"], live["seq"]);

    if writer_stopped {
        stack.start_writer().await;
    }
    wait_stored(&stack, room, 502).await;
}

#[tokio::test]
async fn a_client_that_resumes_gets_exactly_the_messages_it_missed() {
    resume_after_a_gap(false).await;
}

#[tokio::test]
async fn resume_works_while_the_writer_is_stopped() {
    resume_after_a_gap(true).await;
}

#[tokio::test]
async fn presence_and_typing_cross_gateways() {
    let stack = Stack::start().await;
    let (east, west) = (stack.gateway().await, stack.gateway().await);
    let alice = User::sign_up(&east, "alice").await;
    let bob = User::sign_up(&west, "bob").await;
    let room = alice.create_room("presence", "public").await;
    bob.join(room).await;
    let mut a = alice.connect(east.addr).await;
    a.subscribe(room, None).await;

    let mut b = bob.connect(west.addr).await;
    let subscribed = b.subscribe(room, None).await;
    assert_eq!(subscribed["online_count"], 2, "{subscribed}");
    let online: Value = bob
        .get(&format!("/api/rooms/{room}/online"))
        .await
        .json()
        .await
        .expect("json");
    let online: Vec<&str> = online["online"]
        .as_array()
        .expect("online")
        .iter()
        .filter_map(|u| u["username"].as_str())
        .collect();
    assert!(online.contains(&alice.username.as_str()) && online.contains(&bob.username.as_str()));
    let appeared = loop {
        let frame = a.next_of("presence").await;
        if frame["user"]["id"] != alice.id.to_string().as_str() {
            break frame;
        }
    };
    assert_eq!(
        (
            appeared["user"]["id"].as_str(),
            appeared["online"].as_bool()
        ),
        (Some(bob.id.to_string().as_str()), Some(true))
    );

    b.send(json!({"type": "typing", "room": room})).await;
    let typing = a.next_of("typing").await;
    assert_eq!(typing["user"]["username"], bob.username.as_str());

    drop(b);
    let gone = a.next_of("presence").await;
    assert_eq!(
        (gone["user"]["id"].as_str(), gone["online"].as_bool()),
        (Some(bob.id.to_string().as_str()), Some(false))
    );
}

#[tokio::test]
async fn a_member_who_leaves_stops_receiving_the_room_at_once() {
    let stack = Stack::start().await;
    let (east, west) = (stack.gateway().await, stack.gateway().await);
    let alice = User::sign_up(&east, "alice").await;
    let bob = User::sign_up(&west, "bob").await;
    let room = alice.create_room("leaving", "public").await;
    bob.join(room).await;
    let mut a = alice.connect(east.addr).await;
    let mut b = bob.connect(west.addr).await;
    a.subscribe(room, Some(0)).await;
    b.subscribe(room, Some(0)).await;

    let response = bob
        .post(&format!("/api/rooms/{room}/leave"), json!({}))
        .await;
    assert_eq!(response.status(), 204);
    // the leaver's own socket is told first, as the others are, then its feed ends
    let told = b.next_of("member_left").await;
    assert_eq!(told["user"]["id"], bob.id.to_string());
    assert_eq!(b.next_of("unsubscribed").await["room"], room.to_string());
    let notice = a.next_of("member_left").await;
    assert_eq!(notice["user"]["username"], bob.username.as_str());

    let ack = a
        .send_message(room, "after-leave", "bob must not see this")
        .await;
    assert_eq!(ack["type"], "ack");
    a.next_of("message").await;
    b.send(json!({"type": "subscribe", "room": room, "last_seq": 0}))
        .await;
    let refused = b
        .next_matching("error", |f| f["type"] == "error" || f["type"] == "message")
        .await;
    assert_eq!(
        refused["code"], "forbidden",
        "no message reaches a former member: {refused}"
    );
}
