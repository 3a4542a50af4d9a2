//! Presence: who is online in a room, across every gateway.
//!
//! Each connection subscribed to a room has an entry in the room's sorted set
//! (`chat:{room}:online:entries`) scored by its expiry. The owning gateway
//! refreshes its entries every third of the TTL; entries of a crashed gateway
//! expire and are swept (by every presence script before its change, and by
//! every gateway for the rooms it relays), which announces "offline" once.
//! Join, leave, status, sweep and page are Lua scripts (`presence_lib.lua`
//! and one file each), so the "first connection online" / "last connection
//! offline" decisions are atomic.
//!
//! Status: a connection is active or away (its client says which); the
//! room's away set (`…:online:away`, same slot) holds the entries of away
//! connections. A user is away in a room while every live entry of theirs is
//! in it; join, leave and `presence_status.lua` announce a change of that, in
//! the same atomic step as the change itself.
//!
//! The room's user index (`…:online:users`, user → entries, away entries and
//! name; `…:online:ids`, the ids in order) is kept by the same scripts, so a
//! change reads its own user's standing and the count of users online
//! without walking the room's entries: its cost does not grow with the
//! room's presence. A subscribe learns only how many users are online; who
//! they are is paged from the index by `presence_page.lua` for the HTTP API
//! ([`crate::presence_page`]), read by the one client that shows it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::Script;
use redis::aio::ConnectionManager;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::presence_local::LocalEntries;
use crate::presence_page::OnlinePage;
use crate::relay::live_channel;
use crate::state::AppState;
use crate::ws::protocol::{ServerFrame, Status, UserRef, encode};

/// A room's four presence keys, one slot, in the order the scripts take
/// them (`presence_lib.lua`): its entries, away entries, users and user ids.
pub fn keys(room: Uuid) -> [String; 4] {
    ["entries", "away", "users", "ids"].map(|k| format!("chat:{{{room}}}:online:{k}"))
}

