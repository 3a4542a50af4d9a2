//! The per-user feed (issue 14) over two gateways: what one gateway's HTTP
//! API does to a user's rooms shows at once on every socket of that user,
//! whichever gateway holds it, without a subscribe: `room_added`,
//! `room_removed` and `read`.

mod common;

use common::*;
use serde_json::{Value, json};
use uuid::Uuid;

fn room_of(frame: &Value) -> Uuid {
    let room = if frame["room"].is_object() {
        &frame["room"]["id"]
    } else {
        &frame["room"]
    };
    room.as_str().expect("room id").parse().expect("uuid")
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invitation_made_on_one_gateway_shows_on_the_invitees_socket_on_another() {
    let stack = Stack::start().await;
    let (a, b) = (stack.gateway().await, stack.gateway().await);
    let owner = User::sign_up(&a, "owner").await;
    let invitee = User::sign_up(&b, "invitee").await;
    let mut socket = invitee.connect(b.addr).await;

    let room = owner.create_room("secret plans", "private").await;
    let response = owner
        .post(
            &format!("/api/rooms/{room}/invite"),
            json!({ "username": invitee.username }),
        )
        .await;
    assert_eq!(response.status(), 200, "invited");

    let added = socket.next_of("room_added").await;
    assert_eq!(room_of(&added), room);
    assert_eq!(added["room"]["name"], "secret plans");
    assert_eq!(added["room"]["kind"], "private");
    assert_eq!(added["room"]["role"], "member");
    assert_eq!(added["room"]["unread"], 0);
    assert_eq!(added["room"]["last_read_seq"], 0);
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_direct_room_shows_on_the_other_users_socket_named_after_the_caller() {
    let stack = Stack::start().await;
    let (a, b) = (stack.gateway().await, stack.gateway().await);
    let alice = User::sign_up(&a, "alice").await;
    let bob = User::sign_up(&b, "bob").await;
    let mut bobs = bob.connect(b.addr).await;
    let mut alices_other = alice.connect(b.addr).await;

    let response = alice
        .post("/api/dm", json!({ "username": bob.username }))
        .await;
    assert_eq!(response.status(), 200);
    let room: Uuid = response.json::<Value>().await.expect("json")["room"]["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("uuid");

    let added = bobs.next_of("room_added").await;
    assert_eq!(room_of(&added), room);
    assert_eq!(added["room"]["kind"], "direct");
    assert_eq!(added["room"]["name"], alice.username.as_str());
    let mine = alices_other.next_of("room_added").await;
    assert_eq!(room_of(&mine), room);
    assert_eq!(mine["room"]["name"], bob.username.as_str());
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_room_created_joined_or_left_on_one_device_shows_on_the_others() {
    let stack = Stack::start().await;
    let (a, b) = (stack.gateway().await, stack.gateway().await);
    let owner = User::sign_up(&a, "owner").await;
    let user = User::sign_up(&a, "user").await;
    let mut other_device = user.connect(b.addr).await;

    let created = user.create_room("mine", "public").await;
    let added = other_device.next_of("room_added").await;
    assert_eq!(room_of(&added), created);
    assert_eq!(added["room"]["role"], "owner");

    let theirs = owner.create_room("theirs", "public").await;
    user.join(theirs).await;
    let joined = other_device.next_of("room_added").await;
    assert_eq!(room_of(&joined), theirs);
    assert_eq!(joined["room"]["role"], "member");

    let left = user
        .post(&format!("/api/rooms/{theirs}/leave"), json!({}))
        .await;
    assert_eq!(left.status(), 204);
    let removed = other_device.next_of("room_removed").await;
    assert_eq!(room_of(&removed), theirs);
    assert_eq!(removed["reason"], "left");
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_marker_moved_on_one_device_shows_on_every_socket_of_the_user() {
    let stack = Stack::start().await;
    let (a, b) = (stack.gateway().await, stack.gateway().await);
    let owner = User::sign_up(&a, "owner").await;
    let reader = User::sign_up(&a, "reader").await;
    let room = owner.create_room("news", "public").await;
    reader.join(room).await;
    let mut writer = owner.connect(a.addr).await;
    writer.subscribe(room, None).await;
    let ack = writer.send_message(room, "m-1", "hello").await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let mut on_a = reader.connect(a.addr).await;
    let mut on_b = reader.connect(b.addr).await;

    let response = reader
        .post(&format!("/api/rooms/{room}/read"), json!({ "seq": 1 }))
        .await;
    assert_eq!(response.status(), 204);

    for socket in [&mut on_a, &mut on_b] {
        let read = socket.next_of("read").await;
        assert_eq!(room_of(&read), room);
        assert_eq!(read["seq"], 1);
    }
    // the same marker again moves nothing: no frame; the next one that moves it is the next frame
    let again = reader
        .post(&format!("/api/rooms/{room}/read"), json!({ "seq": 1 }))
        .await;
    assert_eq!(again.status(), 204);
    writer.send_message(room, "m-2", "again").await;
    reader
        .post(&format!("/api/rooms/{room}/read"), json!({ "seq": 2 }))
        .await;
    let next = on_b.next_of("read").await;
    assert_eq!(next["seq"], 2, "the unchanged marker sent no frame: {next}");
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_kicked_or_banned_member_hears_room_removed_with_the_reason() {
    let stack = Stack::start().await;
    let (a, b) = (stack.gateway().await, stack.gateway().await);
    let owner = User::sign_up(&a, "owner").await;
    let member = User::sign_up(&a, "member").await;
    let kicked_from = owner.create_room("first", "public").await;
    let banned_from = owner.create_room("second", "public").await;
    member.join(kicked_from).await;
    member.join(banned_from).await;
    let mut socket = member.connect(b.addr).await;

    let kick = owner
        .post(
            &format!("/api/rooms/{kicked_from}/members/{}/kick", member.id),
            json!({}),
        )
        .await;
    assert_eq!(kick.status(), 204);
    let removed = socket.next_of("room_removed").await;
    assert_eq!(room_of(&removed), kicked_from);
    assert_eq!(removed["reason"], "kicked");

    let ban = owner
        .post(
            &format!("/api/rooms/{banned_from}/bans"),
            json!({ "user_id": member.id }),
        )
        .await;
    assert_eq!(ban.status(), 204);
    let removed = socket.next_of("room_removed").await;
    assert_eq!(room_of(&removed), banned_from);
    assert_eq!(removed["reason"], "banned");
    a.stop().await;
    b.stop().await;
}
