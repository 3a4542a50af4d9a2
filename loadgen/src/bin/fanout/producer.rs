//! The floor of the durable path: bare rdkafka producers with the gateway's
//! settings (`acks=all`, idempotent, lz4, `linger.ms`) sending records the
//! size of a chat event at the same open-loop rate, timed from when each was
//! due to its delivery report. As the gateways share the chat's rate, one
//! producer per gateway sends its share, each in a process of its own
//! (`fanout --bare-producer RATE`), so their CPU per record is read from
//! `/proc` like a server's, apart from the load generator's: librdkafka costs
//! more per record at a lower rate, and one producer at the whole rate was a
//! floor lower than the gateways' own (BENCHMARKS.md, session 21).

use std::process::Stdio;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde::{Deserialize, Serialize};
use test_support::kafka;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout};

use crate::procstat::{Cost, Meter, Watched};

/// What the producer baseline measured.
#[derive(Debug)]
pub struct ProducerOutcome {
    pub sent: u64,
    pub failed: u64,
    /// Due → delivery report: p50, p99, p99.9, max, in milliseconds.
    pub latency_ms: [f64; 4],
}

/// What one producer process says when it is done: its sends, failures and
/// every latency it recorded (µs, count), so that the processes' histograms
/// add up.
#[derive(Debug, Serialize, Deserialize)]
struct ChildOutcome {
    sent: u64,
    failed: u64,
    latency_us: Vec<(u64, u64)>,
}

/// The processes' cost name in the report (one `producer-N` each).
pub const NAME: &str = "producer";

/// One producer process, ready to send.
struct Started {
    child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
}

async fn start(rate: f64, window_secs: u64) -> anyhow::Result<Started> {
    let mut child = tokio::process::Command::new(std::env::current_exe()?)
        .arg("--bare-producer")
        .arg(rate.to_string())
        .arg("--seconds")
        .arg(window_secs.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        anyhow::bail!("the producer's pipes");
    };
    let mut lines = BufReader::new(stdout).lines();
    let ready = lines.next_line().await?;
    anyhow::ensure!(
        ready.as_deref() == Some(READY),
        "the producer did not start: {ready:?}"
    );
    Ok(Started {
        child,
        stdin,
        lines,
    })
}

/// Runs the baseline in `processes` child processes (this binary with
/// `--bare-producer`), each at its share of `rate`, and returns what they
/// measured together and what each cost: CPU from the moment they start
/// sending (their topics made, their first records delivered) until their
/// last delivery reports.
pub async fn run_apart(
    rate: f64,
    window_secs: u64,
    processes: usize,
) -> anyhow::Result<(ProducerOutcome, Vec<Cost>)> {
    let processes = processes.max(1);
    let mut started = Vec::with_capacity(processes);
    for _ in 0..processes {
        started.push(start(rate / processes as f64, window_secs).await?);
    }
    let meter = Meter::start(
        started
            .iter()
            .enumerate()
            .map(|(i, s)| Watched {
                name: format!("{NAME}-{}", i + 1),
                pid: s.child.id().unwrap_or_default(),
                with_children: false,
            })
            .collect(),
    );
    for s in &mut started {
        s.stdin.write_all(b"go\n").await?;
    }
    let mut latency = crate::run::new_histogram();
    let (mut sent, mut failed) = (0, 0);
    for s in &mut started {
        let line = s
            .lines
            .next_line()
            .await?
            .ok_or_else(|| anyhow::anyhow!("a producer ended without its outcome"))?;
        let outcome: ChildOutcome = serde_json::from_str(&line)?;
        sent += outcome.sent;
        failed += outcome.failed;
        for (us, count) in outcome.latency_us {
            latency.record_n(us, count)?;
        }
    }
    let costs = meter.stop();
    for s in &mut started {
        s.child.wait().await?;
    }
    anyhow::ensure!(costs.len() == processes, "the producers' costs");
    let outcome = ProducerOutcome {
        sent,
        failed,
        latency_ms: crate::report::quantiles(&latency),
    };
    Ok((outcome, costs))
}

