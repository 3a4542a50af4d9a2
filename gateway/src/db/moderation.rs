//! Moderation's SQL: roles, kicks, bans, the topic and slow mode. Every
//! action runs in a [`RoomLock`]: a transaction holding the room's row for
//! update (as `rooms::leave` does, and against the share lock of `join` and
//! `invite`), so that a ban and a join, or two actions on one member, never
//! interleave, and the acting member's role is read under the same lock.

use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use crate::db::rooms::Room;
use crate::domain::{MemberRole, RoomKind};

/// A user a moderation action names, with their role in the room if a member.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Target {
    pub id: Uuid,
    pub username: String,
    pub role: Option<MemberRole>,
}

/// A banned user as the bans list shows them.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Ban {
    pub id: Uuid,
    pub username: String,
    /// Who banned them (absent once that account is gone).
    pub banned_by: Option<Uuid>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Most bans one listing returns.
pub const BANS_MAX: i64 = 1000;

/// A room locked for a moderation action by one of its members.
#[derive(Debug)]
pub struct RoomLock {
    tx: Transaction<'static, Postgres>,
    pub room: Uuid,
    pub kind: RoomKind,
    /// The acting member's role.
    pub role: MemberRole,
}

/// Locks `room` for an action by `actor`; `None` when the room does not exist
/// or `actor` is not a member of it.
pub async fn lock(pool: &PgPool, room: Uuid, actor: Uuid) -> Result<Option<RoomLock>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let standing: Option<(RoomKind, MemberRole)> = sqlx::query_as(
        "SELECT r.kind, m.role
         FROM rooms r JOIN room_members m ON m.room_id = r.id AND m.user_id = $2
         WHERE r.id = $1
         FOR NO KEY UPDATE OF r",
    )
    .bind(room)
    .bind(actor)
    .fetch_optional(&mut *tx)
    .await?;
    Ok(standing.map(|(kind, role)| RoomLock {
        tx,
        room,
        kind,
        role,
    }))
}

impl RoomLock {
    /// The user `user`, with their role here if they are a member; `None` for no such user.
    pub async fn target(&mut self, user: Uuid) -> Result<Option<Target>, sqlx::Error> {
        sqlx::query_as(
            "SELECT u.id, u.username::text AS username, m.role
             FROM users u LEFT JOIN room_members m ON m.room_id = $1 AND m.user_id = u.id
             WHERE u.id = $2",
        )
        .bind(self.room)
        .bind(user)
        .fetch_optional(&mut *self.tx)
        .await
    }

    /// Ends `user`'s membership (nothing if there is none).
    pub async fn remove_member(&mut self, user: Uuid) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM room_members WHERE room_id = $1 AND user_id = $2")
            .bind(self.room)
            .bind(user)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Bars `user` from the room (a second ban keeps the first one's row).
    pub async fn ban(&mut self, user: Uuid, by: Uuid) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO room_bans (room_id, user_id, banned_by) VALUES ($1, $2, $3)
             ON CONFLICT (room_id, user_id) DO NOTHING",
        )
        .bind(self.room)
        .bind(user)
        .bind(by)
        .execute(&mut *self.tx)
        .await?;
        self.remove_member(user).await
    }

    /// Lifts `user`'s ban (nothing if there is none).
    pub async fn unban(&mut self, user: Uuid) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM room_bans WHERE room_id = $1 AND user_id = $2")
            .bind(self.room)
            .bind(user)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Sets a member's role (never the owner's: the caller checks).
    pub async fn set_role(&mut self, user: Uuid, role: MemberRole) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE room_members SET role = $3
             WHERE room_id = $1 AND user_id = $2 AND role <> 'owner'",
        )
        .bind(self.room)
        .bind(user)
        .bind(role)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Sets the topic.
    pub async fn set_topic(&mut self, topic: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE rooms SET topic = $2 WHERE id = $1")
            .bind(self.room)
            .bind(topic)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Sets slow mode's interval (0: off).
    pub async fn set_slow_mode(&mut self, seconds: i32) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE rooms SET slow_mode_seconds = $2 WHERE id = $1")
            .bind(self.room)
            .bind(seconds)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// The room as `actor` sees it, after the changes so far.
    pub async fn room(&mut self, actor: Uuid) -> Result<Room, sqlx::Error> {
        sqlx::query_as(
            "SELECT r.id, r.name, r.kind, r.created_at,
                    (SELECT count(*) FROM room_members m WHERE m.room_id = r.id) AS member_count,
                    (SELECT m.role FROM room_members m WHERE m.room_id = r.id AND m.user_id = $2) AS role,
                    r.topic, r.slow_mode_seconds
             FROM rooms r WHERE r.id = $1",
        )
        .bind(self.room)
        .bind(actor)
        .fetch_one(&mut *self.tx)
        .await
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

/// True when `user` is banned from `room`.
pub async fn is_banned<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    room: Uuid,
    user: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM room_bans WHERE room_id = $1 AND user_id = $2)",
    )
    .bind(room)
    .bind(user)
    .fetch_one(executor)
    .await
}

/// The users banned from `room`, newest ban first, at most [`BANS_MAX`].
pub async fn bans(pool: &PgPool, room: Uuid) -> Result<Vec<Ban>, sqlx::Error> {
    sqlx::query_as(
        "SELECT u.id, u.username::text AS username, b.banned_by, b.created_at
         FROM room_bans b JOIN users u ON u.id = b.user_id
         WHERE b.room_id = $1
         ORDER BY b.created_at DESC, u.id
         LIMIT $2",
    )
    .bind(room)
    .bind(BANS_MAX)
    .fetch_all(pool)
    .await
}

/// The role of `user` in `room` and the room's slow mode interval; `None`
/// when they are not a member.
pub async fn send_standing(
    pool: &PgPool,
    room: Uuid,
    user: Uuid,
) -> Result<Option<(MemberRole, i32)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT m.role, r.slow_mode_seconds
         FROM room_members m JOIN rooms r ON r.id = m.room_id
         WHERE m.room_id = $1 AND m.user_id = $2",
    )
    .bind(room)
    .bind(user)
    .fetch_optional(pool)
    .await
}

/// The acting member's role and the room's kind, without a lock (for reads
/// such as the bans and reports lists); `None` when not a member.
pub async fn standing(
    pool: &PgPool,
    room: Uuid,
    user: Uuid,
) -> Result<Option<(RoomKind, MemberRole)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT r.kind, m.role
         FROM rooms r JOIN room_members m ON m.room_id = r.id AND m.user_id = $2
         WHERE r.id = $1",
    )
    .bind(room)
    .bind(user)
    .fetch_optional(pool)
    .await
}
