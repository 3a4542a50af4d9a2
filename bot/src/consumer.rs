//! The bot's consume loop: its own consumer group on the messages topic,
//! mentions answered concurrently (bounded), offsets stored only past
//! finished work and committed by librdkafka in the background.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chat_core::ChatEvent;
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::message::Message;
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::BotConfig;
use crate::error::BotError;
use crate::metrics as m;
use crate::offsets::{OffsetTracker, Ticket};
use crate::reply::Replier;

/// Hears revokes from librdkafka, so finished work of a lost partition is forgotten.
#[derive(Debug, Default)]
pub struct BotContext {
    tracker: Arc<Mutex<OffsetTracker>>,
}

impl ClientContext for BotContext {}

impl ConsumerContext for BotContext {
    fn pre_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(partitions) = rebalance {
            self.tracker
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .revoke(partitions.elements().iter().map(|e| e.partition()));
        }
    }
}

/// Creates the bot's group consumer: offsets stored by hand, committed automatically.
pub fn create_consumer(config: &BotConfig) -> Result<StreamConsumer<BotContext>, BotError> {
    let mut client = chat_core::kafka::group_consumer(
        &config.kafka.brokers,
        chat_core::kafka::GroupMember {
            group_id: &config.group_id,
            instance_id: config.group_instance_id.as_deref(),
            session_timeout_ms: config.session_timeout_ms,
            client_id: "chat-bot",
        },
    );
    // stored offsets (finished work only) are committed every second;
    // a new group reads what is there, and BOT_MAX_MENTION_AGE_SECS skips old mentions
    client
        .set("enable.auto.commit", "true")
        .set("auto.commit.interval.ms", "1000");
    let consumer: StreamConsumer<BotContext> = client.create_with_context(BotContext::default())?;
    consumer.subscribe(&[&config.kafka.topic])?;
    Ok(consumer)
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
    let consumer = create_consumer(config)?;
    let tracker = consumer.context().tracker.clone();
    let topic = config.kafka.topic.clone();
    let permits = Arc::new(Semaphore::new(config.max_concurrent_replies.max(1)));
    let tasks = TaskTracker::new();
    let (finished, mut finished_rx) = mpsc::unbounded_channel::<Ticket>();
    let store = |ticket: Ticket| {
        let next = tracker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .finish(ticket);
        if let Some(next) = next {
            let mut tpl = TopicPartitionList::new();
            if tpl
                .add_partition_offset(&topic, ticket.partition, Offset::Offset(next))
                .is_ok()
            {
                // fails only for a partition revoked meanwhile: its new owner replays it
                let _ = consumer.store_offsets(&tpl);
            }
        }
    };

    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            Some(ticket) = finished_rx.recv() => store(ticket),
            received = consumer.recv() => {
                let message = match received {
                    Ok(message) => message,
                    Err(error) => {
                        tracing::warn!(%error, "kafka receive failed");
                        continue;
                    }
                };
                let ticket = tracker
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .begin(message.partition(), message.offset());
                let event = message.payload().and_then(|p| ChatEvent::decode(p).ok());
                drop(message);
                let Some(event) = event.filter(|e| replier.looks_like_mention(e)) else {
                    // not for the bot (or not a chat event: the writer dead-letters those)
                    store(ticket);
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
        store(ticket);
    }
    if let Err(error) = consumer.commit_consumer_state(CommitMode::Sync) {
        tracing::debug!(%error, "final offset commit (nothing stored, or group gone)");
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
