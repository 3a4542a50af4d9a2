//! The writer's side of the sequencing protocol: a transaction that holds its
//! batch's room counters while it inserts, and commits only if every seq it
//! inserts is still the one Redis holds.

use sqlx::{PgConnection, Postgres, Transaction};
use uuid::Uuid;

use super::{Assigned, Sequencer, SequencerError};

/// A Postgres transaction holding the counter locks of some rooms (shared): no
/// counter of these rooms is restored or repaired from Postgres until it ends.
/// Insert through [`RoomsHeld::conn`], then [`RoomsHeld::commit`] (which checks
/// the rooms' state first) or, after a `(room_id, seq)` clash,
/// [`RoomsHeld::repair`]. Dropping it rolls back.
#[derive(Debug)]
#[must_use = "a held transaction rolls back unless committed"]
pub struct RoomsHeld {
    sequencer: Sequencer,
    tx: Transaction<'static, Postgres>,
}

/// How [`RoomsHeld::commit`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Committed {
    /// Committed: every seq was still valid.
    Done,
    /// Rolled back: a room's state changed since its seqs were given (Redis
    /// lost or rolled it back); sequence the batch again.
    EpochChanged,
}

impl Sequencer {
    /// Begins a transaction holding `rooms`' counters (see [`RoomsHeld`]).
    pub async fn hold_rooms(&self, rooms: &[Uuid]) -> Result<RoomsHeld, SequencerError> {
        let mut tx = self.pool.begin().await?;
        Self::hold_counters(&mut tx, rooms).await?;
        Ok(RoomsHeld {
            sequencer: self.clone(),
            tx,
        })
    }
}

impl RoomsHeld {
    /// The transaction's connection, for the inserts.
    pub fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    /// Commits if every room of `assigned` still has the state its seqs were
    /// given in; otherwise rolls back.
    pub async fn commit(self, assigned: &[Assigned]) -> Result<Committed, SequencerError> {
        if !self.sequencer.epochs_unchanged(assigned).await? {
            self.tx.rollback().await?;
            return Ok(Committed::EpochChanged);
        }
        self.tx.commit().await?;
        Ok(Committed::Done)
    }

    /// Rolls back.
    pub async fn rollback(self) -> Result<(), SequencerError> {
        self.tx.rollback().await?;
        Ok(())
    }

    /// Rolls back after `stale` messages' seqs (room, id) clashed with stored
    /// rows, and repairs their rooms: the counters move past what is stored, the
    /// epochs change and these messages lose their seq, to be sequenced again.
    pub async fn repair(self, stale: &[(Uuid, Uuid)]) -> Result<(), SequencerError> {
        self.tx.rollback().await?;
        let mut rooms: std::collections::BTreeMap<Uuid, Vec<Uuid>> = Default::default();
        for (room, id) in stale {
            rooms.entry(*room).or_default().push(*id);
        }
        for (room, ids) in rooms {
            self.sequencer
                .repair_room_messages(room, &ids, None)
                .await?;
        }
        Ok(())
    }
}
