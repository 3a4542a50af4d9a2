//! The bot's Prometheus metrics: names, descriptions and the exporter.

use metrics_exporter_prometheus::PrometheusHandle;

pub const MENTIONS: &str = "bot_mentions_total";
pub const MODEL_FAILURES: &str = "bot_model_failures_total";
pub const REPLY_SECONDS: &str = "bot_reply_duration_seconds";
pub const DRAFTS: &str = "bot_drafts_published_total";
pub const RETRIES: &str = "bot_mention_retries_total";
pub const CONSUMER_LAG: &str = "bot_consumer_lag_records";
pub const PARTITIONS_OWNED: &str = "bot_partitions_owned";

/// The process-wide recorder (shared with whatever else runs in the process).
pub fn handle() -> &'static PrometheusHandle {
    chat_core::health::recorder(
        &[(
            REPLY_SECONDS,
            &[0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0],
        )],
        describe,
    )
}

fn describe() {
    metrics::describe_counter!(
        MENTIONS,
        "Messages that mention the bot, by outcome (replied, notice, silent, rate_limited, ...)"
    );
    metrics::describe_counter!(MODEL_FAILURES, "Replies the model did not give, by reason");
    metrics::describe_histogram!(
        REPLY_SECONDS,
        metrics::Unit::Seconds,
        "Time from asking the model to its last token"
    );
    metrics::describe_counter!(DRAFTS, "Draft frames published");
    metrics::describe_counter!(RETRIES, "Mentions tried again after a dependency outage");
    metrics::describe_gauge!(
        CONSUMER_LAG,
        "Records behind the partition's end, by partition"
    );
    metrics::describe_gauge!(PARTITIONS_OWNED, "Partitions this bot owns now");
}
