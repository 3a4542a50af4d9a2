//! Rooms and membership. Every rule of who may see or enter a room is a
//! condition of the SQL here, so that no caller can forget one.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::users::User;
use crate::domain::{Limit, MemberRole, RoomKind, RoomName};

/// A room as the API shows it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct Room {
    pub id: Uuid,
    /// For a direct room: the other member's username.
    pub name: String,
    pub kind: RoomKind,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_count: Option<i64>,
}

/// One of the caller's rooms, with how far they have read.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct MyRoom {
    pub id: Uuid,
    /// For a direct room: the other member's username.
    pub name: String,
    pub kind: RoomKind,
    pub created_at: DateTime<Utc>,
    pub role: MemberRole,
    /// The room's highest stored seq (0: no message yet).
    pub last_seq: i64,
    pub last_read_seq: i64,
    /// `last_seq - last_read_seq`, never below 0.
    pub unread: i64,
}

/// A member of a room.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct Member {
    pub id: Uuid,
    pub username: String,
    pub role: MemberRole,
}

/// What an invitation did.
#[derive(Debug)]
pub enum Invite {
    /// The invitee is a member now (or already was).
    Added(Member),
    /// The room is not private, or the inviter is not one of its members.
    NotAllowed,
    /// Nobody has that username.
    UnknownUser,
}

/// True when `user` is a member of `room` (false for a room that does not exist).
pub async fn is_member(pool: &PgPool, room: Uuid, user: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM room_members WHERE room_id = $1 AND user_id = $2)",
    )
    .bind(room)
    .bind(user)
    .fetch_one(pool)
    .await
}

/// Creates a public or private room with `creator` as its owner.
pub async fn create(
    pool: &PgPool,
    name: &RoomName,
    kind: RoomKind,
    creator: Uuid,
) -> Result<Room, sqlx::Error> {
    sqlx::query_as(
        "WITH room AS (
             INSERT INTO rooms (id, name, kind, created_by) VALUES ($1, $2, $3, $4)
             RETURNING id, name, kind, created_at
         ), owner AS (
             INSERT INTO room_members (room_id, user_id, role) SELECT id, $4, 'owner' FROM room
         )
         SELECT id, name, kind, created_at, 1::bigint AS member_count FROM room",
    )
    .bind(Uuid::now_v7())
    .bind(name.as_str())
    .bind(kind)
    .bind(creator)
    .fetch_one(pool)
    .await
}

/// Public rooms whose name contains `query` in any case, newest first.
pub async fn search_public(
    pool: &PgPool,
    query: &str,
    limit: Limit,
) -> Result<Vec<Room>, sqlx::Error> {
    sqlx::query_as(
        "SELECT r.id, r.name, r.kind, r.created_at,
                (SELECT count(*) FROM room_members m WHERE m.room_id = r.id) AS member_count
         FROM rooms r
         WHERE r.kind = 'public' AND strpos(lower(r.name), lower($1)) > 0
         ORDER BY r.created_at DESC, r.id DESC
         LIMIT $2",
    )
    .bind(query)
    .bind(limit.get())
    .fetch_all(pool)
    .await
}

/// Every room `user` is a member of, with unread counts; a direct room is
/// named after its other member. Newest room first.
pub async fn of_member(pool: &PgPool, user: Uuid) -> Result<Vec<MyRoom>, sqlx::Error> {
    sqlx::query_as(
        "SELECT r.id,
                CASE WHEN r.kind = 'direct' THEN coalesce(
                    (SELECT u.username::text FROM room_members o JOIN users u ON u.id = o.user_id
                     WHERE o.room_id = r.id AND o.user_id <> $1 LIMIT 1), r.name)
                ELSE r.name END AS name,
                r.kind, r.created_at, m.role, head.last_seq, m.last_read_seq,
                greatest(head.last_seq - m.last_read_seq, 0) AS unread
         FROM room_members m
         JOIN rooms r ON r.id = m.room_id
         CROSS JOIN LATERAL (
             SELECT coalesce(max(seq), 0)::bigint AS last_seq FROM messages WHERE room_id = r.id
         ) head
         WHERE m.user_id = $1
         ORDER BY r.created_at DESC, r.id DESC",
    )
    .bind(user)
    .fetch_all(pool)
    .await
}

