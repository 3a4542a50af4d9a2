//! The WebSocket endpoint: `GET /ws?ticket=…` with an allowed `Origin` and
//! the `chat.v1` subprotocol.
//!
//! - [`protocol`]: the frames.
//! - [`session`]: one connection: a reader, a writer, a send worker.
//! - [`send`]: the send path (dedupe, Kafka, sequencer, ack).
//! - [`dedupe`]: which message a client message id names (resends).
//! - [`events`]: replies, edits, deletes, reactions: their checks.
//! - [`mentions`]: `@name` and `@room` in a body.
//! - [`subscribe`]: joining a room with resume from a seq.
//! - [`caps`]: open connections per user and per client address.
//! - [`slow_mode`]: one message per member per interval in a room, across gateways.
//! - [`status`]: a connection's person away or active, told to its rooms' presence.

pub mod caps;
pub mod dedupe;
pub mod events;
pub mod mentions;
pub mod protocol;
pub mod send;
pub mod session;
pub mod slow_mode;
pub mod status;
pub mod subscribe;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{Query, State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::auth::ClientAddr;
use crate::auth::ticket;
use crate::auth::token::now_secs;
use crate::error::{ApiError, ErrorBody, ErrorDetail};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct Connect {
    ticket: String,
}

/// Why a WebSocket handshake is refused, before any upgrade; always a JSON
/// error body, like the API's.
#[derive(Debug, thiserror::Error)]
pub enum UpgradeRefused {
    /// Not a WebSocket handshake at all (axum's status: 400, 405, 426).
    #[error("not a WebSocket handshake")]
    NotWebSocket(StatusCode),
    #[error("the `chat.v1` subprotocol must be offered (Sec-WebSocket-Protocol)")]
    NoSubprotocol,
    #[error("origin not allowed")]
    Origin,
    #[error(transparent)]
    Cap(#[from] caps::CapReached),
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl IntoResponse for UpgradeRefused {
    fn into_response(self) -> Response {
        if let Self::Api(error) = self {
            return error.into_response();
        }
        let (status, code) = match &self {
            Self::NotWebSocket(status) => (*status, "invalid"),
            Self::NoSubprotocol => (StatusCode::BAD_REQUEST, "invalid"),
            Self::Origin => (StatusCode::FORBIDDEN, "forbidden"),
            Self::Cap(_) => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            Self::Api(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code,
                message: self.to_string(),
            },
        };
        (status, Json(body)).into_response()
    }
}

/// True when the request's `Origin` is one of the allowed origins.
fn origin_allowed(state: &AppState, headers: &HeaderMap) -> bool {
    headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|origin| state.config.allowed_origins.iter().any(|o| o == origin))
}

/// True when the client offers our subprotocol (`Sec-WebSocket-Protocol`, a
/// comma-separated list, possibly over several headers).
fn offers_subprotocol(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim() == protocol::SUBPROTOCOL)
}

/// Checks origin, subprotocol, ticket and the connection caps before
/// upgrading; nothing is processed otherwise.
pub async fn upgrade(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    query: Result<Query<Connect>, QueryRejection>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, UpgradeRefused> {
    let ws = ws.map_err(|r| UpgradeRefused::NotWebSocket(r.status()))?;
    if !origin_allowed(&state, &headers) {
        return Err(UpgradeRefused::Origin);
    }
    if !offers_subprotocol(&headers) {
        return Err(UpgradeRefused::NoSubprotocol);
    }
    let Ok(Query(connect)) = query else {
        return Err(ApiError::Unauthenticated.into());
    };
    let holder = match ticket::redeem(&state.redis, &state.sessions, &connect.ticket).await? {
        holder if holder.token_exp > now_secs() => holder,
        _ => return Err(ApiError::Unauthenticated.into()),
    };
    let permit = state.connection_caps.acquire(holder.user_id, addr)?;
    let max = state.config.ws_max_message_bytes;
    Ok(ws
        .protocols([protocol::SUBPROTOCOL])
        .max_message_size(max)
        .max_frame_size(max)
        // tungstenite's default read buffer, 128 KiB zero-filled at the first read, was most
        // of an idle connection's memory (BENCHMARKS.md, idle connections)
        .read_buffer_size(state.config.ws_read_buffer_bytes)
        .on_upgrade(move |socket| {
            let tracker = state.sockets.clone();
            tracker.track_future(session::run(socket, state, holder, permit))
        }))
}
