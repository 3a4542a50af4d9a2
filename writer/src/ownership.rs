//! Which partitions this writer owns, each under a generation: a number given
//! at every assignment and never reused.
//!
//! A record carries the generation it was read under. Records whose partition
//! was revoked since (and perhaps assigned back, which starts a new generation
//! that reads again from the committed offset) are dropped before they are
//! stored, and their offsets are never committed: whoever owns the partition
//! now reads them again. The check before an offset commit holds the same lock
//! as the rebalance callback, so a revoke cannot slip in between the check and
//! the commit.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use rdkafka::TopicPartitionList;

use crate::batch::{Batch, Record};
use crate::metrics as m;

/// The partitions this writer owns and the generation of each.
#[derive(Debug, Default)]
pub struct Ownership {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// The generation the next assignment gets.
    next: u64,
    /// topic -> partition -> generation
    owned: HashMap<String, HashMap<i32, u64>>,
    /// Counts revokes, so that a batch rescans only when one happened.
    revocations: u64,
}

impl Ownership {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `partitions` were assigned: each starts a new generation.
    pub fn assign(&self, partitions: impl IntoIterator<Item = (String, i32)>) {
        let mut state = self.lock();
        for (topic, partition) in partitions {
            state.next += 1;
            let generation = state.next;
            state
                .owned
                .entry(topic)
                .or_default()
                .insert(partition, generation);
        }
        state.report();
    }

    /// `partitions` were revoked: records read under their generation are stale.
    pub fn revoke(&self, partitions: impl IntoIterator<Item = (String, i32)>) {
        let mut state = self.lock();
        for (topic, partition) in partitions {
            if let Some(partitions) = state.owned.get_mut(&topic) {
                partitions.remove(&partition);
            }
        }
        state.revocations += 1;
        state.report();
    }

    /// The current generation of a partition, if this writer owns it.
    pub fn generation(&self, topic: &str, partition: i32) -> Option<u64> {
        self.lock().generation(topic, partition)
    }

    /// How many revokes happened so far.
    pub fn revocations(&self) -> u64 {
        self.lock().revocations
    }

    /// Drops the records of `batch` whose partition was revoked since they were
    /// read; returns how many.
    pub fn drop_stale(&self, batch: &mut Batch) -> usize {
        let state = self.lock();
        let dropped = batch.retain(|r| state.is_current(r));
        if dropped > 0 {
            metrics::counter!(m::RECORDS_ABANDONED).increment(dropped as u64);
            tracing::info!(records = dropped, "abandoned records of revoked partitions");
        }
        dropped
    }

    /// Calls `commit` with the next offsets of the records of `batch` that are
    /// still owned under the generation they were read in, while no rebalance
    /// can change that. Does nothing when none is.
    pub fn commit_owned(&self, batch: &Batch, commit: impl FnOnce(&TopicPartitionList)) {
        let state = self.lock();
        let offsets = batch.next_offsets(|r| state.is_current(r));
        if offsets.count() > 0 {
            commit(&offsets);
        }
    }
}

impl State {
    fn generation(&self, topic: &str, partition: i32) -> Option<u64> {
        self.owned.get(topic)?.get(&partition).copied()
    }

    fn is_current(&self, record: &Record) -> bool {
        self.generation(&record.topic, record.partition) == Some(record.generation)
    }

    fn report(&self) {
        let owned: usize = self.owned.values().map(HashMap::len).sum();
        metrics::gauge!(m::PARTITIONS_OWNED).set(owned as f64);
    }
}

#[cfg(test)]
mod tests {
    use rdkafka::Offset;

    use super::*;

    fn record(partition: i32, offset: i64, generation: u64) -> Record {
        Record {
            topic: "t".into(),
            partition,
            offset,
            generation,
            key: None,
            payload: vec![0; 4],
        }
    }

    fn read(ownership: &Ownership, batch: &mut Batch, partition: i32, offset: i64) {
        let generation = ownership.generation("t", partition).expect("owned");
        batch.push(record(partition, offset, generation));
    }

    #[test]
    fn a_partition_revoked_and_assigned_back_starts_a_new_generation() {
        let ownership = Ownership::default();
        ownership.assign([("t".to_owned(), 0), ("t".to_owned(), 1)]);
        let before = ownership.generation("t", 0);
        ownership.revoke([("t".to_owned(), 0)]);
        assert_eq!(ownership.generation("t", 0), None);
        ownership.assign([("t".to_owned(), 0)]);
        assert_ne!(ownership.generation("t", 0), before);
        assert!(ownership.generation("t", 0).is_some());
    }

    #[test]
    fn records_read_before_a_revoke_are_neither_stored_nor_committed() {
        let ownership = Ownership::default();
        ownership.assign([("t".to_owned(), 0), ("t".to_owned(), 1)]);
        let mut batch = Batch::default();
        read(&ownership, &mut batch, 0, 10);
        read(&ownership, &mut batch, 1, 20);
        // partition 0 goes away and comes back: it is read again from its committed offset
        ownership.revoke([("t".to_owned(), 0)]);
        ownership.assign([("t".to_owned(), 0)]);
        read(&ownership, &mut batch, 0, 7);

        let mut committed = Vec::new();
        ownership.commit_owned(&batch, |offsets| {
            committed = offsets
                .elements()
                .iter()
                .map(|e| (e.partition(), e.offset()))
                .collect();
        });
        assert_eq!(
            committed,
            vec![(0, Offset::Offset(8)), (1, Offset::Offset(21))],
            "partition 0 commits only what its new generation read"
        );

        assert_eq!(ownership.drop_stale(&mut batch), 1);
        let left: Vec<(i32, i64)> = batch
            .records()
            .iter()
            .map(|r| (r.partition, r.offset))
            .collect();
        assert_eq!(left, vec![(1, 20), (0, 7)]);
    }

    #[test]
    fn nothing_is_committed_for_a_partition_that_moved_to_another_writer() {
        let ownership = Ownership::default();
        ownership.assign([("t".to_owned(), 0)]);
        let mut batch = Batch::default();
        read(&ownership, &mut batch, 0, 3);
        ownership.revoke([("t".to_owned(), 0)]);
        let mut called = false;
        ownership.commit_owned(&batch, |_| called = true);
        assert!(!called);
    }
}
