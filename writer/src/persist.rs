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
        let prepared = self.prepare(records).await?;
        self.store_prepared(records, &prepared).await
    }

    /// The first half of storing a batch: decode it, skip what is stored, and
    /// sequence the rest (Redis). It may run while the previous batch's
    /// [`Persister::store_prepared`] is still inserting (Postgres).
    pub async fn prepare(&self, records: &[Record]) -> Result<Prepared, WriterError> {
        let (mut decoded, poison) = decode(records);
        let mut conn = self.pool.acquire().await?;
        let ids: Vec<_> = decoded.iter().map(|(_, e)| e.id).collect();
        let stored = store::stored_ids(&mut conn, &ids).await?;
        drop(conn);
        let before = decoded.len();
        decoded.retain(|(_, e)| !stored.contains(&e.id));
        if before != decoded.len() {
            metrics::counter!(m::ROWS_ALREADY_STORED).increment((before - decoded.len()) as u64);
        }
        let already_stored = records.len() - poison.len() - decoded.len();
        let (sources, events): (Vec<usize>, Vec<ChatEvent>) = decoded.into_iter().unzip();
        let assigned = self.sequencer.sequence(&events).await?;
        Ok(Prepared {
            sources,
            events,
            assigned,
            poison,
            already_stored,
        })
    }

    /// The second half: insert the sequenced rows in one statement (isolating
    /// poison row by row if it fails on the data), check the epochs, commit,
    /// and send the poison to the dead-letter topic.
    pub async fn store_prepared(
        &self,
        records: &[Record],
        prepared: &Prepared,
    ) -> Result<Outcome, WriterError> {
        let mut outcome = Outcome {
            already_stored: prepared.already_stored,
            ..Outcome::default()
        };
        let mut poison: Vec<Rejected> = prepared.poison.clone();
        let started = Instant::now();
        let rooms: Vec<uuid::Uuid> = prepared.events.iter().map(|e| e.room_id).collect();
        let mut tx = self.pool.begin().await?;
        Sequencer::hold_counters(&mut tx, &rooms).await?;
        let rows: Vec<(&ChatEvent, i64)> = prepared
            .events
            .iter()
            .zip(&prepared.assigned)
            .map(|(e, a)| (e, a.seq))
            .collect();
        match store::insert_messages(&mut tx, &rows).await {
            Ok(n) => outcome.stored = n,
            Err(e) if is_data_error(&e) => {
                // One bad row fails the statement: find it row by row in a new transaction.
                tx.rollback().await?;
                tx = self.pool.begin().await?;
                Sequencer::hold_counters(&mut tx, &rooms).await?;
                match insert_one_by_one(&mut tx, prepared).await {
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
        if !self.sequencer.epochs_unchanged(&prepared.assigned).await? {
            tx.rollback().await?;
            return Err(WriterError::EpochChanged);
        }
        tx.commit().await?;
        metrics::histogram!(m::INSERT_SECONDS).record(started.elapsed().as_secs_f64());
        metrics::counter!(m::ROWS_STORED).increment(outcome.stored);

        for (index, error) in &poison {
            self.dead_letters.send(&records[*index], error).await?;
        }
        outcome.dead_lettered = poison.len();
        Ok(outcome)
    }
}

/// A record Postgres or the decoder refused: its index in the batch and the reason.
type Rejected = (usize, String);

/// A batch decoded and sequenced, ready to insert; indices refer to the batch's records.
#[derive(Debug)]
pub struct Prepared {
    /// For each event, the index of its record.
    sources: Vec<usize>,
    /// Events to insert (first copy of each id, not stored yet).
    events: Vec<ChatEvent>,
    /// Their places, in the same order.
    assigned: Vec<Assigned>,
    /// Records that are not chat events, with the reason.
    poison: Vec<Rejected>,
    already_stored: usize,
}

impl Persister {
    /// Repairs each room of `stale` (room, message) pairs once; the batch is then tried again.
    async fn repair(&self, stale: &[(uuid::Uuid, uuid::Uuid)]) -> Result<(), WriterError> {
        let mut rooms: std::collections::BTreeMap<uuid::Uuid, Vec<uuid::Uuid>> = Default::default();
        for (room, id) in stale {
            rooms.entry(*room).or_default().push(*id);
        }
        for (room, ids) in rooms {
            self.sequencer.repair_room(room, &ids, None).await?;
        }
        Ok(())
    }
}

/// Splits records into valid events (first copy of each id, with its record's
/// index) and poison (index and reason).
fn decode(records: &[Record]) -> (Vec<(usize, ChatEvent)>, Vec<Rejected>) {
    let mut seen = HashSet::new();
    let mut decoded = Vec::with_capacity(records.len());
    let mut poison = Vec::new();
    for (index, record) in records.iter().enumerate() {
        match ChatEvent::decode(&record.payload) {
            Ok(event) => {
                if seen.insert(event.id) {
                    decoded.push((index, event));
                }
            }
            Err(error) => poison.push((index, error.to_string())),
        }
    }
    (decoded, poison)
}

/// Inserts rows one at a time, each under a savepoint; returns the count inserted
/// and the records Postgres refused, with its reason. Rows whose seq is taken
/// (a stale sequencer) are collected and returned as `StaleSequence`.
async fn insert_one_by_one(
    conn: &mut PgConnection,
    prepared: &Prepared,
) -> Result<(u64, Vec<Rejected>), WriterError> {
    let mut stored = 0;
    let mut rejected = Vec::new();
    let mut stale = Vec::new();
    for ((event, assigned), source) in prepared
        .events
        .iter()
        .zip(&prepared.assigned)
        .zip(&prepared.sources)
    {
        sqlx::query("SAVEPOINT one_row").execute(&mut *conn).await?;
        match store::insert_messages(&mut *conn, &[(event, assigned.seq)]).await {
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
                stale.push((event.room_id, event.id));
            }
            Err(e) if is_data_error(&e) => {
                sqlx::query("ROLLBACK TO SAVEPOINT one_row")
                    .execute(&mut *conn)
                    .await?;
                rejected.push((*source, e.to_string()));
            }
            Err(e) => return Err(e.into()),
        }
    }
    if !stale.is_empty() {
        return Err(WriterError::StaleSequence(stale));
    }
    Ok((stored, rejected))
}
