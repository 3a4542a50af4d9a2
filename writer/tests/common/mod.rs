//! Helpers shared by the writer's tests: a writer started on port 0 (in this
//! process or as a real process), seeded rooms, produced events, stored rows.
#![allow(dead_code, reason = "each test file uses a different subset")]

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chat_core::kafka::KafkaConfig;
use chat_core::sequencer::SequencerConfig;
use chat_core::{ChatEvent, MessageKind};
use chat_writer::WriterConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use sqlx::PgPool;
use test_support::kafka::TestTopics;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// Writer settings for a test: small linger, short session timeout.
pub fn writer_config(database_url: &str, redis_url: &str, topics: &TestTopics) -> WriterConfig {
    WriterConfig {
        database_url: database_url.to_owned(),
        db_max_connections: 4,
        kafka: KafkaConfig {
            brokers: topics.brokers.clone(),
            topic: topics.topic.clone(),
            dlq_topic: topics.dlq.clone(),
        },
        sequencer: SequencerConfig {
            redis_url: redis_url.to_owned(),
            tail_len: 1000,
            ttl_secs: 3600,
        },
        group_id: topics.group.clone(),
        group_instance_id: None,
        session_timeout_ms: 6_000,
        batch_max_rows: 200,
        batch_max_bytes: 1 << 20,
        batch_linger_ms: 10,
        fetch_wait_ms: 100,
        retry_max_backoff_ms: 500,
        http_addr: "127.0.0.1:0".parse().expect("addr"),
    }
}

/// A writer running inside the test process.
pub struct InProcessWriter {
    pub shutdown: CancellationToken,
    pub http: std::net::SocketAddr,
    task: JoinHandle<Result<(), chat_writer::WriterError>>,
}

impl InProcessWriter {
    pub async fn start(config: WriterConfig) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let http = listener.local_addr().expect("addr");
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(chat_writer::run(config, listener, shutdown.clone()));
        Self {
            shutdown,
            http,
            task,
        }
    }

    /// Asks it to stop, as SIGTERM does, and waits for a clean exit.
    pub async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(30), self.task)
            .await
            .expect("the writer stops within 30 s")
            .expect("the writer task does not panic")
            .expect("the writer exits cleanly");
    }

    /// The writer's Prometheus text.
    pub async fn metrics(&self) -> String {
        http_get(self.http, "/metrics").await
    }
}

/// A writer process, killed when dropped if it still runs: a failed test
/// leaves no writer behind (a stalled one would run on for its stall).
pub struct WriterProcess(Child);

