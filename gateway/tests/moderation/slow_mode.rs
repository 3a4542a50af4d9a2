//! Slow mode across gateways: a plain member's second message within the
//! interval is refused with `rate_limited` and `retry_after_ms`; owners and
//! moderators are exempt; a resend of the message that took the slot is not
//! a second message; a gateway that had read the old setting uses the new one
//! at once (each send reads it with the sender's membership).

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{Stack, User};
use crate::helpers::*;

#[tokio::test]
async fn slow_mode_refuses_a_second_message_on_any_gateway_and_exempts_moderators() {
    let stack = Stack::start().await;
    let (east, west) = (stack.gateway().await, stack.gateway().await);
    let alice = User::sign_up(&east, "alice").await;
    let bob = User::sign_up(&east, "bob").await;
    let carol = User::sign_up(&west, "carol").await;
    let room = room_with(&alice, &[&bob, &carol]).await;
    promote(&alice, room, &carol).await;
    let mut b_east = bob.connect(east.addr).await;
    let mut b_west = bob.connect(west.addr).await;
    // the west gateway has read the room's setting (off) before it changes on east
    let before = b_west.send_message(room, "b-0", "before slow mode").await;
    assert_eq!(before["type"], "ack", "{before}");
    let slow = put(
        &alice,
        &format!("/api/rooms/{room}/slow_mode"),
        json!({ "seconds": 60 }),
    )
    .await;
    assert_eq!(slow.status(), StatusCode::OK);

    let first = b_east.send_message(room, "b-1", "first").await;
    assert_eq!(first["type"], "ack", "{first}");
    let second = b_west.send_message(room, "b-2", "second, too soon").await;
    assert_eq!(second["type"], "error", "{second}");
    assert_eq!(second["code"], "rate_limited");
    let wait = second["retry_after_ms"].as_u64().expect("retry_after_ms");
    assert!(wait > 0 && wait <= 60_000, "{wait}");
    // the same message again is a resend, answered with its ack
    let resend = b_west.send_message(room, "b-1", "first").await;
    assert_eq!(resend["type"], "ack", "{resend}");
    assert_eq!(resend["id"], first["id"]);

    // the owner and a moderator are exempt
    let mut a = alice.connect(west.addr).await;
    let mut c = carol.connect(east.addr).await;
    for i in 0..3 {
        let ack = a
            .send_message(room, &format!("a-{i}"), "owner speaks")
            .await;
        assert_eq!(ack["type"], "ack", "{ack}");
        let ack = c
            .send_message(room, &format!("c-{i}"), "moderator speaks")
            .await;
        assert_eq!(ack["type"], "ack", "{ack}");
    }

    // off again: the member sends at once
    let off = put(
        &alice,
        &format!("/api/rooms/{room}/slow_mode"),
        json!({ "seconds": 0 }),
    )
    .await;
    assert_eq!(off.status(), StatusCode::OK);
    // every gateway reads the setting with each send: off at once; and the
    // refused message claimed nothing, so its client message id is free
    let later = b_west
        .send_message(room, "b-2", "second, in its own time")
        .await;
    assert_eq!(later["type"], "ack", "{later}");
}
