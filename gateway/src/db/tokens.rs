//! Refresh tokens, kept only as SHA-256 hashes: issuing, rotating with reuse
//! detection, and revoking a login's whole family.

use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

use crate::db::users::User;

/// What presenting a refresh token did.
#[derive(Debug)]
pub enum Rotation {
    /// The token was valid: it is now revoked and its successor stored.
    Rotated(User),
    /// The token had already been used or revoked: its whole family is now revoked.
    Reused,
    /// No such token, or it expired.
    Unknown,
}

/// Stores a new token of `family` for `user`, valid for `ttl_secs`.
pub async fn insert(
    db: impl PgExecutor<'_>,
    user: Uuid,
    family: Uuid,
    token_hash: &[u8],
    ttl_secs: u64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at)
         VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5::float8))",
    )
    .bind(Uuid::now_v7())
    .bind(user)
    .bind(family)
    .bind(token_hash)
    .bind(i64::try_from(ttl_secs).unwrap_or(i64::MAX))
    .execute(db)
    .await?;
    Ok(())
}

/// Exchanges the token hashed `presented` for the one hashed `next` (same
/// family, a fresh lifetime), atomically. A token presented twice revokes its family.
pub async fn rotate(
    pool: &PgPool,
    presented: &[u8],
    next: &[u8],
    ttl_secs: u64,
) -> Result<Rotation, sqlx::Error> {
    let mut tx = pool.begin().await?;
    // Concurrent refreshes with one token serialise on its row: only one finds it unrevoked.
    let current: Option<(Uuid, Uuid)> = sqlx::query_as(
        "UPDATE refresh_tokens SET revoked_at = now()
         WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > now()
         RETURNING user_id, family_id",
    )
    .bind(presented)
    .fetch_optional(&mut *tx)
    .await?;
    let rotation = match current {
        Some((user_id, family)) => {
            insert(&mut *tx, user_id, family, next, ttl_secs).await?;
            let user: User =
                sqlx::query_as("SELECT id, username::text AS username FROM users WHERE id = $1")
                    .bind(user_id)
                    .fetch_one(&mut *tx)
                    .await?;
            Rotation::Rotated(user)
        }
        None => {
            let revoked = sqlx::query(
                "UPDATE refresh_tokens SET revoked_at = coalesce(revoked_at, now())
                 WHERE family_id = (SELECT family_id FROM refresh_tokens
                                    WHERE token_hash = $1 AND revoked_at IS NOT NULL)",
            )
            .bind(presented)
            .execute(&mut *tx)
            .await?;
            if revoked.rows_affected() > 0 {
                Rotation::Reused
            } else {
                Rotation::Unknown
            }
        }
    };
    tx.commit().await?;
    Ok(rotation)
}

/// Revokes every token of the login the token hashed `token_hash` belongs to
/// (log out); nothing happens for an unknown token.
pub async fn revoke_family(pool: &PgPool, token_hash: &[u8]) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = coalesce(revoked_at, now())
         WHERE family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1)",
    )
    .bind(token_hash)
    .execute(pool)
    .await?;
    Ok(())
}
