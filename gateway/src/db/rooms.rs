//! Rooms and membership. Every rule of who may see or enter a room is a
//! condition of the SQL here, so that no caller can forget one.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::config::RoomQuotas;
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
    /// The caller's role, when the caller is a member.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<MemberRole>,
    /// The room's topic (empty: none), at most 300 characters.
    pub topic: String,
    /// Slow mode: one message per member per this many seconds (0: off).
    pub slow_mode_seconds: i32,
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
    /// The room's topic (empty: none).
    pub topic: String,
    /// Slow mode: one message per member per this many seconds (0: off).
    pub slow_mode_seconds: i32,
    /// The room's highest stored seq (0: no message yet).
    pub last_seq: i64,
    /// The caller's read marker: never above the room's head.
    pub last_read_seq: i64,
    /// Messages above `last_read_seq` sent by others (the caller's own never
    /// count), not deleted, at most [`UNREAD_MAX`], among the room's newest
    /// [`ROOM_MENTION_WINDOW`] rows; other room events (edits, reactions,
    /// deletes, topics, moderation) are not unread messages.
    pub unread: i64,
    /// Of those, the messages (not deleted) that mention the caller by name or
    /// with `@room` (among the room's newest [`ROOM_MENTION_WINDOW`]), at most
    /// [`UNREAD_MAX`].
    pub mentions: i64,
}

/// A member of a room.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct Member {
    pub id: Uuid,
    pub username: String,
    pub role: MemberRole,
}

/// The most unread messages counted per room (a client shows "1000+").
pub const UNREAD_MAX: i64 = 1000;

/// What an invitation did.
#[derive(Debug)]
pub enum Invite {
    /// The invitee is a member now (or already was).
    Added(Member),
    /// The room is not private, or the inviter is not its owner.
    NotAllowed,
    /// Nobody has that username.
    UnknownUser,
    /// The invitee has blocked the inviter.
    Refused,
    /// The invitee is banned from the room.
    Banned,
}

/// What a room creation did.
#[derive(Debug)]
pub enum Created {
    Room(Room),
    /// The creator made [`RoomQuotas::created_per_hour`] rooms within the last
    /// hour; the next one may be made after this many seconds.
    TooMany {
        retry_after_secs: u64,
    },
    /// The creator owns [`RoomQuotas::owned_max`] rooms.
    OwnsTooMany,
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

/// Creates a public or private room with `creator` as its owner, within the
/// creator's quotas.
pub async fn create(
    pool: &PgPool,
    name: &RoomName,
    kind: RoomKind,
    creator: Uuid,
    quotas: &RoomQuotas,
) -> Result<Created, sqlx::Error> {
    let mut tx = pool.begin().await?;
    // One creation at a time per user: the counts below hold until the insert.
    // (`NO KEY UPDATE` does not wait for inserts that reference the user.)
    sqlx::query("SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE")
        .bind(creator)
        .execute(&mut *tx)
        .await?;
    // the newest `created_per_hour`-th room of the last hour: while there is
    // one, the quota is used up until it is an hour old
    let full_since: Option<i64> = sqlx::query_scalar(
        "SELECT greatest(1, ceil(extract(epoch FROM created_at + interval '1 hour' - now())))::bigint
         FROM rooms
         WHERE created_by = $1 AND kind <> 'direct' AND created_at > now() - interval '1 hour'
         ORDER BY created_at DESC
         OFFSET $2 LIMIT 1",
    )
    .bind(creator)
    .bind(i64::from(quotas.created_per_hour.max(1)) - 1)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(secs) = full_since {
        return Ok(Created::TooMany {
            retry_after_secs: u64::try_from(secs).unwrap_or(1),
        });
    }
    let owned: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM room_members WHERE user_id = $1 AND role = 'owner'",
    )
    .bind(creator)
    .fetch_one(&mut *tx)
    .await?;
    if owned >= i64::from(quotas.owned_max) {
        return Ok(Created::OwnsTooMany);
    }
    let room = sqlx::query_as(
        "WITH room AS (
             INSERT INTO rooms (id, name, kind, created_by) VALUES ($1, $2, $3, $4)
             RETURNING id, name, kind, created_at, topic, slow_mode_seconds
         ), owner AS (
             INSERT INTO room_members (room_id, user_id, role) SELECT id, $4, 'owner' FROM room
         )
         SELECT id, name, kind, created_at, 1::bigint AS member_count,
                'owner'::member_role AS role, topic, slow_mode_seconds
         FROM room",
    )
    .bind(Uuid::now_v7())
    .bind(name.as_str())
    .bind(kind)
    .bind(creator)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Created::Room(room))
}

