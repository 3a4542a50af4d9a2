//! Presence: who is online in a room, across every gateway.
//!
//! Each connection subscribed to a room has an entry in the room's sorted set
//! (`chat:{room}:presence`) scored by its expiry. The owning gateway refreshes
//! its entries every third of the TTL; entries of a crashed gateway expire and
//! the sweep (run by every gateway for the rooms it relays) removes them and
//! announces "offline" once. Join, leave and sweep are Lua scripts, so the
//! "first connection online" / "last connection offline" decisions are atomic.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::Script;
use redis::aio::ConnectionManager;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::relay::live_channel;
use crate::state::AppState;
use crate::ws::protocol::{ServerFrame, UserRef, encode};

fn key(room: Uuid) -> String {
    format!("chat:{{{room}}}:presence")
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Presence of this instance's connections.
pub struct Presence {
    redis: ConnectionManager,
    instance: String,
    ttl: Duration,
    /// (room, member) of every local entry, refreshed by the upkeep task.
    local: Mutex<HashSet<(Uuid, String)>>,
    join: Script,
    leave: Script,
    sweep: Script,
}

impl std::fmt::Debug for Presence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Presence")
            .field("instance", &self.instance)
            .finish_non_exhaustive()
    }
}

impl Presence {
    pub fn new(redis: ConnectionManager, instance: &str, ttl_secs: u64) -> Self {
        Self {
            redis,
            instance: instance.to_owned(),
            ttl: Duration::from_secs(ttl_secs.max(3)),
            local: Mutex::new(HashSet::new()),
            join: Script::new(include_str!("presence_join.lua")),
            leave: Script::new(include_str!("presence_leave.lua")),
            sweep: Script::new(include_str!("presence_sweep.lua")),
        }
    }

    fn member(&self, user: &UserRef, connection: &str) -> String {
        format!(
            "{}|{}|{}:{connection}",
            user.id, user.username, self.instance
        )
    }

    /// Puts the connection online in the room; returns who is online (including the user).
    pub async fn join(
        &self,
        room: Uuid,
        user: &UserRef,
        connection: &str,
    ) -> Result<Vec<UserRef>, redis::RedisError> {
        let member = self.member(user, connection);
        let now = now_ms();
        let frame = encode(&ServerFrame::Presence {
            room,
            user: user.clone(),
            online: true,
        });
        let live: Vec<String> = self
            .join
            .key(key(room))
            .arg(&member)
            .arg(now)
            .arg(now + self.ttl.as_millis() as u64)
            .arg(format!("{}|", user.id))
            .arg(live_channel(room))
            .arg(frame.as_str())
            .invoke_async(&mut self.redis.clone())
            .await?;
        self.local
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert((room, member));
        let mut online = BTreeMap::new();
        online.insert(user.id, user.username.clone());
        for m in live {
            let mut parts = m.splitn(3, '|');
            if let (Some(id), Some(name)) =
                (parts.next().and_then(|i| i.parse().ok()), parts.next())
            {
                online.insert(id, name.to_owned());
            }
        }
        Ok(online
            .into_iter()
            .map(|(id, username)| UserRef { id, username })
            .collect())
    }

    /// Takes the connection out of the room's presence.
    pub async fn leave(
        &self,
        room: Uuid,
        user: &UserRef,
        connection: &str,
    ) -> Result<(), redis::RedisError> {
        let member = self.member(user, connection);
        self.local
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&(room, member.clone()));
        let frame = encode(&ServerFrame::Presence {
            room,
            user: user.clone(),
            online: false,
        });
        self.leave
            .key(key(room))
            .arg(&member)
            .arg(now_ms())
            .arg(format!("{}|", user.id))
            .arg(live_channel(room))
            .arg(frame.as_str())
            .invoke_async::<i64>(&mut self.redis.clone())
            .await?;
        Ok(())
    }

    /// Refreshes every local entry's expiry.
    async fn heartbeat(&self) -> Result<(), redis::RedisError> {
        let entries: Vec<(Uuid, String)> = self
            .local
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect();
        if entries.is_empty() {
            return Ok(());
        }
        let expiry = now_ms() + self.ttl.as_millis() as u64;
        let mut pipe = redis::pipe();
        for (room, member) in &entries {
            pipe.cmd("ZADD")
                .arg(key(*room))
                .arg("XX")
                .arg(expiry)
                .arg(member)
                .ignore();
            pipe.cmd("PEXPIREAT").arg(key(*room)).arg(expiry).ignore();
        }
        pipe.query_async::<()>(&mut self.redis.clone()).await
    }

    /// Removes expired entries of `rooms` and announces who went offline.
    async fn sweep_rooms(&self, rooms: &[Uuid]) -> Result<(), redis::RedisError> {
        let now = now_ms();
        for room in rooms {
            self.sweep
                .key(key(*room))
                .arg(now)
                .arg(live_channel(*room))
                .arg(room.to_string())
                .invoke_async::<i64>(&mut self.redis.clone())
                .await?;
        }
        Ok(())
    }
}

/// Heartbeats this instance's entries and sweeps the rooms it relays, every third of the TTL.
pub fn spawn_upkeep(state: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        let period = state.presence.ttl / 3;
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = state.shutdown.cancelled() => return,
            }
            if let Err(error) = state.presence.heartbeat().await {
                tracing::warn!(%error, "presence heartbeat failed");
            }
            if let Err(error) = state.presence.sweep_rooms(&state.relay.rooms()).await {
                tracing::warn!(%error, "presence sweep failed");
            }
        }
    })
}
