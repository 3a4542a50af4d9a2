//! When the event of a moderation action cannot be published, the action
//! stands, the caller gets `503`, and the same call again (once Kafka takes
//! it) publishes the event.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{Gateway, Stack, User};
use crate::helpers::*;

#[tokio::test]
async fn a_ban_whose_event_is_not_published_stands_and_a_retry_publishes_it() {
    let stack = Stack::start().await;
    let healthy = stack.gateway().await;
    // a gateway whose every produce fails: its topic does not exist (the
    // brokers do not create topics on demand)
    let mut config = stack.gateway_config();
    config.kafka.topic = format!("missing.{}", uuid::Uuid::new_v4().simple());
    config.send_timeout_ms = 1000;
    let broken = Gateway::start(config).await;
    let alice = User::sign_up(&broken, "alice").await;
    let bob = User::sign_up(&healthy, "bob").await;
    let mallory = User::sign_up(&healthy, "mallory").await;
    let room = room_with(&alice, &[&bob, &mallory]).await;
    let mut b = bob.connect(healthy.addr).await;
    let head = b.subscribe(room, Some(0)).await["head_seq"]
        .as_i64()
        .expect("head");

    let failed = ban(&alice, room, mallory.id).await;
    assert_eq!(failed.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(code_of(failed).await, "unavailable");
    // the ban stands
    let join = mallory
        .post(&format!("/api/rooms/{room}/join"), json!({}))
        .await;
    assert_eq!(join.status(), StatusCode::FORBIDDEN);
    assert_eq!(code_of(join).await, "banned");

    // the same call through a gateway that can publish: 204, and the event
    let alice_healthy = User {
        base: format!("http://{}", healthy.addr),
        ..alice
    };
    assert_eq!(
        ban(&alice_healthy, room, mallory.id).await.status(),
        StatusCode::NO_CONTENT
    );
    let event = b
        .next_matching("the ban event", |f| f["type"] == "message")
        .await;
    assert_eq!(event["seq"], head + 1);
    assert_eq!(event["op"], "moderation");
    assert_eq!(
        event["moderation"],
        json!({ "action": "ban", "user": { "id": mallory.id, "username": mallory.username } })
    );
}
