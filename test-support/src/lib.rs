//! Real services for the project's tests: no mocks.
//!
//! `make test` starts one shared Postgres and Kafka and exports where they are
//! (`TEST_DATABASE_URL`, `TEST_KAFKA_BROKERS`). Tests isolate themselves on the
//! shared services ([`TestDatabase`]: a fresh database each; [`kafka::unique_topics`]:
//! fresh topics and group ids each) and start dedicated processes when they need
//! to break one ([`PostgresServer`], [`RedisServer`]: real servers on free ports).
//! [`NginxServer`] puts the project's nginx config in front of test gateways.
//! [`wait_until`] waits on a condition with a deadline, never on a fixed sleep.

pub mod kafka;
pub mod nginx;
pub mod postgres;
pub mod redis_server;
pub mod wait;

pub use nginx::NginxServer;
pub use postgres::{PostgresServer, TestDatabase};
pub use redis_server::RedisServer;
pub use wait::wait_until;

/// A required variable exported by `make test`, with a clear message when missing.
pub fn required_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests through `make test`, which starts the services")
    })
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("the OS gives a free port")
}
