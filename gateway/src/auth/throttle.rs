//! Login throttling in Redis: attempts per client address and failed logins per
//! account, each counted in a fixed 15-minute window.
//!
//! An attempt on an account is counted *before* its password is checked and the
//! count is cleared by a success, so concurrent guesses cannot slip past the
//! limit while their hashes are being verified. Redis being down fails closed.

use std::net::IpAddr;
use std::sync::LazyLock;

use redis::aio::ConnectionManager;

use crate::error::ApiError;

/// Length of a throttling window.
pub const WINDOW_SECS: u64 = 15 * 60;

/// `INCR`, with `EXPIRE` on the first increment (and on a key that somehow has
/// no expiry), atomically; returns the count and the seconds left in the window.
static COUNT: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
        local n = redis.call('INCR', KEYS[1])
        local ttl = redis.call('TTL', KEYS[1])
        if n == 1 or ttl < 0 then
            redis.call('EXPIRE', KEYS[1], ARGV[1])
            ttl = tonumber(ARGV[1])
        end
        return {n, ttl}
        ",
    )
});

fn address_key(addr: IpAddr) -> String {
    format!("chat:login:addr:{addr}")
}

fn account_key(folded_username: &str) -> String {
    format!("chat:login:fail:{folded_username}")
}

async fn count(redis: &ConnectionManager, key: String, limit: u32) -> Result<(), ApiError> {
    let (n, ttl): (u64, i64) = COUNT
        .key(key)
        .arg(WINDOW_SECS)
        .invoke_async(&mut redis.clone())
        .await?;
    if n > u64::from(limit) {
        return Err(ApiError::TooManyRequests {
            retry_after_secs: u64::try_from(ttl).unwrap_or(WINDOW_SECS).max(1),
        });
    }
    Ok(())
}

/// Counts a login attempt from `addr`; `TooManyRequests` past `limit` in the window.
pub async fn count_address_attempt(
    redis: &ConnectionManager,
    addr: IpAddr,
    limit: u32,
) -> Result<(), ApiError> {
    count(redis, address_key(addr), limit).await
}

/// Counts an attempt on the account (a failure until [`clear_account`] says
/// otherwise); `TooManyRequests` past `limit` in the window.
pub async fn count_account_attempt(
    redis: &ConnectionManager,
    folded_username: &str,
    limit: u32,
) -> Result<(), ApiError> {
    count(redis, account_key(folded_username), limit).await
}

/// Forgets the account's failures after a successful login.
pub async fn clear_account(
    redis: &ConnectionManager,
    folded_username: &str,
) -> Result<(), ApiError> {
    redis::cmd("DEL")
        .arg(account_key(folded_username))
        .query_async::<()>(&mut redis.clone())
        .await?;
    Ok(())
}
