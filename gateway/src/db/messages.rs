//! Stored messages: reading a room's log by seq for resume, the range of a
//! history page ([`PageRange`], read by `db::history`), and finding a
//! sender's message by its client message id with their standing in the
//! room (the send path's one read).

use chat_core::event::{EventExt, EventOp};
use chat_core::{ChatEvent, MessageKind, SequencedEvent};
use chrono::{DateTime, Utc};
use sqlx::{PgPool, Row as _};
use uuid::Uuid;

use crate::domain::MemberRole;

/// Most messages one query returns.
pub const PAGE_MAX: i64 = 100;

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    room_id: Uuid,
    seq: i64,
    sender_id: Uuid,
    sender_name: String,
    client_msg_id: String,
    kind: MessageKind,
    body: String,
    sent_at: DateTime<Utc>,
    op: EventOp,
    target_id: Option<Uuid>,
    reply_to: Option<Uuid>,
    emoji: Option<String>,
    data: Option<serde_json::Value>,
    mention_room: bool,
    mentions: Vec<Uuid>,
}

impl Row {
    fn into_record(self, epoch: u64) -> SequencedEvent {
        let ext = EventExt {
            op: self.op,
            target: self.target_id,
            reply_to: self.reply_to,
            emoji: self.emoji,
            mentions: self.mentions,
            mention_room: self.mention_room,
            moderation: self.data.and_then(|d| serde_json::from_value(d).ok()),
        };
        let v = if ext.is_plain() {
            chat_core::event::PLAIN_SCHEMA_VERSION
        } else {
            chat_core::event::SCHEMA_VERSION
        };
        SequencedEvent {
            seq: self.seq,
            epoch,
            event: ChatEvent {
                v,
                id: self.id,
                room_id: self.room_id,
                sender_id: self.sender_id,
                sender_name: self.sender_name,
                client_msg_id: self.client_msg_id,
                kind: self.kind,
                body: self.body,
                sent_at: self.sent_at,
                ext,
            },
        }
    }
}

/// A row as its record: a message's body is its current text ("" once
/// deleted; an edit's row loses its text then too), the other fields as sent.
const SELECT: &str = "SELECT m.id, m.room_id, m.seq, m.sender_id, u.username::text AS sender_name,
                             m.client_msg_id, m.kind, m.body, m.sent_at, m.op, m.target_id,
                             m.reply_to, m.emoji, m.data, m.mention_room, m.mentions
                      FROM messages m JOIN users u ON u.id = m.sender_id";

/// Up to `limit` messages of `room` with `after < seq < before`, oldest first.
pub async fn after(
    pool: &PgPool,
    room: Uuid,
    after: i64,
    before: Option<i64>,
    limit: i64,
    epoch: u64,
) -> Result<Vec<SequencedEvent>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "{SELECT} WHERE m.room_id = $1 AND m.seq > $2 AND m.seq < $3 ORDER BY m.seq LIMIT $4"
    ))
    .bind(room)
    .bind(after)
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit.clamp(1, 1000))
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| r.into_record(epoch)).collect())
}

/// Up to `limit` messages of `room` with `seq < before` (the newest of them), oldest first.
pub async fn before(
    pool: &PgPool,
    room: Uuid,
    before: i64,
    limit: i64,
    epoch: u64,
) -> Result<Vec<SequencedEvent>, sqlx::Error> {
    let mut rows: Vec<Row> = sqlx::query_as(&format!(
        "{SELECT} WHERE m.room_id = $1 AND m.seq < $2 ORDER BY m.seq DESC LIMIT $3"
    ))
    .bind(room)
    .bind(before)
    .bind(limit.clamp(1, PAGE_MAX))
    .fetch_all(pool)
    .await?;
    rows.reverse();
    Ok(rows.into_iter().map(|r| r.into_record(epoch)).collect())
}

/// Which stretch of a room's log a history page covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageRange {
    /// The newest messages with `seq < before` (`None`: the newest of all).
    Newest { before: Option<i64> },
    /// The oldest messages with `after < seq` (and `seq < before` if given).
    Oldest { after: i64, before: Option<i64> },
}

/// A stored message as a resend of it needs it: its place and its content.
#[derive(Debug)]
pub struct SentMessage {
    pub id: Uuid,
    pub room_id: Uuid,
    pub seq: i64,
    pub op: EventOp,
    pub target_id: Option<Uuid>,
    pub reply_to: Option<Uuid>,
    pub emoji: Option<String>,
    /// The text as sent: a message's first text (before edits).
    pub body: String,
    /// The text is gone (the message, or the message an edit targets, was
    /// deleted): a resend's body cannot be compared.
    pub scrubbed: bool,
}

/// The send path's one read: `user`'s role in `room` and the room's slow mode
/// interval (`None`: not a member), and the message `user` sent with
/// `client_msg_id` if it is stored (the unique `(sender_id, client_msg_id)`
/// index finds it). One round trip, one row whatever is found.
pub async fn standing_and_sent(
    conn: &mut sqlx::PgConnection,
    room: Uuid,
    user: Uuid,
    client_msg_id: &str,
) -> Result<(Option<(MemberRole, i32)>, Option<SentMessage>), sqlx::Error> {
    let row = sqlx::query(
        "SELECT s.role, s.slow_mode_seconds,
                x.id, x.room_id, x.seq, x.op, x.target_id, x.reply_to, x.emoji, x.body, x.scrubbed
         FROM (VALUES (1)) AS one (n)
         LEFT JOIN (SELECT m.role, r.slow_mode_seconds
                    FROM room_members m JOIN rooms r ON r.id = m.room_id
                    WHERE m.room_id = $1 AND m.user_id = $2) s ON true
         LEFT JOIN (SELECT id, room_id, seq, op, target_id, reply_to, emoji,
                           coalesce(original_body, body) AS body,
                           (deleted_at IS NOT NULL OR (op = 'edit' AND body = '')) AS scrubbed
                    FROM messages WHERE sender_id = $2 AND client_msg_id = $3) x ON true",
    )
    .bind(room)
    .bind(user)
    .bind(client_msg_id)
    .fetch_one(conn)
    .await?;
    let role: Option<MemberRole> = row.try_get("role")?;
    let seconds: Option<i32> = row.try_get("slow_mode_seconds")?;
    let sent = match row.try_get::<Option<Uuid>, _>("id")? {
        None => None,
        Some(id) => Some(SentMessage {
            id,
            room_id: row.try_get("room_id")?,
            seq: row.try_get("seq")?,
            op: row.try_get("op")?,
            target_id: row.try_get("target_id")?,
            reply_to: row.try_get("reply_to")?,
            emoji: row.try_get("emoji")?,
            body: row.try_get("body")?,
            scrubbed: row.try_get("scrubbed")?,
        }),
    };
    Ok((role.zip(seconds), sent))
}
