//! Tracing set-up shared by the binaries: JSON or pretty logs filtered by `RUST_LOG`.

use tracing_subscriber::EnvFilter;

/// Libraries that log what passes through them (WebSocket frames with their
/// payloads, HTTP/2 frames) at TRACE: capped at DEBUG whatever `RUST_LOG`
/// says, so that even `RUST_LOG=trace` logs no message body, token or ticket.
/// A cap only lowers: under `RUST_LOG=warn` they stay at WARN.
const PAYLOAD_LOGGERS: [&str; 3] = ["tungstenite", "tokio_tungstenite", "h2"];

/// The filter of `directives` (`RUST_LOG`'s syntax), with the payload
/// loggers capped.
pub fn filter(directives: &str) -> EnvFilter {
    let tracing = tracing_at_trace(directives);
    let mut filter = EnvFilter::new(directives);
    for (target, at_trace) in PAYLOAD_LOGGERS.iter().zip(tracing) {
        if at_trace && let Ok(directive) = format!("{target}=debug").parse() {
            filter = filter.add_directive(directive);
        }
    }
    filter
}

/// Whether `directives` let each of [`PAYLOAD_LOGGERS`] log at TRACE, asked
/// of the filter itself (a callsite's target is a literal, hence three).
fn tracing_at_trace(directives: &str) -> [bool; 3] {
    use tracing::Level;
    use tracing_subscriber::layer::SubscriberExt;
    let subscriber = tracing_subscriber::registry().with(EnvFilter::new(directives));
    tracing::subscriber::with_default(subscriber, || {
        [
            tracing::enabled!(target: "tungstenite", Level::TRACE),
            tracing::enabled!(target: "tokio_tungstenite", Level::TRACE),
            tracing::enabled!(target: "h2", Level::TRACE),
        ]
    })
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

#[cfg(test)]
mod tests {
    use tracing::Level;
    use tracing_subscriber::layer::SubscriberExt;

    use super::filter;

    fn under<T>(directives: &str, check: impl FnOnce() -> T) -> T {
        let subscriber = tracing_subscriber::registry().with(filter(directives));
        tracing::subscriber::with_default(subscriber, check)
    }

    #[test]
    fn a_quiet_filter_stays_quiet_for_the_payload_loggers() {
        under("warn", || {
            assert!(tracing::enabled!(target: "tungstenite::protocol", Level::WARN));
            assert!(!tracing::enabled!(target: "tungstenite::protocol", Level::INFO));
            assert!(!tracing::enabled!(target: "tokio_tungstenite", Level::DEBUG));
            assert!(!tracing::enabled!(target: "h2::codec", Level::DEBUG));
        });
        under("info,librdkafka=warn", || {
            assert!(tracing::enabled!(target: "chat_gateway", Level::INFO));
            assert!(!tracing::enabled!(target: "tungstenite::protocol", Level::DEBUG));
        });
    }

    #[test]
    fn trace_is_capped_at_debug_for_the_payload_loggers_only() {
        under("trace", || {
            assert!(tracing::enabled!(target: "chat_gateway", Level::TRACE));
            assert!(tracing::enabled!(target: "tungstenite::protocol", Level::DEBUG));
            assert!(!tracing::enabled!(target: "tungstenite::protocol", Level::TRACE));
            assert!(!tracing::enabled!(target: "tokio_tungstenite", Level::TRACE));
            assert!(!tracing::enabled!(target: "h2::codec", Level::TRACE));
        });
        under("warn,tungstenite=trace", || {
            assert!(!tracing::enabled!(target: "tungstenite::protocol", Level::TRACE));
            assert!(tracing::enabled!(target: "tungstenite::protocol", Level::DEBUG));
        });
    }
}
