//! The first stage of the consume loop: gathers batches by count, bytes and
//! linger, prepares them (Redis) and hands them to the store stage.
//!
//! It never stops polling the consumer, because librdkafka runs rebalance
//! callbacks only inside a poll: a store stage that is slow or stalled must
//! not hold up a revoke, or a writer joining the group would wait for its
//! partitions as long as the stall lasts. While a prepared batch waits for
//! room in the store stage's queue, the next one fills; once that one is full too, the
//! assigned partitions are paused, so a poll returns no records but still
//! serves rebalances, and they are resumed after the hand-off.

use std::collections::BTreeSet;

use chat_core::kafka::group::GroupContext;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::{Message, TopicPartitionList};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::batch::{Batch, Record};
use crate::config::WriterConfig;
use crate::consumer::Staged;
use crate::crash::crash_point;
use crate::error::WriterError;
use crate::persist::Persister;
use crate::staging;

/// Gathers and prepares batches until `shutdown`, then hands off the batches in hand.
pub(crate) async fn gather(
    config: &WriterConfig,
    persister: &Persister,
    shutdown: &CancellationToken,
    consumer: &StreamConsumer<GroupContext>,
    to_store: &staging::Sender,
) -> Result<(), WriterError> {
    let ownership = consumer.context().ownership();
    let mut revocations_seen = ownership.revocations();
    let mut batch = Batch::default();
    let mut flush_at: Option<Instant> = None;
    // a prepared batch the store stage has no room for yet
    let mut waiting: Option<Staged> = None;
    let mut paused = Paused::default();
    loop {
        let lingering = waiting.is_none();
        let waiting_bytes = waiting.as_ref().map_or(0, |staged| staged.batch.bytes());
        let linger = async {
            match flush_at {
                Some(at) if lingering => tokio::time::sleep_until(at).await,
                _ => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            room = to_store.room(waiting_bytes), if waiting.is_some() => {
                let room = room.map_err(|_| stopped())?;
                if let Some(staged) = waiting.take() {
                    room.send(staged);
                }
                paused.resume(consumer);
            }
            () = linger => {}
            received = consumer.recv() => match received {
                Ok(message) => match ownership.generation(message.topic(), message.partition()) {
                    Some(generation) => {
                        batch.push(Record::from_message(&message, generation));
                        flush_at.get_or_insert_with(|| Instant::now() + config.linger());
                        if paused.is_active() {
                            // assigned while paused: it waits with the others
                            paused.pause(consumer, message.topic(), message.partition());
                        }
                    }
                    None => {
                        tracing::debug!(partition = message.partition(), "record of a partition not owned");
                    }
                },
                Err(error) => tracing::warn!(%error, "kafka consumer error"),
            },
        }
        if ownership.revocations() != revocations_seen {
            revocations_seen = ownership.revocations();
            batch.drop_stale(ownership);
        }
        let full = batch.is_full(config.batch_max_rows, config.batch_max_bytes);
        let due = full || flush_at.is_some_and(|at| at <= Instant::now());
        if waiting.is_none() && due {
            flush_at = None;
            waiting = prepare(persister, &mut batch).await;
        } else if waiting.is_some() && full && !paused.is_active() {
            paused.pause_assignment(consumer);
        }
    }
    if let Some(staged) = waiting.take() {
        to_store.send(staged).await.map_err(|_| stopped())?;
    }
    batch.drop_stale(ownership);
    if let Some(staged) = prepare(persister, &mut batch).await {
        to_store.send(staged).await.map_err(|_| stopped())?;
    }
    Ok(())
}

fn stopped() -> WriterError {
    WriterError::Internal("the store stage stopped".into())
}

/// Takes the batch and prepares it for the store stage; `None` when it is
/// empty. A failed preparation (Redis down) is not an error here: the store
/// stage retries the whole batch.
async fn prepare(persister: &Persister, batch: &mut Batch) -> Option<Staged> {
    if batch.is_empty() {
        return None;
    }
    crash_point!("writer::after_fetch");
    let batch = std::mem::take(batch);
    let prepared = match persister.prepare(batch.records()).await {
        Ok(prepared) => Some(prepared),
        Err(error) => {
            tracing::warn!(%error, "batch not prepared; the store stage will retry it");
            None
        }
    };
    Some(Staged { batch, prepared })
}

/// The partitions this stage paused, to resume them all after the hand-off.
///
/// A pause outlives a revoke in librdkafka (a partition assigned back would
/// stay paused), so every partition paused is resumed, owned or not. Pausing
/// discards what librdkafka fetched ahead; a resumed partition is fetched
/// again from one past the last record polled.
#[derive(Debug, Default)]
struct Paused {
    partitions: BTreeSet<(String, i32)>,
    active: bool,
}

impl Paused {
    fn is_active(&self) -> bool {
        self.active
    }

    /// Pauses every partition assigned now.
    fn pause_assignment(&mut self, consumer: &StreamConsumer<GroupContext>) {
        self.active = true;
        match consumer.assignment() {
            Ok(assigned) => {
                for e in assigned.elements() {
                    self.partitions
                        .insert((e.topic().to_owned(), e.partition()));
                }
                self.apply(consumer, &assigned, true);
            }
            Err(error) => tracing::warn!(%error, "assignment unknown; nothing paused"),
        }
    }

    /// Pauses one more partition (a record came: it was assigned while the others wait).
    fn pause(&mut self, consumer: &StreamConsumer<GroupContext>, topic: &str, partition: i32) {
        self.partitions.insert((topic.to_owned(), partition));
        let mut list = TopicPartitionList::new();
        list.add_partition(topic, partition);
        self.apply(consumer, &list, true);
    }

    /// Resumes every partition paused.
    fn resume(&mut self, consumer: &StreamConsumer<GroupContext>) {
        self.active = false;
        if self.partitions.is_empty() {
            return;
        }
        let mut list = TopicPartitionList::new();
        for (topic, partition) in std::mem::take(&mut self.partitions) {
            list.add_partition(&topic, partition);
        }
        self.apply(consumer, &list, false);
    }

    fn apply(
        &self,
        consumer: &StreamConsumer<GroupContext>,
        list: &TopicPartitionList,
        pause: bool,
    ) {
        let result = if pause {
            consumer.pause(list)
        } else {
            consumer.resume(list)
        };
        if let Err(error) = result {
            tracing::warn!(%error, pause, "pausing or resuming partitions failed");
        }
    }
}