impl std::ops::Deref for WriterProcess {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for WriterProcess {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for WriterProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// The `writer` binary, started as a real process with the config in its environment.
pub fn spawn_writer_process(config: &WriterConfig, http_port: u16) -> WriterProcess {
    spawn_writer_process_with(config, http_port, &[])
}

/// [`spawn_writer_process`] with more environment, e.g. `FAILPOINTS`.
pub fn spawn_writer_process_with(
    config: &WriterConfig,
    http_port: u16,
    extra_env: &[(&str, &str)],
) -> WriterProcess {
    let mut command = Command::new(env!("CARGO_BIN_EXE_writer"));
    command
        .env_clear()
        .env("DATABASE_URL", &config.database_url)
        .env("KAFKA_BROKERS", &config.kafka.brokers)
        .env("KAFKA_TOPIC", &config.kafka.topic)
        .env("KAFKA_DLQ_TOPIC", &config.kafka.dlq_topic)
        .env("REDIS_URL", &config.sequencer.redis_url)
        .env("WRITER_GROUP_ID", &config.group_id)
        .env(
            "WRITER_SESSION_TIMEOUT_MS",
            config.session_timeout_ms.to_string(),
        )
        .env("WRITER_BATCH_MAX_ROWS", config.batch_max_rows.to_string())
        .env("WRITER_BATCH_LINGER_MS", config.batch_linger_ms.to_string())
        .env("WRITER_FETCH_WAIT_MS", config.fetch_wait_ms.to_string())
        .env(
            "WRITER_RETRY_MAX_BACKOFF_MS",
            config.retry_max_backoff_ms.to_string(),
        )
        .env("WRITER_HTTP_ADDR", format!("127.0.0.1:{http_port}"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    if let Some(instance) = &config.group_instance_id {
        command.env("WRITER_GROUP_INSTANCE_ID", instance);
    }
    command.envs(extra_env.iter().copied());
    WriterProcess(command.spawn().expect("start the writer binary"))
}

/// A plain HTTP/1.1 GET on loopback, body as text.
pub async fn http_get(addr: std::net::SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    response
}

/// The value of an unlabelled counter in Prometheus text, 0 when absent.
pub fn counter_value(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .filter(|l| l.starts_with(name) && !l.starts_with('#'))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Creates a user and `n` rooms it may write to.
pub async fn seed_rooms(pool: &PgPool, n: usize) -> (Uuid, Vec<Uuid>) {
    let user = Uuid::now_v7();
    sqlx::query("INSERT INTO users (id, username, password_hash) VALUES ($1, $2, 'x')")
        .bind(user)
        .bind(format!("u{}", &user.simple().to_string()[..20]))
        .execute(pool)
        .await
        .expect("insert user");
    let mut rooms = Vec::with_capacity(n);
    for i in 0..n {
        let room = Uuid::now_v7();
        sqlx::query("INSERT INTO rooms (id, name, kind, created_by) VALUES ($1, $2, 'public', $3)")
            .bind(room)
            .bind(format!("room {i}"))
            .bind(user)
            .execute(pool)
            .await
            .expect("insert room");
        rooms.push(room);
    }
    (user, rooms)
}

/// `n` events spread round-robin over `rooms`.
pub fn events(user: Uuid, rooms: &[Uuid], n: usize) -> Vec<ChatEvent> {
    (0..n)
        .map(|i| {
            ChatEvent::new(
                rooms[i % rooms.len()],
                user,
                Uuid::new_v4().to_string(),
                MessageKind::User,
                format!("message {i}"),
            )
        })
        .collect()
}

/// Produces `events` keyed by room, in order, and waits for every delivery report.
pub async fn produce_all(producer: &FutureProducer, topic: &str, events: &[ChatEvent]) {
    produce_all_partitions(producer, topic, events).await;
}

/// Members of the consumer group right now.
pub fn group_members(brokers: &str, group: &str) -> usize {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .expect("consumer");
    consumer
        .fetch_group_list(Some(group), Duration::from_secs(10))
        .ok()
        .and_then(|list| list.groups().first().map(|g| g.members().len()))
        .unwrap_or(0)
}

/// Rows stored in the messages table.
pub async fn row_count(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM messages")
        .fetch_one(pool)
        .await
        .unwrap_or(-1)
}

/// Waits until `n` rows are stored.
pub async fn wait_for_rows(pool: &PgPool, n: i64, timeout: Duration) {
    test_support::wait_until(&format!("{n} stored rows"), timeout, || async {
        (row_count(pool).await >= n).then_some(())
    })
    .await;
}

/// Checks the guarantees on what is stored: exactly the `expected` ids, no
/// duplicates, and per room seq 1..k in the order the events were produced.
pub async fn assert_stored_exactly(pool: &PgPool, expected: &[ChatEvent]) {
    let (count, distinct): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(DISTINCT id) FROM messages")
            .fetch_one(pool)
            .await
            .expect("count");
    assert_eq!(count, distinct, "a message is stored twice");
    assert_eq!(
        count as usize,
        expected.len(),
        "stored rows differ from produced events"
    );

    let rows: Vec<(Uuid, Uuid, i64)> =
        sqlx::query_as("SELECT room_id, id, seq FROM messages ORDER BY room_id, seq")
            .fetch_all(pool)
            .await
            .expect("rows");
    let mut stored: HashMap<Uuid, Vec<(Uuid, i64)>> = HashMap::new();
    for (room, id, seq) in rows {
        stored.entry(room).or_default().push((id, seq));
    }
    let mut produced: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for e in expected {
        produced.entry(e.room_id).or_default().push(e.id);
    }
    assert_eq!(stored.len(), produced.len(), "rooms differ");
    for (room, ids) in produced {
        let got = &stored[&room];
        let seqs: Vec<i64> = got.iter().map(|(_, s)| *s).collect();
        let want: Vec<i64> = (1..=ids.len() as i64).collect();
        assert_eq!(seqs, want, "room {room}: seqs are not 1..{}", ids.len());
        let order: Vec<Uuid> = got.iter().map(|(id, _)| *id).collect();
        assert_eq!(
            order, ids,
            "room {room}: seq order differs from produce order"
        );
    }
}

/// Produces `events` keyed by room, in order, waits for every delivery report,
/// and returns the partition each one landed on.
pub async fn produce_all_partitions(
    producer: &FutureProducer,
    topic: &str,
    events: &[ChatEvent],
) -> Vec<i32> {
    let sends: Vec<_> = events
        .iter()
        .map(|e| {
            let key = e.room_id.to_string();
            let payload = e.encode();
            async move {
                let delivery = producer
                    .send(
                        FutureRecord::to(topic).key(&key).payload(&payload),
                        Duration::from_secs(30),
                    )
                    .await
                    .map_err(|(e, _)| e)
                    .expect("delivered");
                delivery.partition
            }
        })
        .collect();
    futures::future::join_all(sends).await
}
