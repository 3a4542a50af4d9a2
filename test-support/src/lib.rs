//! Real services for the project's tests: no mocks.
//!
//! `make test` starts one shared Postgres and Kafka and exports where they are
//! (`TEST_DATABASE_URL`, `TEST_KAFKA_BROKERS`). Tests isolate themselves on the
//! shared services ([`TestDatabase`]: a fresh database each; [`kafka::unique_topics`]:
//! fresh topics and group ids each) and start dedicated processes when they need
//! to break one ([`PostgresServer`], [`RedisServer`], [`KafkaServer`]: real
//! servers on free ports).
//! [`NginxServer`] puts the project's nginx config in front of test gateways.
//! [`FakeOllama`] speaks Ollama's HTTP API for the bot's tests (Ollama cannot
//! be installed here).
//! [`wait_until`] waits on a condition with a deadline, never on a fixed sleep.

pub mod bench_summary;
pub mod kafka;
pub mod kafka_server;
pub mod nginx;
pub mod ollama;
pub mod postgres;
pub mod redis_server;
pub mod wait;

pub use kafka_server::KafkaServer;
pub use nginx::NginxServer;
pub use ollama::{FakeOllama, Script};
pub use postgres::{PostgresServer, TestDatabase};
pub use redis_server::RedisServer;
pub use wait::wait_until;

/// A required variable exported by `make test`, with a clear message when missing.
pub fn required_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests through `make test`, which starts the services")
    })
}

/// A benchmark's setting: the variable `name` as a number, else `default`.
pub fn bench_setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A port nobody uses right now, below the kernel's ephemeral range (32768+):
/// a port from that range can be taken by an outgoing connection between this
/// call and the moment the service binds it.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    // spread over processes (test binaries run one after another, tests in
    // parallel threads), then walk from there
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let start = 20_000 + (std::process::id() as u16).wrapping_mul(7919) % 12_000;
    for _ in 0..12_000 {
        let offset = NEXT.fetch_add(1, Ordering::Relaxed) % 12_700;
        let port = 20_000 + (start - 20_000 + offset) % 12_700;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port between 20000 and 32699")
}
