//! Roles, kicks and bans: who may act on whom, and what a ban takes away,
//! on every gateway.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{Stack, User};
use crate::helpers::*;

#[tokio::test]
async fn a_member_cannot_ban_kick_set_the_topic_slow_mode_or_roles() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let [alice, bob, carol] =
        <[User; 3]>::try_from(users(&gateway, &["alice", "bob", "carol"]).await)
            .unwrap_or_else(|_| panic!("three users"));
    let room = room_with(&alice, &[&bob, &carol]).await;

    let answers = [
        ban(&bob, room, carol.id).await,
        bob.post(
            &format!("/api/rooms/{room}/members/{}/kick", carol.id),
            json!({}),
        )
        .await,
        put(
            &bob,
            &format!("/api/rooms/{room}/topic"),
            json!({ "topic": "mine now" }),
        )
        .await,
        put(
            &bob,
            &format!("/api/rooms/{room}/slow_mode"),
            json!({ "seconds": 30 }),
        )
        .await,
        put(
            &bob,
            &format!("/api/rooms/{room}/members/{}/role", carol.id),
            json!({ "role": "moderator" }),
        )
        .await,
        bob.get(&format!("/api/rooms/{room}/bans")).await,
        delete(&bob, &format!("/api/rooms/{room}/bans/{}", carol.id)).await,
    ];
    for answer in answers {
        assert_eq!(answer.status(), StatusCode::FORBIDDEN, "{}", answer.url());
    }
    // nothing changed: carol is still a member, the topic is empty
    let members = json_of(bob.get(&format!("/api/rooms/{room}/members")).await).await;
    assert_eq!(members.as_array().map(Vec::len), Some(3));
    let mine = json_of(bob.get("/api/rooms/mine").await).await;
    assert_eq!(mine[0]["topic"], "");
    assert_eq!(mine[0]["slow_mode_seconds"], 0);
    assert_eq!(mine[0]["role"], "member");
}

#[tokio::test]
async fn a_moderator_cannot_act_on_the_owner_or_another_moderator_but_on_members() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let [alice, bob, carol, dave] =
        <[User; 4]>::try_from(users(&gateway, &["alice", "bob", "carol", "dave"]).await)
            .unwrap_or_else(|_| panic!("four users"));
    let room = room_with(&alice, &[&bob, &carol, &dave]).await;
    promote(&alice, room, &bob).await;
    promote(&alice, room, &carol).await;

    let on_owner = ban(&bob, room, alice.id).await;
    assert_eq!(on_owner.status(), StatusCode::FORBIDDEN);
    let kick_owner = bob
        .post(
            &format!("/api/rooms/{room}/members/{}/kick", alice.id),
            json!({}),
        )
        .await;
    assert_eq!(kick_owner.status(), StatusCode::FORBIDDEN);
    let on_moderator = ban(&bob, room, carol.id).await;
    assert_eq!(on_moderator.status(), StatusCode::FORBIDDEN);
    // only the owner gives roles
    let role = put(
        &bob,
        &format!("/api/rooms/{room}/members/{}/role", dave.id),
        json!({ "role": "moderator" }),
    )
    .await;
    assert_eq!(role.status(), StatusCode::FORBIDDEN);

    let members = json_of(alice.get(&format!("/api/rooms/{room}/members")).await).await;
    let role_of = |id: uuid::Uuid| {
        members
            .as_array()
            .expect("members")
            .iter()
            .find(|m| m["id"] == id.to_string())
            .map(|m| m["role"].clone())
    };
    assert_eq!(role_of(alice.id), Some(json!("owner")));
    assert_eq!(role_of(bob.id), Some(json!("moderator")));
    assert_eq!(role_of(carol.id), Some(json!("moderator")));

    // a plain member is fair game; the owner acts on a moderator
    let kicked = bob
        .post(
            &format!("/api/rooms/{room}/members/{}/kick", dave.id),
            json!({}),
        )
        .await;
    assert_eq!(kicked.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        ban(&alice, room, carol.id).await.status(),
        StatusCode::NO_CONTENT
    );
    // a kicked member may come back, a banned one may not
    dave.join(room).await;
    let back = carol
        .post(&format!("/api/rooms/{room}/join"), json!({}))
        .await;
    assert_eq!(back.status(), StatusCode::FORBIDDEN);
    assert_eq!(code_of(back).await, "banned");
}

