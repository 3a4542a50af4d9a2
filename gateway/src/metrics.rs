//! The gateway's Prometheus metrics: names, descriptions and the exporter.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

pub const CONNECTIONS: &str = "gateway_ws_connections";
pub const MESSAGES_SENT: &str = "gateway_messages_sent_total";
pub const SEND_FAILURES: &str = "gateway_send_failures_total";
pub const FRAMES_DELIVERED: &str = "gateway_frames_delivered_total";
pub const RESYNCS: &str = "gateway_resyncs_total";
pub const ROOM_SUBSCRIPTIONS: &str = "gateway_room_subscriptions";

/// The process-wide recorder, installed on first use.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_ok() {
            metrics::describe_gauge!(CONNECTIONS, "Open WebSocket connections");
            metrics::describe_counter!(MESSAGES_SENT, "Messages acknowledged to their sender");
            metrics::describe_counter!(SEND_FAILURES, "Sends answered with an error");
            metrics::describe_counter!(FRAMES_DELIVERED, "Room frames written to sockets");
            metrics::describe_counter!(RESYNCS, "Resync orders sent to lagging clients");
            metrics::describe_gauge!(
                ROOM_SUBSCRIPTIONS,
                "Rooms this instance is subscribed to in Redis"
            );
        }
        handle
    })
}
