//! What `flush.messages=1` costs a send: the gateway's producer
//! (`chat_core::kafka::durable_producer`: idempotent, `acks=all`, lz4,
//! `linger.ms` 0) produces chat events to a topic whose log is fsynced before
//! the broker acknowledges (`flush.messages=1`, as production's topics) and to
//! one with the broker's default (no fsync), on the same broker in the same
//! run, and times each delivery report. Two loads: one sender, one send at a
//! time; and `BENCH_FSYNC_SENDERS` senders at once, each waiting for its
//! report before its next send (like users waiting for their acks).
//!
//! Run through `make bench` (it starts the services), or against any broker:
//! `TEST_KAFKA_BROKERS=127.0.0.1:29092 cargo bench -p chat-core --bench produce_fsync`.
//!
//! Settings: `BENCH_FSYNC_SENDS` (1000: sends per path and run with one sender),
//! `BENCH_FSYNC_SENDERS` (100), `BENCH_FSYNC_SENDS_EACH` (200: sends per
//! concurrent sender), `BENCH_FSYNC_RUNS` (3), `BENCH_FSYNC_PROBE_DIR` (where the
//! disk's own fsync is timed, ideally the broker's data directory; default the
//! temporary directory).

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chat_core::{ChatEvent, MessageKind};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use test_support::bench_setting;
use uuid::Uuid;

/// As `chat.messages` in production.
const PARTITIONS: i32 = 8;
const ROOMS: usize = 50;
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
const BODY: &str = "are we still on for the review at three? I moved the notes to the shared doc";

/// One topic under test.
#[derive(Debug, Clone)]
struct Target {
    label: &'static str,
    topic: String,
}

/// Delivery-report latencies of one path, pooled over the runs, and each
/// run's rate.
#[derive(Debug, Default)]
struct Measured {
    latencies: Vec<Duration>,
    rates: Vec<f64>,
}

impl Measured {
    fn add(&mut self, latencies: Vec<Duration>, total: Duration) {
        self.rates
            .push(latencies.len() as f64 / total.as_secs_f64());
        self.latencies.extend(latencies);
    }

    fn percentile(&self, p: f64) -> f64 {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        sorted[i].as_secs_f64() * 1000.0
    }

    fn rate(&self) -> f64 {
        let mut rates = self.rates.clone();
        rates.sort_by(f64::total_cmp);
        rates[rates.len() / 2]
    }
}

#[tokio::main]
async fn main() {
    let sends = bench_setting("BENCH_FSYNC_SENDS", 1000);
    let senders = bench_setting("BENCH_FSYNC_SENDERS", 100);
    let sends_each = bench_setting("BENCH_FSYNC_SENDS_EACH", 200);
    let runs = bench_setting("BENCH_FSYNC_RUNS", 3);
    let brokers = test_support::kafka::brokers();
    let probe_dir = std::env::var_os("BENCH_FSYNC_PROBE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    eprintln!(
        "bench: broker {brokers}, {runs} runs; one sender x {sends} sends; {senders} senders x {sends_each} sends"
    );

    let id = Uuid::new_v4().simple().to_string();
    let targets = [
        Target {
            label: "default (no fsync)",
            topic: format!("bench.fsync.{id}.default"),
        },
        Target {
            label: "flush.messages=1",
            topic: format!("bench.fsync.{id}.flush"),
        },
    ];
    let admin = admin(&brokers);
    create_topics(&admin, &targets).await;

    let producer: FutureProducer = chat_core::kafka::durable_producer(&brokers)
        .create()
        .expect("the gateway's producer");
    let rooms: Vec<Uuid> = (0..ROOMS).map(|_| Uuid::new_v4()).collect();
    for target in &targets {
        // warm-up: metadata, connections, the idempotent producer's id
        one_at_a_time(&producer, &target.topic, &rooms, 100).await;
    }

    let mut single: [Measured; 2] = Default::default();
    let mut concurrent: [Measured; 2] = Default::default();
    for run in 1..=runs {
        // Alternate which topic goes first: drift on a shared machine
        // falls on both alike.
        let order: [usize; 2] = if run % 2 == 1 { [0, 1] } else { [1, 0] };
        for i in order {
            let t = &targets[i];
            let started = Instant::now();
            let latencies = one_at_a_time(&producer, &t.topic, &rooms, sends).await;
            single[i].add(latencies, started.elapsed());
            eprintln!(
                "run {run}/{runs}: {:<20} one sender     {:>8.0} sends/s",
                t.label,
                single[i].rates[run - 1]
            );
        }
        for i in order {
            let t = &targets[i];
            let started = Instant::now();
            let latencies = many_at_once(&producer, &t.topic, &rooms, senders, sends_each).await;
            concurrent[i].add(latencies, started.elapsed());
            eprintln!(
                "run {run}/{runs}: {:<20} {senders} senders    {:>8.0} sends/s",
                t.label,
                concurrent[i].rates[run - 1]
            );
        }
    }
    let probe = disk_fsync(&probe_dir, 200);
    delete_topics(&admin, &targets).await;

    println!("| load | topic | sends | p50 ms | p95 ms | p99 ms | sends/s (median of {runs}) |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for (load, measured) in [
        ("one sender, one send at a time".to_string(), &single),
        (
            format!("{senders} senders, each one at a time"),
            &concurrent,
        ),
    ] {
        for (t, m) in targets.iter().zip(measured.iter()) {
            println!(
                "| {load} | {} | {} | {:.2} | {:.2} | {:.2} | {:.0} |",
                t.label,
                m.latencies.len(),
                m.percentile(0.5),
                m.percentile(0.95),
                m.percentile(0.99),
                m.rate()
            );
        }
    }
    println!();
    println!(
        "The disk's own fsync ({}, 1 KiB append + fdatasync, 200 times): p50 {:.2} ms, p99 {:.2} ms",
        probe_dir.display(),
        probe.percentile(0.5),
        probe.percentile(0.99)
    );
}

