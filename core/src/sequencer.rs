//! The per-room sequencer: the Redis Lua step that gives each message its `seq`.
//!
//! One script call per batch of messages (up to 64) assigns
//! each `seq = room.seq + 1`, remembers id → seq, appends the record to the
//! room's capped tail and publishes it on the room's channel, atomically. A
//! repeated call for the same id returns the same seq and writes nothing, so
//! the gateway (after Kafka's delivery report) and the writer (for every
//! record it stores) can both call it: whoever is first publishes.
//!
//! Redis keys (all of one room share a hash tag, so they live on one slot):
//! `chat:{room}:state` (hash: `seq`, `epoch`, `run`: the Redis server's run_id
//! when it was written), `chat:{room}:tail` (sorted set),
//! `chat:{room}:msg:{id}` (the message's seq). Channel: `chat:room:{room}`.
//! A batch's script call names the keys of several rooms, so it needs one
//! Redis server, not a Redis Cluster (whose scripts stay within one slot).
//!
//! The protocol is this type's: [`Sequencer::sequence_new`] for an event minted
//! for this send, [`Sequencer::sequence_maybe_stored`] for one that may be
//! stored (its stored seq wins), [`Sequencer::hold_rooms`] for the writer's
//! insert transaction (locks held, rooms' state checked before the commit,
//! repairs on a clash). The raw script step is private.
//!
//! When a room has no state (a new room, or Redis lost its data) the counter is
//! restored from Postgres' highest stored seq for the room under the room's
//! exclusive advisory lock, with a new epoch. The writer holds the locks of its
//! batch's rooms shared while it inserts (see [`Sequencer::hold_rooms`]), so a
//! restore never reads a maximum that an in-flight insert is about to raise, and
//! never waits for inserts into other rooms.

use std::collections::{BTreeSet, HashMap};

use redis::aio::ConnectionManager;
use redis::{ErrorKind, Script, ServerErrorKind};
use sqlx::PgPool;
use uuid::Uuid;

use crate::event::{ChatEvent, SequencedEvent};

mod counters;
mod guard;
mod scrub;
pub use guard::{Committed, RoomsHeld};

const SEQUENCE_LUA: &str = include_str!("sequence.lua");
const RESTORE_LUA: &str = include_str!("restore_room.lua");
const REPAIR_LUA: &str = include_str!("repair_room.lua");
const HEAD_LUA: &str = include_str!("head.lua");
const CHECK_LUA: &str = include_str!("check_rooms.lua");
/// Messages sequenced by one script call, at most: the script reads the
/// server's `run_id` once per call, and Redis runs nothing else meanwhile.
const SEQUENCE_CHUNK: usize = 64;
/// Rounds of "restore missing rooms, call again" before a batch gives up.
const MAX_ROUNDS: usize = 4;

/// Where the sequencer keeps its state and for how long.
#[derive(Debug, Clone, clap::Args)]
pub struct SequencerConfig {
    /// Redis holding the sequencer state, e.g. `redis://127.0.0.1:16379`.
    #[arg(long = "redis-url", env = "REDIS_URL")]
    pub redis_url: String,
    /// Records kept in each room's recent tail. Resuming clients get from it
    /// what the writer has not stored yet (older messages come from Postgres),
    /// so it must hold a room's messages of the writer's lag.
    #[arg(long, env = "SEQUENCER_TAIL_LEN", default_value_t = 256)]
    pub tail_len: u32,
    /// How long Redis remembers a message (its id -> seq key and its sender's
    /// dedupe claim) and a quiet room's tail, in seconds. Must exceed the
    /// longest writer lag you plan for: a message stored later than this gets a
    /// second seq, and a resend of it a second id. Postgres answers for older
    /// messages. Redis memory grows with messages/s times this.
    #[arg(long, env = "SEQUENCER_TTL_SECS", default_value_t = 300)]
    pub ttl_secs: u64,
}

