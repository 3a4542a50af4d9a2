//! What the storm's connections report: how many are subscribed, which were
//! dropped and when each came back, and every seq that was missed or seen twice.

use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

/// Shared by every connection of the run.
#[derive(Debug)]
pub struct Board {
    /// Connections whose subscription is live now.
    pub subscribed: AtomicUsize,
    /// Connections dropped and not resubscribed yet.
    pub down: AtomicUsize,
    pub drops: AtomicU64,
    pub reconnect_failures: AtomicU64,
    pub refusals: AtomicU64,
    /// A seq above the one expected next: messages missed.
    pub missed: AtomicU64,
    /// A seq at or below the last one seen: a message seen twice.
    pub duplicated: AtomicU64,
    pub resyncs: AtomicU64,
    pub deliveries: AtomicU64,
    /// `presence` frames (someone of the room came online, went offline or away).
    pub presence: AtomicU64,
    /// Each connection's last seq seen (-1: none yet), for the final check.
    pub last_seq: Vec<AtomicI64>,
    resumes: Mutex<Resumes>,
}

#[derive(Debug)]
struct Resumes {
    /// Milliseconds from a drop to the `subscribed` of the new connection.
    histogram: Histogram<u64>,
    /// When the last dropped connection resubscribed.
    last: Option<Instant>,
}

impl Board {
    pub fn new(connections: usize) -> anyhow::Result<Self> {
        Ok(Self {
            subscribed: AtomicUsize::new(0),
            down: AtomicUsize::new(0),
            drops: AtomicU64::new(0),
            reconnect_failures: AtomicU64::new(0),
            refusals: AtomicU64::new(0),
            missed: AtomicU64::new(0),
            duplicated: AtomicU64::new(0),
            resyncs: AtomicU64::new(0),
            deliveries: AtomicU64::new(0),
            presence: AtomicU64::new(0),
            last_seq: (0..connections).map(|_| AtomicI64::new(-1)).collect(),
            resumes: Mutex::new(Resumes {
                histogram: Histogram::new_with_bounds(1, 3_600_000, 3)?,
                last: None,
            }),
        })
    }

    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// A connection came back `after` its drop.
    pub fn resumed(&self, after: Duration) {
        let mut resumes = self.resumes.lock().unwrap_or_else(|e| e.into_inner());
        let ms = u64::try_from(after.as_millis()).unwrap_or(u64::MAX).max(1);
        let _ = resumes.histogram.record(ms.min(3_600_000));
        resumes.last = Some(Instant::now());
    }

    /// (count, p50, p99, max) of the resume times in ms, and when the last one came back.
    pub fn resume_summary(&self) -> (u64, u64, u64, u64, Option<Instant>) {
        let resumes = self.resumes.lock().unwrap_or_else(|e| e.into_inner());
        let h = &resumes.histogram;
        (
            h.len(),
            h.value_at_quantile(0.5),
            h.value_at_quantile(0.99),
            h.max(),
            resumes.last,
        )
    }
}
