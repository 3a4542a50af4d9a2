//! What the clients did and saw: shared counters for progress lines, and one
//! [`ClientRecord`] per client for the checks at the end.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use uuid::Uuid;

use crate::view::Seen;

/// Counters shared by every client.
#[derive(Debug, Default)]
pub struct Stats {
    pub sent: AtomicU64,
    pub resent: AtomicU64,
    pub acked: AtomicU64,
    pub unavailable: AtomicU64,
    pub rate_limited: AtomicU64,
    pub connects: AtomicU64,
    pub connect_failures: AtomicU64,
    pub received: AtomicU64,
    pub max_ack_ms: AtomicU64,
    resyncs: Mutex<BTreeMap<String, u64>>,
    refusals: Mutex<BTreeMap<String, u64>>,
    ack_ms: Mutex<Vec<u64>>,
}

impl Stats {
    pub fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// Time from a message's first send to its ack.
    pub fn ack_latency(&self, ms: u64) {
        self.max_ack_ms.fetch_max(ms, Ordering::Relaxed);
        if let Ok(mut all) = self.ack_ms.lock() {
            all.push(ms);
        }
    }

    /// The ack latency at each quantile of `quantiles` (0.0 to 1.0), in ms.
    pub fn ack_quantiles(&self, quantiles: &[f64]) -> Vec<u64> {
        let mut all = self.ack_ms.lock().map(|a| a.clone()).unwrap_or_default();
        all.sort_unstable();
        quantiles
            .iter()
            .map(|q| {
                let last = all.len().saturating_sub(1);
                let index = ((last as f64) * q.clamp(0.0, 1.0)).round() as usize;
                all.get(index).copied().unwrap_or_default()
            })
            .collect()
    }

    pub fn resync(&self, reason: &str) {
        if let Ok(mut map) = self.resyncs.lock() {
            *map.entry(reason.to_owned()).or_default() += 1;
        }
    }

    /// An `error` frame that did not answer a send (a refused subscribe).
    pub fn refusal(&self, code: &str) {
        if let Ok(mut map) = self.refusals.lock() {
            *map.entry(code.to_owned()).or_default() += 1;
        }
    }

    /// Refused subscribes by code.
    pub fn refusals(&self) -> BTreeMap<String, u64> {
        self.refusals.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// Resyncs by reason.
    pub fn resyncs(&self) -> BTreeMap<String, u64> {
        self.resyncs.lock().map(|m| m.clone()).unwrap_or_default()
    }
}

/// An `ack` as the sender got it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    pub client_msg_id: String,
    pub room: Uuid,
    pub id: Uuid,
    pub seq: i64,
    pub epoch: i64,
}

/// Everything one client did and saw.
#[derive(Debug, Default)]
pub struct ClientRecord {
    pub user: Uuid,
    pub username: String,
    /// By `client_msg_id`: the first ack of each message.
    pub acks: HashMap<String, Ack>,
    /// Messages shown live, in arrival order.
    pub seen: Vec<Seen>,
    /// Broken promises seen on the wire.
    pub violations: Vec<String>,
    /// Things worth reporting that are not broken promises.
    pub notes: Vec<String>,
    /// Sends never acknowledged (by `client_msg_id`).
    pub unacked: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::Stats;

    #[test]
    fn ack_quantiles_come_from_the_sorted_latencies() {
        let stats = Stats::default();
        for ms in [50, 10, 40, 20, 30] {
            stats.ack_latency(ms);
        }
        assert_eq!(stats.ack_quantiles(&[0.0, 0.5, 1.0]), vec![10, 30, 50]);
        assert_eq!(Stats::get(&stats.max_ack_ms), 50);
    }
}
