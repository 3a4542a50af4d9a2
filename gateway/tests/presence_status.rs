//! Presence with away (issue 14) over two gateways: a connection says
//! `status` away or active; a user is away in a room only while every live
//! connection of theirs is, wherever they are; `presence` frames and the
//! room's online list (`GET /api/rooms/{id}/online`) carry the status.

mod common;

use common::*;
use serde_json::{Value, json};
use uuid::Uuid;

/// The next `presence` frame about `user`, other frames kept.
async fn presence_of(socket: &mut Socket, user: Uuid) -> Value {
    let id = user.to_string();
    socket
        .next_matching("presence", |f| {
            f["type"] == "presence" && f["user"]["id"] == id.as_str()
        })
        .await
}

/// `user`'s status in the room's online list, as `reader` reads it.
async fn status_in(reader: &User, room: Uuid, user: Uuid) -> Option<String> {
    let response = reader.get(&format!("/api/rooms/{room}/online")).await;
    assert_eq!(response.status(), 200);
    let online: Value = response.json().await.expect("json");
    online["online"]
        .as_array()
        .expect("online")
        .iter()
        .find(|u| u["id"] == user.to_string().as_str())
        .map(|u| u["status"].as_str().expect("status").to_owned())
}

fn away() -> Value {
    json!({"type": "status", "status": "away"})
}

fn active() -> Value {
    json!({"type": "status", "status": "active"})
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_is_away_only_while_every_connection_of_theirs_is_on_any_gateway() {
    let stack = Stack::start().await;
    let (east, west) = (stack.gateway().await, stack.gateway().await);
    let alice = User::sign_up(&east, "alice").await;
    let bob = User::sign_up(&west, "bob").await;
    let room = alice.create_room("status", "public").await;
    bob.join(room).await;
    let mut watcher = bob.connect(west.addr).await;
    watcher.subscribe(room, None).await;

    let mut on_east = alice.connect(east.addr).await;
    on_east.subscribe(room, None).await;
    let online = presence_of(&mut watcher, alice.id).await;
    assert_eq!(
        (online["online"].as_bool(), online["status"].as_str()),
        (Some(true), Some("active"))
    );
    let mut on_west = alice.connect(west.addr).await;
    on_west.subscribe(room, None).await;

    // one of two connections away: alice is still active
    on_east.send(away()).await;
    assert_eq!(
        status_in(&bob, room, alice.id).await.as_deref(),
        Some("active")
    );

    // both away: away, once
    on_west.send(away()).await;
    let went = presence_of(&mut watcher, alice.id).await;
    assert_eq!(
        (went["online"].as_bool(), went["status"].as_str()),
        (Some(true), Some("away")),
        "{went}"
    );
    assert_eq!(
        status_in(&bob, room, alice.id).await.as_deref(),
        Some("away")
    );

    // one back: active
    on_east.send(active()).await;
    let back = presence_of(&mut watcher, alice.id).await;
    assert_eq!(back["status"], "active", "{back}");

    // the active one leaves, the away one stays: away
    drop(on_east);
    let left = presence_of(&mut watcher, alice.id).await;
    assert_eq!(
        (left["online"].as_bool(), left["status"].as_str()),
        (Some(true), Some("away")),
        "{left}"
    );

    // the last one leaves: offline, without a status
    drop(on_west);
    let gone = presence_of(&mut watcher, alice.id).await;
    assert_eq!(gone["online"], false);
    assert!(gone.get("status").is_none(), "{gone}");
    east.stop().await;
    west.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connection_away_before_it_subscribes_joins_the_room_away() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let bob = User::sign_up(&gateway, "bob").await;
    let room = alice.create_room("later", "public").await;
    bob.join(room).await;
    let mut watcher = bob.connect(gateway.addr).await;
    watcher.subscribe(room, None).await;

    let mut socket = alice.connect(gateway.addr).await;
    socket.send(away()).await;
    socket.subscribe(room, None).await;
    let online = presence_of(&mut watcher, alice.id).await;
    assert_eq!(
        (online["online"].as_bool(), online["status"].as_str()),
        (Some(true), Some("away"))
    );
    gateway.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn status_changes_are_rate_limited_and_a_repeated_status_is_free() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let mut socket = alice.connect(gateway.addr).await;
    for _ in 0..10 {
        socket.send(active()).await; // the status it already has: nothing to do, nothing counted
    }
    for i in 0..10 {
        socket
            .send(if i % 2 == 0 { away() } else { active() })
            .await;
    }
    let refused = socket.next_of("error").await;
    assert_eq!(refused["code"], "rate_limited", "{refused}");
    gateway.stop().await;
}
