//! Topic and moderation events: every member sees them live, in seq order,
//! with the moderation object; room objects carry topic, slow mode and role.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Stack, User};
use crate::helpers::*;

#[tokio::test]
async fn moderation_and_topic_events_reach_members_live_in_seq_order() {
    let stack = Stack::start().await;
    let (east, west) = (stack.gateway().await, stack.gateway().await);
    let alice = User::sign_up(&east, "alice").await;
    let bob = User::sign_up(&west, "bob").await;
    let carol = User::sign_up(&west, "carol").await;
    let dave = User::sign_up(&west, "dave").await;
    let room = room_with(&alice, &[&bob, &carol, &dave]).await;
    let mut b = bob.connect(west.addr).await;
    let head = b.subscribe(room, Some(0)).await["head_seq"]
        .as_i64()
        .expect("head");

    let topic = put(
        &alice,
        &format!("/api/rooms/{room}/topic"),
        json!({ "topic": "Café ☕ talk" }),
    )
    .await;
    assert_eq!(topic.status(), StatusCode::OK);
    let topic = json_of(topic).await;
    assert_eq!(topic["topic"], "Café ☕ talk");
    assert_eq!(topic["role"], "owner");
    let slow = put(
        &alice,
        &format!("/api/rooms/{room}/slow_mode"),
        json!({ "seconds": 15 }),
    )
    .await;
    assert_eq!(json_of(slow).await["slow_mode_seconds"], 15);
    promote(&alice, room, &carol).await;
    let kick = alice
        .post(
            &format!("/api/rooms/{room}/members/{}/kick", dave.id),
            json!({}),
        )
        .await;
    assert_eq!(kick.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        ban(&carol, room, dave.id).await.status(),
        StatusCode::NO_CONTENT
    );
    let unban = delete(&carol, &format!("/api/rooms/{room}/bans/{}", dave.id)).await;
    assert_eq!(unban.status(), StatusCode::NO_CONTENT);

    let mut events: Vec<Value> = Vec::new();
    for _ in 0..6 {
        events.push(b.next_of("message").await);
    }
    let seqs: Vec<i64> = events
        .iter()
        .map(|e| e["seq"].as_i64().expect("seq"))
        .collect();
    assert_eq!(
        seqs,
        (head + 1..=head + 6).collect::<Vec<_>>(),
        "in seq order, none missing"
    );
    let ops: Vec<&str> = events
        .iter()
        .map(|e| e["op"].as_str().expect("op"))
        .collect();
    assert_eq!(
        ops,
        [
            "topic",
            "moderation",
            "moderation",
            "moderation",
            "moderation",
            "moderation"
        ]
    );
    assert_eq!(events[0]["body"], "Café ☕ talk");
    assert_eq!(events[0]["kind"], "system");
    assert_eq!(events[0]["sender"]["id"], alice.id.to_string());
    assert!(
        events[0]["client_msg_id"]
            .as_str()
            .expect("cmid")
            .starts_with("srv-")
    );
    assert_eq!(
        events[1]["moderation"],
        json!({ "action": "slow_mode", "seconds": 15 })
    );
    assert_eq!(
        events[2]["moderation"],
        json!({ "action": "role", "role": "moderator",
                "user": { "id": carol.id, "username": carol.username } })
    );
    let dave_ref = json!({ "id": dave.id, "username": dave.username });
    assert_eq!(
        events[3]["moderation"],
        json!({ "action": "kick", "user": dave_ref })
    );
    assert_eq!(
        events[4]["moderation"],
        json!({ "action": "ban", "user": dave_ref })
    );
    assert_eq!(
        events[4]["sender"]["id"],
        carol.id.to_string(),
        "the acting moderator"
    );
    assert_eq!(
        events[5]["moderation"],
        json!({ "action": "unban", "user": dave_ref })
    );
    for event in &events[1..] {
        assert_eq!(event["body"], "");
    }

    // the room objects say it too
    let mine = json_of(bob.get("/api/rooms/mine").await).await;
    assert_eq!(mine[0]["topic"], "Café ☕ talk");
    assert_eq!(mine[0]["slow_mode_seconds"], 15);
    assert_eq!(mine[0]["role"], "member");
    let joined = json_of(
        dave.post(&format!("/api/rooms/{room}/join"), json!({}))
            .await,
    )
    .await;
    assert_eq!(joined["topic"], "Café ☕ talk");
    assert_eq!(joined["role"], "member");
}

#[tokio::test]
async fn a_topic_and_slow_mode_outside_their_bounds_are_refused() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let room = alice.create_room("bounds", "public").await;
    let long = put(
        &alice,
        &format!("/api/rooms/{room}/topic"),
        json!({ "topic": "é".repeat(301) }),
    )
    .await;
    assert_eq!(long.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let fits = put(
        &alice,
        &format!("/api/rooms/{room}/topic"),
        json!({ "topic": "é".repeat(300) }),
    )
    .await;
    assert_eq!(fits.status(), StatusCode::OK);
    for seconds in [-1, 3601] {
        let answer = put(
            &alice,
            &format!("/api/rooms/{room}/slow_mode"),
            json!({ "seconds": seconds }),
        )
        .await;
        assert_eq!(
            answer.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{seconds}"
        );
    }
}
