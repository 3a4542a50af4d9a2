//! The error contract (docs/protocol.md): an unknown `/api` route and a known
//! route with the wrong method answer with the API's JSON error body like
//! every other error, and input the server cannot use is `422`, never a `5xx`.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::common::Stack;
use crate::helpers::*;

/// The status, the content type and the parsed body of a request.
async fn call(
    gateway: &crate::common::Gateway,
    method: Method,
    path: &str,
) -> (StatusCode, String, Value, Option<String>) {
    let response = bare_client()
        .request(method, gateway.url(path))
        .send()
        .await
        .expect("request");
    let status = response.status();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let content_type = header("content-type").unwrap_or_default();
    let allow = header("allow");
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    (status, content_type, body, allow)
}

#[tokio::test]
async fn an_unknown_api_route_answers_404_with_the_error_body() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;

    for (method, path) in [
        (Method::GET, "/api/nope"),
        (Method::POST, "/api/rooms/not-a-route/at/all"),
        (Method::GET, "/nowhere"),
    ] {
        let (status, content_type, body, _) = call(&gateway, method.clone(), path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}");
        assert_eq!(content_type, "application/json", "{method} {path}");
        assert_eq!(
            body["error"]["code"], "not_found",
            "{method} {path}: {body}"
        );
        assert!(
            body["error"]["message"].is_string(),
            "{method} {path}: {body}"
        );
    }
}

#[tokio::test]
async fn a_wrong_method_answers_405_with_the_error_body_and_allow() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;

    for (method, path, allowed) in [
        (Method::DELETE, "/api/rooms", "GET,HEAD,POST"),
        (Method::GET, "/api/auth/login", "POST"),
        (Method::PUT, "/api/me", "GET,HEAD"),
        (Method::POST, "/api/openapi.json", "GET,HEAD"),
    ] {
        let (status, content_type, body, allow) = call(&gateway, method.clone(), path).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert_eq!(content_type, "application/json", "{method} {path}");
        assert_eq!(
            body["error"]["code"], "method_not_allowed",
            "{method} {path}: {body}"
        );
        let mut allow: Vec<String> = allow
            .unwrap_or_default()
            .split(',')
            .map(|m| m.trim().to_owned())
            .collect();
        allow.sort();
        assert_eq!(allow.join(","), allowed, "{method} {path}: Allow");
    }
}

/// Found by schemathesis: Postgres refuses text with a NUL character, and the
/// search passed `q` through, so the answer was `500 internal`.
#[tokio::test]
async fn a_search_text_with_a_nul_character_is_invalid_not_a_server_error() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let user = crate::common::User::sign_up(&gateway, "nul").await;

    let response = user.get("/api/rooms?q=a%00b").await;

    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json_of(response).await["error"]["code"], "invalid");
}

/// A request still unanswered after the API's 15 s answers `408` with the
/// error body (tower-http's timeout answered with an empty body).
#[tokio::test]
async fn a_request_that_outlives_the_timeout_answers_408_with_the_error_body() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let user = crate::common::User::sign_up(&gateway, "slow").await;
    // every read of the rooms table now waits behind this transaction
    let mut lock = stack.db.pool.begin().await.expect("begin");
    sqlx::query("LOCK TABLE rooms IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .expect("lock the rooms table");

    let response = user.get("/api/rooms").await;

    lock.rollback().await.expect("release the lock");
    assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/json");
    assert_eq!(json_of(response).await["error"]["code"], "timeout");
}
