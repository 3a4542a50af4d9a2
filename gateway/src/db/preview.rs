//! The public preview of the landing page: a few public rooms with their
//! latest people's messages, read without an account. One statement, bounded
//! whatever the data: at most [`CANDIDATES`] public rooms considered (the
//! newest), each ranked by its latest event (one index probe), the first
//! `rooms` kept, and for each at most [`SCANNED_EVENTS`] events read to find
//! `messages` non-deleted user messages.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

/// Most public rooms ranked (the newest created).
pub const CANDIDATES: i64 = 1000;
/// Most events of a room read back from its head to find its messages
/// (reactions, edits and bots' messages in between do not count).
pub const SCANNED_EVENTS: i64 = 200;

/// One row per message of a chosen room (one row with no message for a room without).
#[derive(Debug, sqlx::FromRow)]
pub struct Row {
    pub room_id: Uuid,
    pub name: String,
    pub topic: String,
    pub members: i64,
    pub sender_id: Option<Uuid>,
    pub sender_name: Option<String>,
    pub body: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// The rows of the preview: rooms most recently active first, each room's
/// messages oldest first. Public rooms only, never private or direct ones;
/// messages of kind `user`, op `message`, not deleted, their bodies as stored.
pub async fn rows(pool: &PgPool, rooms: i64, messages: i64) -> Result<Vec<Row>, sqlx::Error> {
    sqlx::query_as(
        "WITH candidates AS (
             SELECT id, name, topic, created_at FROM rooms
             WHERE kind = 'public' ORDER BY created_at DESC, id LIMIT $1
         ), ranked AS (
             SELECT c.*, (SELECT m.sent_at FROM messages m WHERE m.room_id = c.id
                          ORDER BY m.seq DESC LIMIT 1) AS active_at
             FROM candidates c
         ), chosen AS (
             SELECT * FROM ranked ORDER BY active_at DESC NULLS LAST, created_at DESC, id LIMIT $2
         )
         SELECT ch.id AS room_id, ch.name, ch.topic,
                (SELECT count(*) FROM room_members rm WHERE rm.room_id = ch.id) AS members,
                w.sender_id, u.username::text AS sender_name, w.body, w.sent_at
         FROM chosen ch
         LEFT JOIN LATERAL (
             SELECT x.sender_id, x.body, x.sent_at, x.seq FROM (
                 SELECT m.sender_id, m.body, m.sent_at, m.seq, m.op, m.kind, m.deleted_at
                 FROM messages m WHERE m.room_id = ch.id ORDER BY m.seq DESC LIMIT $3
             ) x
             WHERE x.op = 'message' AND x.kind = 'user' AND x.deleted_at IS NULL
             ORDER BY x.seq DESC LIMIT $4
         ) w ON true
         LEFT JOIN users u ON u.id = w.sender_id
         ORDER BY ch.active_at DESC NULLS LAST, ch.created_at DESC, ch.id, w.seq",
    )
    .bind(CANDIDATES)
    .bind(rooms)
    .bind(SCANNED_EVENTS)
    .bind(messages)
    .fetch_all(pool)
    .await
}
