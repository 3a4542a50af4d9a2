//! What the room events' checks read: a target message's place and state, a
//! member's role, the members a body mentions by name.

use chat_core::event::EventOp;
use sqlx::PgPool;
use uuid::Uuid;

/// A stored message as an edit, delete, reaction or reply needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct TargetRow {
    pub room_id: Uuid,
    pub sender_id: Uuid,
    pub op: EventOp,
    pub seq: i64,
    pub deleted: bool,
}

/// The stored message `id`, if any.
pub async fn target(pool: &PgPool, id: Uuid) -> Result<Option<TargetRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT room_id, sender_id, op, seq, deleted_at IS NOT NULL AS deleted
         FROM messages WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// True when `user` is an owner or a moderator of `room`.
pub async fn is_moderator(pool: &PgPool, room: Uuid, user: Uuid) -> Result<bool, sqlx::Error> {
    let role: Option<String> = sqlx::query_scalar(
        "SELECT role::text FROM room_members WHERE room_id = $1 AND user_id = $2",
    )
    .bind(room)
    .bind(user)
    .fetch_optional(pool)
    .await?;
    Ok(matches!(role.as_deref(), Some("owner" | "moderator")))
}

/// The ids of the current members of `room` whose username is one of `names`
/// (compared without case), at most `limit`, in the order of `names`.
pub async fn members_named(
    pool: &PgPool,
    room: Uuid,
    names: &[String],
    limit: usize,
) -> Result<Vec<Uuid>, sqlx::Error> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_scalar(
        "SELECT u.id FROM unnest($2::text[]) WITH ORDINALITY AS n(name, ord)
         JOIN users u ON u.username = n.name::citext
         JOIN room_members m ON m.room_id = $1 AND m.user_id = u.id
         ORDER BY n.ord LIMIT $3",
    )
    .bind(room)
    .bind(names)
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_all(pool)
    .await
}
