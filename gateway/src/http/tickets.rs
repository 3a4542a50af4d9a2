//! `POST /api/ws-ticket`: trade an access token for a single-use WebSocket ticket.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::auth::ticket::{self, TICKET_TTL_SECS};
use crate::auth::token::Claims;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Ticket {
    /// Pass as `/ws?ticket=…` within `expires_in` seconds; it works once.
    pub ticket: String,
    pub expires_in: u64,
}

/// Issues a WebSocket ticket for the caller.
#[utoipa::path(
    post, path = "/api/ws-ticket", tag = "realtime",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A ticket", body = Ticket),
        (status = 401, description = "Not authenticated, or the token's session has ended (logout, reused refresh token)", body = ErrorBody),
        (status = 503, description = "Redis is unavailable: whether the session has ended cannot be checked (fails closed)", body = ErrorBody),
    )
)]
pub async fn issue(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<Ticket>, ApiError> {
    let claims = Claims {
        sub: user.id,
        sid: user.sid,
        name: user.username,
        iss: String::new(),
        aud: String::new(),
        iat: 0,
        exp: user.exp,
    };
    let ticket = ticket::issue(&state.redis, &claims).await?;
    Ok(Json(Ticket {
        ticket,
        expires_in: TICKET_TTL_SECS,
    }))
}
