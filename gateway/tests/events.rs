//! Room events (issue 13) end to end over two gateways, with the writer and
//! real Postgres, Redis and Kafka: replies and mentions, edits, deletes and
//! reactions live, on resume, in history, and who may do what.

mod common;

use common::*;
use serde_json::{Value, json};
use uuid::Uuid;

const THUMBS: &str = "\u{1F44D}";

fn id_of(frame: &Value) -> Uuid {
    frame["id"].as_str().expect("id").parse().expect("uuid")
}

fn seq_of(frame: &Value) -> i64 {
    frame["seq"].as_i64().expect("seq")
}

fn edit(room: Uuid, cmid: &str, message: Uuid, body: &str) -> Value {
    json!({"type": "edit", "room": room, "client_msg_id": cmid, "message": message, "body": body})
}

fn delete(room: Uuid, cmid: &str, message: Uuid) -> Value {
    json!({"type": "delete", "room": room, "client_msg_id": cmid, "message": message})
}

fn react(kind: &str, room: Uuid, cmid: &str, message: Uuid) -> Value {
    json!({"type": kind, "room": room, "client_msg_id": cmid, "message": message, "emoji": THUMBS})
}

fn acked(frame: &Value) -> &Value {
    assert_eq!(frame["type"], "ack", "accepted: {frame}");
    frame
}

async fn history(user: &User, room: Uuid) -> Vec<Value> {
    let page: Value = user
        .get(&format!("/api/rooms/{room}/messages?limit=100"))
        .await
        .json()
        .await
        .expect("json");
    page["messages"].as_array().expect("messages").clone()
}

#[tokio::test]
async fn every_room_event_reaches_every_member_in_seq_order_on_both_gateways() {
    let stack = Stack::start().await;
    let (east, west) = (stack.gateway().await, stack.gateway().await);
    let alice = User::sign_up(&east, "alice").await;
    let bob = User::sign_up(&west, "bob").await;
    let carol = User::sign_up(&west, "carol").await;
    let room = alice.create_room("events", "public").await;
    bob.join(room).await;
    carol.join(room).await;
    let mut a = alice.connect(east.addr).await;
    let mut b = bob.connect(west.addr).await;
    let mut c = carol.connect(west.addr).await;
    for s in [&mut a, &mut b, &mut c] {
        s.subscribe(room, Some(0)).await;
    }

    let hello = a
        .send_message(room, "m1", &format!("hi @{}!", bob.username))
        .await;
    let m1 = id_of(acked(&hello));
    let reply = json!({"type": "send", "room": room, "client_msg_id": "m2",
                       "body": "hello back", "reply_to": m1});
    acked(&b.send_event(reply).await);
    acked(&a.send_event(edit(room, "e1", m1, "hi everyone")).await);
    acked(&b.send_event(react("react", room, "r1", m1)).await);
    acked(&b.send_event(react("unreact", room, "r2", m1)).await);
    acked(&a.send_event(delete(room, "d1", m1)).await);

    let ops = ["message", "message", "edit", "react", "unreact", "delete"];
    let mut views = Vec::new();
    for s in [&mut a, &mut b, &mut c] {
        let mut view = Vec::new();
        for _ in 0..ops.len() {
            view.push(s.next_of("message").await);
        }
        views.push(view);
    }
    for view in &views {
        let seqs: Vec<i64> = view.iter().map(seq_of).collect();
        assert_eq!(
            seqs,
            (1..=6).collect::<Vec<_>>(),
            "every event has the next seq"
        );
        let got: Vec<&str> = view.iter().map(|f| f["op"].as_str().expect("op")).collect();
        assert_eq!(got, ops);
        assert_eq!(view[0]["mentions"], json!([bob.id]), "bob is mentioned");
        assert_eq!(view[1]["reply_to"], json!(m1));
        assert_eq!(view[2]["target"], json!(m1));
        assert_eq!(view[2]["body"], "hi everyone");
        assert_eq!(view[3]["emoji"], THUMBS);
        assert_eq!(view[5]["target"], json!(m1));
        assert_eq!(view[5]["body"], "");
    }
    assert_eq!(views[0], views[1], "one order for everyone");
    assert_eq!(views[1], views[2]);
}

