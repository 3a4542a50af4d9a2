//! The gateway's Prometheus metrics: names, descriptions and the exporter.

use metrics_exporter_prometheus::PrometheusHandle;

pub const CONNECTIONS: &str = "gateway_ws_connections";
pub const MESSAGES_SENT: &str = "gateway_messages_sent_total";
pub const SEND_FAILURES: &str = "gateway_send_failures_total";
pub const SEND_SECONDS: &str = "gateway_send_duration_seconds";
/// One stage of the send path (label `stage`: `check`, `dedupe`, `produce`, `sequence`).
pub const SEND_STAGE_SECONDS: &str = "gateway_send_stage_seconds";
/// From a message's `sent_at` to its record reaching this gateway's relay.
pub const RELAY_LAG_SECONDS: &str = "gateway_relay_lag_seconds";
pub const FRAMES_DELIVERED: &str = "gateway_frames_delivered_total";
pub const RESYNCS: &str = "gateway_resyncs_total";
pub const ROOM_SUBSCRIPTIONS: &str = "gateway_room_subscriptions";
pub const HASHES_IN_FLIGHT: &str = "gateway_password_hashes_in_flight";
pub const HASHES_REFUSED: &str = "gateway_password_hashes_refused_total";

/// A stage of the send path, as labelled in [`SEND_STAGE_SECONDS`].
#[derive(Debug, Clone, Copy)]
pub enum Stage {
    Check,
    Dedupe,
    Produce,
    Sequence,
}

impl Stage {
    /// Every stage, in the order of their discriminants.
    const ALL: [Self; 4] = [Self::Check, Self::Dedupe, Self::Produce, Self::Sequence];

    /// Its `stage` label.
    fn label(self) -> &'static str {
        match self {
            Self::Check => "check",
            Self::Dedupe => "dedupe",
            Self::Produce => "produce",
            Self::Sequence => "sequence",
        }
    }
}

/// The send path's metric handles, looked up once per gateway: a macro call
/// builds its key (with its label) and finds it in the registry at every
/// send, 2 to 3 % of a gateway's samples in rooms of one at 1,000 sends/s.
pub struct SendMetrics {
    seconds: metrics::Histogram,
    sent: metrics::Counter,
    failures: metrics::Counter,
    /// By [`Stage`], indexed by its discriminant.
    stages: [metrics::Histogram; Stage::ALL.len()],
}

impl SendMetrics {
    /// Handles on the process-wide recorder ([`handle`] installs it first).
    pub fn new() -> Self {
        handle();
        Self {
            seconds: metrics::histogram!(SEND_SECONDS),
            sent: metrics::counter!(MESSAGES_SENT),
            failures: metrics::counter!(SEND_FAILURES),
            stages: Stage::ALL
                .map(|stage| metrics::histogram!(SEND_STAGE_SECONDS, "stage" => stage.label())),
        }
    }

    /// A whole send, from its frame to its ack (`ok`) or its error.
    pub fn send(&self, started: std::time::Instant, ok: bool) {
        self.seconds.record(started.elapsed().as_secs_f64());
        if ok {
            self.sent.increment(1);
        } else {
            self.failures.increment(1);
        }
    }

    /// One stage of a send that succeeded, begun at `started`.
    pub fn stage(&self, stage: Stage, started: std::time::Instant) {
        self.stages[stage as usize].record(started.elapsed().as_secs_f64());
    }
}

impl std::fmt::Debug for SendMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendMetrics").finish_non_exhaustive()
    }
}

impl Default for SendMetrics {
    fn default() -> Self {
        Self::new()
    }
}

/// The process-wide recorder (shared with whatever else runs in the process).
pub fn handle() -> &'static PrometheusHandle {
    // fine below 10 ms, where a send's stages on one host fall
    const LATENCY: &[f64] = &[
        0.00025, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.0025, 0.003, 0.004, 0.005, 0.0075, 0.01,
        0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
    ];
    chat_core::health::recorder(
        &[
            (SEND_SECONDS, LATENCY),
            (SEND_STAGE_SECONDS, LATENCY),
            (RELAY_LAG_SECONDS, LATENCY),
        ],
        describe,
    )
}

fn describe() {
    metrics::describe_gauge!(CONNECTIONS, "Open WebSocket connections");
    metrics::describe_counter!(MESSAGES_SENT, "Messages acknowledged to their sender");
    metrics::describe_counter!(SEND_FAILURES, "Sends answered with an error");
    metrics::describe_histogram!(
        SEND_SECONDS,
        metrics::Unit::Seconds,
        "Time from a send frame to its ack or error (claim, Kafka delivery, sequencer)"
    );
    metrics::describe_histogram!(
        SEND_STAGE_SECONDS,
        metrics::Unit::Seconds,
        "One stage of a send: check (membership and the stored lookup at once, slow mode), dedupe (the event's checks, the claim), produce (until Kafka's delivery report) or sequence (the Redis script)"
    );
    metrics::describe_histogram!(
        RELAY_LAG_SECONDS,
        metrics::Unit::Seconds,
        "From a message's sent_at (before the produce) to its sequenced record reaching this gateway"
    );
    metrics::describe_counter!(FRAMES_DELIVERED, "Room frames written to sockets");
    metrics::describe_counter!(RESYNCS, "Resync orders sent to lagging clients");
    metrics::describe_gauge!(
        ROOM_SUBSCRIPTIONS,
        "Rooms this instance is subscribed to in Redis"
    );
    metrics::describe_gauge!(
        HASHES_IN_FLIGHT,
        "Password hashes (argon2id) running now; at most PASSWORD_HASH_CONCURRENCY"
    );
    metrics::describe_counter!(
        HASHES_REFUSED,
        "Sign-ups and logins refused with 503 because every hashing slot and queue place was taken"
    );
}

#[cfg(test)]
mod tests {
    use super::Stage;

    #[test]
    fn every_stage_is_listed_at_its_discriminant() {
        for (i, stage) in Stage::ALL.into_iter().enumerate() {
            assert_eq!(stage as usize, i, "{stage:?}");
        }
    }
}
