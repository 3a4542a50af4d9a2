//! The bot's consume loop: its own consumer group on the messages topic,
//! mentions answered concurrently (bounded), offsets stored only past
//! finished work, under the generation of the partition's assignment they
//! were read in, and committed by librdkafka in the background. The
//! consumer's scaffolding (ownership, lag metrics, close) is the writer's
//! too: `chat_core::kafka::group`.

use std::sync::Arc;
use std::time::Duration;

use chat_core::ChatEvent;
use chat_core::kafka::group::{self, GroupContext, GroupMetrics};
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::BotConfig;
use crate::error::BotError;
use crate::metrics as m;
use crate::offsets::{OffsetTracker, Ticket};
use crate::reply::Replier;

/// The bot's names for its consumer's metrics.
const METRICS: GroupMetrics = GroupMetrics {
    consumer_lag: m::CONSUMER_LAG,
    partitions_owned: m::PARTITIONS_OWNED,
};

/// The broker holds the bot's fetches up to 100 ms for
/// [`chat_core::kafka::FETCH_MIN_BYTES`], so a steady trickle of messages is
/// not a fetch per message (the broker's CPU, not the bot's; a reply is
/// seconds of a model's time, 100 ms more is none).
const FETCH_WAIT_MS: u64 = 100;

/// Creates the bot's group consumer: offsets stored by hand, committed automatically.
pub fn create_consumer(config: &BotConfig) -> Result<StreamConsumer<GroupContext>, BotError> {
    let mut client = chat_core::kafka::group_consumer(
        &config.kafka.brokers,
        chat_core::kafka::GroupMember {
            group_id: &config.group_id,
            instance_id: config.group_instance_id.as_deref(),
            session_timeout_ms: config.session_timeout_ms,
            client_id: "chat-bot",
        },
        FETCH_WAIT_MS,
    );
    // stored offsets (finished work only) are committed every second;
    // a new group reads what is there, and BOT_MAX_MENTION_AGE_SECS skips old mentions
    client
        .set("enable.auto.commit", "true")
        .set("auto.commit.interval.ms", "1000");
    Ok(group::subscribe(client, &config.kafka.topic, METRICS)?)
}

/// Reads the topic until `shutdown`, answering mentions with at most
/// `max_concurrent` replies at a time. On shutdown, replies in progress are
/// dropped unfinished (the next owner of their partition answers them) and
/// the finished offsets are committed.
pub async fn consume(
    config: &BotConfig,
    replier: Arc<Replier>,
    shutdown: &CancellationToken,
) -> Result<(), BotError> {
    let consumer = Arc::new(create_consumer(config)?);
    let ownership = consumer.context().ownership();
    let mut tracker = OffsetTracker::default();
    let topic = config.kafka.topic.clone();
    let permits = Arc::new(Semaphore::new(config.max_concurrent_replies.max(1)));
    let tasks = TaskTracker::new();
    let (finished, mut finished_rx) = mpsc::unbounded_channel::<Ticket>();
    let store = |tracker: &mut OffsetTracker, ticket: Ticket| {
        let Some(next) = tracker.finish(ticket) else {
            return;
        };
        let mut tpl = TopicPartitionList::new();
        if tpl
            .add_partition_offset(&topic, ticket.partition, Offset::Offset(next))
            .is_err()
        {
            return;
        }
        // only while the partition is owned under the ticket's generation:
        // otherwise its owner now reads the record again
        ownership.with_current(|current| {
            if current.is_current(&topic, ticket.partition, ticket.generation)
                && let Err(error) = consumer.store_offsets(&tpl)
            {
                tracing::debug!(%error, "offset not stored");
            }
        });
    };

    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            Some(ticket) = finished_rx.recv() => store(&mut tracker, ticket),
            received = consumer.recv() => {
                let message = match received {
                    Ok(message) => message,
                    Err(error) => {
                        tracing::warn!(%error, "kafka receive failed");
                        continue;
                    }
                };
                let Some(generation) = ownership.generation(message.topic(), message.partition()) else {
                    tracing::debug!(partition = message.partition(), "record of a partition not owned");
                    continue;
                };
                let ticket = tracker.begin(message.partition(), message.offset(), generation);
                let event = message.payload().and_then(|p| ChatEvent::decode(p).ok());
                drop(message);
                let Some(event) = event.filter(|e| replier.looks_like_mention(e)) else {
                    // not for the bot (or not a chat event: the writer dead-letters those)
                    store(&mut tracker, ticket);
                    continue;
                };
                let permit = tokio::select! {
                    () = shutdown.cancelled() => break,
                    permit = permits.clone().acquire_owned() => permit,
                };
                let Ok(permit) = permit else { break };
                let replier = replier.clone();
                let finished = finished.clone();
                let shutdown = shutdown.clone();
                tasks.spawn(async move {
                    let _permit = permit;
                    if answer(&replier, &event, &shutdown).await {
                        let _ = finished.send(ticket);
                    }
                });
            }
        }
    }

    tasks.close();
    tasks.wait().await;
    while let Ok(ticket) = finished_rx.try_recv() {
        store(&mut tracker, ticket);
    }
    if let Err(error) = consumer.commit_consumer_state(CommitMode::Sync) {
        tracing::debug!(%error, "final offset commit (nothing stored, or group gone)");
    }
    if let Err(error) = group::close(consumer).await {
        tracing::error!(%error, "closing the consumer failed");
    }
    Ok(())
}

/// Answers one mention, waiting out outages with capped backoff. True when
/// done with it (answered, or refused for good); false when shutdown came first.
async fn answer(replier: &Replier, event: &ChatEvent, shutdown: &CancellationToken) -> bool {
    let mut backoff = Duration::from_millis(100);
    loop {
        let result = tokio::select! {
            () = shutdown.cancelled() => return false,
            result = replier.handle(event) => result,
        };
        match result {
            Ok(outcome) => {
                metrics::counter!(m::MENTIONS, "outcome" => outcome.label()).increment(1);
                tracing::info!(
                    room.id = %event.room_id,
                    message.id = %event.id,
                    outcome = outcome.label(),
                    "mention handled"
                );
                return true;
            }
            Err(error) if error.is_transient() => {
                metrics::counter!(m::RETRIES).increment(1);
                tracing::warn!(%error, message.id = %event.id, retry_in_ms = backoff.as_millis() as u64, "mention not handled; retrying");
                tokio::select! {
                    () = shutdown.cancelled() => return false,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
            Err(error) => {
                metrics::counter!(m::MENTIONS, "outcome" => "failed").increment(1);
                tracing::error!(%error, message.id = %event.id, "mention cannot be handled; skipped");
                return true;
            }
        }
    }
}
