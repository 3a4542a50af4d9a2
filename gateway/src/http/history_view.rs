//! The shapes of history: a stored row with its message's current state, as
//! `GET /api/rooms/{id}/messages` and `/messages/{message_id}` answer it.

use std::collections::HashMap;

use chat_core::MessageKind;
use chat_core::event::{EventOp, ModAction, Moderation};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::history::{ReactionRow, Row};
use crate::db::users::User;

/// A stored room event: the fields of the WebSocket `message` frame, and, for
/// op `message`, the message's current state (other rows have `deleted`
/// false, `state_seq` their seq, no reactions and no preview).
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
    /// Plain text: render it as text, never as HTML. A message's current
    /// text ("" once deleted), an edit's new text ("" once its message is
    /// deleted), a topic's topic, "" for the other ops.
    pub body: String,
    pub sent_at: DateTime<Utc>,
    /// The room's current epoch: seqs of another epoch are not comparable.
    pub epoch: u64,
    /// `message`, `edit`, `delete`, `react`, `unreact`, `topic` or `moderation`.
    #[schema(value_type = String, example = "message")]
    pub op: EventOp,
    /// The message an edit, delete, react or unreact acts on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<Uuid>,
    /// The message this one answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<Uuid>,
    /// A reaction's emoji.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emoji: Option<String>,
    /// Users mentioned by name (left out when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<Uuid>,
    /// `@room` (left out when false).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub mention_room: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moderation: Option<ModerationInfo>,
    /// When the current text was written by an edit.
    pub edited_at: Option<DateTime<Utc>>,
    /// The seq of the edit whose text `body` is.
    pub edit_seq: Option<i64>,
    pub deleted: bool,
    /// The greatest seq of an event folded into this row (its own seq if
    /// none): fold a live event into it only when the event's seq is greater.
    pub state_seq: i64,
    /// Present reactions, in the order of their first reaction.
    pub reactions: Vec<Reaction>,
    /// The message replied to, when it is stored.
    pub reply_preview: Option<ReplyPreview>,
}

/// A moderation action.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModerationInfo {
    /// `kick`, `ban`, `unban`, `slow_mode` or `role`.
    #[schema(value_type = String, example = "kick")]
    pub action: ModAction,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// One emoji on a message.
#[derive(Debug, Serialize, ToSchema)]
pub struct Reaction {
    pub emoji: String,
    pub count: i64,
    /// The first 50 users who reacted with it, by seq.
    pub users: Vec<User>,
    /// The caller is one of them.
    pub me: bool,
}

/// The message a reply answers, as it is now.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplyPreview {
    pub id: Uuid,
    pub seq: i64,
    pub sender: User,
    /// Its first 200 characters ("" once deleted).
    pub body: String,
    pub deleted: bool,
}

/// Reactions by message, from the rows of [`crate::db::history::reactions`].
pub fn group_reactions(rows: Vec<ReactionRow>) -> HashMap<Uuid, Vec<Reaction>> {
    let mut by_message: HashMap<Uuid, Vec<Reaction>> = HashMap::new();
    for row in rows {
        let list = by_message.entry(row.message_id).or_default();
        let user = User {
            id: row.user_id,
            username: row.username,
        };
        match list.last_mut() {
            Some(last) if last.emoji == row.emoji => last.users.push(user),
            _ => list.push(Reaction {
                emoji: row.emoji,
                count: row.count,
                users: vec![user],
                me: row.me,
            }),
        }
    }
    by_message
}

impl HistoryMessage {
    /// The row as history shows it, with its reactions (a deleted message shows none).
    pub fn from_row(row: Row, epoch: u64, reactions: &mut HashMap<Uuid, Vec<Reaction>>) -> Self {
        let moderation = row
            .data
            .and_then(|d| serde_json::from_value::<Moderation>(d).ok())
            .map(|m| ModerationInfo {
                action: m.action,
                user: m.user.map(|id| User {
                    id,
                    username: m.username.unwrap_or_default(),
                }),
                seconds: m.seconds,
                role: m.role,
            });
        let reply_preview = match (row.reply_to, row.reply_seq, row.reply_sender_id) {
            (Some(id), Some(seq), Some(sender)) => Some(ReplyPreview {
                id,
                seq,
                sender: User {
                    id: sender,
                    username: row.reply_sender_name.unwrap_or_default(),
                },
                body: row.reply_body.unwrap_or_default(),
                deleted: row.reply_deleted.unwrap_or(false),
            }),
            _ => None,
        };
        let reactions = if row.op == EventOp::Message && !row.deleted {
            reactions.remove(&row.id).unwrap_or_default()
        } else {
            Vec::new()
        };
        Self {
            room: row.room_id,
            seq: row.seq,
            id: row.id,
            sender: User {
                id: row.sender_id,
                username: row.sender_name,
            },
            client_msg_id: row.client_msg_id,
            kind: row.kind,
            body: row.body,
            sent_at: row.sent_at,
            epoch,
            op: row.op,
            target: row.target_id,
            reply_to: row.reply_to,
            emoji: row.emoji,
            mentions: row.mentions,
            mention_room: row.mention_room,
            moderation,
            edited_at: row.edited_at,
            edit_seq: row.edit_seq,
            deleted: row.deleted,
            state_seq: row.state_seq,
            reactions,
            reply_preview,
        }
    }
}