/// Makes `user` a member of a public room, or confirms the membership of an
/// invited member of a private room; `None` when neither applies (no such
/// room, a private room without an invitation, any direct room).
pub async fn join(pool: &PgPool, room: Uuid, user: Uuid) -> Result<Option<Room>, sqlx::Error> {
    // The final SELECT sees the rows as they were before the INSERT: `added`
    // completes the count, and "already a member" means "invited".
    sqlx::query_as(
        "WITH added AS (
             INSERT INTO room_members (room_id, user_id)
             SELECT id, $2 FROM rooms WHERE id = $1 AND kind = 'public'
             ON CONFLICT DO NOTHING
             RETURNING user_id
         )
         SELECT r.id, r.name, r.kind, r.created_at,
                (SELECT count(*) FROM room_members m WHERE m.room_id = r.id)
                    + (SELECT count(*) FROM added) AS member_count
         FROM rooms r
         WHERE r.id = $1
           AND (r.kind = 'public'
                OR (r.kind = 'private'
                    AND EXISTS (SELECT 1 FROM room_members m WHERE m.room_id = r.id AND m.user_id = $2)))",
    )
    .bind(room)
    .bind(user)
    .fetch_optional(pool)
    .await
}

/// Ends `user`'s membership of `room` (nothing happens if there was none).
pub async fn leave(pool: &PgPool, room: Uuid, user: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM room_members WHERE room_id = $1 AND user_id = $2")
        .bind(room)
        .bind(user)
        .execute(pool)
        .await?;
    Ok(())
}

/// The members of `room`, if `caller` is one of them; empty otherwise (a
/// member always sees at least themselves).
pub async fn members(pool: &PgPool, room: Uuid, caller: Uuid) -> Result<Vec<Member>, sqlx::Error> {
    sqlx::query_as(
        "SELECT u.id, u.username::text AS username, m.role
         FROM room_members m JOIN users u ON u.id = m.user_id
         WHERE m.room_id = $1
           AND EXISTS (SELECT 1 FROM room_members c WHERE c.room_id = $1 AND c.user_id = $2)
         ORDER BY m.joined_at, u.username",
    )
    .bind(room)
    .bind(caller)
    .fetch_all(pool)
    .await
}

/// Adds the user named `invitee` to `room`, if the room is private and
/// `inviter` is one of its members.
pub async fn invite(
    pool: &PgPool,
    room: Uuid,
    inviter: Uuid,
    invitee: &crate::domain::Username,
) -> Result<Invite, sqlx::Error> {
    let (allowed, id, username, role): (bool, Option<Uuid>, Option<String>, Option<MemberRole>) =
        sqlx::query_as(
            "WITH allowed AS (
             SELECT r.id FROM rooms r
             JOIN room_members m ON m.room_id = r.id AND m.user_id = $2
             WHERE r.id = $1 AND r.kind = 'private'
         ), invitee AS (
             SELECT id, username::text AS username FROM users WHERE username = $3::citext
         ), added AS (
             INSERT INTO room_members (room_id, user_id)
             SELECT a.id, i.id FROM allowed a CROSS JOIN invitee i
             ON CONFLICT DO NOTHING
             RETURNING role
         )
         SELECT EXISTS (SELECT 1 FROM allowed),
                (SELECT id FROM invitee),
                (SELECT username FROM invitee),
                coalesce((SELECT role FROM added),
                         (SELECT m.role FROM room_members m, invitee i
                          WHERE m.room_id = $1 AND m.user_id = i.id))",
        )
        .bind(room)
        .bind(inviter)
        .bind(invitee.as_str())
        .fetch_one(pool)
        .await?;
    Ok(match (allowed, id, username, role) {
        (false, ..) => Invite::NotAllowed,
        (true, Some(id), Some(username), Some(role)) => {
            Invite::Added(Member { id, username, role })
        }
        _ => Invite::UnknownUser,
    })
}

/// The direct room of `caller` and `other`, created on first use; both are
/// (again) its members. The same room whoever asks and however often.
pub async fn open_direct(pool: &PgPool, caller: Uuid, other: &User) -> Result<Room, sqlx::Error> {
    let (low, high) = if caller < other.id {
        (caller, other.id)
    } else {
        (other.id, caller)
    };
    let key = format!("{low}:{high}");
    let mut tx = pool.begin().await?;
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
    let (id, created_at): (Uuid, DateTime<Utc>) =
        sqlx::query_as("SELECT id, created_at FROM rooms WHERE direct_key = $1")
            .bind(&key)
            .fetch_one(&mut *tx)
            .await?;
    sqlx::query(
        "INSERT INTO room_members (room_id, user_id) VALUES ($1, $2), ($1, $3) ON CONFLICT DO NOTHING",
    )
    .bind(id)
    .bind(low)
    .bind(high)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Room {
        id,
        name: other.username.clone(),
        kind: RoomKind::Direct,
        created_at,
        member_count: Some(2),
    })
}

/// Moves `user`'s read marker in `room` forward to `seq` (never back); false
/// when `user` is not a member.
pub async fn mark_read(
    pool: &PgPool,
    room: Uuid,
    user: Uuid,
    seq: i64,
) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query(
        "UPDATE room_members SET last_read_seq = greatest(last_read_seq, $3)
         WHERE room_id = $1 AND user_id = $2",
    )
    .bind(room)
    .bind(user)
    .bind(seq)
    .execute(pool)
    .await?;
    Ok(updated.rows_affected() > 0)
}
