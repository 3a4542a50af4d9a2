//! The writer's Prometheus metrics: names, descriptions and the exporter.

use chrono::{DateTime, Utc};
use metrics_exporter_prometheus::PrometheusHandle;

pub const BATCHES: &str = "writer_batches_total";
pub const BATCH_SIZE: &str = "writer_batch_size_records";
pub const ROWS_STORED: &str = "writer_rows_stored_total";
pub const ROWS_ALREADY_STORED: &str = "writer_rows_already_stored_total";
pub const INSERT_SECONDS: &str = "writer_insert_duration_seconds";
pub const CONSUMER_LAG: &str = "writer_consumer_lag_records";
pub const DLQ_RECORDS: &str = "writer_dlq_records_total";
pub const RETRIES: &str = "writer_batch_retries_total";
pub const PARTITIONS_OWNED: &str = "writer_partitions_owned";
pub const RECORDS_ABANDONED: &str = "writer_records_abandoned_total";
pub const COMMIT_LAG: &str = "writer_commit_lag_seconds";

/// The process-wide recorder (shared with whatever else runs in the process).
pub fn handle() -> &'static PrometheusHandle {
    chat_core::health::recorder(
        &[
            (
                BATCH_SIZE,
                &[1.0, 10.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0],
            ),
            (
                INSERT_SECONDS,
                &[
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                ],
            ),
            (
                COMMIT_LAG,
                &[
                    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 2.5, 5.0,
                    10.0,
                ],
            ),
        ],
        describe,
    )
}

/// Records [`COMMIT_LAG`] for rows whose transaction committed at
/// `committed`: one sample per row, from the row's `sent_at` (the gateway's
/// clock, before the produce). A row sent "after" its commit (clocks of two
/// hosts apart) counts as 0.
pub fn record_commit_lag(committed: DateTime<Utc>, sent: impl IntoIterator<Item = DateTime<Utc>>) {
    let histogram = metrics::histogram!(COMMIT_LAG);
    for sent_at in sent {
        let lag = (committed - sent_at).to_std().unwrap_or_default();
        histogram.record(lag.as_secs_f64());
    }
}

fn describe() {
    metrics::describe_counter!(BATCHES, "Batches stored");
    metrics::describe_histogram!(BATCH_SIZE, "Records per batch");
    metrics::describe_counter!(ROWS_STORED, "Message rows inserted");
    metrics::describe_counter!(
        ROWS_ALREADY_STORED,
        "Redelivered records whose message was stored before"
    );
    metrics::describe_histogram!(
        INSERT_SECONDS,
        metrics::Unit::Seconds,
        "Insert and commit time per batch"
    );
    metrics::describe_histogram!(
        COMMIT_LAG,
        metrics::Unit::Seconds,
        "Per stored message row: from its sent_at (set by the gateway before the produce) \
         to its Postgres transaction's commit"
    );
    metrics::describe_gauge!(
        CONSUMER_LAG,
        "Records behind the partition's end, by partition"
    );
    metrics::describe_counter!(DLQ_RECORDS, "Records sent to the dead-letter topic");
    metrics::describe_gauge!(PARTITIONS_OWNED, "Partitions this writer owns now");
    metrics::describe_counter!(
        RECORDS_ABANDONED,
        "Records left unstored and uncommitted because their partition was revoked"
    );
    metrics::describe_counter!(
        RETRIES,
        "Batch tries that failed on a dependency and were retried"
    );
}