/// Public rooms whose name contains `query` in any case, newest first.
pub async fn search_public(
    pool: &PgPool,
    query: &str,
    limit: Limit,
    caller: Uuid,
) -> Result<Vec<Room>, sqlx::Error> {
    sqlx::query_as(
        "SELECT r.id, r.name, r.kind, r.created_at,
                (SELECT count(*) FROM room_members m WHERE m.room_id = r.id) AS member_count,
                (SELECT m.role FROM room_members m WHERE m.room_id = r.id AND m.user_id = $3) AS role,
                r.topic, r.slow_mode_seconds
         FROM rooms r
         WHERE r.kind = 'public' AND strpos(lower(r.name), lower($1)) > 0
         ORDER BY r.created_at DESC, r.id DESC
         LIMIT $2",
    )
    .bind(query)
    .bind(limit.get())
    .bind(caller)
    .fetch_all(pool)
    .await
}

/// Every room `user` is a member of, with unread counts (others' messages
/// above the marker, at most [`UNREAD_MAX`], among the room's newest
/// [`ROOM_MENTION_WINDOW`] rows: a bounded index range scan) and unread mentions (by name: the mentions
/// index; `@room`: the same bounded range scan); a direct room is named after its other
/// user, also after they left it. Newest room first.
pub async fn of_member(pool: &PgPool, user: Uuid) -> Result<Vec<MyRoom>, sqlx::Error> {
    sqlx::query_as(concat!(
        my_rooms_select!(),
        " WHERE m.user_id = $1 ORDER BY r.created_at DESC, r.id DESC"
    ))
    .bind(user)
    .bind(UNREAD_MAX)
    .bind(ROOM_MENTION_WINDOW)
    .fetch_all(pool)
    .await
}

/// `user`'s entry for `room` as [`of_member`] lists it; `None` when they are
/// not a member.
pub async fn one_of_member(
    pool: &PgPool,
    user: Uuid,
    room: Uuid,
) -> Result<Option<MyRoom>, sqlx::Error> {
    sqlx::query_as(concat!(
        my_rooms_select!(),
        " WHERE m.user_id = $1 AND m.room_id = $4"
    ))
    .bind(user)
    .bind(UNREAD_MAX)
    .bind(ROOM_MENTION_WINDOW)
    .bind(room)
    .fetch_optional(pool)
    .await
}

/// The select of [`of_member`] and [`one_of_member`], up to their `WHERE`.
macro_rules! my_rooms_select {
    () => {
        "SELECT r.id,
                CASE WHEN r.kind = 'direct' THEN coalesce(
                    (SELECT u.username::text FROM users u
                     WHERE u.id = other.id), r.name)
                ELSE r.name END AS name,
                r.kind, r.created_at, m.role, r.topic, r.slow_mode_seconds,
                head.last_seq, m.last_read_seq,
                (SELECT count(*) FROM (
                     SELECT 1 FROM messages x
                     WHERE x.room_id = r.id AND x.sender_id <> $1
                       AND x.seq > greatest(m.last_read_seq, head.last_seq - $3)
                       AND x.op = 'message' AND x.deleted_at IS NULL
                     ORDER BY x.seq LIMIT $2
                 ) others) AS unread,
                (SELECT count(*) FROM (
                     SELECT mm.message_id FROM message_mentions mm
                     JOIN messages x ON x.id = mm.message_id
                     WHERE mm.user_id = $1 AND mm.room_id = r.id AND mm.seq > m.last_read_seq
                       AND x.deleted_at IS NULL AND x.sender_id <> $1
                     UNION
                     (SELECT x.id FROM messages x
                      WHERE x.room_id = r.id AND x.mention_room
                        AND x.seq > greatest(m.last_read_seq, head.last_seq - $3)
                        AND x.op = 'message' AND x.deleted_at IS NULL AND x.sender_id <> $1
                      ORDER BY x.seq LIMIT $2)
                     LIMIT $2
                 ) mentioned) AS mentions
         FROM room_members m
         JOIN rooms r ON r.id = m.room_id
         CROSS JOIN LATERAL (
             SELECT coalesce(max(seq), 0)::bigint AS last_seq FROM messages WHERE room_id = r.id
         ) head
         -- a direct room's other user, from its key, whether or not they left it
         LEFT JOIN LATERAL (
             SELECT k::uuid AS id FROM unnest(string_to_array(r.direct_key, ':')) k
             WHERE k::uuid <> $1 LIMIT 1
         ) other ON true"
    };
}
use my_rooms_select;

