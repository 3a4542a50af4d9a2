//! `GET /api/rooms/{id}/messages`: a room's stored messages, paged by seq, for
//! its members only.

use std::time::Duration;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chat_core::{MessageKind, SequencedEvent};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::extract::{Path, Query};
use crate::auth::AuthUser;
use crate::db;
use crate::db::messages::{PAGE_MAX, Page, PageRange};
use crate::db::users::User;
use crate::domain::Limit;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

/// Messages per page when the client does not say.
pub const PAGE_DEFAULT: i64 = 50;
/// Longest wait for the room's epoch before answering with epoch 0.
const EPOCH_WAIT: Duration = Duration::from_secs(1);

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/rooms/{id}/messages", get(messages))
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

/// A stored message: the fields of the WebSocket `message` frame.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryMessage {
    pub room: Uuid,
    pub seq: i64,
    pub id: Uuid,
    pub sender: User,
    pub client_msg_id: String,
    /// `user`, `bot` or `system`.
    #[schema(value_type = String, example = "user")]
    pub kind: MessageKind,
    /// Plain text: render it as text, never as HTML.
    pub body: String,
    pub sent_at: DateTime<Utc>,
    /// The room's current epoch: seqs of another epoch are not comparable.
    pub epoch: u64,
}

/// A page of messages, in seq order.
#[derive(Debug, Serialize, ToSchema)]
pub struct History {
    pub messages: Vec<HistoryMessage>,
    /// More messages lie beyond this page in the direction asked for (older
    /// ones without `after`, newer ones with it).
    pub has_more: bool,
}

impl From<SequencedEvent> for HistoryMessage {
    fn from(record: SequencedEvent) -> Self {
        let e = record.event;
        Self {
            room: e.room_id,
            seq: record.seq,
            id: e.id,
            sender: User {
                id: e.sender_id,
                username: e.sender_name,
            },
            client_msg_id: e.client_msg_id,
            kind: e.kind,
            body: e.body,
            sent_at: e.sent_at,
            epoch: record.epoch,
        }
    }
}

impl From<Page> for History {
    fn from(page: Page) -> Self {
        Self {
            messages: page.events.into_iter().map(HistoryMessage::from).collect(),
            has_more: page.has_more,
        }
    }
}

/// A page of a room's history.
#[utoipa::path(
    get, path = "/api/rooms/{id}/messages", tag = "history",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The room"), HistoryQuery),
    responses(
        (status = 200, description = "A page of messages, oldest first", body = History),
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
    let page = db::messages::page(&state.pool, room, range, limit.get(), epoch).await?;
    Ok(Json(page.into()))
}

/// The room's epoch from the sequencer; 0 when Redis cannot say in time
/// (history is Postgres' and stays available without Redis).
async fn current_epoch(state: &AppState, room: Uuid) -> u64 {
    match tokio::time::timeout(EPOCH_WAIT, state.sequencer.head(room)).await {
        Ok(Ok((_, epoch))) => epoch,
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
