//! What the soak prints: a progress line every 30 s, the writer's catch-up,
//! and the summary at the end.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use loadgen::Stats;
use sqlx::PgPool;
use uuid::Uuid;

use crate::checks::Findings;
use crate::config::SoakConfig;
use crate::faults::FaultLog;

/// The writer's consumer group (the writer's default `WRITER_GROUP_ID`).
const WRITER_GROUP: &str = "chat-writer";
/// Partitions of the main topic (`scripts/kafka.sh`).
const PARTITIONS: i32 = 8;

/// One progress line.
pub async fn progress(
    stats: &Stats,
    pool: &PgPool,
    rooms: &[Uuid],
    faults: &Mutex<FaultLog>,
    started: Instant,
) {
    let stored = stored(pool, rooms)
        .await
        .map_or_else(|| "?".to_owned(), |n| n.to_string());
    let faults = faults.lock().map(|f| f.total()).unwrap_or_default();
    println!(
        "[soak +{}s] sent {} acked {} stored {} resent {} unavailable {} connects {} resyncs {:?} faults {faults} max ack {} ms",
        started.elapsed().as_secs(),
        Stats::get(&stats.sent),
        Stats::get(&stats.acked),
        stored,
        Stats::get(&stats.resent),
        Stats::get(&stats.unavailable),
        Stats::get(&stats.connects),
        stats.resyncs(),
        Stats::get(&stats.max_ack_ms),
    );
}

async fn stored(pool: &PgPool, rooms: &[Uuid]) -> Option<i64> {
    sqlx::query_scalar("SELECT count(*) FROM messages WHERE room_id = ANY($1)")
        .bind(rooms)
        .fetch_one(pool)
        .await
        .ok()
}

/// Waits until the writer has committed every record of the topic.
pub async fn wait_caught_up(config: &SoakConfig, timeout: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        let brokers = config.kafka_brokers.clone();
        let topic = config.kafka_topic.clone();
        let done = tokio::task::spawn_blocking(move || {
            std::panic::catch_unwind(|| {
                test_support::kafka::caught_up(&brokers, WRITER_GROUP, &topic, PARTITIONS)
            })
            .unwrap_or(false)
        })
        .await?;
        if done {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the writer did not catch up within {timeout:?}"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Prints the summary; true when no promise was broken.
pub fn summary(
    stats: &Stats,
    faults: &Arc<Mutex<FaultLog>>,
    findings: &Findings,
    duration: Duration,
    seed: u64,
) -> bool {
    let faults = faults
        .lock()
        .map(|f| (f.by_kind.clone(), f.lines.clone(), f.failures.clone()));
    let (by_kind, lines, failures) = faults.unwrap_or_default();
    println!("[soak] ===== summary (seed {seed}) =====");
    println!("duration: {} s", duration.as_secs());
    println!(
        "messages: sent {}, acknowledged {}, stored {}; resends {}, unavailable {}, rate_limited {}",
        Stats::get(&stats.sent),
        Stats::get(&stats.acked),
        findings.stored,
        Stats::get(&stats.resent),
        Stats::get(&stats.unavailable),
        Stats::get(&stats.rate_limited),
    );
    println!(
        "connections: {} opened, {} attempts failed; messages received live: {}",
        Stats::get(&stats.connects),
        Stats::get(&stats.connect_failures),
        Stats::get(&stats.received),
    );
    println!("resyncs: {:?}", stats.resyncs());
    println!("subscribes refused: {:?}", stats.refusals());
    let q = stats.ack_quantiles(&[0.5, 0.99, 0.999]);
    println!(
        "ack latency (first send to ack, resends included): p50 {} ms, p99 {} ms, p99.9 {} ms, max {} ms",
        q[0],
        q[1],
        q[2],
        Stats::get(&stats.max_ack_ms)
    );
    println!("faults: {} {by_kind:?}", by_kind.values().sum::<u64>());
    for line in &lines {
        println!("  {line}");
    }
    println!("notes: {}", findings.notes.len());
    for note in findings.notes.iter().take(50) {
        println!("  {note}");
    }
    let mut violations = findings.violations.clone();
    violations.extend(
        failures
            .iter()
            .map(|f| format!("a service did not come back: {f}")),
    );
    println!("violations: {}", violations.len());
    let mut kinds: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    for v in &violations {
        *kinds.entry(violation_kind(v)).or_default() += 1;
    }
    for (kind, n) in &kinds {
        println!("  {n} x {kind}");
    }
    for v in violations.iter().take(200) {
        println!("  {v}");
    }
    if violations.len() > 200 {
        println!("  ... and {} more", violations.len() - 200);
    }
    violations.is_empty()
}

/// The kind of a violation, from the wording the checks and the clients use.
fn violation_kind(violation: &str) -> &'static str {
    const KINDS: [(&str, &str); 12] = [
        (
            "got no `resync epoch`",
            "a live message in a new epoch without `resync epoch`",
        ),
        (
            "out of order or twice",
            "a live seq at or below the last one shown",
        ),
        ("missing", "a live seq that skips"),
        (
            "after a resync",
            "a message between a resync and the next subscribe",
        ),
        ("acknowledged, not stored", "acknowledged, not stored"),
        ("stored, never acknowledged", "stored, never acknowledged"),
        ("live != history", "live differs from history"),
        (
            "the room's epoch unchanged",
            "stored with another seq than acked",
        ),
        ("duplicates", "duplicate rows"),
        ("stored twice", "a client message stored twice"),
        ("(G2)", "a resend acknowledged differently"),
        ("did not come back", "a service did not come back"),
    ];
    KINDS
        .iter()
        .find(|(phrase, _)| violation.contains(phrase))
        .map_or("other", |(_, kind)| kind)
}