#[tokio::test]
async fn a_banned_user_loses_the_room_on_every_gateway_and_cannot_rejoin_be_invited_or_send_until_unbanned()
 {
    let stack = Stack::start().await;
    let (east, west) = (stack.gateway().await, stack.gateway().await);
    let alice = User::sign_up(&east, "alice").await;
    let mallory = User::sign_up(&west, "mallory").await;
    let room = room_with(&alice, &[&mallory]).await;
    let private = alice.create_room("inner", "private").await;
    let invited = alice
        .post(
            &format!("/api/rooms/{private}/invite"),
            json!({ "username": mallory.username }),
        )
        .await;
    assert_eq!(invited.status(), StatusCode::OK);
    let mut a = alice.connect(east.addr).await;
    let mut m = mallory.connect(west.addr).await;
    a.subscribe(room, Some(0)).await;
    m.subscribe(room, Some(0)).await;

    assert_eq!(
        ban(&alice, room, mallory.id).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        ban(&alice, private, mallory.id).await.status(),
        StatusCode::NO_CONTENT
    );

    // her socket on the other gateway hears it and stops receiving the room
    let left = m.next_of("member_left").await;
    assert_eq!(left["user"]["id"], mallory.id.to_string());
    assert_eq!(m.next_of("unsubscribed").await["room"], room.to_string());
    let ack = a
        .send_message(room, "after-ban", "mallory must not see this")
        .await;
    assert_eq!(ack["type"], "ack");
    let refused = m.send_message(room, "m-after-ban", "let me in").await;
    assert_eq!(refused["type"], "error");
    assert_eq!(refused["code"], "forbidden");
    m.send(json!({"type": "subscribe", "room": room, "last_seq": 0}))
        .await;
    let again = m
        .next_matching("error", |f| f["type"] == "error" || f["type"] == "message")
        .await;
    assert_eq!(
        again["code"], "forbidden",
        "no message reaches her: {again}"
    );

    // no way back in while banned
    let join = mallory
        .post(&format!("/api/rooms/{room}/join"), json!({}))
        .await;
    assert_eq!(join.status(), StatusCode::FORBIDDEN);
    assert_eq!(code_of(join).await, "banned");
    let invite = alice
        .post(
            &format!("/api/rooms/{private}/invite"),
            json!({ "username": mallory.username }),
        )
        .await;
    assert_eq!(invite.status(), StatusCode::FORBIDDEN);
    assert_eq!(code_of(invite).await, "banned");
    let bans = json_of(alice.get(&format!("/api/rooms/{room}/bans")).await).await;
    assert_eq!(bans[0]["id"], mallory.id.to_string());
    assert_eq!(bans[0]["username"], mallory.username.as_str());

    // unbanned, she may join again
    let unban = delete(&alice, &format!("/api/rooms/{room}/bans/{}", mallory.id)).await;
    assert_eq!(unban.status(), StatusCode::NO_CONTENT);
    mallory.join(room).await;
    let bans = json_of(alice.get(&format!("/api/rooms/{room}/bans")).await).await;
    assert_eq!(bans.as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn a_direct_room_has_no_moderation() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let bob = User::sign_up(&gateway, "bob").await;
    let dm = json_of(
        alice
            .post("/api/dm", json!({ "username": bob.username }))
            .await,
    )
    .await;
    let room = dm["room"]["id"].as_str().expect("room id").to_owned();
    let answer = alice
        .post(
            &format!("/api/rooms/{room}/bans"),
            json!({ "user_id": bob.id }),
        )
        .await;
    assert_eq!(answer.status(), StatusCode::CONFLICT);
    let topic = put(
        &alice,
        &format!("/api/rooms/{room}/topic"),
        json!({ "topic": "x" }),
    )
    .await;
    assert_eq!(topic.status(), StatusCode::CONFLICT);
}
