//! History as clients read it: a room's rows in seq order with the current
//! state of each message (edited text, tombstone, reactions, reply preview),
//! one message, and a message's versions. A page is three queries whatever
//! its length: the rows (with their reply previews), the reactions, the epoch.

use chat_core::MessageKind;
use chat_core::event::EventOp;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::db::messages::PageRange;

/// Users listed per reaction (the first by seq); `count` has them all.
pub const REACTION_USERS_MAX: i64 = 50;
/// Characters of a replied-to message in a reply's preview.
pub const PREVIEW_CHARS: i32 = 200;
/// Most versions listed for one message (the first ones, in seq order).
pub const VERSIONS_MAX: i64 = 1000;

/// A stored row with its message state and its reply preview.
#[derive(Debug, sqlx::FromRow)]
pub struct Row {
    pub id: Uuid,
    pub room_id: Uuid,
    pub seq: i64,
    pub sender_id: Uuid,
    pub sender_name: String,
    pub client_msg_id: String,
    pub kind: MessageKind,
    pub body: String,
    pub sent_at: DateTime<Utc>,
    pub op: EventOp,
    pub target_id: Option<Uuid>,
    pub reply_to: Option<Uuid>,
    pub emoji: Option<String>,
    pub data: Option<serde_json::Value>,
    pub mention_room: bool,
    pub mentions: Vec<Uuid>,
    pub edited_at: Option<DateTime<Utc>>,
    pub edit_seq: Option<i64>,
    pub deleted: bool,
    pub state_seq: i64,
    pub reply_seq: Option<i64>,
    pub reply_sender_id: Option<Uuid>,
    pub reply_sender_name: Option<String>,
    pub reply_body: Option<String>,
    pub reply_deleted: Option<bool>,
}

const SELECT: &str = "
    SELECT m.id, m.room_id, m.seq, m.sender_id, u.username::text AS sender_name,
           m.client_msg_id, m.kind, m.body, m.sent_at, m.op, m.target_id, m.reply_to,
           m.emoji, m.data, m.mention_room, m.mentions, m.edited_at, m.edit_seq,
           m.deleted_at IS NOT NULL AS deleted, coalesce(m.state_seq, m.seq) AS state_seq,
           r.seq AS reply_seq, r.sender_id AS reply_sender_id,
           ru.username::text AS reply_sender_name, left(r.body, $1) AS reply_body,
           r.deleted_at IS NOT NULL AS reply_deleted
    FROM messages m
    JOIN users u ON u.id = m.sender_id
    LEFT JOIN messages r ON r.id = m.reply_to AND r.room_id = m.room_id
    LEFT JOIN users ru ON ru.id = r.sender_id";

/// Up to `limit` rows of `room` in `range`, oldest first, and whether more lie
/// beyond them in the direction read.
pub async fn page(
    pool: &PgPool,
    room: Uuid,
    range: PageRange,
    limit: i64,
) -> Result<(Vec<Row>, bool), sqlx::Error> {
    let (newest, after, before) = match range {
        PageRange::Newest { before } => (true, 0, before),
        PageRange::Oldest { after, before } => (false, after, before),
    };
    let order = if newest { "DESC" } else { "ASC" };
    let mut rows: Vec<Row> = sqlx::query_as(&format!(
        "{SELECT} WHERE m.room_id = $2 AND m.seq > $3 AND m.seq < $4 ORDER BY m.seq {order} LIMIT $5"
    ))
    .bind(PREVIEW_CHARS)
    .bind(room)
    .bind(after)
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit + 1)
    .fetch_all(pool)
    .await?;
    let page_len = usize::try_from(limit).unwrap_or(0);
    let has_more = rows.len() > page_len;
    rows.truncate(page_len);
    if newest {
        rows.reverse();
    }
    Ok((rows, has_more))
}

/// The message `id` of `room` (op message), deleted or not.
pub async fn one(pool: &PgPool, room: Uuid, id: Uuid) -> Result<Option<Row>, sqlx::Error> {
    sqlx::query_as(&format!(
        "{SELECT} WHERE m.room_id = $2 AND m.id = $3 AND m.op = 'message'"
    ))
    .bind(PREVIEW_CHARS)
    .bind(room)
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// One user of a reaction, with the reaction's totals.
#[derive(Debug, sqlx::FromRow)]
pub struct ReactionRow {
    pub message_id: Uuid,
    pub emoji: String,
    pub user_id: Uuid,
    pub username: String,
    /// Users with this reaction on this message.
    pub count: i64,
    /// `me` reacted with it.
    pub me: bool,
}

/// The present reactions of `messages`, in one query: per message and emoji
/// (in the order of their first reaction), the first [`REACTION_USERS_MAX`]
/// users by seq, with the count and whether `me` is one of them.
pub async fn reactions(
    pool: &PgPool,
    messages: &[Uuid],
    me: Uuid,
) -> Result<Vec<ReactionRow>, sqlx::Error> {
    if messages.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_as(
        "SELECT message_id, emoji, user_id, username, count, me FROM (
             SELECT r.message_id, r.emoji, r.user_id, u.username::text AS username,
                    count(*) OVER w AS count, min(r.seq) OVER w AS first_seq,
                    bool_or(r.user_id = $2) OVER w AS me,
                    row_number() OVER (PARTITION BY r.message_id, r.emoji ORDER BY r.seq) AS rn
             FROM message_reactions r JOIN users u ON u.id = r.user_id
             WHERE r.message_id = ANY($1) AND r.present
             WINDOW w AS (PARTITION BY r.message_id, r.emoji)
         ) x
         WHERE rn <= $3
         ORDER BY message_id, first_seq, emoji, rn",
    )
    .bind(messages)
    .bind(me)
    .bind(REACTION_USERS_MAX)
    .fetch_all(pool)
    .await
}

/// One version of a message's text.
#[derive(Debug, sqlx::FromRow)]
pub struct VersionRow {
    pub seq: i64,
    pub body: String,
    pub edited_at: DateTime<Utc>,
}

/// The versions of the message `id` of `room`: its first text, then its
/// sender's edits in seq order (at most [`VERSIONS_MAX`]); `None` if there
/// is no such message or it is deleted.
pub async fn versions(
    pool: &PgPool,
    room: Uuid,
    id: Uuid,
) -> Result<Option<Vec<VersionRow>>, sqlx::Error> {
    let rows: Vec<VersionRow> = sqlx::query_as(
        "WITH t AS (SELECT id, room_id, sender_id, seq, coalesce(original_body, body) AS body,
                           sent_at
                    FROM messages
                    WHERE id = $2 AND room_id = $1 AND op = 'message' AND deleted_at IS NULL)
         SELECT seq, body, sent_at AS edited_at FROM t
         UNION ALL
         (SELECT e.seq, e.body, e.sent_at FROM messages e JOIN t ON e.target_id = t.id
          WHERE e.op = 'edit' AND e.room_id = t.room_id AND e.sender_id = t.sender_id
            AND e.body <> ''
          ORDER BY e.seq LIMIT $3)
         ORDER BY seq",
    )
    .bind(room)
    .bind(id)
    .bind(VERSIONS_MAX)
    .fetch_all(pool)
    .await?;
    Ok((!rows.is_empty()).then_some(rows))
}
