//! The answers that come from one place in the server rather than from a
//! handler, added to the document in one place too: the extractors' `422`
//! (a malformed body, path or query), the router's `408`, the `500`/`503` of [`ApiError`], and
//! the headers [`ApiError`] sets on `401` and `429`.
//!
//! [`ApiError`]: crate::error::ApiError

use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::{ContentBuilder, HeaderBuilder, ObjectBuilder, OpenApi, Ref, RefOr, Type};

/// The `utoipa` modifier.
pub struct CommonResponses;

impl utoipa::Modify for CommonResponses {
    fn modify(&self, openapi: &mut OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for operation in operations_mut(item) {
                add_common(operation);
            }
        }
    }
}

fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}

fn add_common(operation: &mut Operation) {
    // `extract::{Json, Path, Query}` reject whatever does not parse.
    let takes_input = operation.request_body.is_some()
        || operation
            .parameters
            .iter()
            .flatten()
            .any(|p| matches!(p.parameter_in, ParameterIn::Path | ParameterIn::Query));
    let responses = &mut operation.responses.responses;
    if takes_input {
        responses.entry("422".into()).or_insert_with(|| {
            error_response("`invalid`: a malformed JSON body (or not `application/json`), path or query parameter").into()
        });
    }
    responses
        .entry("408".into())
        .or_insert_with(|| error_response("`timeout`: no answer within the API's 15 s").into());
    responses.entry("500".into()).or_insert_with(|| {
        error_response("`internal`: an unexpected failure, logged by the server").into()
    });
    responses.entry("503".into()).or_insert_with(|| {
        error_response("`unavailable`: Postgres or Redis cannot be reached; try again").into()
    });
    for (status, response) in responses.iter_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        match status.as_str() {
            "401" => add_header(response, "WWW-Authenticate", "Always `Bearer`"),
            "429" => add_header(
                response,
                "Retry-After",
                "Seconds to wait before trying again",
            ),
            _ => {}
        }
    }
}

/// A response with the API's error body.
fn error_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}

fn add_header(response: &mut Response, name: &str, description: &str) {
    let schema = match name {
        "Retry-After" => ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(0)),
        _ => ObjectBuilder::new().schema_type(Type::String),
    };
    response.headers.entry(name.into()).or_insert_with(|| {
        HeaderBuilder::new()
            .schema(schema)
            .description(Some(description))
            .build()
    });
}
