//! Slow mode: in a room with `slow_mode_seconds = N > 0`, a plain member
//! sends at most one message per N seconds, across every gateway (owners and
//! moderators are exempt).
//!
//! - The room's setting and the sender's role come with the send's
//!   membership read ([`crate::membership::Standing`]), so a change is in
//!   force at the next send on every gateway. Through a Postgres outage the
//!   membership memory answers, with the setting as it was last read.
//! - The slot is a Redis key per (room, user), `SET NX PX` with the message's
//!   client message id as its value, so a resend of the message that took the
//!   slot is let through (it is the same message; dedupe answers it) while any
//!   other message waits for the key to expire. The refusal says how long:
//!   `rate_limited` with `retry_after_ms`.

use std::sync::LazyLock;

use redis::aio::ConnectionManager;
use uuid::Uuid;

use crate::membership::Standing;

/// Takes the slot, or gives back the slot's remaining milliseconds. A resend
/// (the value is this client message id) is let through.
static TAKE_SLOT: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
        if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
        if redis.call('GET', KEYS[1]) == ARGV[1] then return 0 end
        local left = redis.call('PTTL', KEYS[1])
        if left < 1 then return 1 end
        return left
        ",
    )
});

/// The Redis key of `user`'s slot in `room`.
pub fn slot_key(room: Uuid, user: Uuid) -> String {
    format!("chat:room:{room}:slow:{user}")
}

/// Why slow mode could not decide.
#[derive(Debug, thiserror::Error)]
pub enum SlowModeError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
}

/// What slow mode says about one send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Refused: the sender's slot frees in this many milliseconds.
    Wait {
        retry_after_ms: u64,
    },
}

/// This gateway's slow mode: the shared slots.
#[derive(Debug)]
pub struct SlowMode {
    redis: ConnectionManager,
}

impl SlowMode {
    pub fn new(redis: ConnectionManager) -> Self {
        Self { redis }
    }

    /// Whether `user`, of `standing` in `room`, may send the message
    /// `client_msg_id` now (no Redis call unless slow mode holds them).
    pub async fn check(
        &self,
        room: Uuid,
        user: Uuid,
        client_msg_id: &str,
        standing: Standing,
    ) -> Result<Verdict, SlowModeError> {
        let Some(seconds) = standing.slow_mode() else {
            return Ok(Verdict::Allowed);
        };
        let left: u64 = TAKE_SLOT
            .key(slot_key(room, user))
            .arg(client_msg_id)
            .arg(u64::from(seconds) * 1000)
            .invoke_async(&mut self.redis.clone())
            .await?;
        Ok(if left == 0 {
            Verdict::Allowed
        } else {
            Verdict::Wait {
                retry_after_ms: left,
            }
        })
    }
}

/// The send path's hook: refuses a send slow mode does not allow now
/// (`rate_limited` with `retry_after_ms`), or when it cannot tell (`unavailable`).
pub async fn enforce(
    state: &crate::state::AppState,
    room: Uuid,
    user: Uuid,
    client_msg_id: &str,
    standing: Standing,
) -> Result<(), super::send::Refused> {
    use super::protocol::ErrorCode;
    use super::send::{Refused, unavailable};
    match state
        .slow_mode
        .check(room, user, client_msg_id, standing)
        .await
    {
        Ok(Verdict::Allowed) => Ok(()),
        Ok(Verdict::Wait { retry_after_ms }) => Err(Refused {
            retry_after_ms: Some(retry_after_ms),
            ..Refused::new(
                ErrorCode::RateLimited,
                "slow mode: wait before sending another message",
            )
        }),
        Err(error) => {
            tracing::warn!(%error, room.id = %room, "slow mode could not decide");
            Err(unavailable())
        }
    }
}