#[tokio::test]
async fn a_resume_across_an_edit_a_reaction_and_a_delete_replays_them_without_the_deleted_text() {
    let stack = Stack::start().await;
    let (east, west) = (stack.gateway().await, stack.gateway().await);
    let alice = User::sign_up(&east, "alice").await;
    let bob = User::sign_up(&west, "bob").await;
    let room = alice.create_room("resume", "public").await;
    bob.join(room).await;
    let mut b = bob.connect(west.addr).await;
    b.subscribe(room, Some(0)).await;
    let mut a = alice.connect(east.addr).await;
    let first = a.send_message(room, "m1", "a secret said once").await;
    let m1 = id_of(acked(&first));
    let last_seq = seq_of(&b.next_of("message").await);
    drop(b);

    acked(
        &a.send_event(edit(room, "e1", m1, "a secret said twice"))
            .await,
    );
    acked(&a.send_event(react("react", room, "r1", m1)).await);
    acked(&a.send_event(delete(room, "d1", m1)).await);

    // from the tail (the writer may not have stored them yet) and, later, from Postgres
    for pass in ["tail", "stored"] {
        if pass == "stored" {
            stack.wait_stored(room, 4).await;
        }
        let mut b = bob.connect(west.addr).await;
        b.subscribe(room, Some(last_seq)).await;
        let mut got = Vec::new();
        for _ in 0..3 {
            got.push(b.next_of("message").await);
        }
        let ops: Vec<&str> = got.iter().map(|f| f["op"].as_str().expect("op")).collect();
        assert_eq!(ops, ["edit", "react", "delete"], "{pass}");
        assert_eq!(got.iter().map(seq_of).collect::<Vec<_>>(), [2, 3, 4]);
        assert_eq!(
            got[0]["body"], "",
            "{pass}: the deleted message's edit is scrubbed"
        );
        let mut again = bob.connect(west.addr).await;
        again.subscribe(room, Some(0)).await;
        let original = again.next_of("message").await;
        assert_eq!(original["seq"], 1);
        assert_eq!(
            original["body"], "",
            "{pass}: the deleted message is scrubbed"
        );
    }
}