/// A message's place in its room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assigned {
    pub id: Uuid,
    pub room_id: Uuid,
    pub seq: i64,
    pub epoch: u64,
    /// True when this call assigned (and published) it; false when it already had a seq.
    pub fresh: bool,
    /// True when the message is stored in Postgres already: `seq` is the stored one.
    pub stored: bool,
}

/// Where a room stands: its last seq, its epoch, and the epoch's base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// The last seq handed out.
    pub seq: i64,
    pub epoch: u64,
    /// The counter the epoch started from (a restore or a repair; 0 for a new
    /// room). Every seq at or below it is final: stored in Postgres, or never
    /// to be (its message was lost from Redis before it was stored and got a
    /// seq above the base), so a hole at or below it is not a gap.
    pub base: i64,
}

/// Why a message could not be sequenced. All of these are transient.
#[derive(Debug, thiserror::Error)]
pub enum SequencerError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("postgres: {0}")]
    Postgres(#[from] sqlx::Error),
    #[error("sequencer reply not understood: {0}")]
    Protocol(String),
    #[error("room state kept disappearing while sequencing")]
    Unsettled,
}

/// Redis key of a room's state hash.
pub fn state_key(room: Uuid) -> String {
    format!("chat:{{{room}}}:state")
}
/// Redis key of a room's recent tail.
pub fn tail_key(room: Uuid) -> String {
    format!("chat:{{{room}}}:tail")
}
/// Redis key of one message's seq.
pub fn message_key(room: Uuid, id: Uuid) -> String {
    format!("chat:{{{room}}}:msg:{id}")
}
/// The pub/sub channel a room's sequenced records are published on.
pub fn room_channel(room: Uuid) -> String {
    format!("chat:room:{room}")
}

/// Handle to the sequencer; cheap to clone.
#[derive(Clone)]
pub struct Sequencer {
    redis: ConnectionManager,
    pool: PgPool,
    sequence: Script,
    restore: Script,
    repair: Script,
    head: Script,
    check: Script,
    tail_len: u32,
    ttl_secs: u64,
}

impl std::fmt::Debug for Sequencer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sequencer")
            .field("tail_len", &self.tail_len)
            .field("ttl_secs", &self.ttl_secs)
            .finish_non_exhaustive()
    }
}

impl Sequencer {
    /// A sequencer over `config.redis_url` that restores rooms from `pool`.
    pub fn new(config: &SequencerConfig, pool: PgPool) -> Result<Self, SequencerError> {
        Ok(Self {
            redis: crate::redis_client::managed(&config.redis_url)?,
            pool,
            sequence: Script::new(SEQUENCE_LUA),
            restore: Script::new(RESTORE_LUA),
            repair: Script::new(REPAIR_LUA),
            head: Script::new(HEAD_LUA),
            check: Script::new(CHECK_LUA),
            tail_len: config.tail_len.max(1),
            ttl_secs: config.ttl_secs.max(1),
        })
    }

    /// Sequences brand-new events (ids minted for this send, so never stored:
    /// a gateway's first send), in one round trip when every room has state.
    /// The result is in the same order as `events`. An event that may be
    /// stored goes through [`Sequencer::sequence_maybe_stored`] instead.
    pub async fn sequence_new(
        &self,
        events: &[ChatEvent],
    ) -> Result<Vec<Assigned>, SequencerError> {
        self.sequence(events).await
    }

