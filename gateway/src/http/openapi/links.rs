//! OpenAPI links: how a response feeds the next request (a created room's id
//! into join, members, history, ...). Clients and schemathesis's stateful
//! phase follow them.
//!
//! utoipa 5.5 serialises a link's fields in snake case (`operation_id`);
//! [`respell`] gives them the specification's names (`operationId`).

use serde_json::json;
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{HttpMethod, Operation};
use utoipa::openapi::{OpenApi, RefOr};

/// The `utoipa` modifier.
pub struct Links;

/// The operations a room's id can be passed to (operation ids are the
/// handlers' names). Not `invite`: it needs a user too, and its `404` (no
/// such user) would read as "the linked room is gone". Of moderation, the
/// lists only (`bans`, `open` reports): the changes publish room events.
const ROOM_OPERATIONS: [&str; 8] = [
    "join",
    "leave",
    "members",
    "online",
    "mark_read",
    "messages",
    "bans",
    "open",
];

impl utoipa::Modify for Links {
    fn modify(&self, openapi: &mut OpenApi) {
        let room_links = |pointer: &str| {
            ROOM_OPERATIONS
                .iter()
                .map(|target| {
                    (
                        *target,
                        json!({ "id": format!("$response.body#{pointer}") }),
                        None,
                    )
                })
                .collect::<Vec<_>>()
        };
        link(
            openapi,
            "/api/rooms",
            HttpMethod::Post,
            "201",
            room_links("/id"),
        );
        link(
            openapi,
            "/api/rooms/{id}/join",
            HttpMethod::Post,
            "200",
            room_links("/id"),
        );
        link(
            openapi,
            "/api/dm",
            HttpMethod::Post,
            "200",
            room_links("/room/id"),
        );
        link(
            openapi,
            "/api/rooms/mine",
            HttpMethod::Get,
            "200",
            room_links("/0/id"),
        );
        link(
            openapi,
            "/api/auth/signup",
            HttpMethod::Post,
            "201",
            vec![
                // the same credentials log in
                ("log_in", json!({}), Some(json!("$request.body"))),
                // the new user can be talked to directly
                (
                    "direct",
                    json!({}),
                    Some(json!({ "username": "$response.body#/user/username" })),
                ),
                // the `chat_refresh` cookie it set renews and ends the login
                ("refresh", refresh_cookie(), None),
                ("log_out", refresh_cookie(), None),
            ],
        );
        for (path, status) in [("/api/auth/login", "200"), ("/api/auth/refresh", "200")] {
            link(
                openapi,
                path,
                HttpMethod::Post,
                status,
                vec![
                    ("refresh", refresh_cookie(), None),
                    ("log_out", refresh_cookie(), None),
                ],
            );
        }
    }
}

/// The `chat_refresh` parameter taken from the response's `Set-Cookie`. A
/// runtime expression can only name the whole header; the `#regex:` suffix
/// (a schemathesis extension, ignored by other tools) takes the cookie's value.
fn refresh_cookie() -> serde_json::Value {
    json!({ "chat_refresh": "$response.header.Set-Cookie#regex:chat_refresh=([^;]+)" })
}

/// Adds links to the `status` response of `method path`: (target operation
/// id, its parameters, its request body).
fn link(
    openapi: &mut OpenApi,
    path: &str,
    method: HttpMethod,
    status: &str,
    links: Vec<(&str, serde_json::Value, Option<serde_json::Value>)>,
) {
    let Some(operation) = operation_mut(openapi, path, method) else {
        return;
    };
    let Some(RefOr::T(response)) = operation.responses.responses.get_mut(status) else {
        return;
    };
    for (target, parameters, body) in links {
        let mut builder = LinkBuilder::new().operation_id(target).request_body(body);
        if let Some(parameters) = parameters.as_object() {
            for (name, value) in parameters {
                builder = builder.parameter(name.clone(), value.clone());
            }
        }
        response
            .links
            .insert(target.to_owned(), builder.build().into());
    }
}

fn operation_mut<'a>(
    openapi: &'a mut OpenApi,
    path: &str,
    method: HttpMethod,
) -> Option<&'a mut Operation> {
    let item = openapi.paths.paths.get_mut(path)?;
    match method {
        HttpMethod::Get => item.get.as_mut(),
        HttpMethod::Post => item.post.as_mut(),
        HttpMethod::Put => item.put.as_mut(),
        HttpMethod::Delete => item.delete.as_mut(),
        HttpMethod::Options => item.options.as_mut(),
        HttpMethod::Head => item.head.as_mut(),
        HttpMethod::Patch => item.patch.as_mut(),
        HttpMethod::Trace => item.trace.as_mut(),
    }
}

/// Renames the fields of every response's links in the serialised `document`
/// to the OpenAPI names: `operationId`, `operationRef`, `requestBody`.
pub fn respell(document: &mut serde_json::Value) {
    let Some(paths) = document.get_mut("paths").and_then(|p| p.as_object_mut()) else {
        return;
    };
    let links = paths
        .values_mut()
        .filter_map(|item| item.as_object_mut())
        .flat_map(|item| item.values_mut())
        .filter_map(|operation| operation.get_mut("responses")?.as_object_mut())
        .flat_map(|responses| responses.values_mut())
        .filter_map(|response| response.get_mut("links")?.as_object_mut())
        .flat_map(|links| links.values_mut())
        .filter_map(|link| link.as_object_mut());
    for link in links {
        for (from, to) in [
            ("operation_id", "operationId"),
            ("operation_ref", "operationRef"),
            ("request_body", "requestBody"),
        ] {
            if let Some(value) = link.remove(from) {
                link.insert(to.to_owned(), value);
            }
        }
    }
}
