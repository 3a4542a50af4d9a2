//! `GET /api/rooms/{id}/messages`: a room's stored events, paged by seq, each
//! message in its current state; `/messages/{message_id}` (one message) and
//! `/messages/{message_id}/versions` (its texts). Members only.

use std::time::Duration;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chat_core::event::EventOp;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::extract::{Path, Query};
use crate::auth::AuthUser;
use crate::db;
use crate::db::messages::{PAGE_MAX, PageRange};
use crate::domain::Limit;
use crate::error::{ApiError, ErrorBody};
pub use crate::http::history_view::HistoryMessage;
use crate::http::history_view::group_reactions;
use crate::state::AppState;

/// Messages per page when the client does not say.
pub const PAGE_DEFAULT: i64 = 50;
/// Longest wait for the room's epoch before answering with epoch 0.
const EPOCH_WAIT: Duration = Duration::from_secs(1);

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/rooms/{id}/messages", get(messages))
        .route("/api/rooms/{id}/messages/{message_id}", get(message))
        .route(
            "/api/rooms/{id}/messages/{message_id}/versions",
            get(versions),
        )
}

/// Which page: neither bound gives the newest messages.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// The newest messages with a smaller seq (scrolling back).
    pub before: Option<i64>,
    /// The oldest messages with a greater seq (catching up); with `before`, the range between.
    pub after: Option<i64>,
    /// At least 1; 50 when absent; more than 100 counts as 100.
    #[param(minimum = 1)]
    pub limit: Option<i64>,
}

/// A page of messages, in seq order.
#[derive(Debug, Serialize, ToSchema)]
pub struct History {
    pub messages: Vec<HistoryMessage>,
    /// More messages lie beyond this page in the direction asked for (older
    /// ones without `after`, newer ones with it).
    pub has_more: bool,
}

/// A message's texts, the first one first.
#[derive(Debug, Serialize, ToSchema)]
pub struct Versions {
    pub versions: Vec<Version>,
}

/// One text of a message: the first (its own seq, `edited_at` = `sent_at`),
/// then one per edit.
#[derive(Debug, Serialize, ToSchema)]
pub struct Version {
    pub seq: i64,
    pub body: String,
    pub edited_at: DateTime<Utc>,
}

/// A page of a room's history.
#[utoipa::path(
    get, path = "/api/rooms/{id}/messages", tag = "history",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The room"), HistoryQuery),
    responses(
        (status = 200, description = "A page of room events, oldest first, each message in its current state", body = History),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "The caller is not a member (or no such room)", body = ErrorBody),
        (status = 422, description = "Invalid paging parameters", body = ErrorBody),
    )
)]
pub async fn messages(
    State(state): State<AppState>,
    user: AuthUser,
    Path(room): Path<Uuid>,
    Query(query): Query<HistoryQuery>,
) -> Result<Json<History>, ApiError> {
    let limit = Limit::parse(query.limit, PAGE_DEFAULT, PAGE_MAX)?;
    let range = match query.after {
        Some(after) => PageRange::Oldest {
            after,
            before: query.before,
        },
        None => PageRange::Newest {
            before: query.before,
        },
    };
    if !db::rooms::is_member(&state.pool, room, user.id).await? {
        return Err(ApiError::Forbidden);
    }
    let epoch = current_epoch(&state, room).await;
    let (rows, has_more) = db::history::page(&state.pool, room, range, limit.get()).await?;
    let shown: Vec<Uuid> = rows
        .iter()
        .filter(|r| r.op == EventOp::Message && !r.deleted)
        .map(|r| r.id)
        .collect();
    let mut reactions =
        group_reactions(db::history::reactions(&state.pool, &shown, user.id).await?);
    let messages = rows
        .into_iter()
        .map(|row| HistoryMessage::from_row(row, epoch, &mut reactions))
        .collect();
    Ok(Json(History { messages, has_more }))
}

/// One message in its current state.
#[utoipa::path(
    get, path = "/api/rooms/{id}/messages/{message_id}", tag = "history",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The room"), ("message_id" = Uuid, Path, description = "The message")),
    responses(
        (status = 200, description = "The message, as history shows it", body = HistoryMessage),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "The caller is not a member (or no such room)", body = ErrorBody),
        (status = 404, description = "No such message in this room", body = ErrorBody),
        (status = 422, description = "An id that is not a uuid", body = ErrorBody),
    )
)]
pub async fn message(
    State(state): State<AppState>,
    user: AuthUser,
    Path((room, id)): Path<(Uuid, Uuid)>,
) -> Result<Json<HistoryMessage>, ApiError> {
    if !db::rooms::is_member(&state.pool, room, user.id).await? {
        return Err(ApiError::Forbidden);
    }
    let row = db::history::one(&state.pool, room, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let shown: Vec<Uuid> = if row.deleted { vec![] } else { vec![row.id] };
    let mut reactions =
        group_reactions(db::history::reactions(&state.pool, &shown, user.id).await?);
    let epoch = current_epoch(&state, room).await;
    Ok(Json(HistoryMessage::from_row(row, epoch, &mut reactions)))
}

/// A message's texts: the first, then each edit in seq order.
#[utoipa::path(
    get, path = "/api/rooms/{id}/messages/{message_id}/versions", tag = "history",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The room"), ("message_id" = Uuid, Path, description = "The message")),
    responses(
        (status = 200, description = "The versions, the first text first (at most 1000)", body = Versions),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "The caller is not a member (or no such room)", body = ErrorBody),
        (status = 404, description = "No such message in this room, or it is deleted", body = ErrorBody),
        (status = 422, description = "An id that is not a uuid", body = ErrorBody),
    )
)]
pub async fn versions(
    State(state): State<AppState>,
    user: AuthUser,
    Path((room, id)): Path<(Uuid, Uuid)>,
) -> Result<Json<Versions>, ApiError> {
    if !db::rooms::is_member(&state.pool, room, user.id).await? {
        return Err(ApiError::Forbidden);
    }
    let rows = db::history::versions(&state.pool, room, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let versions = rows
        .into_iter()
        .map(|v| Version {
            seq: v.seq,
            body: v.body,
            edited_at: v.edited_at,
        })
        .collect();
    Ok(Json(Versions { versions }))
}

/// The room's epoch from the sequencer; 0 when Redis cannot say in time
/// (history is Postgres' and stays available without Redis).
async fn current_epoch(state: &AppState, room: Uuid) -> u64 {
    match tokio::time::timeout(EPOCH_WAIT, state.sequencer.head(room)).await {
        Ok(Ok(head)) => head.epoch,
        Ok(Err(error)) => {
            tracing::warn!(%error, room.id = %room, "room epoch unavailable; history answers with epoch 0");
            0
        }
        Err(_) => {
            tracing::warn!(room.id = %room, "room epoch timed out; history answers with epoch 0");
            0
        }
    }
}
