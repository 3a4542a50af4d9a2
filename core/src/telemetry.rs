//! Tracing set-up shared by the binaries: JSON or pretty logs filtered by `RUST_LOG`.

use tracing_subscriber::EnvFilter;

/// Libraries that log what passes through them (WebSocket frames with their
/// payloads, HTTP/2 frames) below DEBUG: capped whatever `RUST_LOG` says, so
/// that even `RUST_LOG=trace` logs no message body, token or ticket.
const PAYLOAD_LOGGERS: &[&str] = &["tungstenite=debug", "tokio_tungstenite=debug", "h2=debug"];

/// The filter of `directives` (`RUST_LOG`'s syntax), with the payload
/// loggers capped.
pub fn filter(directives: &str) -> EnvFilter {
    let mut filter = EnvFilter::new(directives);
    for cap in PAYLOAD_LOGGERS {
        if let Ok(directive) = cap.parse() {
            filter = filter.add_directive(directive);
        }
    }
    filter
}

/// Installs the global subscriber: `RUST_LOG`, or `default_filter` when it is
/// unset, through [`filter`]. `LOG_FORMAT=json` gives one JSON object per line.
pub fn init(default_filter: &str) {
    let directives = std::env::var("RUST_LOG").unwrap_or_else(|_| default_filter.to_owned());
    let builder = tracing_subscriber::fmt().with_env_filter(filter(&directives));
    if std::env::var("LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
}