/// Unread messages and `@room` mentions are counted among a room's newest
/// this many rows (events included: a bounded scan of the room's log;
/// mentions by name have an index).
pub const ROOM_MENTION_WINDOW: i64 = 10_000;

/// What a join did.
#[derive(Debug)]
pub enum Joined {
    /// The caller is a member (now, or already was).
    Room(Room),
    /// The caller is banned from the room.
    Banned,
    /// No such room, a private room without an invitation, or a direct room.
    NotAllowed,
}

/// Makes `user` a member of a public room, or confirms the membership of an
/// invited member of a private room; never for a user banned from it. The
/// room's row is share-locked first: a ban (which takes it for update) and a
/// join do not interleave, so a ban cannot miss a join that started before it.
pub async fn join(pool: &PgPool, room: Uuid, user: Uuid) -> Result<Joined, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT 1 FROM rooms WHERE id = $1 FOR SHARE")
        .bind(room)
        .execute(&mut *tx)
        .await?;
    if super::moderation::is_banned(&mut *tx, room, user).await? {
        return Ok(Joined::Banned);
    }
    // The final SELECT sees the rows as they were before the INSERT: `added`
    // completes the count, and "already a member" means "invited".
    let joined: Option<Room> = sqlx::query_as(
        "WITH added AS (
             INSERT INTO room_members (room_id, user_id)
             SELECT id, $2 FROM rooms WHERE id = $1 AND kind = 'public'
             ON CONFLICT DO NOTHING
             RETURNING user_id, role
         )
         SELECT r.id, r.name, r.kind, r.created_at,
                (SELECT count(*) FROM room_members m WHERE m.room_id = r.id)
                    + (SELECT count(*) FROM added) AS member_count,
                coalesce((SELECT role FROM added),
                         (SELECT m.role FROM room_members m WHERE m.room_id = r.id AND m.user_id = $2)) AS role,
                r.topic, r.slow_mode_seconds
         FROM rooms r
         WHERE r.id = $1
           AND (r.kind = 'public'
                OR (r.kind = 'private'
                    AND EXISTS (SELECT 1 FROM room_members m WHERE m.room_id = r.id AND m.user_id = $2)))",
    )
    .bind(room)
    .bind(user)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(joined.map_or(Joined::NotAllowed, Joined::Room))
}

/// Ends `user`'s membership of `room` (nothing happens if there was none).
/// An owner hands the room to the longest-standing member left; a member
/// leaving a direct room is remembered, so that the other member cannot add
/// them back ([`crate::db::direct::open`]).
pub async fn leave(pool: &PgPool, room: Uuid, user: Uuid) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    // departures from one room one at a time: the heir chosen below is still there
    sqlx::query("SELECT 1 FROM rooms WHERE id = $1 FOR NO KEY UPDATE")
        .bind(room)
        .execute(&mut *tx)
        .await?;
    let left: Option<(MemberRole, RoomKind)> = sqlx::query_as(
        "DELETE FROM room_members m USING rooms r
         WHERE m.room_id = $1 AND m.user_id = $2 AND r.id = m.room_id
         RETURNING m.role, r.kind",
    )
    .bind(room)
    .bind(user)
    .fetch_optional(&mut *tx)
    .await?;
    match left {
        Some((MemberRole::Owner, _)) => {
            sqlx::query(
                "UPDATE room_members SET role = 'owner'
                 WHERE room_id = $1 AND user_id = (
                     SELECT user_id FROM room_members WHERE room_id = $1
                     ORDER BY joined_at, user_id LIMIT 1)",
            )
            .bind(room)
            .execute(&mut *tx)
            .await?;
        }
        Some((_, RoomKind::Direct)) => {
            sqlx::query(
                "INSERT INTO direct_departures (room_id, user_id) VALUES ($1, $2)
                 ON CONFLICT (room_id, user_id) DO UPDATE SET left_at = now()",
            )
            .bind(room)
            .bind(user)
            .execute(&mut *tx)
            .await?;
        }
        _ => {}
    }
    tx.commit().await
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