/// A script of the presence family: `presence_lib.lua`'s keys and helpers,
/// then the script's own part.
macro_rules! presence_script {
    ($file:literal) => {
        Script::new(concat!(
            include_str!("presence_lib.lua"),
            include_str!($file)
        ))
    };
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

/// Entries a heartbeat refreshes per Redis pipeline.
pub const HEARTBEAT_CHUNK: usize = 256;

/// Sweep calls a room gets per upkeep tick, each of at most 128 expired
/// entries (`presence_lib.lua`'s `SWEEP_BATCH`); the rest wait for the next
/// tick or the room's next presence change, which sweeps first.
pub const SWEEP_CALLS_PER_ROOM: usize = 64;

/// Presence of this instance's connections.
pub struct Presence {
    redis: ConnectionManager,
    instance: String,
    ttl: Duration,
    /// (room, member) of every local entry, refreshed by the upkeep task.
    local: LocalEntries,
    join: Script,
    leave: Script,
    sweep: Script,
    status: Script,
    page: Script,
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
            local: LocalEntries::default(),
            join: presence_script!("presence_join.lua"),
            leave: presence_script!("presence_leave.lua"),
            sweep: presence_script!("presence_sweep.lua"),
            status: presence_script!("presence_status.lua"),
            page: presence_script!("presence_page.lua"),
        }
    }

    fn member(&self, user: &UserRef, connection: &str) -> String {
        format!(
            "{}|{}|{}:{connection}",
            user.id, user.username, self.instance
        )
    }

    /// Puts the connection online in the room with `status`; returns how
    /// many users are online there (the user included). Who they are is
    /// paged by [`Presence::page`], never built per subscribe.
    pub async fn join(
        &self,
        room: Uuid,
        user: &UserRef,
        connection: &str,
        status: Status,
    ) -> Result<u64, redis::RedisError> {
        let member = self.member(user, connection);
        let count: u64 = self
            .status_call(&self.join, room, user, &member, status)
            .invoke_async(&mut self.redis.clone())
            .await?;
        self.local.insert((room, member));
        Ok(count)
    }

    /// A page of who is online in `room`, by user id, after `after`.
    pub async fn page(
        &self,
        room: Uuid,
        after: Option<Uuid>,
        limit: i64,
    ) -> Result<OnlinePage, redis::RedisError> {
        let values: Vec<String> = self
            .page
            .key(&keys(room)[..])
            .arg(now_ms())
            .arg(after.map(|a| a.to_string()).unwrap_or_default())
            .arg(limit)
            .arg(live_channel(room))
            .arg(room.to_string())
            .invoke_async(&mut self.redis.clone())
            .await?;
        Ok(OnlinePage::parse(&values))
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
    /// keys, the member, now and its expiry, the user's id and name, the
    /// room's channel, its two "online" frames, `status` and the room's id.
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
        call.key(&keys(room)[..])
            .arg(member)
            .arg(now)
            .arg(now + self.ttl.as_millis() as u64)
            .arg(user.id.to_string())
            .arg(&user.username)
            .arg(live_channel(room))
            .arg(online_frame(room, user, Status::Active))
            .arg(online_frame(room, user, Status::Away))
            .arg(flag(status))
            .arg(room.to_string());
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
        self.local.remove(&(room, member.clone()));
        let frame = encode(&ServerFrame::Presence {
            room,
            user: user.clone(),
            online: false,
            status: None,
        });
        self.leave
            .key(&keys(room)[..])
            .arg(&member)
            .arg(now_ms())
            .arg(user.id.to_string())
            .arg(live_channel(room))
            .arg(frame.as_str())
            .arg(online_frame(room, user, Status::Active))
            .arg(online_frame(room, user, Status::Away))
            .arg(room.to_string())
            .invoke_async::<i64>(&mut self.redis.clone())
            .await?;
        Ok(())
    }

    /// Refreshes every local entry's expiry and its room's keys, at most
    /// [`HEARTBEAT_CHUNK`] entries a pipeline: the heartbeat's memory and
    /// the time each pipeline holds Redis do not grow with the connections
    /// (one pipeline of all 10,000 entries left 2 to 5 MiB resident after a
    /// beat; BENCHMARKS.md, memory per idle WebSocket connection). An entry
    /// that leaves meanwhile is not brought back (`ZADD XX`).
    pub async fn heartbeat(&self) -> Result<(), redis::RedisError> {
        let mut walk = self.local.walk(HEARTBEAT_CHUNK);
        while let Some(chunk) = walk.next_chunk() {
            let expiry = now_ms() + self.ttl.as_millis() as u64;
            let mut pipe = redis::pipe();
            // the entries come by room: each room's keys are made, and all
            // four renewed together (the index lives as long as the
            // entries), once a chunk
            let mut keys_of = None;
            let mut entries_key = String::new();
            for (room, member) in &chunk {
                if keys_of != Some(*room) {
                    let room_keys = keys(*room);
                    for key in &room_keys {
                        pipe.cmd("PEXPIREAT").arg(key).arg(expiry).ignore();
                    }
                    let [entries, ..] = room_keys;
                    entries_key = entries;
                    keys_of = Some(*room);
                }
                pipe.cmd("ZADD")
                    .arg(&entries_key)
                    .arg("XX")
                    .arg(expiry)
                    .arg(member)
                    .ignore();
            }
            pipe.query_async::<()>(&mut self.redis.clone()).await?;
        }
        Ok(())
    }

    /// Removes expired entries of `rooms` and announces who went offline: a
    /// bounded batch a call (`presence_lib.lua`), at most
    /// [`SWEEP_CALLS_PER_ROOM`] calls a room a tick.
    pub async fn sweep_rooms(&self, rooms: &[Uuid]) -> Result<(), redis::RedisError> {
        let now = now_ms();
        for room in rooms {
            let mut call = self.sweep.prepare_invoke();
            call.key(&keys(*room)[..])
                .arg(now)
                .arg(live_channel(*room))
                .arg(room.to_string());
            for _ in 0..SWEEP_CALLS_PER_ROOM {
                let more: i64 = call.invoke_async(&mut self.redis.clone()).await?;
                if more == 0 {
                    break;
                }
            }
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
