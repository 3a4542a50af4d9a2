//! The bot's budgets, kept in Redis so that every bot instance shares them:
//! replies per room and per user in a sliding window, and at most one failure
//! notice per room per cooldown.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::Script;
use redis::aio::ConnectionManager;
use uuid::Uuid;

use crate::error::BotError;

const RATE_LIMIT_LUA: &str = include_str!("rate_limit.lua");

/// The budgets' settings and their Redis connection.
#[derive(Clone)]
pub struct Limits {
    redis: ConnectionManager,
    script: Script,
    window: Duration,
    per_room: u32,
    per_user: u32,
    notice_cooldown: Duration,
}

impl std::fmt::Debug for Limits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limits")
            .field("window", &self.window)
            .field("per_room", &self.per_room)
            .field("per_user", &self.per_user)
            .finish_non_exhaustive()
    }
}

impl Limits {
    pub fn new(
        redis: ConnectionManager,
        window: Duration,
        per_room: u32,
        per_user: u32,
        notice_cooldown: Duration,
    ) -> Self {
        Self {
            redis,
            script: Script::new(RATE_LIMIT_LUA),
            window,
            per_room,
            per_user,
            notice_cooldown,
        }
    }

    /// Counts `mention` by `user` in `room`; false when a budget is spent.
    /// Asking again for the same mention gives the same answer.
    pub async fn allow_reply(
        &self,
        room: Uuid,
        user: Uuid,
        mention: Uuid,
    ) -> Result<bool, BotError> {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let allowed: i64 = self
            .script
            .key(format!("bot:rate:room:{room}"))
            .key(format!("bot:rate:user:{user}"))
            .arg(mention.to_string())
            .arg(now_ms)
            .arg(self.window.as_millis() as u64)
            .arg(self.per_room)
            .arg(self.per_user)
            .invoke_async(&mut self.redis.clone())
            .await?;
        Ok(allowed == 1)
    }

    /// True when `room` may get a failure notice for `mention` now: the first
    /// failure in a cooldown takes it, later ones in the same cooldown stay silent.
    pub async fn take_notice(&self, room: Uuid, mention: Uuid) -> Result<bool, BotError> {
        // the holder before this call, if any: none, or this same mention
        // again (a restart), may send the notice
        let holder: Option<String> = redis::cmd("SET")
            .arg(format!("bot:notice:{room}"))
            .arg(mention.to_string())
            .arg("NX")
            .arg("GET")
            .arg("PX")
            .arg(self.notice_cooldown.as_millis().max(1) as u64)
            .query_async(&mut self.redis.clone())
            .await?;
        Ok(holder.is_none_or(|h| h == mention.to_string()))
    }
}
