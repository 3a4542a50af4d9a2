//! Rooms and membership.

use sqlx::PgPool;
use uuid::Uuid;

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