    /// The raw step: sequences `events` in order without asking Postgres.
    async fn sequence(&self, events: &[ChatEvent]) -> Result<Vec<Assigned>, SequencerError> {
        let mut assigned: Vec<Option<Assigned>> = vec![None; events.len()];
        for _ in 0..MAX_ROUNDS {
            let pending: Vec<usize> = (0..events.len())
                .filter(|&i| assigned[i].is_none())
                .collect();
            if pending.is_empty() {
                break;
            }
            let replies = self.call_sequence(events, &pending).await?;
            let mut missing_rooms = BTreeSet::new();
            let mut stale_rooms = BTreeSet::new();
            for (&i, (status, seq, epoch)) in pending.iter().zip(replies) {
                let event = &events[i];
                match status {
                    0 | 1 => {
                        assigned[i] = Some(Assigned {
                            id: event.id,
                            room_id: event.room_id,
                            seq,
                            epoch: parse_epoch(&epoch)?,
                            fresh: status == 1,
                            stored: false,
                        });
                    }
                    2 => {
                        missing_rooms.insert(event.room_id);
                    }
                    3 => {
                        stale_rooms.insert((event.room_id, parse_epoch(&epoch)?));
                    }
                    other => {
                        return Err(SequencerError::Protocol(format!("status {other}")));
                    }
                }
            }
            for room in missing_rooms {
                self.restore_room(room).await?;
            }
            for (room, epoch) in stale_rooms {
                self.repair_room(room, Some(epoch)).await?;
            }
        }
        assigned
            .into_iter()
            .collect::<Option<Vec<_>>>()
            .ok_or(SequencerError::Unsettled)
    }

    /// Sequences events that may be stored already (a resend, a redelivered
    /// record, a bot's mention or claimed reply): a stored message keeps its
    /// stored seq (read from Postgres, with the room's current epoch; nothing is
    /// published), even when Redis forgot it; the others are sequenced. The
    /// result is in the same order as `events`.
    pub async fn sequence_maybe_stored(
        &self,
        events: &[ChatEvent],
    ) -> Result<Vec<Assigned>, SequencerError> {
        let ids: Vec<Uuid> = events.iter().map(|e| e.id).collect();
        let stored: HashMap<Uuid, i64> = if ids.is_empty() {
            HashMap::new()
        } else {
            sqlx::query_as::<_, (Uuid, i64)>("SELECT id, seq FROM messages WHERE id = ANY($1)")
                .bind(&ids)
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .collect()
        };
        let unstored: Vec<ChatEvent> = events
            .iter()
            .filter(|e| !stored.contains_key(&e.id))
            .cloned()
            .collect();
        let mut sequenced = self.sequence(&unstored).await?.into_iter();
        let mut epochs: HashMap<Uuid, u64> = HashMap::new();
        let mut assigned = Vec::with_capacity(events.len());
        for event in events {
            match stored.get(&event.id) {
                Some(&seq) => {
                    let epoch = match epochs.get(&event.room_id) {
                        Some(&epoch) => epoch,
                        None => {
                            let epoch = self.head(event.room_id).await?.epoch;
                            epochs.insert(event.room_id, epoch);
                            epoch
                        }
                    };
                    assigned.push(Assigned {
                        id: event.id,
                        room_id: event.room_id,
                        seq,
                        epoch,
                        fresh: false,
                        stored: true,
                    });
                }
                None => assigned.push(sequenced.next().ok_or(SequencerError::Unsettled)?),
            }
        }
        Ok(assigned)
    }

    /// One EVALSHA per [`SEQUENCE_CHUNK`] pending events, pipelined; loads the
    /// script when Redis lost it. Replies are in the order of `pending`.
    async fn call_sequence(
        &self,
        events: &[ChatEvent],
        pending: &[usize],
    ) -> Result<Vec<(i64, i64, String)>, SequencerError> {
        let mut pipe = redis::pipe();
        for chunk in pending.chunks(SEQUENCE_CHUNK) {
            let cmd = pipe
                .cmd("EVALSHA")
                .arg(self.sequence.get_hash())
                .arg(3 * chunk.len());
            for &i in chunk {
                let e = &events[i];
                cmd.arg(state_key(e.room_id))
                    .arg(tail_key(e.room_id))
                    .arg(message_key(e.room_id, e.id));
            }
            cmd.arg(self.tail_len).arg(self.ttl_secs);
            for &i in chunk {
                let e = &events[i];
                cmd.arg(e.encode()).arg(room_channel(e.room_id));
            }
        }
        let mut conn = self.redis.clone();
        let replies: Vec<Vec<(i64, i64, String)>> = match pipe.query_async(&mut conn).await {
            Err(e) if e.kind() == ErrorKind::Server(ServerErrorKind::NoScript) => {
                // Redis restarted or flushed its script cache: load and run again.
                // Safe because every call is idempotent per message id.
                redis::cmd("SCRIPT")
                    .arg("LOAD")
                    .arg(SEQUENCE_LUA)
                    .query_async::<String>(&mut conn)
                    .await?;
                pipe.query_async(&mut conn).await?
            }
            other => other?,
        };
        let replies: Vec<_> = replies.into_iter().flatten().collect();
        if replies.len() != pending.len() {
            return Err(SequencerError::Protocol(format!(
                "{} replies for {} messages",
                replies.len(),
                pending.len()
            )));
        }
        Ok(replies)
    }

