//! The OpenAPI document.

use crate::common::Stack;
use crate::helpers::*;

#[tokio::test]
async fn the_openapi_document_lists_every_path() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;

    let document = json_of(
        bare_client()
            .get(gateway.url("/api/openapi.json"))
            .send()
            .await
            .expect("request"),
    )
    .await;

    let expected = [
        ("/api/auth/signup", "post"),
        ("/api/auth/login", "post"),
        ("/api/auth/refresh", "post"),
        ("/api/auth/logout", "post"),
        ("/api/me", "get"),
        ("/api/rooms", "post"),
        ("/api/rooms", "get"),
        ("/api/rooms/mine", "get"),
        ("/api/rooms/{id}/join", "post"),
        ("/api/rooms/{id}/leave", "post"),
        ("/api/rooms/{id}/members", "get"),
        ("/api/rooms/{id}/invite", "post"),
        ("/api/rooms/{id}/read", "post"),
        ("/api/rooms/{id}/messages", "get"),
        ("/api/dm", "post"),
        ("/api/ws-ticket", "post"),
        ("/api/blocks", "post"),
        ("/api/blocks", "get"),
        ("/api/blocks/{user_id}", "delete"),
    ];
    for (path, method) in expected {
        assert!(
            document["paths"][path][method].is_object(),
            "{method} {path} is documented"
        );
    }
    for schema in [
        "Session",
        "User",
        "Room",
        "MyRoom",
        "Member",
        "History",
        "HistoryMessage",
        "ErrorBody",
        "BlockBody",
        "BlockedUser",
    ] {
        assert!(
            document["components"]["schemas"][schema].is_object(),
            "schema {schema}"
        );
    }
}
