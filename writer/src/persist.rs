//! Storing one batch: decode, skip what is stored, sequence, bulk insert,
//! isolate poison, send poison to the dead-letter topic. The sequencing
//! protocol (stored seqs first, counters held while inserting, the rooms'
//! state checked before the commit, repairs) is `chat_core::Sequencer`'s:
//! [`Sequencer::sequence_maybe_stored`] and [`Sequencer::hold_rooms`].
//!
//! Every step is idempotent, so a batch may be tried again from the start after
//! any failure, and a record delivered twice is stored once.

use std::collections::HashSet;
use std::time::Instant;

use chat_core::event::EventOp;
use chat_core::sequencer::{Assigned, Committed};
use chat_core::{ChatEvent, Sequencer};
use sqlx::{PgConnection, PgPool};

use crate::batch::Record;
use crate::crash::crash_point;
use crate::dlq::DeadLetters;
use crate::error::{WriterError, is_data_error, is_resend_conflict, is_seq_conflict};
use crate::metrics as m;
use crate::{effects, store};

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
        // copies of stored messages under another id are skipped before they get a seq
        let events: Vec<&ChatEvent> = decoded.iter().map(|(_, e)| e).collect();
        let copies = store::copies_of_stored(&mut *self.pool.acquire().await?, &events).await?;
        decoded.retain(|(_, e)| !copies.contains(&e.id));
        let (sources, events): (Vec<usize>, Vec<ChatEvent>) = decoded.into_iter().unzip();
        // redeliveries keep their stored seq and are not inserted again
        let placed = self.sequencer.sequence_maybe_stored(&events).await?;
        let (mut sources_left, mut events_left, mut assigned) =
            (Vec::new(), Vec::new(), Vec::new());
        for ((source, event), place) in sources.into_iter().zip(events).zip(placed) {
            if !place.stored {
                sources_left.push(source);
                events_left.push(event);
                assigned.push(place);
            }
        }
        let (sources, events) = (sources_left, events_left);
        let already_stored = records.len() - poison.len() - events.len();
        if already_stored > 0 {
            metrics::counter!(m::ROWS_ALREADY_STORED).increment(already_stored as u64);
        }
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
        let mut held = self.sequencer.hold_rooms(&rooms).await?;
        let rows: Vec<(&ChatEvent, i64)> = prepared
            .events
            .iter()
            .zip(&prepared.assigned)
            .map(|(e, a)| (e, a.seq))
            .collect();
        // positions in `prepared.events` of the rows this batch inserts
        let inserted: Vec<usize>;
        match store::insert_messages(held.conn(), &rows).await {
            Ok(n) => {
                outcome.stored = n;
                // all of them, but for a row stored meanwhile under its id (skipped
                // by the insert, which does not say which): then the first n stand in
                inserted = (0..n as usize).collect();
                effects::apply(held.conn(), &rows).await?;
            }
            Err(e) if is_data_error(&e) => {
                // One bad row fails the statement: find it row by row in a new transaction.
                held.rollback().await?;
                held = self.sequencer.hold_rooms(&rooms).await?;
                match insert_one_by_one(held.conn(), prepared).await {
                    Ok((stored, rejected)) => {
                        outcome.stored = stored.len() as u64;
                        inserted = stored;
                        let refused: HashSet<usize> = rejected.iter().map(|(i, _)| *i).collect();
                        let kept: Vec<(&ChatEvent, i64)> = rows
                            .iter()
                            .zip(&prepared.sources)
                            .filter(|(_, source)| !refused.contains(source))
                            .map(|(row, _)| *row)
                            .collect();
                        effects::apply(held.conn(), &kept).await?;
                        poison.extend(rejected);
                    }
                    Err(WriterError::StaleSequence(stale)) => {
                        // their seqs are taken: repair the rooms, then the batch is retried
                        held.repair(&stale).await?;
                        return Err(WriterError::StaleSequence(stale));
                    }
                    Err(other) => return Err(other),
                }
            }
            Err(e) => return Err(e.into()),
        }
        crash_point!("writer::during_insert");
        if held.commit(&prepared.assigned).await? == Committed::EpochChanged {
            return Err(WriterError::EpochChanged);
        }
        m::record_commit_lag(
            chrono::Utc::now(),
            inserted.iter().map(|&i| prepared.events[i].sent_at),
        );
        metrics::histogram!(m::INSERT_SECONDS).record(started.elapsed().as_secs_f64());
        metrics::counter!(m::ROWS_STORED).increment(outcome.stored);

        self.scrub_deleted(&prepared.events).await;
        for (index, error) in &poison {
            self.dead_letters.send(&records[*index], error).await?;
        }
        outcome.dead_lettered = poison.len();
        Ok(outcome)
    }
}

impl Persister {
    /// Takes the text of the messages the batch deleted out of their rooms'
    /// Redis tails (the gateway did it when it sequenced the delete; this
    /// covers a gateway that died before). Best effort: the batch is stored,
    /// and a tail expires by itself (`SEQUENCER_TTL_SECS`).
    async fn scrub_deleted(&self, events: &[ChatEvent]) {
        for event in events.iter().filter(|e| e.ext.op == EventOp::Delete) {
            let Some(target) = event.ext.target else {
                continue;
            };
            if let Err(error) = self.sequencer.scrub_deleted(event.room_id, target).await {
                tracing::warn!(%error, room.id = %event.room_id, "deleted message not scrubbed from the tail");
            }
        }
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

/// Splits records into valid events (first copy of each id and of each
/// `(sender_id, client_msg_id)`, with its record's index) and poison (index and reason).
fn decode(records: &[Record]) -> (Vec<(usize, ChatEvent)>, Vec<Rejected>) {
    let mut seen = HashSet::new();
    let mut sends = HashSet::new();
    let mut decoded = Vec::with_capacity(records.len());
    let mut poison = Vec::new();
    for (index, record) in records.iter().enumerate() {
        match ChatEvent::decode(&record.payload) {
            Ok(event) => {
                if seen.insert(event.id)
                    && sends.insert((event.sender_id, event.client_msg_id.clone()))
                {
                    decoded.push((index, event));
                }
            }
            Err(error) => poison.push((index, error.to_string())),
        }
    }
    (decoded, poison)
}

/// Inserts rows one at a time, each under a savepoint; returns the positions
/// (in `prepared.events`) of the rows inserted and the records Postgres
/// refused, with its reason. Rows whose seq is taken (a stale sequencer) are
/// collected and returned as `StaleSequence`.
async fn insert_one_by_one(
    conn: &mut PgConnection,
    prepared: &Prepared,
) -> Result<(Vec<usize>, Vec<Rejected>), WriterError> {
    let mut stored = Vec::new();
    let mut rejected = Vec::new();
    let mut stale = Vec::new();
    for (position, ((event, assigned), source)) in prepared
        .events
        .iter()
        .zip(&prepared.assigned)
        .zip(&prepared.sources)
        .enumerate()
    {
        sqlx::query("SAVEPOINT one_row").execute(&mut *conn).await?;
        match store::insert_messages(&mut *conn, &[(event, assigned.seq)]).await {
            Ok(n) => {
                if n > 0 {
                    stored.push(position);
                }
                sqlx::query("RELEASE SAVEPOINT one_row")
                    .execute(&mut *conn)
                    .await?;
            }
            Err(e) if is_resend_conflict(&e) => {
                // a copy of a message another batch stored meanwhile: not poison
                sqlx::query("ROLLBACK TO SAVEPOINT one_row")
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
