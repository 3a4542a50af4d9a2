//! Accounts: creating them and finding them by name or id.

use serde::Serialize;
use sqlx::{PgExecutor, PgPool};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::Username;

/// A user as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, ToSchema)]
pub struct User {
    pub id: Uuid,
    /// As the user spelled it at sign-up; unique regardless of case.
    pub username: String,
}

/// What a login checks. `Debug` leaves the hash out.
#[derive(sqlx::FromRow)]
pub struct Credentials {
    pub id: Uuid,
    pub username: String,
    pub password_hash: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("id", &self.id)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    pub fn user(&self) -> User {
        User {
            id: self.id,
            username: self.username.clone(),
        }
    }
}

/// Creates an account; a name taken in any case violates `users_username_key`.
pub async fn insert(
    db: impl PgExecutor<'_>,
    username: &Username,
    password_hash: &str,
) -> Result<User, sqlx::Error> {
    sqlx::query_as(
        "INSERT INTO users (id, username, password_hash) VALUES ($1, $2, $3)
         RETURNING id, username::text AS username",
    )
    .bind(Uuid::now_v7())
    .bind(username.as_str())
    .bind(password_hash)
    .fetch_one(db)
    .await
}

/// The account named `username` (in any case) with its password hash.
pub async fn credentials(
    pool: &PgPool,
    username: &Username,
) -> Result<Option<Credentials>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, username::text AS username, password_hash FROM users WHERE username = $1::citext",
    )
    .bind(username.as_str())
    .fetch_optional(pool)
    .await
}

/// The account named `username`, in any case.
pub async fn by_username(pool: &PgPool, username: &Username) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as("SELECT id, username::text AS username FROM users WHERE username = $1::citext")
        .bind(username.as_str())
        .fetch_optional(pool)
        .await
}

/// The account with this id.
pub async fn by_id(pool: &PgPool, id: Uuid) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as("SELECT id, username::text AS username FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
}
