//! `GET /api/preview`: the landing page's read-only look at the public rooms,
//! without an account: at most [`MAX_ROOMS`] public rooms (the most recently
//! active) with their member counts and at most [`MAX_MESSAGES`] latest
//! people's messages each. Never a private or direct room, never a deleted
//! message. The answer is built at most once per [`CACHE_TTL`] per gateway
//! (`state.preview`), so a flood of visitors costs one query per interval.

use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db;
use crate::db::users::User;
use crate::error::ApiError;
use crate::state::AppState;

/// Most rooms in a preview.
pub const MAX_ROOMS: i64 = 6;
/// Most messages per room.
pub const MAX_MESSAGES: i64 = 5;
/// How long one built answer is served.
pub const CACHE_TTL: Duration = Duration::from_secs(15);

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/preview", get(preview))
}

/// A message as the preview shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewMessage {
    pub sender: User,
    /// As stored (the current text of an edited message): plain text with
    /// Markdown at most, 1 to 4000 characters.
    pub body: String,
    pub sent_at: DateTime<Utc>,
}

/// A public room as the preview shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewRoom {
    pub id: Uuid,
    pub name: String,
    /// The room's topic (empty: none), at most 300 characters.
    pub topic: String,
    /// Members now.
    pub members: i64,
    /// The room's latest non-deleted messages of people (not bots, not
    /// system lines), at most 5, oldest first; empty when it has none.
    #[schema(max_items = 5)]
    pub messages: Vec<PreviewMessage>,
}

/// The preview.
#[derive(Debug, Serialize, ToSchema)]
pub struct Preview {
    /// At most 6 public rooms, the most recently active first.
    #[schema(max_items = 6)]
    pub rooms: Vec<PreviewRoom>,
}

/// A read-only look at the public rooms, for visitors without an account.
/// The same answer for up to 15 s.
#[utoipa::path(
    get, path = "/api/preview", tag = "rooms",
    responses(
        (status = 200, description = "Up to 6 public rooms, each with up to 5 recent messages", body = Preview),
    )
)]
pub async fn preview(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let body = state
        .preview
        .get_or_load(|| async {
            let rows = db::preview::rows(&state.pool, MAX_ROOMS, MAX_MESSAGES).await?;
            let json = serde_json::to_vec(&assemble(rows))
                .map_err(|e| ApiError::Internal(format!("preview: {e}")))?;
            Ok::<_, ApiError>(Bytes::from(json))
        })
        .await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body))
}

/// Rows (one per message, in order) grouped into their rooms, in order.
fn assemble(rows: Vec<db::preview::Row>) -> Preview {
    let mut rooms: Vec<PreviewRoom> = Vec::new();
    for row in rows {
        let room = match rooms.last_mut() {
            Some(room) if room.id == row.room_id => room,
            _ => {
                rooms.push(PreviewRoom {
                    id: row.room_id,
                    name: row.name,
                    topic: row.topic,
                    members: row.members,
                    messages: Vec::new(),
                });
                let Some(room) = rooms.last_mut() else {
                    continue;
                };
                room
            }
        };
        if let (Some(id), Some(username), Some(body), Some(sent_at)) =
            (row.sender_id, row.sender_name, row.body, row.sent_at)
        {
            room.messages.push(PreviewMessage {
                sender: User { id, username },
                body,
                sent_at,
            });
        }
    }
    Preview { rooms }
}
