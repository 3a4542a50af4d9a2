//! The bot's own account and where it may speak (SQL only).

use sqlx::PgPool;
use uuid::Uuid;

use crate::error::BotError;

/// The bot as the chat knows it.
#[derive(Debug, Clone)]
pub struct BotAccount {
    pub id: Uuid,
    pub username: String,
}

/// A password hash that is not a PHC string: no password ever verifies against it.
const NO_LOGIN: &str = "!service-account";

/// Finds or creates the bot's account. Refuses a name a person registered first:
/// the bot never speaks as somebody else.
pub async fn ensure_account(pool: &PgPool, username: &str) -> Result<BotAccount, BotError> {
    sqlx::query(
        "INSERT INTO users (id, username, password_hash, is_bot) VALUES ($1, $2, $3, true) \
         ON CONFLICT (username) DO NOTHING",
    )
    .bind(Uuid::now_v7())
    .bind(username)
    .bind(NO_LOGIN)
    .execute(pool)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(db) if db.constraint() == Some("users_username_shape") => {
            BotError::Config(format!(
                "BOT_USERNAME {username:?} is not a valid username (3 to 32 of A-Z a-z 0-9 _ . -)"
            ))
        }
        _ => BotError::Postgres(e),
    })?;
    let (id, name, is_bot): (Uuid, String, bool) =
        sqlx::query_as("SELECT id, username::text, is_bot FROM users WHERE username = $1")
            .bind(username)
            .fetch_one(pool)
            .await?;
    if !is_bot {
        return Err(BotError::Config(format!(
            "the username {username:?} belongs to a person's account: choose another BOT_USERNAME"
        )));
    }
    Ok(BotAccount { id, username: name })
}

/// True when the bot is a member of `room` (it answers only where it was invited).
pub async fn is_member(pool: &PgPool, room: Uuid, bot: Uuid) -> Result<bool, BotError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM room_members WHERE room_id = $1 AND user_id = $2)",
    )
    .bind(room)
    .bind(bot)
    .fetch_one(pool)
    .await?)
}

/// True when a message with this id is stored.
pub async fn is_stored(pool: &PgPool, id: Uuid) -> Result<bool, BotError> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM messages WHERE id = $1)")
            .bind(id)
            .fetch_one(pool)
            .await?,
    )
}
