//! The scaffolding of a group consumer that the writer and the bot share:
//! its context (partition ownership recorded in the rebalance callback, the
//! consumer-lag gauge from statistics), its creation, and its close.

use std::sync::Arc;

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance, StreamConsumer};
use rdkafka::error::KafkaResult;
use rdkafka::statistics::Statistics;
use rdkafka::{ClientConfig, ClientContext, TopicPartitionList};

use super::ownership::Ownership;

/// The names a service gives its consumer's metrics.
#[derive(Debug, Clone, Copy)]
pub struct GroupMetrics {
    /// Gauge: records behind each partition's end, labelled `partition`.
    pub consumer_lag: &'static str,
    /// Gauge: partitions owned now.
    pub partitions_owned: &'static str,
}

/// Hears rebalances and statistics from librdkafka.
#[derive(Debug)]
pub struct GroupContext {
    ownership: Ownership,
    consumer_lag: &'static str,
}

impl GroupContext {
    pub fn new(metrics: GroupMetrics) -> Self {
        Self {
            ownership: Ownership::with_gauge(metrics.partitions_owned),
            consumer_lag: metrics.consumer_lag,
        }
    }

    /// Which partitions this consumer owns, under which generation.
    pub fn ownership(&self) -> &Ownership {
        &self.ownership
    }
}

impl ClientContext for GroupContext {
    fn stats(&self, statistics: Statistics) {
        for topic in statistics.topics.values() {
            for partition in topic.partitions.values() {
                if partition.partition >= 0 && partition.consumer_lag >= 0 {
                    metrics::gauge!(self.consumer_lag, "partition" => partition.partition.to_string())
                        .set(partition.consumer_lag as f64);
                }
            }
        }
    }
}

fn partitions(list: &TopicPartitionList) -> Vec<(String, i32)> {
    list.elements()
        .iter()
        .map(|e| (e.topic().to_owned(), e.partition()))
        .collect()
}

impl ConsumerContext for GroupContext {
    /// Runs before librdkafka applies the change, inside the poll that hears it:
    /// no record of an assigned partition is returned before its generation
    /// exists, and nothing read before a revoke is finished or committed after it.
    fn pre_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Revoke(list) => {
                self.ownership.revoke(partitions(list));
                tracing::info!(partitions = list.count(), "partitions revoked");
            }
            Rebalance::Assign(list) => {
                self.ownership.assign(partitions(list));
                tracing::info!(partitions = list.count(), "partitions assigned");
            }
            Rebalance::Error(error) => tracing::warn!(%error, "rebalance failed"),
        }
    }
}

/// Creates a consumer from `config` (see [`super::group_consumer`]) that
/// reports statistics every 5 s, and subscribes it to `topic`.
pub fn subscribe(
    mut config: ClientConfig,
    topic: &str,
    metrics: GroupMetrics,
) -> KafkaResult<StreamConsumer<GroupContext>> {
    config.set("statistics.interval.ms", "5000");
    let consumer: StreamConsumer<GroupContext> =
        config.create_with_context(GroupContext::new(metrics))?;
    consumer.subscribe(&[topic])?;
    Ok(consumer)
}

/// Leaves the group. Dropping the consumer closes it, and librdkafka's close
/// runs the last rebalance synchronously: on a blocking thread, never on the
/// runtime, whose other tasks (another consumer in the same process) must go
/// on. Waits for the close.
pub async fn close(
    consumer: Arc<StreamConsumer<GroupContext>>,
) -> Result<(), tokio::task::JoinError> {
    tokio::task::spawn_blocking(move || drop(consumer)).await
}
