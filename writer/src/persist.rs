//! Storing one batch: decode, skip what is stored, sequence, bulk insert,
//! isolate poison, send poison to the dead-letter topic.
//!
//! Every step is idempotent, so a batch may be tried again from the start after
//! any failure, and a record delivered twice is stored once.

use std::collections::HashSet;
use std::time::Instant;

use chat_core::sequencer::Assigned;
use chat_core::{ChatEvent, Sequencer};
use sqlx::{PgConnection, PgPool};

use crate::batch::Record;
use crate::dlq::DeadLetters;
use crate::error::{WriterError, is_data_error, is_seq_conflict};
use crate::metrics as m;
use crate::store;

/// What became of a batch's records.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Rows inserted by this batch.
    pub stored: u64,
    /// Records whose message was stored before (redelivery).
    pub already_stored: usize,
    /// Records sent to the dead-letter topic.
    pub dead_lettered: usize,
}

/// The writer's path into Postgres.
#[derive(Debug, Clone)]
pub struct Persister {
    pool: PgPool,
    sequencer: Sequencer,
    dead_letters: DeadLetters,
}

/// A decoded record and where it came from.
struct Decoded<'a> {
    record: &'a Record,
    event: ChatEvent,
}

impl Persister {
    pub fn new(pool: PgPool, sequencer: Sequencer, dead_letters: DeadLetters) -> Self {
        Self {
            pool,
            sequencer,
            dead_letters,
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Stores every storable record of `records` exactly once and dead-letters the rest.
    pub async fn store_batch(&self, records: &[Record]) -> Result<Outcome, WriterError> {
        let mut outcome = Outcome::default();
        let (mut decoded, mut poison) = decode(records);

        let mut conn = self.pool.acquire().await?;
        let ids: Vec<_> = decoded.iter().map(|d| d.event.id).collect();
        let stored = store::stored_ids(&mut conn, &ids).await?;
        let before = decoded.len();
        decoded.retain(|d| !stored.contains(&d.event.id));
        outcome.already_stored = records.len() - poison.len() - decoded.len();
        drop(conn);
        if before != decoded.len() {
            metrics::counter!(m::ROWS_ALREADY_STORED).increment((before - decoded.len()) as u64);
        }

        let events: Vec<ChatEvent> = decoded.iter().map(|d| d.event.clone()).collect();
        let assigned = self.sequencer.sequence(&events).await?;

        let started = Instant::now();
        let mut tx = self.pool.begin().await?;
        Sequencer::hold_counters(&mut tx).await?;
        let rows: Vec<(&ChatEvent, i64)> = decoded
            .iter()
            .zip(&assigned)
            .map(|(d, a)| (&d.event, a.seq))
            .collect();
        match store::insert_messages(&mut tx, &rows).await {
            Ok(n) => outcome.stored = n,
            Err(e) if is_data_error(&e) => {
                // One bad row fails the statement: find it row by row in a new transaction.
                tx.rollback().await?;
                tx = self.pool.begin().await?;
                Sequencer::hold_counters(&mut tx).await?;
                match insert_one_by_one(&mut tx, &decoded, &assigned).await {
                    Ok((n, rejected)) => {
                        outcome.stored = n;
                        poison.extend(rejected);
                    }
                    Err(WriterError::StaleSequence(stale)) => {
                        tx.rollback().await?;
                        self.repair(&stale).await?;
                        return Err(WriterError::StaleSequence(stale));
                    }
                    Err(other) => return Err(other),
                }
            }
            Err(e) => return Err(e.into()),
        }
        if !self.sequencer.epochs_unchanged(&assigned).await? {
            tx.rollback().await?;
            return Err(WriterError::EpochChanged);
        }
        tx.commit().await?;
        metrics::histogram!(m::INSERT_SECONDS).record(started.elapsed().as_secs_f64());
        metrics::counter!(m::ROWS_STORED).increment(outcome.stored);

        for (record, error) in &poison {
            self.dead_letters.send(record, error).await?;
        }
        outcome.dead_lettered = poison.len();
        Ok(outcome)
    }
}

impl Persister {
    /// Repairs each room of `stale` (room, message) pairs once; the batch is then tried again.
    async fn repair(&self, stale: &[(uuid::Uuid, uuid::Uuid)]) -> Result<(), WriterError> {
        let mut rooms: std::collections::BTreeMap<uuid::Uuid, Vec<uuid::Uuid>> = Default::default();
        for (room, id) in stale {
            rooms.entry(*room).or_default().push(*id);
        }
        for (room, ids) in rooms {
            self.sequencer.repair_room(room, &ids).await?;
        }
        Ok(())
    }
}

/// Splits records into valid events (first copy of each id) and poison.
fn decode(records: &[Record]) -> (Vec<Decoded<'_>>, Vec<(&Record, String)>) {
    let mut seen = HashSet::new();
    let mut decoded = Vec::with_capacity(records.len());
    let mut poison = Vec::new();
    for record in records {
        match ChatEvent::decode(&record.payload) {
            Ok(event) => {
                if seen.insert(event.id) {
                    decoded.push(Decoded { record, event });
                }
            }
            Err(error) => poison.push((record, error.to_string())),
        }
    }
    (decoded, poison)
}

/// Inserts rows one at a time, each under a savepoint; returns the count inserted
/// and the records Postgres refused, with its reason. Rows whose seq is taken
/// (a stale sequencer) are collected and returned as `StaleSequence`.
async fn insert_one_by_one<'a>(
    conn: &mut PgConnection,
    decoded: &[Decoded<'a>],
    assigned: &[Assigned],
) -> Result<(u64, Vec<(&'a Record, String)>), WriterError> {
    let mut stored = 0;
    let mut rejected = Vec::new();
    let mut stale = Vec::new();
    for (d, a) in decoded.iter().zip(assigned) {
        sqlx::query("SAVEPOINT one_row").execute(&mut *conn).await?;
        match store::insert_messages(&mut *conn, &[(&d.event, a.seq)]).await {
            Ok(n) => {
                stored += n;
                sqlx::query("RELEASE SAVEPOINT one_row")
                    .execute(&mut *conn)
                    .await?;
            }
            Err(e) if is_seq_conflict(&e) => {
                sqlx::query("ROLLBACK TO SAVEPOINT one_row")
                    .execute(&mut *conn)
                    .await?;
                stale.push((d.event.room_id, d.event.id));
            }
            Err(e) if is_data_error(&e) => {
                sqlx::query("ROLLBACK TO SAVEPOINT one_row")
                    .execute(&mut *conn)
                    .await?;
                rejected.push((d.record, e.to_string()));
            }
            Err(e) => return Err(e.into()),
        }
    }
    if !stale.is_empty() {
        return Err(WriterError::StaleSequence(stale));
    }
    Ok((stored, rejected))
}