/// What the child says once it may start.
const READY: &str = "ready";

/// The child's side: gets ready, says so, waits for "go" on stdin, produces
/// at `rate` for `window`, and writes its outcome as one JSON line.
pub async fn serve(rate: f64, window: Duration) -> anyhow::Result<()> {
    let ready = Ready::new().await?;
    println!("{READY}");
    tokio::task::spawn_blocking(|| std::io::stdin().read_line(&mut String::new())).await??;
    let outcome = ready.run(rate, window).await?;
    println!("{}", serde_json::to_string(&outcome)?);
    Ok(())
}

/// A producer whose topic is made and whose broker metadata is in hand.
struct Ready {
    producer: FutureProducer,
    topic: String,
    payload: String,
    rooms: Vec<String>,
}

impl Ready {
    async fn new() -> anyhow::Result<Self> {
        let topics = kafka::unique_topics(4).await;
        let producer = kafka::producer(&topics.brokers);
        let payload = format!(
            r#"{{"v":1,"id":"{}","room_id":"{}","sender_id":"{}","sender_name":"fanout_user_0001","client_msg_id":"c17-123","kind":"user","body":"b:17:123:1234567","sent_at":"2026-11-30T02:00:00.000000Z"}}"#,
            uuid::Uuid::now_v7(),
            uuid::Uuid::now_v7(),
            uuid::Uuid::now_v7()
        );
        let rooms: Vec<String> = (0..10).map(|_| uuid::Uuid::now_v7().to_string()).collect();
        // the first record waits for the broker's metadata: not part of the figure
        producer
            .send(
                FutureRecord::to(&topics.topic)
                    .key(&rooms[0])
                    .payload(&payload),
                Duration::from_secs(10),
            )
            .await
            .map_err(|(e, _)| anyhow::anyhow!("first record: {e}"))?;
        Ok(Self {
            producer,
            topic: topics.topic,
            payload,
            rooms,
        })
    }

    /// Produces at `rate` records per second for `window`.
    async fn run(self, rate: f64, window: Duration) -> anyhow::Result<ChildOutcome> {
        let Self {
            producer,
            topic,
            payload,
            rooms,
        } = self;
        let period = Duration::from_secs_f64(1.0 / rate);
        let start = Instant::now();
        let mut due = start;
        let mut n = 0usize;
        let mut inflight = futures::stream::FuturesUnordered::new();
        let mut latency = crate::run::new_histogram();
        let mut failed = 0;
        use futures::StreamExt;
        while due < start + window {
            tokio::select! {
                () = tokio::time::sleep_until(due.into()) => {
                    let (producer, payload, key) = (&producer, &payload, &rooms[n % rooms.len()]);
                    let topic = &topic;
                    let was_due = due;
                    inflight.push(async move {
                        let record = FutureRecord::to(topic).key(key).payload(payload);
                        let result = producer.send(record, Duration::from_secs(10)).await;
                        (was_due, result.is_ok())
                    });
                    n += 1;
                    due += period;
                }
                Some((was_due, ok)) = inflight.next(), if !inflight.is_empty() => {
                    record(&mut latency, &mut failed, was_due, ok);
                }
            }
        }
        while let Some((was_due, ok)) = inflight.next().await {
            record(&mut latency, &mut failed, was_due, ok);
        }
        Ok(ChildOutcome {
            sent: n as u64,
            failed,
            latency_us: latency
                .iter_recorded()
                .map(|v| (v.value_iterated_to(), v.count_at_value()))
                .collect(),
        })
    }
}

fn record(latency: &mut Histogram<u64>, failed: &mut u64, due: Instant, ok: bool) {
    if ok {
        let _ = latency.record((due.elapsed().as_micros() as u64).max(1));
    } else {
        *failed += 1;
    }
}
