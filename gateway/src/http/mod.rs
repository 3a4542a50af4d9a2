//! The HTTP API: one module per resource, composed here with the middleware
//! stack (request ids, tracing, timeouts, CORS for the site's origin only).
//!
//! - [`accounts`]: sign up, log in, refresh, log out, who am I.
//! - [`rooms`]: create, list, search, join, leave, members, invite, direct rooms.
//! - [`blocks`]: users the caller blocks.
//! - [`online`]: who is online in a room, paged.
//! - [`history`]: a room's events paged by seq, one message, its versions
//!   ([`history_view`]: their shapes).
//! - [`moderation`]: topic, slow mode, roles, kicks and bans.
//! - [`reports`]: members report messages, moderators resolve the reports.
//! - [`search`]: full-text search over the messages of the caller's rooms.
//! - [`tickets`]: single-use WebSocket tickets.
//! - [`preview`]: the public rooms' preview of the landing page, without an account.
//! - [`health`]: liveness, readiness, metrics.
//! - [`openapi`]: the OpenAPI document of all of the above.
//! - [`extract`]: `Json`, `Path` and `Query` that reject with the API's error body.
//! - [`fallback`]: unknown paths (`404`) and wrong methods (`405`), with the error body too.
//! - [`client_addr`]: the client's address behind trusted proxies.

pub mod accounts;
pub mod blocks;
pub mod client_addr;
pub mod extract;
pub mod fallback;
pub mod health;
pub mod history;
pub mod history_view;
pub mod moderation;
pub mod online;
pub mod openapi;
pub mod preview;
pub mod reports;
pub mod rooms;
pub mod search;
pub mod tickets;

use std::time::Duration;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::routing::{get, post};
use tower::ServiceBuilder;
use tower::timeout::TimeoutLayer;
use tower_http::cors::CorsLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveHeadersLayer;
use tower_http::trace::{DefaultOnFailure, TraceLayer};

use crate::state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// The longest an API request may take: past it, `408 timeout`.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// The whole HTTP surface of a gateway.
pub fn router(state: AppState) -> Router {
    let origins: Vec<HeaderValue> = state
        .config
        .allowed_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    let cors = CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .allow_credentials(true)
        .max_age(Duration::from_secs(600));
    let api = Router::new()
        .merge(accounts::routes())
        .merge(rooms::routes())
        .merge(blocks::routes())
        .merge(history::routes())
        .merge(online::routes())
        .merge(moderation::routes())
        .merge(reports::routes())
        .merge(search::routes())
        .merge(preview::routes())
        .route("/api/ws-ticket", post(tickets::issue))
        .route("/api/openapi.json", get(openapi::document))
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(fallback::timed_out))
                .layer(TimeoutLayer::new(REQUEST_TIMEOUT)),
        )
        .layer(cors);
    Router::new()
        .merge(api)
        .route("/ws", get(crate::ws::upgrade))
        .route("/healthz", get(health::live))
        .route("/readyz", get(health::ready))
        .route("/metrics", get(health::metrics))
        // after every route: it applies to the routes registered so far
        .method_not_allowed_fallback(fallback::method_not_allowed)
        .fallback(fallback::not_found)
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        // A 5xx is logged where it arises (`internal error` at ERROR, a
        // dependency down at WARN); one a client can cause at will (`503
        // busy`) is a metric. Logging every failed response at ERROR here
        // turned a sign-up flood into thousands of log lines a second.
        .layer(
            TraceLayer::new_for_http()
                // the path only: a query can hold a secret (`/ws?ticket=…`)
                .make_span_with(|request: &axum::http::Request<_>| {
                    tracing::debug_span!(
                        "request",
                        method = %request.method(),
                        path = %request.uri().path(),
                    )
                })
                .on_failure(DefaultOnFailure::new().level(tracing::Level::DEBUG)),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(SetSensitiveHeadersLayer::new([
            header::AUTHORIZATION,
            header::COOKIE,
            header::SET_COOKIE,
        ]))
        .with_state(state)
}
