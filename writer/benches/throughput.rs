//! Writer throughput against the baselines, measured in the same run on the same
//! Postgres: raw binary COPY of the same rows into the same table, and one
//! INSERT per row. Run through `make bench` (it starts the services).
//!
//! Settings: `BENCH_ROWS` (default 100000), `BENCH_RUNS` (5), `BENCH_BATCH` (1000),
//! `BENCH_INSERT_ROWS` (10000, for the slow row-by-row baseline).

#![expect(clippy::unwrap_used, reason = "a benchmark fails loudly")]

use std::error::Error;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use chat_core::kafka::KafkaConfig;
use chat_core::sequencer::SequencerConfig;
use chat_core::{ChatEvent, MessageKind, Sequencer};
use chat_writer::WriterConfig;
use postgres_types::{IsNull, Kind, ToSql, Type, to_sql_checked};
use rdkafka::producer::{FutureProducer, FutureRecord};
use test_support::{RedisServer, TestDatabase, bench_setting, kafka};
use tokio_postgres::NoTls;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

const ROOMS: usize = 50;

#[tokio::main]
async fn main() {
    let rows = bench_setting("BENCH_ROWS", 100_000);
    let runs = bench_setting("BENCH_RUNS", 5);
    let batch = bench_setting("BENCH_BATCH", 1000);
    let insert_rows = bench_setting("BENCH_INSERT_ROWS", 10_000);
    eprintln!("bench: {rows} rows over {ROOMS} rooms, writer batch {batch}, {runs} runs");

    let mut results: [Vec<f64>; 4] = Default::default();
    for run in 1..=runs {
        let copy = raw_copy(rows).await;
        eprintln!("run {run}/{runs}: raw binary COPY      {copy:>10.0} rows/s");
        let insert = insert_per_row(insert_rows).await;
        eprintln!("run {run}/{runs}: INSERT per row       {insert:>10.0} rows/s");
        let cold = writer(rows, batch, false).await;
        eprintln!("run {run}/{runs}: writer, sequencing   {cold:>10.0} rows/s");
        let warm = writer(rows, batch, true).await;
        eprintln!("run {run}/{runs}: writer, pre-sequenced {warm:>9.0} rows/s");
        for (r, v) in results.iter_mut().zip([copy, insert, cold, warm]) {
            r.push(v);
        }
    }
    let [copy, insert, cold, warm] = results.map(median);
    println!("| path | rows/s (median of {runs}) | vs raw COPY |");
    println!("|---|---:|---:|");
    println!("| raw binary COPY ({rows} rows, one statement) | {copy:.0} | 100% |");
    println!(
        "| writer, messages already sequenced by the gateway (batch {batch}) | {warm:.0} | {:.0}% |",
        100.0 * warm / copy
    );
    println!(
        "| writer, sequencing every message itself (batch {batch}) | {cold:.0} | {:.0}% |",
        100.0 * cold / copy
    );
    println!(
        "| one INSERT per row, autocommit ({insert_rows} rows) | {insert:.0} | {:.1}% |",
        100.0 * insert / copy
    );
    for (path, rate) in [("pre-sequenced", warm), ("sequencing", cold)] {
        test_support::bench_summary::record(&test_support::bench_summary::Figure {
            measure: &format!("writer throughput, {path}, of raw COPY"),
            value: format!("{:.0}% ({rate:.0} rows/s)", 100.0 * rate / copy),
            baseline: format!("raw COPY {copy:.0} rows/s"),
            goal: "≥ 50%",
            met: rate >= copy / 2.0,
        });
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// A fresh database with a user and the rooms, and `n` events for them.
async fn fixture(n: usize) -> (TestDatabase, Vec<ChatEvent>) {
    let db = TestDatabase::new().await;
    let user = Uuid::now_v7();
    sqlx::query("INSERT INTO users (id, username, password_hash) VALUES ($1, 'bench', 'x')")
        .bind(user)
        .execute(&db.pool)
        .await
        .unwrap();
    let mut rooms = Vec::new();
    for i in 0..ROOMS {
        let room = Uuid::now_v7();
        sqlx::query("INSERT INTO rooms (id, name, kind) VALUES ($1, $2, 'public')")
            .bind(room)
            .bind(format!("bench {i}"))
            .execute(&db.pool)
            .await
            .unwrap();
        rooms.push(room);
    }
    let events = (0..n)
        .map(|i| {
            ChatEvent::new(
                rooms[i % ROOMS],
                user,
                Uuid::new_v4().to_string(),
                MessageKind::User,
                format!("benchmark message number {i}, of a typical chat length"),
            )
        })
        .collect();
    (db, events)
}

/// The `message_kind` enum label in binary COPY.
#[derive(Debug)]
struct EnumLabel(&'static str);

impl ToSql for EnumLabel {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        out.extend_from_slice(self.0.as_bytes());
        Ok(IsNull::No)
    }
    fn accepts(ty: &Type) -> bool {
        matches!(ty.kind(), Kind::Enum(_))
    }
    to_sql_checked!();
}

/// Rows/s of one binary COPY of all rows, seqs computed in memory.
async fn raw_copy(n: usize) -> f64 {
    let (db, events) = fixture(n).await;
    let (client, connection) = tokio_postgres::connect(&db.url, NoTls).await.unwrap();
    tokio::spawn(connection);
    let kind = client
        .prepare("SELECT $1::message_kind")
        .await
        .unwrap()
        .params()[0]
        .clone();
    let types = [
        Type::UUID,
        Type::UUID,
        Type::INT8,
        Type::UUID,
        Type::TEXT,
        kind,
        Type::TEXT,
        Type::TIMESTAMPTZ,
    ];
    let mut seqs = std::collections::HashMap::new();
    let started = Instant::now();
    let sink = client
        .copy_in("COPY messages (id, room_id, seq, sender_id, client_msg_id, kind, body, sent_at) FROM STDIN BINARY")
        .await
        .unwrap();
    let writer = BinaryCopyInWriter::new(sink, &types);
    tokio::pin!(writer);
    for e in &events {
        let seq: &mut i64 = seqs.entry(e.room_id).or_insert(0);
        *seq += 1;
        let kind = EnumLabel(e.kind.as_str());
        writer
            .as_mut()
            .write(&[
                &e.id,
                &e.room_id,
                seq,
                &e.sender_id,
                &e.client_msg_id,
                &kind,
                &e.body,
                &e.sent_at,
            ])
            .await
            .unwrap();
    }
    writer.finish().await.unwrap();
    n as f64 / started.elapsed().as_secs_f64()
}

/// Rows/s of one autocommitted INSERT per row, as the tutorial project stored messages.
async fn insert_per_row(n: usize) -> f64 {
    let (db, events) = fixture(n).await;
    let mut seqs = std::collections::HashMap::new();
    let started = Instant::now();
    for e in &events {
        let seq: &mut i64 = seqs.entry(e.room_id).or_insert(0);
        *seq += 1;
        sqlx::query(
            "INSERT INTO messages (id, room_id, seq, sender_id, client_msg_id, kind, body, sent_at)
             VALUES ($1, $2, $3, $4, $5, $6::message_kind, $7, $8)",
        )
        .bind(e.id)
        .bind(e.room_id)
        .bind(*seq)
        .bind(e.sender_id)
        .bind(&e.client_msg_id)
        .bind(e.kind.as_str())
        .bind(&e.body)
        .bind(e.sent_at)
        .execute(&db.pool)
        .await
        .unwrap();
    }
    n as f64 / started.elapsed().as_secs_f64()
}

/// Rows/s of the writer from its first stored batch to its last, with all
/// events waiting in Kafka; `presequenced` runs the sequencer first, as the
/// gateway does for every message it acknowledges.
async fn writer(n: usize, batch: usize, presequenced: bool) -> f64 {
    let (db, events) = fixture(n).await;
    let redis = RedisServer::start();
    let topics = kafka::unique_topics(8).await;
    let config = WriterConfig {
        database_url: db.url.clone(),
        db_max_connections: 4,
        kafka: KafkaConfig {
            brokers: topics.brokers.clone(),
            topic: topics.topic.clone(),
            dlq_topic: topics.dlq.clone(),
        },
        sequencer: SequencerConfig {
            redis_url: redis.url(),
            tail_len: 1000,
            ttl_secs: 3600,
        },
        group_id: topics.group.clone(),
        group_instance_id: None,
        session_timeout_ms: 10_000,
        batch_max_rows: batch,
        batch_max_bytes: 16 << 20,
        batch_linger_ms: 20,
        fetch_wait_ms: 100,
        retry_max_backoff_ms: 1000,
        http_addr: "127.0.0.1:0".parse().unwrap(),
    };
    if presequenced {
        let sequencer = Sequencer::new(&config.sequencer, db.pool.clone()).unwrap();
        for chunk in events.chunks(1000) {
            sequencer.sequence_new(chunk).await.unwrap();
        }
    }
    produce(&kafka::producer(&topics.brokers), &topics.topic, &events).await;

    let stored = || stored_rows_metric();
    let baseline = stored();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(chat_writer::run(config, listener, shutdown.clone()));
    let deadline = Instant::now() + Duration::from_secs(600);
    let (mut first, mut t0) = (0.0, None);
    loop {
        let now = stored() - baseline;
        if t0.is_none() && now > 0.0 {
            first = now;
            t0 = Some(Instant::now());
        }
        if now >= n as f64 {
            break;
        }
        assert!(Instant::now() < deadline, "writer did not store {n} rows");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let elapsed = t0.unwrap().elapsed().as_secs_f64();
    shutdown.cancel();
    task.await.unwrap().unwrap();
    (n as f64 - first) / elapsed
}

fn stored_rows_metric() -> f64 {
    chat_writer::metrics::handle()
        .render()
        .lines()
        .find(|l| l.starts_with("writer_rows_stored_total"))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0.0)
}

async fn produce(producer: &FutureProducer, topic: &str, events: &[ChatEvent]) {
    for chunk in events.chunks(5000) {
        let sends: Vec<_> = chunk
            .iter()
            .map(|e| {
                let key = e.room_id.to_string();
                let payload = e.encode();
                async move {
                    producer
                        .send(
                            FutureRecord::to(topic).key(&key).payload(&payload),
                            Duration::from_secs(60),
                        )
                        .await
                        .map_err(|(e, _)| e)
                        .unwrap()
                }
            })
            .collect();
        futures::future::join_all(sends).await;
    }
}
