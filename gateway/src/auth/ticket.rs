//! Single-use WebSocket tickets: a browser cannot set headers on a WebSocket,
//! and a long-lived token must not travel in a URL, so it trades its access
//! token for a ticket that lives 30 seconds and works once.

use redis::aio::ConnectionManager;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::auth::Sessions;
use crate::auth::token::Claims;
use crate::error::ApiError;

/// How long a ticket may wait before the WebSocket opens.
pub const TICKET_TTL_SECS: u64 = 30;

/// Who a ticket was issued to, in which login session, and until when their token is valid.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TicketHolder {
    pub user_id: Uuid,
    pub username: String,
    /// The login session of the token the ticket was bought with.
    pub sid: Uuid,
    /// Expiry of the access token the ticket was bought with: the connection
    /// is closed then unless the client sends a fresher token.
    pub token_exp: u64,
}

fn key(ticket: &str) -> String {
    format!(
        "chat:ticket:{}",
        hex::encode(Sha256::digest(ticket.as_bytes()))
    )
}

/// A random 256-bit ticket.
pub fn random_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    hex::encode(bytes)
}

/// Issues a ticket for the holder of `claims`.
pub async fn issue(redis: &ConnectionManager, claims: &Claims) -> Result<String, ApiError> {
    let ticket = random_secret();
    let holder = TicketHolder {
        user_id: claims.sub,
        username: claims.name.clone(),
        sid: claims.sid,
        token_exp: claims.exp,
    };
    let value = serde_json::to_string(&holder).map_err(|e| ApiError::Internal(e.to_string()))?;
    redis::cmd("SET")
        .arg(key(&ticket))
        .arg(value)
        .arg("EX")
        .arg(TICKET_TTL_SECS)
        .query_async::<()>(&mut redis.clone())
        .await?;
    Ok(ticket)
}

/// Redeems a ticket: the holder, once; `Unauthenticated` for an unknown, used
/// or expired ticket, or one whose session has been revoked since.
pub async fn redeem(
    redis: &ConnectionManager,
    sessions: &Sessions,
    ticket: &str,
) -> Result<TicketHolder, ApiError> {
    if ticket.len() != 64 || !ticket.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::Unauthenticated);
    }
    let value: Option<String> = redis::cmd("GETDEL")
        .arg(key(ticket))
        .query_async(&mut redis.clone())
        .await?;
    let value = value.ok_or(ApiError::Unauthenticated)?;
    let holder: TicketHolder =
        serde_json::from_str(&value).map_err(|_| ApiError::Unauthenticated)?;
    sessions.ensure_active(holder.sid).await?;
    Ok(holder)
}
