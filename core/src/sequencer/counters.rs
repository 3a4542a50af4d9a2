//! A room's counter against Postgres: restoring a missing one, repairing a
//! stale one, and the per-room advisory locks that order both after the
//! writer's in-flight inserts.

use std::collections::BTreeSet;
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::PgConnection;
use uuid::Uuid;

use super::{Sequencer, SequencerError, message_key, state_key, tail_key};

impl Sequencer {
    /// Takes the counter lock exclusively (in-flight inserts finish first) and reads
    /// the room's highest stored seq; the lock holds until the transaction ends.
    pub(super) async fn lock_counters_and_read_max(
        &self,
        room: Uuid,
    ) -> Result<(sqlx::Transaction<'static, sqlx::Postgres>, i64), SequencerError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(counter_lock(room))
            .execute(&mut *tx)
            .await?;
        let max_seq: i64 =
            sqlx::query_scalar("SELECT coalesce(max(seq), 0) FROM messages WHERE room_id = $1")
                .bind(room)
                .fetch_one(&mut *tx)
                .await?;
        Ok((tx, max_seq))
    }

    /// Restores a room's counter from Postgres with a new epoch, unless another caller did.
    pub(super) async fn restore_room(&self, room: Uuid) -> Result<(), SequencerError> {
        let (tx, max_seq) = self.lock_counters_and_read_max(room).await?;
        let created: i64 = self
            .restore
            .key(state_key(room))
            .arg(max_seq)
            .arg(new_epoch())
            .invoke_async(&mut self.redis.clone())
            .await?;
        tx.commit().await?;
        if created == 1 {
            tracing::info!(room.id = %room, room.max_seq = max_seq, "sequencer state restored");
        }
        Ok(())
    }

    /// Repairs a room whose state may have fallen behind what was handed out or
    /// stored (Redis came back from a snapshot or an append-only file that lacks
    /// its last writes): the counter moves to at least Postgres' highest seq, the
    /// epoch changes (clients reload) and the tail is emptied. `seen` is the epoch the
    /// caller found stale: if the room has another one by now, someone repaired
    /// it first and nothing is done.
    pub async fn repair_room(&self, room: Uuid, seen: Option<u64>) -> Result<(), SequencerError> {
        self.repair_room_messages(room, &[], seen).await
    }

    /// [`Sequencer::repair_room`], and `stale` messages lose their seq.
    pub(super) async fn repair_room_messages(
        &self,
        room: Uuid,
        stale: &[Uuid],
        seen: Option<u64>,
    ) -> Result<(), SequencerError> {
        let (tx, max_seq) = self.lock_counters_and_read_max(room).await?;
        let mut invocation = self.repair.key(state_key(room));
        invocation.key(tail_key(room));
        for id in stale {
            invocation.key(message_key(room, *id));
        }
        let counter: i64 = invocation
            .arg(max_seq)
            .arg(new_epoch())
            .arg(seen.map(|e| e.to_string()).unwrap_or_default())
            .invoke_async(&mut self.redis.clone())
            .await?;
        tx.commit().await?;
        tracing::warn!(room.id = %room, room.max_seq = max_seq, room.counter = counter, "stale sequencer state repaired");
        Ok(())
    }

    /// Takes the counter locks of `rooms` shared inside a transaction: until it
    /// ends, none of these rooms' counters is restored or repaired from Postgres
    /// (other rooms are not held up). Locks are taken in key order, in one
    /// statement. Reached only through [`Sequencer::hold_rooms`].
    pub(super) async fn hold_counters(
        conn: &mut PgConnection,
        rooms: &[Uuid],
    ) -> Result<(), sqlx::Error> {
        let keys: Vec<i64> = rooms
            .iter()
            .map(|r| counter_lock(*r))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if keys.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "SELECT count(pg_advisory_xact_lock_shared(k)) FROM unnest($1::bigint[]) AS t(k)",
        )
        .bind(&keys)
        .execute(conn)
        .await?;
        Ok(())
    }
}

/// The advisory lock key of a room's counter: the two halves of its id folded
/// into one. Two rooms that share a key only wait for each other needlessly.
fn counter_lock(room: Uuid) -> i64 {
    let (high, low) = room.as_u64_pair();
    (high ^ low) as i64
}

/// A new epoch: milliseconds since 1970, so a later epoch is a larger number.
fn new_epoch() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(1)
}
