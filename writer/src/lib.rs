//! The writer: a Kafka consumer group that stores chat messages in Postgres.
//!
//! - [`config`]: settings from the environment.
//! - [`consumer`]: the consume loop, rebalances, the store stage, offset commits.
//! - `gather`: the first stage, gathering and preparing batches while it
//!   keeps serving rebalances.
//! - `staging`: the queue between the two stages, bounded by batches and bytes.
//! - [`persist`]: storing one batch idempotently (sequence, bulk insert, poison).
//! - [`store`]: the SQL of the insert.
//! - [`effects`]: what an edit, delete or reaction does to its message (same transaction).
//! - [`dlq`]: the dead-letter topic.
//! - [`batch`]: the batch being gathered, its offsets, and its records left
//!   out when their partition moved (ownership by generation is
//!   `chat_core::kafka::ownership`).
//! - [`metrics`]: Prometheus metrics (served with health and readiness by
//!   `chat_core::health`).
//! - [`error`]: the writer's error type.
//! - `crash`: crash points for fault tests (the `failpoints` feature).
//!
//! [`run`] is the whole service; `main` only reads the config and calls it.

pub mod batch;
pub mod config;
pub mod consumer;
mod crash;
pub mod dlq;
pub mod effects;
pub mod error;
mod gather;
pub mod metrics;
pub mod persist;
mod staging;
pub mod store;

use chat_core::Sequencer;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use config::WriterConfig;
pub use error::WriterError;

/// Runs the writer until `shutdown` is cancelled, serving health and metrics on
/// `listener`. On shutdown it stores and commits the batch in hand, then returns.
pub async fn run(
    config: WriterConfig,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> Result<(), WriterError> {
    metrics::handle();
    let pool = chat_core::db::lazy_pool(&config.database_url, config.db_max_connections)?;
    let sequencer = Sequencer::new(&config.sequencer, pool.clone())?;
    let dead_letters = dlq::DeadLetters::new(&config.kafka.brokers, &config.kafka.dlq_topic)?;
    let persister = persist::Persister::new(pool.clone(), sequencer, dead_letters);

    let tasks = TaskTracker::new();
    let http_shutdown = shutdown.child_token();
    tasks.spawn(chat_core::health::serve(
        listener,
        pool,
        http_shutdown.clone(),
    ));
    tasks.close();

    tracing::info!(
        kafka.topic = %config.kafka.topic,
        kafka.group = %config.group_id,
        batch.max_rows = config.batch_max_rows,
        batch.linger_ms = config.batch_linger_ms,
        fetch.wait_ms = config.fetch_wait_ms,
        "writer started"
    );
    let result = consumer::consume(&config, &persister, &shutdown).await;
    http_shutdown.cancel();
    tasks.wait().await;
    persister.pool().close().await;
    tracing::info!("writer stopped");
    result
}
