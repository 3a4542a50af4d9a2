//! Presence: who is online in a room, across every gateway.
//!
//! Each connection subscribed to a room has an entry in the room's sorted set
//! (`chat:{room}:presence`) scored by its expiry. The owning gateway refreshes
//! its entries every third of the TTL; entries of a crashed gateway expire and
//! the sweep (run by every gateway for the rooms it relays) removes them and
//! announces "offline" once. Join, leave and sweep are Lua scripts, so the
//! "first connection online" / "last connection offline" decisions are atomic.
//!
//! Status: a connection is active or away (its client says which); the
//! room's away set (`chat:{room}:away`, same slot) holds the entries of away
//! connections. A user is away in a room while every live entry of theirs is
//! in it; join, leave and `presence_status.lua` announce a change of that, in
//! the same atomic step as the change itself.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::Script;
use redis::aio::ConnectionManager;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::relay::live_channel;
use crate::state::AppState;
use crate::ws::protocol::{OnlineUser, ServerFrame, Status, UserRef, encode};

fn key(room: Uuid) -> String {
    format!("chat:{{{room}}}:presence")
}

fn away_key(room: Uuid) -> String {
    format!("chat:{{{room}}}:away")
}

/// The `presence` frame of `user` online in `room` with `status`.
fn online_frame(room: Uuid, user: &UserRef, status: Status) -> String {
    encode(&ServerFrame::Presence {
        room,
        user: user.clone(),
        online: true,
        status: Some(status),
    })
    .to_string()
}

fn flag(status: Status) -> &'static str {
    match status {
        Status::Away => "1",
        Status::Active => "0",
    }
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
    status: Script,
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
            status: Script::new(include_str!("presence_status.lua")),
        }
    }

    fn member(&self, user: &UserRef, connection: &str) -> String {
        format!(
            "{}|{}|{}:{connection}",
            user.id, user.username, self.instance
        )
    }

    /// Puts the connection online in the room with `status`; returns who is
    /// online (including the user) with their status.
    pub async fn join(
        &self,
        room: Uuid,
        user: &UserRef,
        connection: &str,
        status: Status,
    ) -> Result<Vec<OnlineUser>, redis::RedisError> {
        let member = self.member(user, connection);
        let (live, away): (Vec<String>, Vec<String>) = self
            .status_call(&self.join, room, user, &member, status)
            .invoke_async(&mut self.redis.clone())
            .await?;
        self.local
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert((room, member.clone()));
        Ok(online_users(&member, status, live, &away))
    }

    /// Marks the connection away or active in the room (a no-op for a
    /// connection not online there).
    pub async fn set_status(
        &self,
        room: Uuid,
        user: &UserRef,
        connection: &str,
        status: Status,
    ) -> Result<(), redis::RedisError> {
        let member = self.member(user, connection);
        self.status_call(&self.status, room, user, &member, status)
            .invoke_async::<i64>(&mut self.redis.clone())
            .await?;
        Ok(())
    }

    /// `script` (join or status) with the arguments both take: the room's
    /// presence and away sets, the member, now and its expiry, the user's
    /// prefix, the room's channel, its two "online" frames and `status`.
    fn status_call<'a>(
        &self,
        script: &'a Script,
        room: Uuid,
        user: &UserRef,
        member: &str,
        status: Status,
    ) -> redis::ScriptInvocation<'a> {
        let now = now_ms();
        let mut call = script.prepare_invoke();
        call.key(key(room))
            .key(away_key(room))
            .arg(member)
            .arg(now)
            .arg(now + self.ttl.as_millis() as u64)
            .arg(format!("{}|", user.id))
            .arg(live_channel(room))
            .arg(online_frame(room, user, Status::Active))
            .arg(online_frame(room, user, Status::Away))
            .arg(flag(status));
        call
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
            status: None,
        });
        self.leave
            .key(key(room))
            .key(away_key(room))
            .arg(&member)
            .arg(now_ms())
            .arg(format!("{}|", user.id))
            .arg(live_channel(room))
            .arg(frame.as_str())
            .arg(online_frame(room, user, Status::Active))
            .arg(online_frame(room, user, Status::Away))
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
        }
        // each room's keys once, however many local entries it has
        let rooms: HashSet<Uuid> = entries.iter().map(|(room, _)| *room).collect();
        for room in rooms {
            pipe.cmd("PEXPIREAT").arg(key(room)).arg(expiry).ignore();
            pipe.cmd("PEXPIREAT")
                .arg(away_key(room))
                .arg(expiry)
                .ignore();
        }
        pipe.query_async::<()>(&mut self.redis.clone()).await
    }

    /// Removes expired entries of `rooms` and announces who went offline.
    async fn sweep_rooms(&self, rooms: &[Uuid]) -> Result<(), redis::RedisError> {
        let now = now_ms();
        for room in rooms {
            self.sweep
                .key(key(*room))
                .key(away_key(*room))
                .arg(now)
                .arg(live_channel(*room))
                .arg(room.to_string())
                .invoke_async::<i64>(&mut self.redis.clone())
                .await?;
        }
        Ok(())
    }
}

/// Who is online, from the live entries before `member` joined and the away
/// set: one per user, away only when every entry of theirs is (the joining
/// connection counts with `status`). By user id.
fn online_users(
    member: &str,
    status: Status,
    live: Vec<String>,
    away: &[String],
) -> Vec<OnlineUser> {
    let away: HashSet<&str> = away.iter().map(String::as_str).collect();
    let mut online: BTreeMap<Uuid, (String, bool)> = BTreeMap::new();
    let entries = live
        .iter()
        .map(|m| (m.as_str(), away.contains(m.as_str())))
        .chain(std::iter::once((member, status == Status::Away)));
    for (entry, is_away) in entries {
        let mut parts = entry.splitn(3, '|');
        if let (Some(id), Some(name)) = (parts.next().and_then(|i| i.parse().ok()), parts.next()) {
            let seen = online.entry(id).or_insert_with(|| (name.to_owned(), true));
            seen.1 &= is_away;
        }
    }
    online
        .into_iter()
        .map(|(id, (username, all_away))| OnlineUser {
            id,
            username,
            status: if all_away {
                Status::Away
            } else {
                Status::Active
            },
        })
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_is_away_only_when_every_entry_of_theirs_is() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let live = vec![
            format!("{a}|alice|gw:1"),
            format!("{a}|alice|gw:2"),
            format!("{b}|bob|gw:3"),
        ];
        let away = vec![format!("{a}|alice|gw:1"), format!("{b}|bob|gw:3")];
        let online = online_users(&format!("{a}|alice|gw:9"), Status::Away, live, &away);
        let status: Vec<_> = online
            .iter()
            .map(|u| (u.username.as_str(), u.status))
            .collect();
        assert_eq!(status, [("alice", Status::Active), ("bob", Status::Away)]);
    }

    #[test]
    fn the_joining_connection_counts_with_its_own_status() {
        let a = Uuid::from_u128(1);
        let away = vec![format!("{a}|alice|gw:1")];
        let online = online_users(
            &format!("{a}|alice|gw:2"),
            Status::Away,
            vec![away[0].clone()],
            &away,
        );
        assert_eq!(online[0].status, Status::Away);
        let online = online_users(
            &format!("{a}|alice|gw:2"),
            Status::Active,
            vec![away[0].clone()],
            &away,
        );
        assert_eq!(online[0].status, Status::Active);
    }
}
