//! Bytes of Redis memory each message holds, old settings against new, in one run.
//!
//! For each setting a fresh `redis-server` gets what the send path writes per
//! message: the dedupe claim (`SET NX GET EX`, as `ws::dedupe` does) and the
//! sequencer's script (id -> seq key, tail record). Rooms get their state first,
//! as the sequencer makes it for a new room (from a fresh database on the test
//! stack's Postgres, `TEST_DATABASE_URL`), so that it is in the baseline. The
//! growth of `used_memory` divided by the messages is the figure; `MEMORY
//! USAGE` of sampled keys splits it per key. Nothing expires during a run, so
//! this is what a message holds while its keys live (`SEQUENCER_TTL_SECS`).
//!
//! Two room layouts: "spread" (50 messages per room: every message stays in a
//! tail, the worst case) and "busy" (few rooms: tails are capped by count).
//!
//! The last column is the sustained rate that a Redis `maxmemory` of
//! `BENCH_MAXMEMORY_MB` (384, docker-compose.yml) holds for 24 hours, keeping
//! 10% for everything else (tickets, presence, room states, fragmentation): a
//! message's keys live `min(TTL, 24 h)`, so the state held is rate x that x
//! the bytes per message.
//!
//!   cargo bench -p chat-gateway --bench redis_memory
//!   (BENCH_REDIS_MESSAGES, default 100000, and BENCH_MAXMEMORY_MB tune it)

use chat_core::sequencer::{SequencerConfig, message_key, tail_key};
use chat_core::{ChatEvent, MessageKind, Sequencer};
use chat_gateway::ws::dedupe::{Claim, dedupe_key};
use redis::aio::MultiplexedConnection;
use test_support::{RedisServer, TestDatabase};
use uuid::Uuid;

/// One setting under test.
struct Setting {
    name: &'static str,
    tail_len: u32,
    ttl_secs: u64,
    /// The dedupe value: the whole event (before) or the 57-byte claim (now).
    whole_event: bool,
}

const SETTINGS: [Setting; 2] = [
    Setting {
        name: "before: whole event as dedupe value, tail 1000, TTL 7 days",
        tail_len: 1000,
        ttl_secs: 7 * 24 * 3600,
        whole_event: true,
    },
    Setting {
        name: "now: 57-byte claim, tail 256, TTL 5 min",
        tail_len: 256,
        ttl_secs: 300,
        whole_event: false,
    },
];

/// What one run measured.
struct Measured {
    per_message: f64,
    dedupe_key: i64,
    message_key: i64,
    tail_record: f64,
}

async fn used_memory(conn: &mut MultiplexedConnection) -> i64 {
    let info: String = redis::cmd("INFO")
        .arg("memory")
        .query_async(conn)
        .await
        .expect("INFO memory");
    info.lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("used_memory in INFO")
}

async fn memory_usage(conn: &mut MultiplexedConnection, key: &str) -> i64 {
    redis::cmd("MEMORY")
        .arg("USAGE")
        .arg(key)
        .arg("SAMPLES")
        .arg(0)
        .query_async::<Option<i64>>(conn)
        .await
        .expect("MEMORY USAGE")
        .unwrap_or(0)
}

async fn run(db: &TestDatabase, setting: &Setting, messages: usize, rooms: usize) -> Measured {
    let redis = RedisServer::start();
    let client = redis::Client::open(redis.url()).expect("redis url");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    let config = SequencerConfig {
        redis_url: redis.url(),
        tail_len: setting.tail_len,
        ttl_secs: setting.ttl_secs,
    };
    // every room gets its state before the baseline, the way the sequencer
    // makes it for a new room (restored from Postgres: an empty room)
    let sequencer = Sequencer::new(&config, db.pool.clone()).expect("sequencer");
    let sender = Uuid::now_v7();
    let room_ids: Vec<Uuid> = (0..rooms).map(|_| Uuid::now_v7()).collect();
    for room in &room_ids {
        sequencer.head(*room).await.expect("room state");
    }
    // a first message loads the script, so that its cache is in the baseline
    let warm = ChatEvent::new(room_ids[0], sender, "warm", MessageKind::User, "warm");
    sequencer.sequence_new(&[warm]).await.expect("sequenced");
    let before = used_memory(&mut conn).await;

    let mut last = None;
    for chunk in (0..messages).collect::<Vec<_>>().chunks(500) {
        let events: Vec<ChatEvent> = chunk
            .iter()
            .map(|i| {
                let mut e = ChatEvent::new(
                    room_ids[i % rooms],
                    sender,
                    Uuid::new_v4().to_string(),
                    MessageKind::User,
                    format!("benchmark message number {i}, of a typical chat length"),
                );
                e.sender_name = "benchmark_user".into();
                e
            })
            .collect();
        let mut pipe = redis::pipe();
        for e in &events {
            let value = if setting.whole_event {
                e.encode()
            } else {
                Claim::of(e).encode().expect("claim")
            };
            pipe.cmd("SET")
                .arg(dedupe_key(e.sender_id, &e.client_msg_id))
                .arg(value)
                .arg("NX")
                .arg("GET")
                .arg("EX")
                .arg(setting.ttl_secs)
                .ignore();
        }
        let _: () = pipe.query_async(&mut conn).await.expect("claims");
        sequencer.sequence_new(&events).await.expect("sequenced");
        last = events.last().cloned();
    }
    let after = used_memory(&mut conn).await;

    let last = last.expect("at least one message");
    let dedupe = memory_usage(&mut conn, &dedupe_key(last.sender_id, &last.client_msg_id)).await;
    let msg = memory_usage(&mut conn, &message_key(last.room_id, last.id)).await;
    let tail = memory_usage(&mut conn, &tail_key(last.room_id)).await;
    let tail_len: i64 = redis::cmd("ZCARD")
        .arg(tail_key(last.room_id))
        .query_async(&mut conn)
        .await
        .expect("ZCARD");
    Measured {
        per_message: (after - before) as f64 / messages as f64,
        dedupe_key: dedupe,
        message_key: msg,
        tail_record: tail as f64 / tail_len.max(1) as f64,
    }
}

fn main() {
    let messages: usize = std::env::var("BENCH_REDIS_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let maxmemory_mb: f64 = std::env::var("BENCH_MAXMEMORY_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(384.0);
    let budget = maxmemory_mb * 1024.0 * 1024.0 * 0.9;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // the sequencer restores a new room's state from Postgres (an empty room)
    let db = runtime.block_on(TestDatabase::new());
    println!("\n### Redis memory per message ({messages} messages per run)\n");
    println!(
        "| setting | rooms | bytes/message held | dedupe key | id->seq key | tail record | msg/s that {maxmemory_mb} MB holds for 24 h |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for setting in &SETTINGS {
        for (layout, rooms) in [("spread", messages / 50), ("busy", 10)] {
            let started = std::time::Instant::now();
            let m = runtime.block_on(run(&db, setting, messages, rooms.max(1)));
            eprintln!(
                "{} / {layout}: {:.0} B per message ({:?})",
                setting.name,
                m.per_message,
                started.elapsed()
            );
            let held_secs = setting.ttl_secs.min(24 * 3600) as f64;
            let rate = budget / (held_secs * m.per_message);
            println!(
                "| {} | {rooms} ({layout}) | {:.0} | {} | {} | {:.0} | {rate:.1} |",
                setting.name, m.per_message, m.dedupe_key, m.message_key, m.tail_record
            );
        }
    }
}
