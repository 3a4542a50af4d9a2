//! Blocks: a user's list of users who may not open a direct room with them
//! or invite them into a room.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::direct;

/// Most users one user may block.
pub const BLOCKS_MAX: i64 = 1000;

/// A user the caller blocks.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct BlockedUser {
    pub id: Uuid,
    pub username: String,
    pub blocked_at: DateTime<Utc>,
}

/// What a block did.
#[derive(Debug)]
pub enum Blocked {
    /// `blocked` is blocked (perhaps already was); `left_room` is the direct
    /// room they were taken out of.
    Done { left_room: Option<Uuid> },
    /// No user has that id.
    UnknownUser,
    /// The blocker blocks [`BLOCKS_MAX`] users already.
    TooMany,
}

/// `blocker` blocks `blocked`, and `blocked` leaves their direct room with
/// `blocker` if there is one.
pub async fn block(pool: &PgPool, blocker: Uuid, blocked: Uuid) -> Result<Blocked, sqlx::Error> {
    let mut tx = pool.begin().await?;
    direct::lock_pair(&mut tx, &direct::direct_key(blocker, blocked)).await?;
    // one block at a time per blocker: the count holds until the insert
    sqlx::query("SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE")
        .bind(blocker)
        .execute(&mut *tx)
        .await?;
    let (exists, already, count): (bool, bool, i64) = sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM users WHERE id = $2),
                EXISTS (SELECT 1 FROM user_blocks WHERE blocker_id = $1 AND blocked_id = $2),
                (SELECT count(*) FROM user_blocks WHERE blocker_id = $1)",
    )
    .bind(blocker)
    .bind(blocked)
    .fetch_one(&mut *tx)
    .await?;
    if !exists {
        return Ok(Blocked::UnknownUser);
    }
    if !already && count >= BLOCKS_MAX {
        return Ok(Blocked::TooMany);
    }
    sqlx::query(
        "INSERT INTO user_blocks (blocker_id, blocked_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(blocker)
    .bind(blocked)
    .execute(&mut *tx)
    .await?;
    let left_room = direct::remove_blocked(&mut *tx, blocker, blocked).await?;
    tx.commit().await?;
    Ok(Blocked::Done { left_room })
}

/// `blocker` no longer blocks `blocked` (nothing happens if they did not).
pub async fn unblock(pool: &PgPool, blocker: Uuid, blocked: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM user_blocks WHERE blocker_id = $1 AND blocked_id = $2")
        .bind(blocker)
        .bind(blocked)
        .execute(pool)
        .await?;
    Ok(())
}

/// The users `blocker` blocks, most recent first (at most [`BLOCKS_MAX`]).
pub async fn list(pool: &PgPool, blocker: Uuid) -> Result<Vec<BlockedUser>, sqlx::Error> {
    sqlx::query_as(
        "SELECT u.id, u.username::text AS username, b.created_at AS blocked_at
         FROM user_blocks b JOIN users u ON u.id = b.blocked_id
         WHERE b.blocker_id = $1
         ORDER BY b.created_at DESC, u.id
         LIMIT $2",
    )
    .bind(blocker)
    .bind(BLOCKS_MAX)
    .fetch_all(pool)
    .await
}
