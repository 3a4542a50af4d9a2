//! Sign-up and login throttling in Redis, each limit a counter in a fixed window
//! (shared by every gateway):
//!
//! - login attempts per client address (15 minutes);
//! - failed logins per account *and* address (15 minutes): the address that
//!   guesses is throttled, the owner logging in from elsewhere is not;
//! - failed logins per account from all addresses together (1 hour, larger):
//!   past it only addresses the account logged in from in the last 30 days may
//!   still try, so a guesser with many addresses is slowed without locking the
//!   owner out;
//! - sign-ups per address (1 hour) and from everyone together (1 minute).
//!
//! A login attempt is counted *before* its password is checked and the count is
//! taken back by a success, so concurrent guesses cannot slip past a limit while
//! their hashes are being verified. Redis being down fails closed.

use std::net::IpAddr;
use std::sync::LazyLock;

use redis::aio::ConnectionManager;

use crate::error::ApiError;

/// Window of the per-address and per-account-and-address login limits.
pub const LOGIN_WINDOW_SECS: u64 = 15 * 60;
/// Window of the per-account login limit.
pub const ACCOUNT_WINDOW_SECS: u64 = 60 * 60;
/// How long an address the account logged in from stays known.
pub const KNOWN_ADDRESS_SECS: u64 = 30 * 24 * 3600;
/// Window of the per-address sign-up limit.
pub const SIGNUP_ADDRESS_WINDOW_SECS: u64 = 60 * 60;
/// Window of the overall sign-up limit.
pub const SIGNUP_WINDOW_SECS: u64 = 60;

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

/// After a successful login: forget the pair's failures, take the attempt back
/// from the account's count (if its window still runs), remember the address.
static SUCCEEDED: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
        redis.call('DEL', KEYS[1])
        if redis.call('EXISTS', KEYS[2]) == 1 then
            redis.call('DECR', KEYS[2])
        end
        redis.call('SET', KEYS[3], 1, 'EX', ARGV[1])
        return 1
        ",
    )
});

fn address_key(addr: IpAddr) -> String {
    format!("chat:login:addr:{addr}")
}

fn pair_key(folded_username: &str, addr: IpAddr) -> String {
    format!("chat:login:fail:{folded_username}:{addr}")
}

fn account_key(folded_username: &str) -> String {
    format!("chat:login:fail:{folded_username}")
}

fn known_key(folded_username: &str, addr: IpAddr) -> String {
    format!("chat:login:known:{folded_username}:{addr}")
}

/// Counts one event under `key`; `Err(seconds left)` past `limit` in the window.
async fn count(
    redis: &ConnectionManager,
    key: String,
    limit: u32,
    window_secs: u64,
) -> Result<Result<(), u64>, ApiError> {
    let (n, ttl): (u64, i64) = COUNT
        .key(key)
        .arg(window_secs)
        .invoke_async(&mut redis.clone())
        .await?;
    if n > u64::from(limit) {
        return Ok(Err(u64::try_from(ttl).unwrap_or(window_secs).max(1)));
    }
    Ok(Ok(()))
}

fn too_many(retry_after_secs: u64) -> ApiError {
    ApiError::TooManyRequests { retry_after_secs }
}

/// Counts a login attempt from `addr`; `TooManyRequests` past `limit` in the window.
pub async fn count_address_attempt(
    redis: &ConnectionManager,
    addr: IpAddr,
    limit: u32,
) -> Result<(), ApiError> {
    count(redis, address_key(addr), limit, LOGIN_WINDOW_SECS)
        .await?
        .map_err(too_many)
}

/// The limits on one account's failed logins.
#[derive(Debug, Clone, Copy)]
pub struct AccountLimits {
    /// Failures per account and address per [`LOGIN_WINDOW_SECS`].
    pub per_address: u32,
    /// Failures per account per [`ACCOUNT_WINDOW_SECS`].
    pub overall: u32,
}

/// Counts an attempt on the account from `addr` (a failure until
/// [`login_succeeded`] says otherwise); `TooManyRequests` past the pair's
/// limit, or past the account's unless `addr` is one the account logged in from.
pub async fn count_account_attempt(
    redis: &ConnectionManager,
    folded_username: &str,
    addr: IpAddr,
    limits: AccountLimits,
) -> Result<(), ApiError> {
    count(
        redis,
        pair_key(folded_username, addr),
        limits.per_address,
        LOGIN_WINDOW_SECS,
    )
    .await?
    .map_err(too_many)?;
    if let Err(retry_after) = count(
        redis,
        account_key(folded_username),
        limits.overall,
        ACCOUNT_WINDOW_SECS,
    )
    .await?
    {
        let known: bool = redis::cmd("EXISTS")
            .arg(known_key(folded_username, addr))
            .query_async(&mut redis.clone())
            .await?;
        if !known {
            return Err(too_many(retry_after));
        }
    }
    Ok(())
}

/// After a successful login from `addr`: its attempt is no failure, and the
/// address is remembered as the owner's.
pub async fn login_succeeded(
    redis: &ConnectionManager,
    folded_username: &str,
    addr: IpAddr,
) -> Result<(), ApiError> {
    SUCCEEDED
        .key(pair_key(folded_username, addr))
        .key(account_key(folded_username))
        .key(known_key(folded_username, addr))
        .arg(KNOWN_ADDRESS_SECS)
        .invoke_async::<()>(&mut redis.clone())
        .await?;
    Ok(())
}

/// Counts a sign-up from `addr`; `TooManyRequests` past `per_address` per
/// [`SIGNUP_ADDRESS_WINDOW_SECS`] or past `per_minute` from everyone together.
pub async fn count_sign_up(
    redis: &ConnectionManager,
    addr: IpAddr,
    per_address: u32,
    per_minute: u32,
) -> Result<(), ApiError> {
    count(
        redis,
        format!("chat:signup:addr:{addr}"),
        per_address,
        SIGNUP_ADDRESS_WINDOW_SECS,
    )
    .await?
    .map_err(too_many)?;
    count(
        redis,
        "chat:signup:all".to_owned(),
        per_minute,
        SIGNUP_WINDOW_SECS,
    )
    .await?
    .map_err(too_many)
}
