//! Reports of messages: a member reports a message of their room once; the
//! room's owner and moderators list the open ones and resolve them.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::users::User as UserRef;

/// Most open reports one listing returns (oldest first).
pub const REPORTS_MAX: i64 = 200;
/// Characters of a reported message's body a listing shows.
pub const EXCERPT_CHARS: i32 = 200;

/// A report as its reporter sees it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct Report {
    pub id: Uuid,
    pub message_id: Uuid,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

/// The reported message, as a listing shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportedMessage {
    pub id: Uuid,
    pub seq: i64,
    pub sender: UserRef,
    /// The first 200 characters of its current text ("" once deleted).
    pub body: String,
}

/// An open report, as the room's moderators see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OpenReport {
    pub id: Uuid,
    pub message: ReportedMessage,
    pub reporter: UserRef,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

/// What a report did.
#[derive(Debug)]
pub enum Filed {
    /// A new report.
    New(Report),
    /// The reporter had reported this message already: their report.
    Again(Report),
    /// No such message in the room (or the reporter is not a member).
    NoMessage,
}

/// Files `reporter`'s report of `message` in `room`, once per reporter and
/// message. The caller has checked the reporter's membership.
pub async fn file(
    pool: &PgPool,
    room: Uuid,
    message: Uuid,
    reporter: Uuid,
    reason: &str,
) -> Result<Filed, sqlx::Error> {
    let new: Option<Report> = sqlx::query_as(
        "INSERT INTO message_reports (id, room_id, message_id, reporter_id, reason)
         SELECT $1, m.room_id, m.id, $4, $5 FROM messages m
         WHERE m.id = $3 AND m.room_id = $2 AND m.op = 'message'
         ON CONFLICT (message_id, reporter_id) DO NOTHING
         RETURNING id, message_id, reason, created_at",
    )
    .bind(Uuid::now_v7())
    .bind(room)
    .bind(message)
    .bind(reporter)
    .bind(reason)
    .fetch_optional(pool)
    .await?;
    if let Some(report) = new {
        return Ok(Filed::New(report));
    }
    let earlier: Option<Report> = sqlx::query_as(
        "SELECT id, message_id, reason, created_at FROM message_reports
         WHERE message_id = $1 AND reporter_id = $2 AND room_id = $3",
    )
    .bind(message)
    .bind(reporter)
    .bind(room)
    .fetch_optional(pool)
    .await?;
    Ok(earlier.map_or(Filed::NoMessage, Filed::Again))
}

type OpenRow = (
    Uuid,
    String,
    DateTime<Utc>,
    Uuid,
    i64,
    Uuid,
    String,
    String,
    Uuid,
    String,
);

/// The open reports of `room`, oldest first, at most [`REPORTS_MAX`].
pub async fn open(pool: &PgPool, room: Uuid) -> Result<Vec<OpenReport>, sqlx::Error> {
    let rows: Vec<OpenRow> = sqlx::query_as(
        "SELECT r.id, r.reason, r.created_at,
                m.id, m.seq, m.sender_id, s.username::text,
                CASE WHEN m.deleted_at IS NULL THEN left(m.body, $2) ELSE '' END,
                r.reporter_id, p.username::text
         FROM message_reports r
         JOIN messages m ON m.id = r.message_id
         JOIN users s ON s.id = m.sender_id
         JOIN users p ON p.id = r.reporter_id
         WHERE r.room_id = $1 AND r.resolved_at IS NULL
         ORDER BY r.created_at, r.id
         LIMIT $3",
    )
    .bind(room)
    .bind(EXCERPT_CHARS)
    .bind(REPORTS_MAX)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, reason, created_at, mid, seq, sid, sname, body, pid, pname)| OpenReport {
                id,
                message: ReportedMessage {
                    id: mid,
                    seq,
                    sender: UserRef {
                        id: sid,
                        username: sname,
                    },
                    body,
                },
                reporter: UserRef {
                    id: pid,
                    username: pname,
                },
                reason,
                created_at,
            },
        )
        .collect())
}

/// Marks a report of `room` resolved by `by`; false when the room has no such report.
pub async fn resolve(
    pool: &PgPool,
    room: Uuid,
    report: Uuid,
    by: Uuid,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE message_reports
         SET resolved_at = coalesce(resolved_at, now()), resolved_by = coalesce(resolved_by, $3)
         WHERE id = $1 AND room_id = $2",
    )
    .bind(report)
    .bind(room)
    .bind(by)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}
