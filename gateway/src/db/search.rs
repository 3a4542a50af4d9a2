//! Full-text search over the messages of the rooms a user is a member of
//! now: `websearch_to_tsquery('simple', q)` against `messages.search` (GIN,
//! migration 0006), ranked by `ts_rank`, with a `ts_headline` snippet whose
//! hits are marked by control characters the caller splits into segments.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

/// Marks the start of a hit in a headline (removed from the bodies first).
pub const HIT_START: char = '\u{2}';
/// Marks the end of a hit in a headline.
pub const HIT_END: char = '\u{3}';

/// One matching message, its headline still marked.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Hit {
    pub room_id: Uuid,
    pub room_name: String,
    pub id: Uuid,
    pub seq: i64,
    pub sender_id: Uuid,
    pub sender_name: String,
    pub sent_at: DateTime<Utc>,
    pub headline: String,
}

/// The longest one search may run: ranking costs a read of every matching
/// message, so a word in most messages of a huge room is cut off here
/// (BENCHMARKS.md: 0.8 s for 750,000 matches).
pub const SEARCH_TIMEOUT_MS: u32 = 3000;

/// Why a search gave no page.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// It ran past its time limit (Postgres cancelled it).
    #[error("the search ran too long")]
    TooBroad,
    #[error(transparent)]
    Postgres(#[from] sqlx::Error),
}

/// The messages of `user`'s rooms (or of `room` only, if they are a member)
/// matching `query`, best first; `limit` rows from `offset`; cut off after
/// `timeout_ms` ([`SEARCH_TIMEOUT_MS`] for the API).
pub async fn messages(
    pool: &PgPool,
    user: Uuid,
    query: &str,
    room: Option<Uuid>,
    (limit, offset): (i64, i64),
    timeout_ms: u32,
) -> Result<Vec<Hit>, SearchError> {
    let mut tx = pool.begin().await?;
    sqlx::query(&format!("SET LOCAL statement_timeout = {timeout_ms}"))
        .execute(&mut *tx)
        .await?;
    // the page is ranked first; only its rows get a headline (the costly part)
    let hits = sqlx::query_as(
        "WITH q AS (SELECT websearch_to_tsquery('simple', lower($2 COLLATE \"und-x-icu\")) AS query),
         page AS (
             SELECT m.id, m.room_id, m.seq, m.sender_id, m.sent_at, m.body,
                    ts_rank(m.search, q.query) AS rank
             FROM q, room_members rm
             JOIN messages m ON m.room_id = rm.room_id
             WHERE rm.user_id = $1
               AND ($3::uuid IS NULL OR rm.room_id = $3)
               AND m.search @@ q.query
               AND m.op = 'message' AND m.deleted_at IS NULL
             ORDER BY rank DESC, m.seq DESC, m.id
             LIMIT $4 OFFSET $5
         )
         SELECT p.room_id,
                CASE WHEN r.kind = 'direct' THEN coalesce(
                    (SELECT u.username::text FROM users u
                     WHERE u.id = (SELECT k::uuid FROM unnest(string_to_array(r.direct_key, ':')) k
                                   WHERE k::uuid <> $1 LIMIT 1)), r.name)
                ELSE r.name END AS room_name,
                p.id, p.seq, p.sender_id, s.username::text AS sender_name, p.sent_at,
                ts_headline('simple', translate(p.body, $6, ''), q.query, $7) AS headline
         FROM page p CROSS JOIN q
         JOIN rooms r ON r.id = p.room_id
         JOIN users s ON s.id = p.sender_id
         ORDER BY p.rank DESC, p.seq DESC, p.id",
    )
    .bind(user)
    .bind(query)
    .bind(room)
    .bind(limit)
    .bind(offset)
    .bind(format!("{HIT_START}{HIT_END}"))
    .bind(format!(
        "StartSel={HIT_START}, StopSel={HIT_END}, MaxWords=35, MinWords=15"
    ))
    .fetch_all(&mut *tx)
    .await
    .map_err(|error| match &error {
        // query_canceled: the statement timeout
        sqlx::Error::Database(db) if db.code().as_deref() == Some("57014") => SearchError::TooBroad,
        _ => SearchError::Postgres(error),
    })?;
    tx.commit().await?;
    Ok(hits)
}
