//! Membership for the send path: Postgres decides, and through a Postgres
//! outage this instance's recent confirmations stand, so that sends keep
//! being acknowledged while Kafka, the durable step, is up (G1, G6).
//!
//! - A member confirmed by Postgres within [`GRACE`] is remembered; a "no"
//!   forgets them at once.
//! - When Postgres fails to answer, the instance is in an outage for
//!   [`PROBE_EVERY`]: remembered members are answered from memory without
//!   waiting for the pool, anyone else gets the error. After that, the next
//!   check asks Postgres again.
//! - Bounded: at most [`MAX_REMEMBERED`] pairs; past it the memory starts over.
//!
//! The price: a member removed by another instance shortly before an outage
//! may still send here until Postgres answers again (at most [`GRACE`]).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::PgPool;
use uuid::Uuid;

use crate::db;

/// How long a confirmation can stand in for Postgres during an outage.
pub const GRACE: Duration = Duration::from_secs(600);
/// How long after a failed check Postgres is not asked again.
pub const PROBE_EVERY: Duration = Duration::from_secs(2);
/// Remembered (room, user) pairs at most.
pub const MAX_REMEMBERED: usize = 100_000;

/// The send path's membership check.
#[derive(Debug)]
pub struct Membership {
    pool: PgPool,
    state: Mutex<Memory>,
}

#[derive(Debug, Default)]
struct Memory {
    confirmed: HashMap<(Uuid, Uuid), Instant>,
    outage_until: Option<Instant>,
}

impl Memory {
    fn recent(&self, room: Uuid, user: Uuid) -> bool {
        self.confirmed
            .get(&(room, user))
            .is_some_and(|at| at.elapsed() < GRACE)
    }

    fn in_outage(&self) -> bool {
        self.outage_until
            .is_some_and(|until| Instant::now() < until)
    }
}

impl Membership {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            state: Mutex::new(Memory::default()),
        }
    }

    /// True when `user` is a member of `room`; Postgres' error when it cannot
    /// answer and this instance has no recent confirmation.
    pub async fn is_member(&self, room: Uuid, user: Uuid) -> Result<bool, sqlx::Error> {
        {
            let mut memory = self.memory();
            if memory.in_outage() && memory.recent(room, user) {
                return Ok(true);
            }
            if memory.outage_until.is_some() {
                // this caller asks Postgres; the others keep answering from memory
                memory.outage_until = Some(Instant::now() + PROBE_EVERY);
            }
        }
        let answer = db::rooms::is_member(&self.pool, room, user).await;
        let mut memory = self.memory();
        match answer {
            Ok(true) => {
                memory.outage_until = None;
                if memory.confirmed.len() >= MAX_REMEMBERED {
                    memory.confirmed.clear();
                }
                memory.confirmed.insert((room, user), Instant::now());
                Ok(true)
            }
            Ok(false) => {
                memory.outage_until = None;
                memory.confirmed.remove(&(room, user));
                Ok(false)
            }
            Err(error) => {
                memory.outage_until = Some(Instant::now() + PROBE_EVERY);
                if memory.recent(room, user) {
                    tracing::warn!(%error, "membership from memory: Postgres does not answer");
                    Ok(true)
                } else {
                    Err(error)
                }
            }
        }
    }

    /// True while this instance takes Postgres as down (a check failed less
    /// than [`PROBE_EVERY`] ago): other per-send reads should not wait for it.
    pub fn in_outage(&self) -> bool {
        self.memory().in_outage()
    }

    /// Forgets a confirmation of `user` in `room` (they were kicked or banned,
    /// here or on another gateway): an outage cannot stand in for it any more.
    pub fn forget(&self, room: Uuid, user: Uuid) {
        self.memory().confirmed.remove(&(room, user));
    }

    fn memory(&self) -> std::sync::MutexGuard<'_, Memory> {
        // a panic while holding it cannot leave the map inconsistent
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
