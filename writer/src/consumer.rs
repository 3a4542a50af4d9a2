//! The consume loop in two overlapping stages: gather and prepare a batch
//! (Redis), while the previous one is inserted (Postgres) and its offsets committed.
//!
//! Offsets are committed only after the batch's database commit, so a crash at
//! any point replays records that are stored already (and skipped), never skips
//! one. Every record carries the generation of its partition's assignment
//! ([`Ownership`]): a record whose partition was revoked since it was read is
//! neither stored nor committed, in either stage; its partition's owner now
//! reads it again from the committed offset.

use std::sync::Arc;
use std::time::Duration;

use chat_core::kafka::group::{self, GroupContext, GroupMetrics};
use chat_core::kafka::ownership::Ownership;
use rdkafka::TopicPartitionList;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use tokio_util::sync::CancellationToken;

use crate::batch::Batch;
use crate::config::WriterConfig;
use crate::crash::crash_point;
use crate::error::WriterError;
use crate::metrics as m;
use crate::persist::{Persister, Prepared};
use crate::staging;

/// Creates the group consumer: manual commits, cooperative rebalancing.
pub fn create_consumer(config: &WriterConfig) -> Result<StreamConsumer<GroupContext>, WriterError> {
    let mut client = chat_core::kafka::group_consumer(
        &config.kafka.brokers,
        chat_core::kafka::GroupMember {
            group_id: &config.group_id,
            instance_id: config.group_instance_id.as_deref(),
            session_timeout_ms: config.session_timeout_ms,
            client_id: "chat-writer",
        },
        config.fetch_wait_ms,
    );
    client.set("enable.auto.commit", "false");
    Ok(group::subscribe(client, &config.kafka.topic, METRICS)?)
}

/// The writer's names for its consumer's metrics.
const METRICS: GroupMetrics = GroupMetrics {
    consumer_lag: m::CONSUMER_LAG,
    partitions_owned: m::PARTITIONS_OWNED,
};

/// A gathered batch on its way to Postgres, with its sequencing done if it could be.
pub(crate) struct Staged {
    pub(crate) batch: Batch,
    pub(crate) prepared: Option<Prepared>,
}

/// Prepared batches that wait for the store stage, at most (besides the one
/// it stores, the one prepared waiting for room and the one filling). The
/// queue's depth is the store stage's work while a pause ends
/// ([`crate::staging`]): 32 batches of a thousand typical messages are about
/// 1.5 s of it.
const STAGED_BATCHES: usize = 32;

/// The bytes of records those batches may hold between them, the one being
/// stored included. The writer holds at most this and two batches of
/// `WRITER_BATCH_MAX_BYTES` (each also decoded once).
const STAGED_BYTES: u32 = 32 << 20;

/// Runs until `shutdown`, then stores and commits the batches in hand and returns.
///
/// Two stages overlap: this task gathers batches and prepares them (decode,
/// stored-id check, sequencing in Redis) while a second task inserts earlier
/// ones (up to [`STAGED_BATCHES`] or [`STAGED_BYTES`] queued) into Postgres
/// and commits their offsets. Batches are stored and committed one at a time,
/// in order.
pub async fn consume(
    config: &WriterConfig,
    persister: &Persister,
    shutdown: &CancellationToken,
) -> Result<(), WriterError> {
    let consumer = Arc::new(create_consumer(config)?);
    let (to_store, staged) = staging::queue(STAGED_BATCHES, STAGED_BYTES);
    let storing = tokio::spawn(store_loop(
        consumer.clone(),
        persister.clone(),
        staged,
        config.clone(),
        shutdown.clone(),
    ));
    let gathered = crate::gather::gather(config, persister, shutdown, &consumer, &to_store).await;
    drop(to_store);
    let stored = storing
        .await
        .unwrap_or_else(|e| Err(WriterError::Internal(format!("store task: {e}"))));
    let closed = group::close(consumer).await;
    gathered
        .and(stored)
        .and(closed.map_err(|e| WriterError::Internal(format!("closing the consumer: {e}"))))
}

/// The second stage: stores each batch (waiting out outages) and then commits
/// its offsets, leaving out records whose partition was revoked meanwhile.
async fn store_loop(
    consumer: Arc<StreamConsumer<GroupContext>>,
    persister: Persister,
    mut staged: staging::Receiver,
    config: WriterConfig,
    shutdown: CancellationToken,
) -> Result<(), WriterError> {
    let ownership = consumer.context().ownership();
    while let Some(queued) = staged.recv().await {
        // the batch's bytes leave the queue's budget when `_held` drops, after its commit
        let (
            Staged {
                mut batch,
                mut prepared,
            },
            _held,
        ) = queued.into_parts();
        if batch.drop_stale(ownership) > 0 {
            // the preparation refers to records by position
            prepared = None;
        }
        if batch.is_empty() {
            continue;
        }
        let first_try = match &prepared {
            Some(prepared) => persister.store_prepared(batch.records(), prepared).await,
            None => Err(WriterError::NotPrepared),
        };
        let outcome = match first_try {
            Err(error) if error.is_transient() => {
                store_with_retry(&persister, ownership, &mut batch, &config, &shutdown, error).await
            }
            other => other,
        };
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(WriterError::Abandoned) => {
                // nothing after it may be committed either: its offsets would pass it
                tracing::warn!(
                    records = batch.len(),
                    "shutdown during an outage: batch left uncommitted"
                );
                return Ok(());
            }
            Err(error) => return Err(error),
        };
        crash_point!("writer::after_db_commit");
        metrics::counter!(m::BATCHES).increment(1);
        metrics::histogram!(m::BATCH_SIZE).record(batch.len() as f64);
        tracing::debug!(
            batch.records = batch.len(),
            batch.stored = outcome.stored,
            batch.already_stored = outcome.already_stored,
            batch.dead_lettered = outcome.dead_lettered,
            "batch stored"
        );
        let last = shutdown.is_cancelled();
        batch.commit_owned(ownership, |offsets| commit(&consumer, offsets, last));
    }
    Ok(())
}

/// Tries the whole batch again (prepare and store) until it is stored, backing
/// off while a dependency is down. Records whose partition is revoked meanwhile
/// leave the batch. Gives up only on shutdown, with nothing committed.
async fn store_with_retry(
    persister: &Persister,
    ownership: &Ownership,
    batch: &mut Batch,
    config: &WriterConfig,
    shutdown: &CancellationToken,
    first_error: WriterError,
) -> Result<crate::persist::Outcome, WriterError> {
    let mut backoff = Duration::from_millis(50);
    let mut attempt = Err(first_error);
    loop {
        match attempt {
            Ok(outcome) => return Ok(outcome),
            Err(error) if error.is_transient() => {
                metrics::counter!(m::RETRIES).increment(1);
                tracing::warn!(%error, retry_in_ms = backoff.as_millis() as u64, "batch not stored yet");
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    () = shutdown.cancelled() => return Err(WriterError::Abandoned),
                }
                backoff = (backoff * 2).min(config.max_backoff());
                batch.drop_stale(ownership);
                attempt = persister.store_batch(batch.records()).await;
            }
            Err(error) => return Err(error),
        }
    }
}

/// Commits offsets of a stored batch. A failed commit only means the records are
/// read again (and skipped as stored), so it is logged, not fatal.
fn commit(consumer: &StreamConsumer<GroupContext>, offsets: &TopicPartitionList, last: bool) {
    let mode = if last {
        CommitMode::Sync
    } else {
        CommitMode::Async
    };
    if let Err(error) = consumer.commit(offsets, mode) {
        tracing::warn!(%error, "offset commit failed; the records will be read again");
    }
}
