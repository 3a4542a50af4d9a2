//! The bot's Prometheus metrics: names, descriptions and the exporter.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub const MENTIONS: &str = "bot_mentions_total";
pub const MODEL_FAILURES: &str = "bot_model_failures_total";
pub const REPLY_SECONDS: &str = "bot_reply_duration_seconds";
pub const DRAFTS: &str = "bot_drafts_published_total";
pub const RETRIES: &str = "bot_mention_retries_total";

/// The process-wide recorder, installed on first use.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full(REPLY_SECONDS.into()),
                &[0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0],
            )
            .map(PrometheusBuilder::build_recorder)
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_ok() {
            describe();
        }
        handle
    })
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
}
