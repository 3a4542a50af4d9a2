//! The consume loop in two overlapping stages: gather and prepare a batch
//! (Redis), while the previous one is inserted (Postgres) and its offsets committed.
//!
//! Offsets are committed only after the batch's database commit, so a crash at
//! any point replays records that are stored already (and skipped), never skips
//! one. A partition revoked while its records wait in the batch is abandoned:
//! its new owner reads them again.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::statistics::Statistics;
use rdkafka::{ClientContext, TopicPartitionList};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::batch::{Batch, Record};
use crate::config::WriterConfig;
use crate::error::WriterError;
use crate::metrics as m;
use crate::persist::{Persister, Prepared};

/// Hears rebalances and statistics from librdkafka.
#[derive(Debug, Default)]
pub struct WriterContext {
    revoked: Arc<Mutex<Vec<(String, i32)>>>,
}

impl WriterContext {
    fn take_revoked(&self) -> Vec<(String, i32)> {
        std::mem::take(&mut *self.revoked.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl ClientContext for WriterContext {
    fn stats(&self, statistics: Statistics) {
        for topic in statistics.topics.values() {
            for partition in topic.partitions.values() {
                if partition.partition >= 0 && partition.consumer_lag >= 0 {
                    metrics::gauge!(m::CONSUMER_LAG, "partition" => partition.partition.to_string())
                        .set(partition.consumer_lag as f64);
                }
            }
        }
    }
}

impl ConsumerContext for WriterContext {
    fn pre_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(list) = rebalance {
            let mut revoked = self.revoked.lock().unwrap_or_else(PoisonError::into_inner);
            for e in list.elements() {
                revoked.push((e.topic().to_owned(), e.partition()));
            }
            tracing::info!(partitions = list.count(), "partitions revoked");
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(list) = rebalance {
            tracing::info!(partitions = list.count(), "partitions assigned");
        }
    }
}

/// Creates the group consumer: manual commits, cooperative rebalancing.
pub fn create_consumer(
    config: &WriterConfig,
) -> Result<StreamConsumer<WriterContext>, WriterError> {
    let mut client = chat_core::kafka::group_consumer(
        &config.kafka.brokers,
        chat_core::kafka::GroupMember {
            group_id: &config.group_id,
            instance_id: config.group_instance_id.as_deref(),
            session_timeout_ms: config.session_timeout_ms,
            client_id: "chat-writer",
        },
    );
    client
        .set("enable.auto.commit", "false")
        .set("statistics.interval.ms", "5000");
    let consumer: StreamConsumer<WriterContext> =
        client.create_with_context(WriterContext::default())?;
    consumer.subscribe(&[&config.kafka.topic])?;
    Ok(consumer)
}

/// A gathered batch on its way to Postgres, with its sequencing done if it could be.
struct Staged {
    batch: Batch,
    prepared: Option<Prepared>,
}

/// Runs until `shutdown`, then stores and commits the batches in hand and returns.
///
/// Two stages overlap: this task gathers a batch and prepares it (decode,
/// stored-id check, sequencing in Redis) while a second task inserts the
/// previous one into Postgres and commits its offsets. Batches are stored and
/// committed one at a time, in order.
pub async fn consume(
    config: &WriterConfig,
    persister: &Persister,
    shutdown: &CancellationToken,
) -> Result<(), WriterError> {
    let consumer = Arc::new(create_consumer(config)?);
    let (to_store, staged) = mpsc::channel(1);
    let storing = tokio::spawn(store_loop(
        consumer.clone(),
        persister.clone(),
        staged,
        config.clone(),
        shutdown.clone(),
    ));
    let gathered = gather(config, persister, shutdown, &consumer, &to_store).await;
    drop(to_store);
    let stored = storing
        .await
        .unwrap_or_else(|e| Err(WriterError::Internal(format!("store task: {e}"))));
    gathered.and(stored)
}

/// The first stage: gathers batches by count, bytes and linger, and prepares them.
async fn gather(
    config: &WriterConfig,
    persister: &Persister,
    shutdown: &CancellationToken,
    consumer: &StreamConsumer<WriterContext>,
    to_store: &mpsc::Sender<Staged>,
) -> Result<(), WriterError> {
    let mut batch = Batch::default();
    let mut flush_at: Option<Instant> = None;
    loop {
        let linger = async {
            match flush_at {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let full = tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            () = linger => true,
            received = consumer.recv() => match received {
                Ok(message) => {
                    batch.push(Record::from_message(&message));
                    flush_at.get_or_insert_with(|| Instant::now() + config.linger());
                    batch.is_full(config.batch_max_rows, config.batch_max_bytes)
                }
                Err(error) => {
                    tracing::warn!(%error, "kafka consumer error");
                    false
                }
            },
        };
        abandon_revoked(consumer, &mut batch);
        if full {
            hand_off(persister, &mut batch, to_store).await?;
            flush_at = None;
        }
    }
    abandon_revoked(consumer, &mut batch);
    hand_off(persister, &mut batch, to_store).await
}

/// Prepares the batch and passes it to the store stage. A failed preparation
/// (Redis down) is not an error here: the store stage retries the whole batch.
async fn hand_off(
    persister: &Persister,
    batch: &mut Batch,
    to_store: &mpsc::Sender<Staged>,
) -> Result<(), WriterError> {
    if batch.is_empty() {
        return Ok(());
    }
    let batch = std::mem::take(batch);
    let prepared = match persister.prepare(batch.records()).await {
        Ok(prepared) => Some(prepared),
        Err(error) => {
            tracing::warn!(%error, "batch not prepared; the store stage will retry it");
            None
        }
    };
    to_store
        .send(Staged { batch, prepared })
        .await
        .map_err(|_| WriterError::Internal("the store stage stopped".into()))
}

fn abandon_revoked(consumer: &StreamConsumer<WriterContext>, batch: &mut Batch) {
    let revoked = consumer.context().take_revoked();
    if !revoked.is_empty() {
        let dropped = batch.drop_partitions(&revoked);
        if dropped > 0 {
            tracing::info!(records = dropped, "abandoned records of revoked partitions");
        }
    }
}

/// The second stage: stores each batch (waiting out outages) and then commits its offsets.
async fn store_loop(
    consumer: Arc<StreamConsumer<WriterContext>>,
    persister: Persister,
    mut staged: mpsc::Receiver<Staged>,
    config: WriterConfig,
    shutdown: CancellationToken,
) -> Result<(), WriterError> {
    while let Some(Staged { batch, prepared }) = staged.recv().await {
        let first_try = match &prepared {
            Some(prepared) => persister.store_prepared(batch.records(), prepared).await,
            None => Err(WriterError::NotPrepared),
        };
        let outcome = match first_try {
            Err(error) if error.is_transient() => {
                store_with_retry(&persister, &batch, &config, &shutdown, error).await
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
        metrics::counter!(m::BATCHES).increment(1);
        metrics::histogram!(m::BATCH_SIZE).record(batch.len() as f64);
        tracing::debug!(
            batch.records = batch.len(),
            batch.stored = outcome.stored,
            batch.already_stored = outcome.already_stored,
            batch.dead_lettered = outcome.dead_lettered,
            "batch stored"
        );
        commit(&consumer, &batch.next_offsets(), shutdown.is_cancelled());
    }
    Ok(())
}

/// Tries the whole batch again (prepare and store) until it is stored, backing
/// off while a dependency is down. Gives up only on shutdown, with nothing committed.
async fn store_with_retry(
    persister: &Persister,
    batch: &Batch,
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
                attempt = persister.store_batch(batch.records()).await;
            }
            Err(error) => return Err(error),
        }
    }
}

/// Commits offsets of a stored batch. A failed commit only means the records are
/// read again (and skipped as stored), so it is logged, not fatal.
fn commit(consumer: &StreamConsumer<WriterContext>, offsets: &TopicPartitionList, last: bool) {
    let mode = if last {
        CommitMode::Sync
    } else {
        CommitMode::Async
    };
    if let Err(error) = consumer.commit(offsets, mode) {
        tracing::warn!(%error, "offset commit failed; the records will be read again");
    }
}
