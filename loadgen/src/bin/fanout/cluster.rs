//! The chat under test: gateways and a writer started as children of the
//! load generator on a fresh database, a Redis of their own and a topic of
//! their own on the test stack's Kafka; the server processes whose cost is
//! read from `/proc` (the stack's Postgres and Kafka by their pid files).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use test_support::{RedisServer, TestDatabase, free_port, kafka};
use tokio::process::{Child, Command};

use crate::procstat::{Watched, pid_from_file};

/// The Origin the gateways accept from the load generator.
pub const ORIGIN: &str = "http://fanout.bench";

/// The running services; killed when dropped.
pub struct Cluster {
    pub bases: Vec<String>,
    /// The writer's health and metrics (`http://host:port`).
    pub writer_base: String,
    pub watched: Vec<Watched>,
    _children: Vec<Child>,
    db: TestDatabase,
    _redis: RedisServer,
}

/// How big the run is, for the limits the gateways are started with.
#[derive(Debug, Clone, Copy)]
pub struct Size {
    pub gateways: usize,
    pub users: usize,
    pub connections: usize,
    pub rooms: usize,
}

impl Cluster {
    /// Starts `size.gateways` gateways and one writer from `bin_dir`, and waits
    /// until each answers `/readyz`. `stack_dir`: the test stack's directory
    /// (`scripts/stack.sh`), to count Postgres and Kafka too.
    pub async fn start(
        bin_dir: &Path,
        size: Size,
        stack_dir: Option<&Path>,
    ) -> anyhow::Result<Self> {
        let db = TestDatabase::new().await;
        let redis = RedisServer::start();
        let topics = kafka::unique_topics(4).await;
        let common = [
            ("DATABASE_URL", db.url.clone()),
            ("REDIS_URL", redis.url()),
            ("KAFKA_BROKERS", topics.brokers.clone()),
            ("KAFKA_TOPIC", topics.topic.clone()),
            ("KAFKA_DLQ_TOPIC", topics.dlq.clone()),
            ("RUST_LOG", "warn".to_owned()),
        ];
        // Bench-only limits: one address signs up every user and opens every
        // connection, and senders go faster than a person. Never the defaults.
        let headroom = |n: usize| (n + 10).to_string();
        let gateway_env = [
            (
                "JWT_SECRET",
                "fanout-bench-secret-0123456789-abcdefghijklmnop".to_owned(),
            ),
            ("COOKIE_SECURE", "false".to_owned()),
            ("ALLOWED_ORIGINS", ORIGIN.to_owned()),
            ("SIGNUP_MAX_PER_ADDRESS", headroom(size.users)),
            ("SIGNUP_MAX_PER_MINUTE", headroom(size.users)),
            ("WS_MAX_CONNECTIONS_PER_ADDRESS", headroom(size.connections)),
            ("WS_MESSAGES_PER_SEC", "1000".to_owned()),
            ("WS_MESSAGES_BURST", "1000".to_owned()),
            ("ROOMS_CREATED_PER_HOUR", headroom(size.rooms)),
            ("ROOMS_OWNED_MAX", headroom(size.rooms)),
            // the gateways share the machine's cores: each gets its share
            (
                "GATEWAY_WORKER_THREADS",
                loadgen::gateway_worker_threads(size.gateways),
            ),
        ];
        let mut children = Vec::new();
        let mut watched = Vec::new();
        let mut bases = Vec::new();
        let mut ready = Vec::new();
        for n in 1..=size.gateways {
            let port = free_port();
            let mut command = Command::new(bin_dir.join("gateway"));
            command
                .envs(common.iter().cloned())
                .envs(gateway_env.iter().cloned())
                .env("GATEWAY_ADDR", format!("127.0.0.1:{port}"))
                .env("GATEWAY_INSTANCE_ID", format!("gateway-{n}"));
            let child = spawn(command)?;
            watched.push(Watched {
                name: format!("gateway-{n}"),
                pid: child.id().unwrap_or_default(),
                with_children: false,
            });
            children.push(child);
            bases.push(format!("http://127.0.0.1:{port}"));
            ready.push(format!("http://127.0.0.1:{port}/readyz"));
        }
        let writer_port = free_port();
        let mut command = Command::new(bin_dir.join("writer"));
        command
            .envs(common.iter().cloned())
            .env("WRITER_HTTP_ADDR", format!("127.0.0.1:{writer_port}"))
            .env("WRITER_GROUP_ID", &topics.group);
        let child = spawn(command)?;
        watched.push(Watched {
            name: "writer".into(),
            pid: child.id().unwrap_or_default(),
            with_children: false,
        });
        children.push(child);
        let writer_base = format!("http://127.0.0.1:{writer_port}");
        ready.push(format!("{writer_base}/readyz"));
        if let Some(pid) = redis.pid() {
            watched.push(Watched {
                name: "redis".into(),
                pid,
                with_children: false,
            });
        }
        if let Some(dir) = stack_dir {
            let infra = [
                ("postgres", "postgres/data/postmaster.pid", true),
                ("kafka", "kafka/kafka.pid", false),
            ];
            for (name, file, with_children) in infra {
                if let Some(pid) = pid_from_file(&dir.join(file)) {
                    watched.push(Watched {
                        name: name.into(),
                        pid,
                        with_children,
                    });
                }
            }
        }
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(90);
        for url in ready {
            while !http
                .get(&url)
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                anyhow::ensure!(Instant::now() < deadline, "{url} not ready after 90 s");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        Ok(Self {
            bases,
            writer_base,
            watched,
            _children: children,
            db,
            _redis: redis,
        })
    }

    /// Stores `per_room` earlier messages in each room (seqs from 1, sent a
    /// day ago), then analyses the table, as a service that has been running
    /// has both. On an empty, never analysed table the writer's per-batch
    /// lookups are planned as sequential scans, and the table a run fills
    /// made each one slower. Call it before any message is sent.
    pub async fn store_history(&self, per_room: u32) -> anyhow::Result<()> {
        let stored = sqlx::query(
            "INSERT INTO messages (id, room_id, seq, sender_id, client_msg_id, kind, body, sent_at)
             SELECT gen_random_uuid(), r.room_id, g, r.sender_id,
                    'history-' || r.room_id || '-' || g, 'user',
                    'an earlier message of this room, number ' || g,
                    now() - interval '1 day' + g * interval '1 millisecond'
             FROM (SELECT room_id, min(user_id::text)::uuid AS sender_id
                   FROM room_members GROUP BY room_id) r,
                  generate_series(1, $1::int) g",
        )
        .bind(i32::try_from(per_room)?)
        .execute(&self.db.pool)
        .await?;
        anyhow::ensure!(stored.rows_affected() > 0, "no room to store history in");
        sqlx::query("ANALYZE").execute(&self.db.pool).await?;
        Ok(())
    }
}

fn spawn(mut command: Command) -> anyhow::Result<Child> {
    Ok(command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()?)
}

/// The directory of this binary, where `cargo build` puts the gateway and writer too.
pub fn own_bin_dir() -> Option<PathBuf> {
    std::env::current_exe()
        .ok()?
        .parent()
        .map(Path::to_path_buf)
}
