//! The WebSocket endpoint: `GET /ws?ticket=…` with an allowed `Origin`.
//!
//! - [`protocol`]: the frames.
//! - [`session`]: one connection: a reader, a writer, a send worker.
//! - [`send`]: the send path (dedupe, Kafka, sequencer, ack).
//! - [`dedupe`]: which message a client message id names (resends).
//! - [`subscribe`]: joining a room with resume from a seq.

pub mod dedupe;
pub mod protocol;
pub mod send;
pub mod session;
pub mod subscribe;

use axum::extract::{Query, State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::auth::ticket;
use crate::auth::token::now_secs;
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct Connect {
    ticket: String,
}

/// True when the request's `Origin` is one of the allowed origins.
fn origin_allowed(state: &AppState, headers: &HeaderMap) -> bool {
    headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|origin| state.config.allowed_origins.iter().any(|o| o == origin))
}

/// Checks origin and ticket before upgrading; nothing is processed otherwise.
pub async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<Connect>, axum::extract::rejection::QueryRejection>,
    ws: WebSocketUpgrade,
) -> Response {
    if !origin_allowed(&state, &headers) {
        return (StatusCode::FORBIDDEN, "origin not allowed").into_response();
    }
    let Ok(Query(connect)) = query else {
        return ApiError::Unauthenticated.into_response();
    };
    let holder = match ticket::redeem(&state.redis, &state.sessions, &connect.ticket).await {
        Ok(holder) if holder.token_exp > now_secs() => holder,
        Ok(_) => return ApiError::Unauthenticated.into_response(),
        Err(error) => return error.into_response(),
    };
    let max = state.config.ws_max_message_bytes;
    ws.protocols([protocol::SUBPROTOCOL])
        .max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| {
            let tracker = state.sockets.clone();
            tracker.track_future(session::run(socket, state, holder))
        })
}
