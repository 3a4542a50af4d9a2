//! The HTTP API: one module per resource, composed here with the middleware
//! stack (request ids, tracing, timeouts, CORS for the site's origin only).
//!
//! - [`accounts`]: sign up, log in, refresh, log out, who am I.
//! - [`rooms`]: create, list, search, join, leave, members, invite, direct rooms.
//! - [`history`]: a room's messages paged by seq.
//! - [`tickets`]: single-use WebSocket tickets.
//! - [`health`]: liveness, readiness, metrics.
//! - [`openapi`]: the OpenAPI document of all of the above.
//! - [`extract`]: `Json`, `Path` and `Query` that reject with the API's error body.
//! - [`client_addr`]: the client's address behind trusted proxies.

pub mod accounts;
pub mod client_addr;
pub mod extract;
pub mod health;
pub mod history;
pub mod openapi;
pub mod rooms;
pub mod tickets;

use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::routing::{get, post};
use tower_http::cors::CorsLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveHeadersLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

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
        .allow_methods([Method::GET, Method::POST, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .allow_credentials(true)
        .max_age(Duration::from_secs(600));
    let api = Router::new()
        .merge(accounts::routes())
        .merge(rooms::routes())
        .merge(history::routes())
        .route("/api/ws-ticket", post(tickets::issue))
        .route("/api/openapi.json", get(openapi::document))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(15),
        ))
        .layer(cors);
    Router::new()
        .merge(api)
        .route("/ws", get(crate::ws::upgrade))
        .route("/healthz", get(health::live))
        .route("/readyz", get(health::ready))
        .route("/metrics", get(health::metrics))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http())
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(SetSensitiveHeadersLayer::new([
            header::AUTHORIZATION,
            header::COOKIE,
            header::SET_COOKIE,
        ]))
        .with_state(state)
}
