//! Refresh tokens, kept only as SHA-256 hashes: issuing, rotating with reuse
//! detection (after a short grace window), and revoking a login's whole family.
//! A family's id is the login session's id, the `sid` of its access tokens.

use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

use crate::db::users::User;

/// What presenting a refresh token did.
#[derive(Debug)]
pub enum Rotation {
    /// The token was valid (or rotated within the grace window): a successor of
    /// the login `family` is stored.
    Rotated { user: User, family: Uuid },
    /// The token had been rotated before the grace window: the login `family`
    /// is now revoked.
    Reused { family: Uuid },
    /// No such token, it expired, or its login has ended.
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

/// How long ago a token was rotated, as the database sees it.
#[derive(sqlx::FromRow)]
struct Presented {
    user_id: Uuid,
    family_id: Uuid,
    revoked: bool,
    /// `None`: never rotated; `Some(true)`: rotated within the grace window.
    rotated_within_grace: Option<bool>,
}

/// Exchanges the token hashed `presented` for the one hashed `next` (same
/// family, a fresh lifetime), atomically. A token rotated less than
/// `grace_secs` ago gets another successor; rotated earlier, it revokes its family.
pub async fn rotate(
    pool: &PgPool,
    presented: &[u8],
    next: &[u8],
    ttl_secs: u64,
    grace_secs: u64,
) -> Result<Rotation, sqlx::Error> {
    let mut tx = pool.begin().await?;
    // Concurrent refreshes with one token serialise on its row.
    let found: Option<Presented> = sqlx::query_as(
        "SELECT user_id, family_id, revoked_at IS NOT NULL AS revoked,
                rotated_at > now() - make_interval(secs => $2::float8) AS rotated_within_grace
         FROM refresh_tokens
         WHERE token_hash = $1 AND expires_at > now()
         FOR UPDATE",
    )
    .bind(presented)
    .bind(i64::try_from(grace_secs).unwrap_or(i64::MAX))
    .fetch_optional(&mut *tx)
    .await?;
    let rotation = match found {
        None => Rotation::Unknown,
        Some(token) if token.revoked => Rotation::Unknown,
        Some(token) if token.rotated_within_grace == Some(false) => {
            revoke_family_id(&mut *tx, token.family_id).await?;
            Rotation::Reused {
                family: token.family_id,
            }
        }
        Some(token) => {
            sqlx::query(
                "UPDATE refresh_tokens SET rotated_at = coalesce(rotated_at, now())
                 WHERE token_hash = $1",
            )
            .bind(presented)
            .execute(&mut *tx)
            .await?;
            insert(&mut *tx, token.user_id, token.family_id, next, ttl_secs).await?;
            let user: User =
                sqlx::query_as("SELECT id, username::text AS username FROM users WHERE id = $1")
                    .bind(token.user_id)
                    .fetch_one(&mut *tx)
                    .await?;
            Rotation::Rotated {
                user,
                family: token.family_id,
            }
        }
    };
    tx.commit().await?;
    Ok(rotation)
}

/// Revokes every token of login `family`.
pub async fn revoke_family_id(db: impl PgExecutor<'_>, family: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE family_id = $1",
    )
    .bind(family)
    .execute(db)
    .await?;
    Ok(())
}

/// Revokes every token of the login the token hashed `token_hash` belongs to
/// (log out) and returns that login's id; `None` for an unknown token.
pub async fn revoke_family(pool: &PgPool, token_hash: &[u8]) -> Result<Option<Uuid>, sqlx::Error> {
    let family: Option<Uuid> =
        sqlx::query_scalar("SELECT family_id FROM refresh_tokens WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(pool)
            .await?;
    if let Some(family) = family {
        revoke_family_id(pool, family).await?;
    }
    Ok(family)
}
