//! The floor of the durable path: a bare rdkafka producer with the gateway's
//! settings (`acks=all`, idempotent, lz4, `linger.ms`) sending records the
//! size of a chat event at the same open-loop rate, timed from when each was
//! due to its delivery report, and its CPU per record from `/proc/self`.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use rdkafka::producer::FutureRecord;
use test_support::kafka;

/// What the producer baseline measured.
#[derive(Debug)]
pub struct ProducerOutcome {
    pub sent: u64,
    pub failed: u64,
    pub latency: Histogram<u64>,
    pub cpu_seconds: f64,
}

fn own_cpu_ticks() -> u64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = s[s.rfind(')')? + 2..].to_owned();
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0)
}

/// Produces at `rate` records per second for `window` to a topic of its own.
pub async fn run(rate: f64, window: Duration) -> anyhow::Result<ProducerOutcome> {
    let topics = kafka::unique_topics(4).await;
    let producer = kafka::producer(&topics.brokers);
    let period = Duration::from_secs_f64(1.0 / rate);
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
    let ticks_before = own_cpu_ticks();
    let start = Instant::now();
    let mut due = start;
    let mut n = 0usize;
    let mut inflight = futures::stream::FuturesUnordered::new();
    let mut latency = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3)?;
    let mut failed = 0;
    use futures::StreamExt;
    while due < start + window {
        tokio::select! {
            () = tokio::time::sleep_until(due.into()) => {
                let (producer, payload, key) = (&producer, &payload, &rooms[n % rooms.len()]);
                let topic = &topics.topic;
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
    let cpu_seconds = own_cpu_ticks().saturating_sub(ticks_before) as f64 / 100.0;
    Ok(ProducerOutcome {
        sent: n as u64,
        failed,
        latency,
        cpu_seconds,
    })
}

fn record(latency: &mut Histogram<u64>, failed: &mut u64, due: Instant, ok: bool) {
    if ok {
        let _ = latency.record((due.elapsed().as_micros() as u64).max(1));
    } else {
        *failed += 1;
    }
}