#[tokio::test]
async fn history_shows_each_message_in_its_current_state() {
    let stack = Stack::start().await;
    let (east, west) = (stack.gateway().await, stack.gateway().await);
    let alice = User::sign_up(&east, "alice").await;
    let bob = User::sign_up(&west, "bob").await;
    let room = alice.create_room("history", "public").await;
    bob.join(room).await;
    let mut a = alice.connect(east.addr).await;
    let mut b = bob.connect(west.addr).await;

    let m1 = id_of(acked(&a.send_message(room, "m1", "first").await));
    acked(&a.send_event(edit(room, "e1", m1, "first, edited")).await);
    acked(&b.send_event(react("react", room, "r1", m1)).await);
    acked(&a.send_event(react("react", room, "r2", m1)).await);
    let reply = json!({"type": "send", "room": room, "client_msg_id": "m2",
                       "body": format!("@{} nice", alice.username), "reply_to": m1});
    let m2 = id_of(acked(&b.send_event(reply).await));
    let m3 = id_of(acked(&a.send_message(room, "m3", "regrettable").await));
    acked(&a.send_event(delete(room, "d1", m3)).await);
    stack.wait_stored(room, 7).await;

    let rows = history(&bob, room).await;
    assert_eq!(rows.len(), 7, "every event is a row: {rows:?}");
    let first = &rows[0];
    assert_eq!(first["body"], "first, edited");
    assert!(first["edited_at"].is_string());
    assert_eq!(first["edit_seq"], 2);
    assert_eq!(first["state_seq"], 4);
    assert_eq!(first["deleted"], false);
    assert_eq!(
        first["reactions"],
        json!([{"emoji": THUMBS, "count": 2, "me": true,
                "users": [{"id": bob.id, "username": bob.username},
                          {"id": alice.id, "username": alice.username}]}])
    );
    let reply = rows.iter().find(|r| id_of(r) == m2).expect("the reply");
    assert_eq!(reply["reply_preview"]["id"], json!(m1));
    assert_eq!(reply["reply_preview"]["body"], "first, edited");
    assert_eq!(reply["reply_preview"]["sender"]["username"], alice.username);
    assert_eq!(reply["mentions"], json!([alice.id]));
    let gone = rows.iter().find(|r| id_of(r) == m3).expect("the tombstone");
    assert_eq!(
        (gone["deleted"].clone(), gone["body"].clone()),
        (json!(true), json!(""))
    );

    let one: Value = alice
        .get(&format!("/api/rooms/{room}/messages/{m1}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(one["body"], "first, edited");
    assert_eq!(one["reactions"][0]["me"], true);
    let versions: Value = alice
        .get(&format!("/api/rooms/{room}/messages/{m1}/versions"))
        .await
        .json()
        .await
        .expect("json");
    let texts: Vec<&str> = versions["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .map(|v| v["body"].as_str().expect("body"))
        .collect();
    assert_eq!(texts, ["first", "first, edited"]);
    let status = alice
        .get(&format!("/api/rooms/{room}/messages/{m3}/versions"))
        .await
        .status();
    assert_eq!(status, 404, "a deleted message has no versions");

    // alice has one unread mention (bob's reply); bob none
    let mine: Value = alice
        .get("/api/rooms/mine")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(mine[0]["mentions"], 1, "{mine}");
    let mine: Value = bob.get("/api/rooms/mine").await.json().await.expect("json");
    assert_eq!(mine[0]["mentions"], 0, "{mine}");
    // unread counts alice's messages that are still there: not her edit, her
    // reaction, her delete, nor the message she deleted
    assert_eq!(mine[0]["unread"], 1, "{mine}");
}

#[tokio::test]
async fn a_deleted_message_leaves_no_text_in_postgres_or_the_redis_tail() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let room = alice.create_room("forget", "public").await;
    let mut a = alice.connect(gateway.addr).await;
    let m1 = id_of(acked(&a.send_message(room, "m1", "top secret one").await));
    acked(&a.send_event(edit(room, "e1", m1, "top secret two")).await);
    acked(&a.send_event(delete(room, "d1", m1)).await);
    stack.wait_stored(room, 3).await;

    let left: Vec<String> = sqlx::query_scalar(
        "SELECT coalesce(body, '') || coalesce(original_body, '') FROM messages
         WHERE room_id = $1 AND (body LIKE '%secret%' OR original_body LIKE '%secret%')",
    )
    .bind(room)
    .fetch_all(&stack.db.pool)
    .await
    .expect("rows");
    assert!(left.is_empty(), "text left in Postgres: {left:?}");
    let mut redis = redis::Client::open(stack.redis.url())
        .expect("client")
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    let tail: Vec<String> = redis::cmd("ZRANGE")
        .arg(format!("chat:{{{room}}}:tail"))
        .arg(0)
        .arg(-1)
        .query_async(&mut redis)
        .await
        .expect("tail");
    assert_eq!(tail.len(), 3, "the tail keeps the records: {tail:?}");
    assert!(
        tail.iter().all(|r| !r.contains("secret")),
        "text left in the tail: {tail:?}"
    );
}

#[tokio::test]
async fn only_the_sender_edits_and_only_the_sender_or_a_moderator_deletes() {
    let stack = Stack::start().await;
    let (east, west) = (stack.gateway().await, stack.gateway().await);
    let alice = User::sign_up(&east, "alice").await;
    let bob = User::sign_up(&west, "bob").await;
    let carol = User::sign_up(&west, "carol").await;
    let room = alice.create_room("rules", "public").await;
    bob.join(room).await;
    carol.join(room).await;
    let mut a = alice.connect(east.addr).await;
    let mut b = bob.connect(west.addr).await;
    let mut c = carol.connect(west.addr).await;
    let m1 = id_of(acked(&a.send_message(room, "m1", "alice's words").await));

    let refused = b.send_event(edit(room, "e1", m1, "bob's words")).await;
    assert_eq!(refused["code"], "forbidden", "{refused}");
    let refused = b.send_event(delete(room, "d1", m1)).await;
    assert_eq!(refused["code"], "forbidden", "{refused}");
    let refused = b
        .send_event(json!({"type": "react", "room": room, "client_msg_id": "r0",
                           "message": m1, "emoji": "not an emoji"}))
        .await;
    assert_eq!(refused["code"], "invalid", "{refused}");
    let refused = b
        .send_event(react("react", room, "r1", Uuid::now_v7()))
        .await;
    assert_eq!(refused["code"], "invalid", "an unknown target: {refused}");

    sqlx::query("UPDATE room_members SET role = 'moderator' WHERE room_id = $1 AND user_id = $2")
        .bind(room)
        .bind(carol.id)
        .execute(&stack.db.pool)
        .await
        .expect("make carol a moderator");
    acked(&c.send_event(delete(room, "d2", m1)).await);
    let refused = a.send_event(edit(room, "e2", m1, "too late")).await;
    assert_eq!(refused["code"], "invalid", "a deleted message: {refused}");
    let refused = b.send_event(react("react", room, "r2", m1)).await;
    assert_eq!(refused["code"], "invalid", "a deleted message: {refused}");
}

#[tokio::test]
async fn a_resent_edit_gets_the_same_ack_and_a_client_msg_id_reused_for_another_event_is_refused() {
    let stack = Stack::start().await;
    let (east, west) = (stack.gateway().await, stack.gateway().await);
    let alice = User::sign_up(&east, "alice").await;
    let room = alice.create_room("again", "public").await;
    let mut a = alice.connect(east.addr).await;
    let mut elsewhere = alice.connect(west.addr).await;
    let m1 = id_of(acked(&a.send_message(room, "m1", "words").await));

    let first = a.send_event(edit(room, "e1", m1, "better words")).await;
    let again = elsewhere
        .send_event(edit(room, "e1", m1, "better words"))
        .await;
    let same = |f: &Value| (f["id"].clone(), f["seq"].clone(), f["room"].clone());
    assert_eq!(
        same(acked(&first)),
        same(acked(&again)),
        "a resend, not a new edit"
    );
    // reused for another event: a reaction, another text, a plain message
    for (what, frame) in [
        ("a reaction", react("react", room, "e1", m1)),
        ("another text", edit(room, "e1", m1, "other words")),
        (
            "a message",
            json!({"type": "send", "room": room, "client_msg_id": "e1", "body": "better words"}),
        ),
    ] {
        let refused = a.send_event(frame).await;
        assert_eq!(refused["code"], "invalid", "{what}: {refused}");
    }
    // once stored, a resend is answered from Postgres
    stack.wait_stored(room, 2).await;
    let later = a.send_event(edit(room, "e1", m1, "better words")).await;
    assert_eq!(same(acked(&later)), same(&first));
    let refused = a.send_event(react("unreact", room, "e1", m1)).await;
    assert_eq!(refused["code"], "invalid", "{refused}");
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM messages WHERE room_id = $1")
        .bind(room)
        .fetch_one(&stack.db.pool)
        .await
        .expect("count");
    assert_eq!(rows, 2, "one message, one edit");
}

#[tokio::test]
async fn edits_deletes_and_reactions_count_against_the_message_rate() {
    let stack = Stack::start().await;
    let mut config = stack.gateway_config();
    config.ws_messages_per_sec = 1;
    config.ws_messages_burst = 5;
    let gateway = Gateway::start(config).await;
    let alice = User::sign_up(&gateway, "alice").await;
    let room = alice.create_room("rate", "public").await;
    let mut socket = alice.connect(gateway.addr).await;
    let m1 = id_of(acked(&socket.send_message(room, "m1", "rate me").await));
    let m2 = id_of(acked(&socket.send_message(room, "m2", "delete me").await));

    let frames = [
        react("react", room, "r1", m1),
        edit(room, "e1", m1, "rated"),
        delete(room, "d1", m2),
        react("unreact", room, "r2", m1),
        react("react", room, "r3", m1),
        edit(room, "e2", m1, "again"),
    ];
    for frame in &frames {
        socket.send(frame.clone()).await;
    }
    let (mut acks, mut limited) = (0, 0);
    while acks + limited < frames.len() {
        let frame = socket.next_frame().await;
        match (frame["type"].as_str(), frame["code"].as_str()) {
            (Some("ack"), _) => acks += 1,
            (Some("error"), Some("rate_limited")) => limited += 1,
            (Some("error"), _) => panic!("unexpected refusal: {frame}"),
            _ => {}
        }
    }
    assert_eq!(
        (acks, limited),
        (3, 3),
        "the burst (two spent on the messages) passes, the rest is refused"
    );
}

#[tokio::test]
async fn events_act_on_messages_the_writer_has_not_stored_yet() {
    let mut stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let room = alice.create_room("unstored", "public").await;
    let mut a = alice.connect(gateway.addr).await;
    stack.stop_writer().await;

    // the target is found in the room's Redis tail
    let m1 = id_of(acked(&a.send_message(room, "m1", "not stored yet").await));
    acked(&a.send_event(edit(room, "e1", m1, "still not stored")).await);
    acked(&a.send_event(react("react", room, "r1", m1)).await);
    let reply = json!({"type": "send", "room": room, "client_msg_id": "m2",
                       "body": "answer", "reply_to": m1});
    acked(&a.send_event(reply).await);
    acked(&a.send_event(delete(room, "d1", m1)).await);
    // and so is its delete
    let refused = a.send_event(edit(room, "e2", m1, "too late")).await;
    assert_eq!(refused["code"], "invalid", "{refused}");

    stack.start_writer().await;
    stack.wait_stored(room, 5).await;
    let rows = history(&alice, room).await;
    assert_eq!(rows[0]["deleted"], true);
    assert_eq!(rows[0]["body"], "");
    assert_eq!(rows[1]["body"], "", "the edit's text is gone too");
}