    /// True when every room of `assigned` still has the epoch its seq was given
    /// in, state written by the running Redis server, and a counter at or above
    /// the seqs given: otherwise Redis lost or rolled back its state meanwhile
    /// and the seqs must be asked again.
    pub async fn epochs_unchanged(&self, assigned: &[Assigned]) -> Result<bool, SequencerError> {
        let mut rooms: std::collections::BTreeMap<Uuid, (u64, i64)> = Default::default();
        for a in assigned {
            let entry = rooms.entry(a.room_id).or_insert((a.epoch, a.seq));
            if entry.0 != a.epoch {
                return Ok(false);
            }
            entry.1 = entry.1.max(a.seq);
        }
        if rooms.is_empty() {
            return Ok(true);
        }
        let mut invocation = self.check.prepare_invoke();
        for (room, (epoch, max_seq)) in &rooms {
            invocation
                .key(state_key(*room))
                .arg(epoch.to_string())
                .arg(*max_seq);
        }
        let unchanged: i64 = invocation.invoke_async(&mut self.redis.clone()).await?;
        Ok(unchanged == 1)
    }

    /// The room's latest seq, epoch and base, restoring its state from Postgres
    /// if Redis has none, repairing it if an earlier run of Redis wrote it.
    pub async fn head(&self, room: Uuid) -> Result<Head, SequencerError> {
        for _ in 0..MAX_ROUNDS {
            let (status, seq, epoch, base): (i64, i64, String, i64) = self
                .head
                .key(state_key(room))
                .invoke_async(&mut self.redis.clone())
                .await?;
            match status {
                0 => {
                    return Ok(Head {
                        seq,
                        epoch: parse_epoch(&epoch)?,
                        base,
                    });
                }
                2 => self.restore_room(room).await?,
                3 => self.repair_room(room, Some(parse_epoch(&epoch)?)).await?,
                other => return Err(SequencerError::Protocol(format!("status {other}"))),
            }
        }
        Err(SequencerError::Unsettled)
    }

    /// The room's current epoch, if it has state.
    pub async fn epoch(&self, room: Uuid) -> Result<Option<u64>, SequencerError> {
        let mut conn = self.redis.clone();
        Ok(redis::cmd("HGET")
            .arg(state_key(room))
            .arg("epoch")
            .query_async(&mut conn)
            .await?)
    }

    /// Records of the room's recent tail with `seq > after`, in seq order.
    pub async fn tail_after(
        &self,
        room: Uuid,
        after: i64,
    ) -> Result<Vec<SequencedEvent>, SequencerError> {
        let mut conn = self.redis.clone();
        let raw: Vec<String> = redis::cmd("ZRANGEBYSCORE")
            .arg(tail_key(room))
            .arg(format!("({after}"))
            .arg("+inf")
            .query_async(&mut conn)
            .await?;
        raw.iter()
            .map(|r| serde_json::from_str(r).map_err(|e| SequencerError::Protocol(e.to_string())))
            .collect()
    }
}

/// An epoch as the scripts return it (a decimal string).
fn parse_epoch(epoch: &str) -> Result<u64, SequencerError> {
    epoch
        .parse()
        .map_err(|_| SequencerError::Protocol(format!("epoch {epoch:?} is not a number")))
}
