//! Reports: a member reports a message once; only the owner and moderators
//! list the open reports and resolve them.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{Stack, User};
use crate::helpers::*;

#[tokio::test]
async fn a_member_reports_once_and_only_moderators_list_and_resolve_reports() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let bob = User::sign_up(&gateway, "bob").await;
    let carol = User::sign_up(&gateway, "carol").await;
    let eve = User::sign_up(&gateway, "eve").await;
    let room = room_with(&alice, &[&bob, &carol]).await;
    promote(&alice, room, &carol).await;
    let message = store_message(&stack, room, alice.id, 1, "something rude").await;
    let path = format!("/api/rooms/{room}/messages/{message}/reports");

    let first = bob.post(&path, json!({ "reason": "rude" })).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first = json_of(first).await;
    let again = bob.post(&path, json!({ "reason": "still rude" })).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(json_of(again).await["id"], first["id"], "the same report");
    // not a member, no such message, an overlong reason
    assert_eq!(
        eve.post(&path, json!({ "reason": "" })).await.status(),
        StatusCode::FORBIDDEN
    );
    let unknown = format!(
        "/api/rooms/{room}/messages/{}/reports",
        uuid::Uuid::now_v7()
    );
    assert_eq!(
        bob.post(&unknown, json!({ "reason": "" })).await.status(),
        StatusCode::NOT_FOUND
    );
    let long = bob.post(&path, json!({ "reason": "x".repeat(501) })).await;
    assert_eq!(long.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let list = format!("/api/rooms/{room}/reports");
    assert_eq!(bob.get(&list).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(eve.get(&list).await.status(), StatusCode::FORBIDDEN);
    let open = json_of(carol.get(&list).await).await;
    let open = open.as_array().expect("reports");
    assert_eq!(open.len(), 1);
    assert_eq!(open[0]["id"], first["id"]);
    assert_eq!(open[0]["reason"], "rude");
    assert_eq!(open[0]["reporter"]["id"], bob.id.to_string());
    assert_eq!(open[0]["message"]["id"], message.to_string());
    assert_eq!(open[0]["message"]["seq"], 1);
    assert_eq!(open[0]["message"]["body"], "something rude");
    assert_eq!(
        open[0]["message"]["sender"]["username"],
        alice.username.as_str()
    );

    let report = first["id"].as_str().expect("id");
    let resolve = format!("/api/rooms/{room}/reports/{report}/resolve");
    assert_eq!(
        bob.post(&resolve, json!({})).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        alice.post(&resolve, json!({})).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        alice.post(&resolve, json!({})).await.status(),
        StatusCode::NO_CONTENT
    );
    let open = json_of(alice.get(&list).await).await;
    assert_eq!(open.as_array().map(Vec::len), Some(0));
    let other = format!("/api/rooms/{room}/reports/{}/resolve", uuid::Uuid::now_v7());
    assert_eq!(
        alice.post(&other, json!({})).await.status(),
        StatusCode::NOT_FOUND
    );
}
