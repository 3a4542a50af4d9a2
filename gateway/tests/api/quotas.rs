//! Room quotas: rooms created per user per hour, and rooms a user may own.

use reqwest::StatusCode;
use reqwest::header::RETRY_AFTER;
use serde_json::json;

use crate::common::{Gateway, Stack, User};
use crate::helpers::*;

async fn create(user: &User, name: &str) -> reqwest::Response {
    user.post("/api/rooms", json!({ "name": name, "kind": "private" }))
        .await
}

#[tokio::test]
async fn room_creation_is_limited_per_hour() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let user = User::sign_up(&gateway, "rosa").await;
    let other = User::sign_up(&gateway, "rick").await;

    let mut accepted = 0;
    let refused = loop {
        let response = create(&user, &format!("room {accepted}")).await;
        if response.status() != StatusCode::CREATED || accepted == 60 {
            break response;
        }
        accepted += 1;
    };

    assert!(accepted < 60, "60 rooms in a row were all accepted");
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = refused
        .headers()
        .get(RETRY_AFTER)
        .expect("Retry-After")
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=3600).contains(&retry_after), "{retry_after}");
    assert_eq!(json_of(refused).await["error"]["code"], "rate_limited");
    assert_eq!(
        create(&other, "someone else's").await.status(),
        StatusCode::CREATED,
        "the limit is per user"
    );
}

#[tokio::test]
async fn room_creation_stops_at_the_rooms_a_user_may_own() {
    let stack = Stack::start().await;
    let mut config = stack.gateway_config();
    config.rooms.owned_max = 3;
    let gateway = Gateway::start(config).await;
    let owner = User::sign_up(&gateway, "saul").await;
    let heir = User::sign_up(&gateway, "hugo").await;
    let mut rooms = Vec::new();
    for i in 0..3 {
        rooms.push(owner.create_room(&format!("owned {i}"), "public").await);
    }

    let refused = create(&owner, "a fourth").await;

    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().get(RETRY_AFTER).is_some());
    heir.join(rooms[0]).await;
    let left = owner
        .post(&format!("/api/rooms/{}/leave", rooms[0]), json!({}))
        .await;
    assert_eq!(left.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        create(&owner, "after handing one over").await.status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn concurrent_room_creations_do_not_overshoot_the_hourly_quota() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let user = User::sign_up(&gateway, "tina").await;
    let per_hour = stack.gateway_config().rooms.created_per_hour as usize;

    let attempts = (0..per_hour + 10).map(|i| {
        let user = &user;
        async move { create(user, &format!("burst {i}")).await.status() }
    });
    let statuses = futures::future::join_all(attempts).await;

    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let limited = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((created, limited), (per_hour, 10), "{statuses:?}");
}

#[tokio::test]
async fn the_openapi_document_states_the_quota_answer_and_the_room_bounds() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;

    let document = openapi_document(&gateway).await;

    let create = &document["paths"]["/api/rooms"]["post"]["responses"];
    assert!(
        create["429"]["headers"]["Retry-After"].is_object(),
        "{create}"
    );
    let schemas = &document["components"]["schemas"];
    assert_eq!(schemas["NewRoom"]["properties"]["name"]["maxLength"], 80);
    assert_eq!(schemas["NewRoom"]["properties"]["name"]["minLength"], 1);
    assert_eq!(schemas["ReadMarker"]["properties"]["seq"]["minimum"], 0);
    let dm = &document["paths"]["/api/dm"]["post"]["responses"];
    for status in ["403", "409"] {
        assert!(dm[status].is_object(), "POST /api/dm documents {status}");
    }
}
