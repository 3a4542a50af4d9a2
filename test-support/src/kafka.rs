//! Kafka for tests: the shared broker, fresh topics per test, and small clients.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};
use uuid::Uuid;

/// Bootstrap address of the shared test broker (`TEST_KAFKA_BROKERS`).
pub fn brokers() -> String {
    crate::required_env("TEST_KAFKA_BROKERS")
}

/// Names of a test's own topics and consumer group.
#[derive(Debug, Clone)]
pub struct TestTopics {
    pub brokers: String,
    pub topic: String,
    pub dlq: String,
    pub group: String,
}

impl TestTopics {
    /// The project's Kafka settings pointing at these topics.
    pub fn config(&self) -> chat_core::kafka::KafkaConfig {
        chat_core::kafka::KafkaConfig {
            brokers: self.brokers.clone(),
            topic: self.topic.clone(),
            dlq_topic: self.dlq.clone(),
        }
    }
}

/// Creates `chat.messages.<uuid>` with `partitions` partitions and its DLQ topic.
pub async fn unique_topics(partitions: i32) -> TestTopics {
    let id = Uuid::new_v4().simple().to_string();
    let topics = TestTopics {
        brokers: brokers(),
        topic: format!("test.messages.{id}"),
        dlq: format!("test.messages.{id}.dlq"),
        group: format!("test.writer.{id}"),
    };
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", &topics.brokers)
        .create()
        .expect("admin client");
    let new = [
        NewTopic::new(&topics.topic, partitions, TopicReplication::Fixed(1)),
        NewTopic::new(&topics.dlq, 1, TopicReplication::Fixed(1)),
    ];
    let results = admin
        .create_topics(
            &new,
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(30))),
        )
        .await
        .expect("create topics");
    for result in results {
        result.expect("topic created");
    }
    topics
}

/// An idempotent, `acks=all` producer, as the gateway uses.
pub fn producer(brokers: &str) -> FutureProducer {
    chat_core::kafka::durable_producer(brokers)
        .create()
        .expect("producer")
}

/// Produces `payload` with `key` and waits for the delivery report; returns (partition, offset).
pub async fn produce(
    producer: &FutureProducer,
    topic: &str,
    key: &[u8],
    payload: &[u8],
) -> (i32, i64) {
    let delivery = producer
        .send(
            FutureRecord::to(topic).key(key).payload(payload),
            Duration::from_secs(10),
        )
        .await
        .map_err(|(e, _)| e)
        .expect("record delivered");
    (delivery.partition, delivery.offset)
}

/// Offsets the group has committed on `topic`, by partition (`None` when nothing is).
pub fn committed_offsets(
    brokers: &str,
    group: &str,
    topic: &str,
    partitions: i32,
) -> Vec<Option<i64>> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .create()
        .expect("consumer");
    let mut list = TopicPartitionList::new();
    for p in 0..partitions {
        list.add_partition(topic, p);
    }
    let committed = consumer
        .committed_offsets(list, Duration::from_secs(10))
        .expect("committed offsets");
    committed
        .elements()
        .iter()
        .map(|e| match e.offset() {
            Offset::Offset(o) => Some(o),
            _ => None,
        })
        .collect()
}

/// Every record of `topic` from the start (waits up to `timeout` for `at_least` of them).
pub fn read_all(
    brokers: &str,
    topic: &str,
    at_least: usize,
    timeout: Duration,
) -> Vec<rdkafka::message::OwnedMessage> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set(
            "group.id",
            format!("test.reader.{}", Uuid::new_v4().simple()),
        )
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    consumer.subscribe(&[topic]).expect("subscribe");
    let deadline = std::time::Instant::now() + timeout;
    let mut out = Vec::new();
    while std::time::Instant::now() < deadline && out.len() < at_least {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
            out.push(m.detach());
        }
    }
    out
}

/// One past the last record of each partition of `topic` (the high watermarks).
pub fn end_offsets(brokers: &str, topic: &str, partitions: i32) -> Vec<i64> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .expect("consumer");
    (0..partitions)
        .map(|p| {
            consumer
                .fetch_watermarks(topic, p, Duration::from_secs(10))
                .expect("watermarks")
                .1
        })
        .collect()
}

/// True when `group` has committed every record of `topic`: it has read and
/// finished with all there is (a partition it never committed counts as 0).
pub fn caught_up(brokers: &str, group: &str, topic: &str, partitions: i32) -> bool {
    let ends = end_offsets(brokers, topic, partitions);
    committed_offsets(brokers, group, topic, partitions)
        .into_iter()
        .zip(ends)
        .all(|(committed, end)| committed.unwrap_or(0) >= end)
}

/// The group's members and the partitions each one owns, when the group is
/// stable (no rebalance in progress); `None` while it rebalances.
pub fn group_assignment(brokers: &str, group: &str) -> Option<Vec<(String, Vec<i32>)>> {
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .expect("consumer");
    let list = consumer
        .fetch_group_list(Some(group), Duration::from_secs(10))
        .ok()?;
    let g = list.groups().first()?;
    if g.state() != "Stable" {
        return None;
    }
    g.members()
        .iter()
        .map(|m| {
            let mut partitions = assigned_partitions(m.assignment()?)?;
            partitions.sort_unstable();
            Some((m.id().to_owned(), partitions))
        })
        .collect()
}

/// Decodes the partitions of a consumer-protocol assignment (version, then
/// topics with their partitions; the user data after them is ignored).
fn assigned_partitions(bytes: &[u8]) -> Option<Vec<i32>> {
    fn take<const N: usize>(bytes: &mut &[u8]) -> Option<[u8; N]> {
        let (head, rest) = bytes.split_first_chunk::<N>()?;
        *bytes = rest;
        Some(*head)
    }
    let mut b = bytes;
    let _version = i16::from_be_bytes(take::<2>(&mut b)?);
    let topics = i32::from_be_bytes(take::<4>(&mut b)?);
    let mut partitions = Vec::new();
    for _ in 0..topics.max(0) {
        let name_len = i16::from_be_bytes(take::<2>(&mut b)?);
        b = b.get(usize::try_from(name_len).ok()?..)?;
        let count = i32::from_be_bytes(take::<4>(&mut b)?);
        for _ in 0..count.max(0) {
            partitions.push(i32::from_be_bytes(take::<4>(&mut b)?));
        }
    }
    Some(partitions)
}
