//! One gateway process for the memory benchmarks (`signup_flood`,
//! `idle_memory`): a fresh database, a Redis of its own and the test stack's
//! Kafka; started, waited for, and its resident memory read from `/proc`.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use test_support::{RedisServer, TestDatabase, free_port, required_env};
use tokio::process::{Child, Command};

/// A running gateway; killed when dropped.
#[derive(Debug)]
pub struct BenchGateway {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    pub pid: u32,
    child: Child,
    _db: TestDatabase,
    _redis: RedisServer,
}

impl BenchGateway {
    /// Starts `binary` with the environment a bench needs, then `env`, then
    /// the `KEY=VALUE` `settings` of the command line, and waits (30 s at
    /// most) until it answers `/healthz`.
    pub async fn start(
        binary: &Path,
        env: &[(&str, String)],
        settings: &[String],
    ) -> anyhow::Result<Self> {
        let db = TestDatabase::new().await;
        let redis = RedisServer::start();
        let port = free_port();
        let mut command = Command::new(binary);
        command
            .env("GATEWAY_ADDR", format!("127.0.0.1:{port}"))
            .env("DATABASE_URL", &db.url)
            .env("REDIS_URL", redis.url())
            .env("KAFKA_BROKERS", required_env("TEST_KAFKA_BROKERS"))
            .env(
                "JWT_SECRET",
                "bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz",
            )
            .env("COOKIE_SECURE", "false")
            .env("RUST_LOG", "warn")
            .kill_on_drop(true);
        for (key, value) in env {
            command.env(key, value);
        }
        for setting in settings {
            let (key, value) = setting.split_once('=').context("--set KEY=VALUE")?;
            command.env(key, value);
        }
        let child = command.spawn().context("start the gateway")?;
        let pid = child.id().context("gateway pid")?;
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let started = Instant::now();
        while http.get(format!("{base}/healthz")).send().await.is_err() {
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(30),
                "gateway not up"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(Self {
            base,
            pid,
            child,
            _db: db,
            _redis: redis,
        })
    }

    /// The gateway's resident memory (`VmRSS`), in KiB.
    pub fn rss_kib(&self) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .context("no VmRSS")
    }

    /// Kills the gateway and waits for it.
    pub async fn stop(mut self) {
        self.child.kill().await.ok();
    }
}
