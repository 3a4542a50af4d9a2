//! The OpenAPI document states the bounds the moderation, report and search
//! endpoints enforce (schemathesis then holds the server to them).

use serde_json::Value;

use crate::common::Stack;

#[tokio::test]
async fn the_openapi_document_states_the_moderation_and_search_bounds() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let document: Value = reqwest::get(gateway.url("/api/openapi.json"))
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    let schemas = &document["components"]["schemas"];
    assert_eq!(
        schemas["TopicBody"]["properties"]["topic"]["maxLength"],
        300
    );
    assert_eq!(
        schemas["SlowModeBody"]["properties"]["seconds"]["minimum"],
        0
    );
    assert_eq!(
        schemas["SlowModeBody"]["properties"]["seconds"]["maximum"],
        3600
    );
    assert_eq!(
        schemas["ReportBody"]["properties"]["reason"]["maxLength"],
        500
    );
    for field in ["topic", "slow_mode_seconds"] {
        assert!(
            schemas["Room"]["required"]
                .as_array()
                .expect("required")
                .iter()
                .any(|r| r == field),
            "Room.{field}"
        );
    }
    let search = &document["paths"]["/api/search"]["get"];
    let param = |name: &str| {
        search["parameters"]
            .as_array()
            .expect("parameters")
            .iter()
            .find(|p| p["name"] == name)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(param("q")["required"], true);
    assert_eq!(param("q")["schema"]["maxLength"], 200);
    assert_eq!(param("limit")["schema"]["maximum"], 50);
    assert_eq!(param("offset")["schema"]["maximum"], 1000);
    for (path, method) in [
        ("/api/rooms/{id}/bans", "post"),
        ("/api/rooms/{id}/bans/{user_id}", "delete"),
        ("/api/rooms/{id}/members/{user_id}/kick", "post"),
        ("/api/rooms/{id}/members/{user_id}/role", "put"),
        ("/api/rooms/{id}/topic", "put"),
        ("/api/rooms/{id}/slow_mode", "put"),
    ] {
        let responses = &document["paths"][path][method]["responses"];
        for status in ["403", "409", "503"] {
            assert!(responses[status].is_object(), "{method} {path} {status}");
        }
    }
}
