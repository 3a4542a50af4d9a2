//! A dedicated Kafka broker for a test that stops it: the project's own
//! `scripts/kafka.sh` with a data directory of its own and free ports.

use std::path::{Path, PathBuf};
use std::process::Command;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/kafka.sh");
/// Where `scripts/kafka.sh` caches the broker's classpath: `$STACK_DIR` when
/// set, else the repository's `.stack` (where `make test` has resolved it).
fn stack_dir() -> PathBuf {
    std::env::var_os("STACK_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../.stack"),
        PathBuf::from,
    )
}
/// A test broker's heap: a few topics and a few thousand small records.
const HEAP: &str = "-Xms64m -Xmx256m";

/// A running one-node KRaft broker that stops with this value. It is started
/// with `topic` and `dlq` created (8 partitions and 1).
#[derive(Debug)]
pub struct KafkaServer {
    port: u16,
    controller_port: u16,
    topic: String,
    dlq: String,
    dir: tempfile::TempDir,
}

impl KafkaServer {
    /// Formats storage, starts the broker and creates the two topics (tens of
    /// seconds: each step starts a JVM).
    pub fn start(topic: &str, dlq: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("chat-kafka-")
            .tempdir()
            .expect("temp dir");
        let server = Self {
            port: crate::free_port(),
            controller_port: crate::free_port(),
            topic: topic.to_owned(),
            dlq: dlq.to_owned(),
            dir,
        };
        server.start_again();
        server
    }

    /// `127.0.0.1:PORT`, for `bootstrap.servers`.
    pub fn brokers(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Stops the broker (SIGTERM, a controlled shutdown) and waits until it is gone.
    pub fn stop(&self) {
        self.script("down");
    }

    /// Starts the stopped broker on the same ports and data, and waits until it answers.
    pub fn start_again(&self) {
        self.script("up");
    }

    /// The broker's log so far, for a failing test's message.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data().join("kafka.log")).unwrap_or_default()
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("kafka")
    }

    fn script(&self, command: &str) {
        let output = Command::new("bash")
            .arg(SCRIPT)
            .arg(command)
            .env("STACK_DIR", stack_dir())
            .env("KAFKA_DIR", self.data())
            .env("KAFKA_PORT", self.port.to_string())
            .env("KAFKA_CONTROLLER_PORT", self.controller_port.to_string())
            .env("KAFKA_TOPIC", &self.topic)
            .env("KAFKA_DLQ_TOPIC", &self.dlq)
            .env("KAFKA_TOPIC_CONFIG", "")
            .env("KAFKA_HEAP_OPTS", HEAP)
            .env("KAFKA_STOP_TIMEOUT", "20")
            .output()
            .expect("bash runs scripts/kafka.sh");
        assert!(
            output.status.success(),
            "scripts/kafka.sh {command} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for KafkaServer {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(SCRIPT)
            .arg("down")
            .env("STACK_DIR", stack_dir())
            .env("KAFKA_DIR", self.data())
            .env("KAFKA_PORT", self.port.to_string())
            .env("KAFKA_STOP_TIMEOUT", "5")
            .output();
    }
}
