//! The writer's settings, read from the environment (see `env.sample`).

use std::net::SocketAddr;
use std::time::Duration;

use chat_core::kafka::KafkaConfig;
use chat_core::sequencer::SequencerConfig;

/// Everything the writer needs to run.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "writer", about = "Stores chat messages from Kafka in Postgres")]
pub struct WriterConfig {
    /// Postgres the messages are stored in.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: String,
    /// Connections the writer keeps to Postgres.
    #[arg(long, env = "WRITER_DB_MAX_CONNECTIONS", default_value_t = 4)]
    pub db_max_connections: u32,
    #[command(flatten)]
    pub kafka: KafkaConfig,
    #[command(flatten)]
    pub sequencer: SequencerConfig,
    /// Consumer group shared by every writer instance.
    #[arg(long, env = "WRITER_GROUP_ID", default_value = "chat-writer")]
    pub group_id: String,
    /// Stable identity of this instance in the group (static membership): a
    /// restarted instance takes its partitions back without a rebalance.
    #[arg(long, env = "WRITER_GROUP_INSTANCE_ID")]
    pub group_instance_id: Option<String>,
    /// How long the group waits for a silent member before moving its partitions.
    #[arg(long, env = "WRITER_SESSION_TIMEOUT_MS", default_value_t = 10_000)]
    pub session_timeout_ms: u64,
    /// Most records in one batch.
    #[arg(long, env = "WRITER_BATCH_MAX_ROWS", default_value_t = 1000)]
    pub batch_max_rows: usize,
    /// Most payload bytes in one batch.
    #[arg(long, env = "WRITER_BATCH_MAX_BYTES", default_value_t = 4 * 1024 * 1024)]
    pub batch_max_bytes: usize,
    /// How long the first record of a batch waits for others, in milliseconds.
    /// Each batch costs about seven statements, a Redis pipeline and an offset
    /// commit whatever its size, so batches should be few; since the broker
    /// holds each fetch (`WRITER_FETCH_WAIT_MS`), records come in bunches and
    /// a short linger gathers one: at 200 messages/s, 10 ms with a 100 ms
    /// fetch wait costs all servers 14 % less than 100 ms without one, rows
    /// as soon (BENCHMARKS.md, session 18). Nobody waits for the row: live
    /// delivery, resume and a target's checks read Redis.
    #[arg(long, env = "WRITER_BATCH_LINGER_MS", default_value_t = 10)]
    pub batch_linger_ms: u64,
    /// How long the broker holds a fetch for more records, in milliseconds; it
    /// answers earlier once 256 KiB of records are there.
    /// With librdkafka's defaults a fetch was answered per record: at 200
    /// messages/s, a third of the broker's CPU (BENCHMARKS.md, session 18).
    #[arg(long, env = "WRITER_FETCH_WAIT_MS", default_value_t = 100,
          value_parser = clap::value_parser!(u64).range(0..=300_000))]
    pub fetch_wait_ms: u64,
    /// Longest pause between two tries of a batch while a dependency is down, in milliseconds.
    #[arg(long, env = "WRITER_RETRY_MAX_BACKOFF_MS", default_value_t = 5_000)]
    pub retry_max_backoff_ms: u64,
    /// Address of the health and metrics endpoint.
    #[arg(long, env = "WRITER_HTTP_ADDR", default_value = "127.0.0.1:9100")]
    pub http_addr: SocketAddr,
}

impl WriterConfig {
    pub fn linger(&self) -> Duration {
        Duration::from_millis(self.batch_linger_ms)
    }

    pub fn max_backoff(&self) -> Duration {
        Duration::from_millis(self.retry_max_backoff_ms.max(10))
    }
}
