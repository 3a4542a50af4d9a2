//! Direct rooms: the one room of two users, opened by either of them, with
//! their consent: who left it comes back only by their own call, and who is
//! blocked opens none.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::db::rooms::Room;
use crate::db::users::User;
use crate::domain::RoomKind;

/// What opening a direct room did.
#[derive(Debug)]
pub enum Opened {
    /// Both are members (the caller perhaps again).
    Room(Room),
    /// The other user left the room, or blocked the caller: neither is said.
    Refused,
    /// The caller blocks the other user.
    CallerBlocks,
}

/// The key of the direct room of `a` and `b`, whoever asks.
pub fn direct_key(a: Uuid, b: Uuid) -> String {
    let (low, high) = if a < b { (a, b) } else { (b, a) };
    format!("{low}:{high}")
}

/// The direct room of `caller` and `other`, created on first use. The caller
/// is (again) a member; the other member is added on first use, or when they
/// had not left by their own action, and never when they left it or block
/// the caller. The same room whoever asks and however often.
pub async fn open(pool: &PgPool, caller: Uuid, other: &User) -> Result<Opened, sqlx::Error> {
    let key = direct_key(caller, other.id);
    let mut tx = pool.begin().await?;
    lock_pair(&mut tx, &key).await?;
    let (caller_blocks, blocked): (bool, bool) = sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM user_blocks WHERE blocker_id = $1 AND blocked_id = $2),
                EXISTS (SELECT 1 FROM user_blocks WHERE blocker_id = $2 AND blocked_id = $1)",
    )
    .bind(caller)
    .bind(other.id)
    .fetch_one(&mut *tx)
    .await?;
    if caller_blocks {
        return Ok(Opened::CallerBlocks);
    }
    if blocked {
        return Ok(Opened::Refused);
    }
    // A concurrent first use waits on the unique key, then finds nothing to do.
    sqlx::query(
        "INSERT INTO rooms (id, name, kind, created_by, direct_key) VALUES ($1, 'direct', 'direct', $2, $3)
         ON CONFLICT (direct_key) DO NOTHING",
    )
    .bind(Uuid::now_v7())
    .bind(caller)
    .bind(&key)
    .execute(&mut *tx)
    .await?;
    // the room's lock, as `rooms::leave` takes it: a departure and a return
    // do not interleave
    let (id, created_at): (Uuid, DateTime<Utc>) =
        sqlx::query_as("SELECT id, created_at FROM rooms WHERE direct_key = $1 FOR NO KEY UPDATE")
            .bind(&key)
            .fetch_one(&mut *tx)
            .await?;
    let other_left: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM direct_departures WHERE room_id = $1 AND user_id = $2)
                AND NOT EXISTS (SELECT 1 FROM room_members WHERE room_id = $1 AND user_id = $2)",
    )
    .bind(id)
    .bind(other.id)
    .fetch_one(&mut *tx)
    .await?;
    if other_left {
        return Ok(Opened::Refused);
    }
    sqlx::query("DELETE FROM direct_departures WHERE room_id = $1 AND user_id = $2")
        .bind(id)
        .bind(caller)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO room_members (room_id, user_id) VALUES ($1, $2), ($1, $3) ON CONFLICT DO NOTHING",
    )
    .bind(id)
    .bind(caller)
    .bind(other.id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Opened::Room(Room {
        id,
        name: other.username.clone(),
        kind: RoomKind::Direct,
        created_at,
        member_count: Some(2),
        role: Some(crate::domain::MemberRole::Member),
        // a direct room has no topic, no slow mode and no moderation
        topic: String::new(),
        slow_mode_seconds: 0,
    }))
}

/// Advisory-lock namespace of a pair of users (the two-key form, apart from
/// the sequencer's one-key room locks).
const PAIR_LOCK_SPACE: i32 = 0x0D1_EC7;

/// Serialises what changes between two users (a block, a direct room being
/// opened) until the transaction ends.
pub async fn lock_pair(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    key: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
        .bind(PAIR_LOCK_SPACE)
        .bind(key)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Takes `blocked` out of their direct room with `blocker`, if there is one
/// and they are in it; the room they left, for the departure announcement.
/// Not a departure of their own: unblocked, either may open the room again.
pub async fn remove_blocked(
    db: impl sqlx::PgExecutor<'_>,
    blocker: Uuid,
    blocked: Uuid,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "DELETE FROM room_members m USING rooms r
         WHERE r.direct_key = $1 AND m.room_id = r.id AND m.user_id = $2
         RETURNING m.room_id",
    )
    .bind(direct_key(blocker, blocked))
    .bind(blocked)
    .fetch_optional(db)
    .await
}