fn event(rooms: &[Uuid], i: usize) -> (Uuid, Vec<u8>) {
    let room = rooms[i % rooms.len()];
    let event = ChatEvent::new(
        room,
        Uuid::new_v4(),
        Uuid::new_v4().to_string(),
        MessageKind::User,
        BODY,
    );
    (room, event.encode())
}

/// Produces one record and waits for its delivery report, as the gateway's
/// send path does; returns how long that took.
async fn send_one(producer: &FutureProducer, topic: &str, rooms: &[Uuid], i: usize) -> Duration {
    let (room, payload) = event(rooms, i);
    let key = room.to_string();
    let started = Instant::now();
    producer
        .send(
            FutureRecord::to(topic).key(&key).payload(&payload),
            SEND_TIMEOUT,
        )
        .await
        .map_err(|(e, _)| e)
        .expect("a delivery report without error");
    started.elapsed()
}

async fn one_at_a_time(
    producer: &FutureProducer,
    topic: &str,
    rooms: &[Uuid],
    n: usize,
) -> Vec<Duration> {
    let mut latencies = Vec::with_capacity(n);
    for i in 0..n {
        latencies.push(send_one(producer, topic, rooms, i).await);
    }
    latencies
}

async fn many_at_once(
    producer: &FutureProducer,
    topic: &str,
    rooms: &[Uuid],
    senders: usize,
    each: usize,
) -> Vec<Duration> {
    let tasks: Vec<_> = (0..senders)
        .map(|s| {
            let producer = producer.clone();
            let topic = topic.to_string();
            let rooms = rooms.to_vec();
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(each);
                for i in 0..each {
                    latencies.push(send_one(&producer, &topic, &rooms, s * each + i).await);
                }
                latencies
            })
        })
        .collect();
    let mut all = Vec::with_capacity(senders * each);
    for task in tasks {
        all.extend(task.await.expect("a sender task"));
    }
    all
}

/// Times `n` appends of 1 KiB to a file in `dir`, each followed by fdatasync:
/// the floor of what `flush.messages=1` adds to a produce.
fn disk_fsync(dir: &std::path::Path, n: usize) -> Measured {
    let path = dir.join(format!("bench-fsync-probe-{}", Uuid::new_v4().simple()));
    let mut file = OpenOptions::new()
        .create_new(true)
        .append(true)
        .open(&path)
        .expect("a probe file");
    let block = [b'x'; 1024];
    let mut latencies = Vec::with_capacity(n);
    let started = Instant::now();
    for _ in 0..n {
        let t = Instant::now();
        file.write_all(&block).expect("append");
        file.sync_data().expect("fdatasync");
        latencies.push(t.elapsed());
    }
    let mut measured = Measured::default();
    measured.add(latencies, started.elapsed());
    drop(file);
    std::fs::remove_file(&path).expect("remove the probe file");
    measured
}

fn admin(brokers: &str) -> AdminClient<DefaultClientContext> {
    ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .expect("admin client")
}

/// Creates the topics (the second with `flush.messages=1`) and checks that
/// the broker reports each one's setting as intended.
async fn create_topics(admin: &AdminClient<DefaultClientContext>, targets: &[Target; 2]) {
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let new = [
        NewTopic::new(&targets[0].topic, PARTITIONS, TopicReplication::Fixed(1)),
        NewTopic::new(&targets[1].topic, PARTITIONS, TopicReplication::Fixed(1))
            .set("flush.messages", "1"),
    ];
    for result in admin
        .create_topics(&new, &options)
        .await
        .expect("create topics")
    {
        result.expect("topic created");
    }
    let resources = targets
        .iter()
        .map(|t| ResourceSpecifier::Topic(&t.topic))
        .collect::<Vec<_>>();
    let described = admin
        .describe_configs(&resources, &options)
        .await
        .expect("describe the topics' configs");
    for (target, result) in targets.iter().zip(described) {
        let resource = result.expect("a topic's config");
        let flush = resource
            .get("flush.messages")
            .and_then(|e| e.value.clone())
            .unwrap_or_default();
        let fsync = flush == "1";
        assert_eq!(
            fsync,
            target.label == "flush.messages=1",
            "topic {} has flush.messages={flush}",
            target.topic
        );
        eprintln!("topic {}: flush.messages={flush}", target.topic);
    }
}

async fn delete_topics(admin: &AdminClient<DefaultClientContext>, targets: &[Target; 2]) {
    let names = targets.iter().map(|t| t.topic.as_str()).collect::<Vec<_>>();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    for result in admin
        .delete_topics(&names, &options)
        .await
        .expect("delete topics")
    {
        if let Err((topic, e)) = result {
            eprintln!("could not delete topic {topic}: {e}");
        }
    }
}
