//! Kafka client settings shared by every producer and consumer of the project.

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
        .set("linger.ms", "2")
        // a send that cannot be made durable fails within this bound (G3)
        .set("message.timeout.ms", "10000")
        .set("client.id", "chat");
    config
}
