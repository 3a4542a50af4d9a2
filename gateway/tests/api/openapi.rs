//! The OpenAPI document.

use crate::common::Stack;
use crate::helpers::*;

#[tokio::test]
async fn the_openapi_document_lists_every_path() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;

    let document = openapi_document(&gateway).await;

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
        ("/api/rooms/{id}/online", "get"),
        ("/api/rooms/{id}/invite", "post"),
        ("/api/rooms/{id}/read", "post"),
        ("/api/rooms/{id}/messages", "get"),
        ("/api/dm", "post"),
        ("/api/ws-ticket", "post"),
        ("/api/preview", "get"),
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
        "OnlinePage",
        "OnlineUser",
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

async fn served_document() -> serde_json::Value {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    openapi_document(&gateway).await
}

/// Every operation of the document: (path, method, operation).
fn operations(document: &serde_json::Value) -> Vec<(String, String, serde_json::Value)> {
    let mut all = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            all.push((path.clone(), method.clone(), operation.clone()));
        }
    }
    all
}

#[tokio::test]
async fn the_openapi_document_states_the_bounds_the_server_enforces() {
    let document = served_document().await;
    let schemas = &document["components"]["schemas"];

    let credentials = &schemas["CredentialsBody"]["properties"];
    assert_eq!(credentials["username"]["minLength"], 3);
    assert_eq!(credentials["username"]["maxLength"], 32);
    assert_eq!(credentials["username"]["pattern"], "^[A-Za-z0-9_.-]*$");
    assert_eq!(credentials["password"]["minLength"], 10);
    assert_eq!(credentials["password"]["maxLength"], 128);
    assert_eq!(
        schemas["UsernameBody"]["properties"]["username"]["pattern"],
        "^[A-Za-z0-9_.-]*$"
    );
    assert!(
        schemas["NewRoom"]["properties"]["name"]["pattern"].is_string(),
        "a room name's shape"
    );
    assert_eq!(schemas["ReadMarker"]["properties"]["seq"]["minimum"], 0);

    for path in ["/api/rooms", "/api/rooms/{id}/messages"] {
        let parameters = document["paths"][path]["get"]["parameters"]
            .as_array()
            .expect("parameters");
        let limit = parameters
            .iter()
            .find(|p| p["name"] == "limit")
            .expect("a limit parameter");
        assert_eq!(limit["schema"]["minimum"], 1, "{path} limit");
    }
}

#[tokio::test]
async fn every_rejection_the_extractors_and_services_can_give_is_documented() {
    let document = served_document().await;

    for (path, method, operation) in operations(&document) {
        let responses = &operation["responses"];
        let takes_input = operation["requestBody"].is_object()
            || operation["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["in"] == "path" || p["in"] == "query"));
        if takes_input {
            assert!(
                responses["422"].is_object(),
                "{method} {path}: a malformed body, path or query is 422"
            );
        }
        assert!(
            responses["503"].is_object(),
            "{method} {path}: a dependency down is 503"
        );
        assert!(
            responses["408"].is_object(),
            "{method} {path}: past the time limit is 408"
        );
        for (status, response) in responses.as_object().expect("responses") {
            if status.starts_with('4') || status.starts_with('5') {
                assert_eq!(
                    response["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{method} {path} {status}: the error body"
                );
            }
            if status == "429" {
                assert!(
                    response["headers"]["Retry-After"].is_object(),
                    "{method} {path}: 429 says when to retry"
                );
            }
        }
    }
}

#[tokio::test]
async fn a_created_room_links_to_what_can_be_done_with_it() {
    let document = served_document().await;

    let links = &document["paths"]["/api/rooms"]["post"]["responses"]["201"]["links"];
    for operation in [
        "join",
        "leave",
        "members",
        "online",
        "messages",
        "mark_read",
    ] {
        let link = links
            .as_object()
            .expect("links")
            .values()
            .find(|l| l["operationId"] == operation)
            .unwrap_or_else(|| panic!("a link to {operation}"));
        assert_eq!(
            link["parameters"]["id"], "$response.body#/id",
            "{operation}"
        );
    }
    let ids: Vec<String> = operations(&document)
        .iter()
        .filter_map(|(_, _, op)| op["operationId"].as_str().map(str::to_owned))
        .collect();
    for (path, method, operation) in operations(&document) {
        for (status, response) in operation["responses"].as_object().expect("responses") {
            for link in response["links"].as_object().into_iter().flatten() {
                let target = link.1["operationId"].as_str().expect("operationId");
                assert!(
                    ids.iter().any(|id| id == target),
                    "{method} {path} {status}: link to a missing operation {target}"
                );
            }
        }
    }
}
