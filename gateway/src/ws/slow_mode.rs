//! Slow mode: in a room with `slow_mode_seconds = N > 0`, a plain member
//! sends at most one message per N seconds, across every gateway (owners and
//! moderators are exempt).
//!
//! - The room's setting and the sender's role come from Postgres at most
//!   once per [`CACHE_TTL`] per (room, user) on each gateway. A change is
//!   announced to every gateway ([`crate::room_changes`]), which forget the
//!   room at once; if that notice is lost, the change is in force everywhere
//!   within [`CACHE_TTL`].
//! - The slot is a Redis key per (room, user), `SET NX PX` with the message's
//!   client message id as its value, so a resend of the message that took the
//!   slot is let through (it is the same message; dedupe answers it) while any
//!   other message waits for the key to expire. The refusal says how long:
//!   `rate_limited` with `retry_after_ms`.
//! - Bounded: at most [`MAX_CACHED`] (room, user) pairs; past it the cache starts over.
//! - Through a Postgres outage sends go on (G1: Kafka is the durable step):
//!   slow mode then uses what it last read of the room, however old, and
//!   lets through a sender it knows nothing of.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, PoisonError};
use std::time::{Duration, Instant};

use redis::aio::ConnectionManager;
use sqlx::PgPool;
use uuid::Uuid;

use crate::db;
use crate::domain::MemberRole;

/// How long a gateway trusts what it read of a room's slow mode and a member's role.
pub const CACHE_TTL: Duration = Duration::from_secs(2);
/// Cached (room, user) pairs at most.
pub const MAX_CACHED: usize = 100_000;

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

/// Why slow mode could not decide (Postgres is never a reason: see the module's doc).
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

/// A member's standing as slow mode sees it.
#[derive(Debug, Clone, Copy)]
struct Standing {
    exempt: bool,
    seconds: u32,
}

/// This gateway's slow mode: the cache and the shared slots.
#[derive(Debug)]
pub struct SlowMode {
    pool: PgPool,
    redis: ConnectionManager,
    cache: Mutex<HashMap<(Uuid, Uuid), (Instant, Standing)>>,
}

impl SlowMode {
    pub fn new(pool: PgPool, redis: ConnectionManager) -> Self {
        Self {
            pool,
            redis,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `user` may send the message `client_msg_id` in `room` now.
    /// `postgres_down`: this instance takes Postgres as down; nothing is read from it.
    pub async fn check(
        &self,
        room: Uuid,
        user: Uuid,
        client_msg_id: &str,
        postgres_down: bool,
    ) -> Result<Verdict, SlowModeError> {
        let standing = self.standing(room, user, postgres_down).await;
        if standing.exempt || standing.seconds == 0 {
            return Ok(Verdict::Allowed);
        }
        let left: u64 = TAKE_SLOT
            .key(slot_key(room, user))
            .arg(client_msg_id)
            .arg(u64::from(standing.seconds) * 1000)
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

    /// Forgets what this gateway read of `room` (its slow mode or a role changed here).
    pub fn forget_room(&self, room: Uuid) {
        self.cache().retain(|(r, _), _| *r != room);
    }

    async fn standing(&self, room: Uuid, user: Uuid, postgres_down: bool) -> Standing {
        let cached = self.cache().get(&(room, user)).copied();
        if let Some((at, standing)) = cached
            && (at.elapsed() < CACHE_TTL || postgres_down)
        {
            return standing;
        }
        // nothing known of this sender during an outage: let them through
        let unknown = Standing {
            exempt: true,
            seconds: 0,
        };
        if postgres_down {
            return unknown;
        }
        let read = match db::moderation::send_standing(&self.pool, room, user).await {
            Ok(read) => read,
            Err(error) => {
                tracing::warn!(%error, room.id = %room, "slow mode setting unreadable; the last one read stands");
                return cached.map_or(unknown, |(_, standing)| standing);
            }
        };
        let standing = match read {
            Some((role, seconds)) => Standing {
                exempt: role != MemberRole::Member,
                seconds: u32::try_from(seconds).unwrap_or(0),
            },
            // not a member (any more): the membership check refuses them
            None => Standing {
                exempt: false,
                seconds: 0,
            },
        };
        let mut cache = self.cache();
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        cache.insert((room, user), (Instant::now(), standing));
        standing
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<(Uuid, Uuid), (Instant, Standing)>> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The send path's hook: refuses a send slow mode does not allow now
/// (`rate_limited` with `retry_after_ms`), or when it cannot tell (`unavailable`).
pub async fn enforce(
    state: &crate::state::AppState,
    room: Uuid,
    user: Uuid,
    client_msg_id: &str,
) -> Result<(), super::send::Refused> {
    use super::protocol::ErrorCode;
    use super::send::{Refused, unavailable};
    let postgres_down = state.membership.in_outage();
    match state
        .slow_mode
        .check(room, user, client_msg_id, postgres_down)
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