/// Adds the user named `invitee` to `room`, if the room is private,
/// `inviter` is its owner and the invitee has not blocked the inviter.
pub async fn invite(
    pool: &PgPool,
    room: Uuid,
    inviter: Uuid,
    invitee: &crate::domain::Username,
) -> Result<Invite, sqlx::Error> {
    type Row = (
        bool,
        bool,
        bool,
        Option<Uuid>,
        Option<String>,
        Option<MemberRole>,
    );
    let mut tx = pool.begin().await?;
    // as `join`: a ban and an invitation do not interleave
    sqlx::query("SELECT 1 FROM rooms WHERE id = $1 FOR SHARE")
        .bind(room)
        .execute(&mut *tx)
        .await?;
    let (allowed, refused, banned, id, username, role): Row = sqlx::query_as(
        "WITH allowed AS (
             SELECT r.id FROM rooms r
             JOIN room_members m ON m.room_id = r.id AND m.user_id = $2 AND m.role = 'owner'
             WHERE r.id = $1 AND r.kind = 'private'
         ), invitee AS (
             SELECT id, username::text AS username FROM users WHERE username = $3::citext
         ), refused AS (
             SELECT 1 FROM user_blocks b JOIN invitee i ON b.blocker_id = i.id
             WHERE b.blocked_id = $2
         ), banned AS (
             SELECT 1 FROM room_bans b JOIN invitee i ON b.user_id = i.id
             WHERE b.room_id = $1
         ), added AS (
             INSERT INTO room_members (room_id, user_id)
             SELECT a.id, i.id FROM allowed a CROSS JOIN invitee i
             WHERE NOT EXISTS (SELECT 1 FROM refused) AND NOT EXISTS (SELECT 1 FROM banned)
             ON CONFLICT DO NOTHING
             RETURNING role
         )
         SELECT EXISTS (SELECT 1 FROM allowed),
                EXISTS (SELECT 1 FROM refused),
                EXISTS (SELECT 1 FROM banned),
                (SELECT id FROM invitee),
                (SELECT username FROM invitee),
                coalesce((SELECT role FROM added),
                         (SELECT m.role FROM room_members m, invitee i
                          WHERE m.room_id = $1 AND m.user_id = i.id))",
    )
    .bind(room)
    .bind(inviter)
    .bind(invitee.as_str())
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(match (allowed, refused, banned, id, username, role) {
        (false, ..) => Invite::NotAllowed,
        (true, _, _, None, ..) => Invite::UnknownUser,
        (true, true, ..) => Invite::Refused,
        (true, false, true, ..) => Invite::Banned,
        (true, false, false, Some(id), Some(username), Some(role)) => {
            Invite::Added(Member { id, username, role })
        }
        _ => Invite::UnknownUser,
    })
}

/// What moving a read marker did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marked {
    /// `user` is not a member.
    NotMember,
    /// The marker stayed where it was.
    Unchanged,
    /// The marker moved forward to this seq.
    Moved(i64),
}

/// Moves `user`'s read marker in `room` forward to `seq` (never back), but
/// not past the room's head: the higher of `live_head` (the sequencer's, which
/// counts messages not stored yet) and the highest stored seq.
pub async fn mark_read(
    pool: &PgPool,
    room: Uuid,
    user: Uuid,
    seq: i64,
    live_head: i64,
) -> Result<Marked, sqlx::Error> {
    // the old value read under the row's lock, in the same statement
    let moved: Option<(i64, i64)> = sqlx::query_as(
        "WITH old AS (
             SELECT last_read_seq FROM room_members
             WHERE room_id = $1 AND user_id = $2 FOR UPDATE
         )
         UPDATE room_members m
         SET last_read_seq = greatest(m.last_read_seq, least($3, greatest($4,
             (SELECT coalesce(max(seq), 0) FROM messages WHERE room_id = $1))))
         FROM old
         WHERE m.room_id = $1 AND m.user_id = $2
         RETURNING old.last_read_seq, m.last_read_seq",
    )
    .bind(room)
    .bind(user)
    .bind(seq)
    .bind(live_head)
    .fetch_optional(pool)
    .await?;
    Ok(match moved {
        None => Marked::NotMember,
        Some((old, new)) if new > old => Marked::Moved(new),
        Some(_) => Marked::Unchanged,
    })
}
