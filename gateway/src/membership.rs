//! Membership for the send path: Postgres decides, and through a Postgres
//! outage this instance's recent confirmations stand, so that sends keep
//! being acknowledged while Kafka, the durable step, is up (G1, G6).
//!
//! - One read gives the sender's [`Standing`]: member or not, their role and
//!   the room's slow mode, so a change of either is in force at the next send.
//!   The send path reads more in that round trip (the stored message a send
//!   may be a resend of: [`Membership::standing_read_with`]).
//! - A member confirmed by Postgres within [`GRACE`] is remembered with their
//!   standing as read; a "no" forgets them at once.
//! - When Postgres fails to answer, the instance is in an outage for
//!   [`PROBE_EVERY`]: remembered members are answered from memory without
//!   waiting for the pool, anyone else gets the error. After that, the next
//!   check asks Postgres again.
//! - Bounded: at most [`MAX_REMEMBERED`] pairs; past it the memory starts over.
//!
//! The price: a member removed by another instance shortly before an outage
//! may still send here until Postgres answers again (at most [`GRACE`]), and
//! slow mode holds them as it was when last read.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::PgPool;
use uuid::Uuid;

use crate::db;
use crate::domain::MemberRole;

/// How long a confirmation can stand in for Postgres during an outage.
pub const GRACE: Duration = Duration::from_secs(600);
/// How long after a failed check Postgres is not asked again.
pub const PROBE_EVERY: Duration = Duration::from_secs(2);
/// Remembered (room, user) pairs at most.
pub const MAX_REMEMBERED: usize = 100_000;

/// What Postgres says of a sender: their role and the room's slow mode
/// interval in seconds, `None` when they are not a member.
pub type StandingRow = Option<(MemberRole, i32)>;

/// A member's place in a room, as the send path needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub role: MemberRole,
    /// The room's slow mode interval (0: off).
    pub slow_mode_seconds: u32,
}

impl Standing {
    /// The interval slow mode holds this member to: none for owners and
    /// moderators, or when it is off.
    pub fn slow_mode(&self) -> Option<u32> {
        (self.role == MemberRole::Member && self.slow_mode_seconds > 0)
            .then_some(self.slow_mode_seconds)
    }
}

/// The send path's membership check.
#[derive(Debug)]
pub struct Membership {
    pool: PgPool,
    state: Mutex<Memory>,
}

#[derive(Debug, Default)]
struct Memory {
    confirmed: HashMap<(Uuid, Uuid), (Instant, Standing)>,
    outage_until: Option<Instant>,
}

impl Memory {
    fn recent(&self, room: Uuid, user: Uuid) -> Option<Standing> {
        self.confirmed
            .get(&(room, user))
            .filter(|(at, _)| at.elapsed() < GRACE)
            .map(|(_, standing)| *standing)
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

    /// `user`'s standing in `room`, `None` when not a member; Postgres' error
    /// when it cannot answer and this instance has no recent confirmation.
    pub async fn standing(&self, room: Uuid, user: Uuid) -> Result<Option<Standing>, sqlx::Error> {
        let pool = &self.pool;
        let read = async move {
            let row = db::moderation::send_standing(pool, room, user).await?;
            Ok((row, ()))
        };
        let (standing, _) = self.standing_read_with(room, user, read).await?;
        Ok(standing)
    }

    /// [`standing`](Self::standing), with Postgres asked by `read`, which
    /// may read more in the same round trip: its `T` comes back when
    /// Postgres answered, `None` when the standing came from memory (`read`
    /// was not polled, or failed).
    pub async fn standing_read_with<T>(
        &self,
        room: Uuid,
        user: Uuid,
        read: impl Future<Output = Result<(StandingRow, T), sqlx::Error>>,
    ) -> Result<(Option<Standing>, Option<T>), sqlx::Error> {
        {
            let mut memory = self.memory();
            if memory.in_outage()
                && let Some(standing) = memory.recent(room, user)
            {
                return Ok((Some(standing), None));
            }
            if memory.outage_until.is_some() {
                // this caller asks Postgres; the others keep answering from memory
                memory.outage_until = Some(Instant::now() + PROBE_EVERY);
            }
        }
        let answer = read.await;
        let mut memory = self.memory();
        match answer {
            Ok((Some((role, seconds)), more)) => {
                let standing = Standing {
                    role,
                    slow_mode_seconds: u32::try_from(seconds).unwrap_or(0),
                };
                memory.outage_until = None;
                if memory.confirmed.len() >= MAX_REMEMBERED {
                    memory.confirmed.clear();
                }
                memory
                    .confirmed
                    .insert((room, user), (Instant::now(), standing));
                Ok((Some(standing), Some(more)))
            }
            Ok((None, more)) => {
                memory.outage_until = None;
                memory.confirmed.remove(&(room, user));
                Ok((None, Some(more)))
            }
            Err(error) => {
                memory.outage_until = Some(Instant::now() + PROBE_EVERY);
                match memory.recent(room, user) {
                    Some(standing) => {
                        tracing::warn!(%error, "membership from memory: Postgres does not answer");
                        Ok((Some(standing), None))
                    }
                    None => Err(error),
                }
            }
        }
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
