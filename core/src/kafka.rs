//! Kafka client settings shared by every producer and consumer of the project.
//!
//! - [`group`]: the group consumer's context, creation and close, shared by
//!   the writer and the bot.
//! - [`ownership`]: which partitions a consumer owns, under which generation.

pub mod group;
pub mod ownership;

use rdkafka::ClientConfig;

/// Where the brokers are and what the topics are called.
#[derive(Debug, Clone, clap::Args)]
pub struct KafkaConfig {
    /// Comma-separated bootstrap brokers, e.g. `127.0.0.1:19092`.
    #[arg(long = "kafka-brokers", env = "KAFKA_BROKERS")]
    pub brokers: String,
    /// The topic every sent message is produced to.
    #[arg(
        long = "kafka-topic",
        env = "KAFKA_TOPIC",
        default_value = "chat.messages"
    )]
    pub topic: String,
    /// Where records that can never be stored go, with their coordinates and error.
    #[arg(
        long = "kafka-dlq-topic",
        env = "KAFKA_DLQ_TOPIC",
        default_value = "chat.messages.dlq"
    )]
    pub dlq_topic: String,
}

/// Settings for a producer whose acknowledged records survive a broker failover
/// and are never written twice by its own retries.
pub fn durable_producer(brokers: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", brokers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("compression.type", "lz4")
        // no waiting to batch: a send's ack waits for this record's delivery
        // report, and records batch anyway while earlier requests are in
        // flight (the gateway's is KAFKA_LINGER_MS)
        .set("linger.ms", "0")
        // a send that cannot be made durable fails within this bound (G3)
        .set("message.timeout.ms", "10000")
        .set("client.id", "chat");
    config
}

/// The membership of a consumer group: which group, this instance's stable
/// id (static membership), and how long a silent member keeps its partitions.
#[derive(Debug, Clone, Copy)]
pub struct GroupMember<'a> {
    pub group_id: &'a str,
    pub instance_id: Option<&'a str>,
    pub session_timeout_ms: u64,
    pub client_id: &'a str,
}

/// A group consumer's fetch is answered once this much is there, or when its
/// wait (`fetch.wait.max.ms`, the caller's) is up. With librdkafka's default
/// (one byte) a steady trickle of records is a fetch answered, and another
/// sent, per record: at 200 messages/s the writer's fetches were a third of
/// the broker's CPU (BENCHMARKS.md, session 18). 256 KiB is several hundred
/// records of a typical message, about a writer's batch, and well under the
/// 1 MiB one partition's share of a fetch may return, so a consumer catching
/// up on few partitions never waits out the wait. A writer catching up pauses
/// its partitions more often with bigger fetches; since its queue of prepared
/// batches is deep enough to outlast a resume, that costs its rate 2 to 5 %
/// against one byte, within the runs' spread (BENCHMARKS.md, session 20; with
/// a queue of four batches it cost the sequencing path 23 %, session 19).
pub const FETCH_MIN_BYTES: usize = 256 * 1024;

/// Settings for a group consumer that stores its offsets by hand, only past
/// finished work (`enable.auto.offset.store=false`), reads a new group from
/// the start, and rebalances cooperatively. Commits are the caller's choice.
/// The broker holds each fetch up to `fetch_wait_ms` for [`FETCH_MIN_BYTES`].
pub fn group_consumer(brokers: &str, member: GroupMember<'_>, fetch_wait_ms: u64) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", brokers)
        .set("fetch.wait.max.ms", fetch_wait_ms.to_string())
        .set("fetch.min.bytes", FETCH_MIN_BYTES.to_string())
        .set("group.id", member.group_id)
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("partition.assignment.strategy", "cooperative-sticky")
        .set("session.timeout.ms", member.session_timeout_ms.to_string())
        .set(
            "heartbeat.interval.ms",
            (member.session_timeout_ms / 4).max(500).to_string(),
        )
        .set("client.id", member.client_id);
    if let Some(instance) = member.instance_id {
        config.set("group.instance.id", instance);
    }
    config
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_consumer_fetches_with_the_wait_it_is_given() {
        let member = GroupMember {
            group_id: "g",
            instance_id: None,
            session_timeout_ms: 10_000,
            client_id: "c",
        };
        let config = group_consumer("b:9092", member, 100);
        assert_eq!(config.get("fetch.wait.max.ms"), Some("100"));
        assert_eq!(config.get("fetch.min.bytes"), Some("262144"));
    }
}
