//! Blocks: the caller's list of users who may not open a direct room with
//! them or invite them anywhere. Blocking takes the blocked user out of their
//! direct room with the caller; the blocked user is never told why they are
//! refused.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, post};
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::extract::{self, Path};
use super::rooms::announce_departure;
use crate::auth::AuthUser;
use crate::db;
use crate::db::blocks::{BLOCKS_MAX, Blocked, BlockedUser};
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use crate::ws::protocol::UserRef;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/blocks", post(block).get(list))
        .route("/api/blocks/{user_id}", delete(unblock))
}

/// Whom to block.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BlockBody {
    pub user_id: Uuid,
}

/// Blocks a user: they can no longer open a direct room with the caller or
/// invite the caller into a room, and leave their direct room with the caller.
/// Blocking twice is harmless.
#[utoipa::path(
    post, path = "/api/blocks", tag = "blocks",
    security(("bearer" = [])),
    request_body = BlockBody,
    responses(
        (status = 204, description = "The user is blocked"),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 404, description = "No user has that id", body = ErrorBody),
        (status = 409, description = "The caller blocks 1000 users already", body = ErrorBody),
        (status = 422, description = "That is the caller, or not a user id", body = ErrorBody),
    )
)]
pub async fn block(
    State(state): State<AppState>,
    user: AuthUser,
    extract::Json(body): extract::Json<BlockBody>,
) -> Result<StatusCode, ApiError> {
    if body.user_id == user.id {
        return Err(ApiError::invalid("you cannot block yourself"));
    }
    match db::blocks::block(&state.pool, user.id, body.user_id).await? {
        Blocked::Done { left_room } => {
            if let Some(room) = left_room
                && let Some(blocked) = db::users::by_id(&state.pool, body.user_id).await?
            {
                let who = UserRef {
                    id: blocked.id,
                    username: blocked.username,
                };
                announce_departure(&state, room, who).await;
            }
            Ok(StatusCode::NO_CONTENT)
        }
        Blocked::UnknownUser => Err(ApiError::NotFound),
        Blocked::TooMany => Err(ApiError::Conflict(format!(
            "you block {BLOCKS_MAX} users, the most allowed"
        ))),
    }
}

/// Unblocks a user (harmless if they were not blocked). They are not put
/// back into a direct room: either of the two can open it again.
#[utoipa::path(
    delete, path = "/api/blocks/{user_id}", tag = "blocks",
    security(("bearer" = [])),
    params(("user_id" = Uuid, Path, description = "The user to unblock")),
    responses(
        (status = 204, description = "The user is not blocked"),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 422, description = "Not a user id", body = ErrorBody),
    )
)]
pub async fn unblock(
    State(state): State<AppState>,
    user: AuthUser,
    Path(blocked): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    db::blocks::unblock(&state.pool, user.id, blocked).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The users the caller blocks, most recently blocked first.
#[utoipa::path(
    get, path = "/api/blocks", tag = "blocks",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The blocked users (at most 1000)", body = Vec<BlockedUser>),
        (status = 401, description = "Not authenticated", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<Vec<BlockedUser>>, ApiError> {
    Ok(Json(db::blocks::list(&state.pool, user.id).await?))
}
