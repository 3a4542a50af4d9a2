//! Which partitions a group consumer owns, each under a generation: a number
//! given at every assignment and never reused.
//!
//! Whatever is read from a partition carries the generation it was read
//! under. Work read under a generation that is no longer current (its
//! partition was revoked, and perhaps assigned back, which starts a new
//! generation reading again from the committed offset) must neither be
//! finished for that partition nor have its offset stored or committed:
//! whoever owns the partition now reads it again. [`Ownership::with_current`]
//! holds the lock the rebalance callback takes, so a revoke cannot slip in
//! between a check and the commit that depends on it.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// The partitions a consumer owns and the generation of each.
#[derive(Debug, Default)]
pub struct Ownership {
    state: Mutex<State>,
    /// The gauge of partitions owned, if the service reports one.
    owned_gauge: Option<&'static str>,
}

#[derive(Debug, Default)]
struct State {
    /// The generation the next assignment gets.
    next: u64,
    /// topic -> partition -> generation
    owned: HashMap<String, HashMap<i32, u64>>,
    /// Counts revokes, so that work in hand is rescanned only when one happened.
    revocations: u64,
}

/// The ownership as it stands while [`Ownership::with_current`] runs.
#[derive(Debug)]
pub struct Current<'a> {
    state: &'a State,
}

impl Current<'_> {
    /// True when `partition` is owned under `generation` still.
    pub fn is_current(&self, topic: &str, partition: i32, generation: u64) -> bool {
        self.state.generation(topic, partition) == Some(generation)
    }
}

impl Ownership {
    /// An ownership that reports the number of partitions owned as `gauge`.
    pub fn with_gauge(gauge: &'static str) -> Self {
        Self {
            state: Mutex::default(),
            owned_gauge: Some(gauge),
        }
    }

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
        self.report(&state);
    }

    /// `partitions` were revoked: work read under their generation is stale.
    pub fn revoke(&self, partitions: impl IntoIterator<Item = (String, i32)>) {
        let mut state = self.lock();
        for (topic, partition) in partitions {
            if let Some(partitions) = state.owned.get_mut(&topic) {
                partitions.remove(&partition);
            }
        }
        state.revocations += 1;
        self.report(&state);
    }

    /// The current generation of a partition, if it is owned.
    pub fn generation(&self, topic: &str, partition: i32) -> Option<u64> {
        self.lock().generation(topic, partition)
    }

    /// True when `partition` is owned under `generation` still.
    pub fn is_current(&self, topic: &str, partition: i32, generation: u64) -> bool {
        self.lock().generation(topic, partition) == Some(generation)
    }

    /// How many revokes happened so far.
    pub fn revocations(&self) -> u64 {
        self.lock().revocations
    }

    /// Runs `f` with the ownership as it stands, while no rebalance can
    /// change it: what `f` stores or commits is owned when it does.
    pub fn with_current<R>(&self, f: impl FnOnce(&Current<'_>) -> R) -> R {
        let state = self.lock();
        f(&Current { state: &state })
    }

    fn report(&self, state: &State) {
        if let Some(gauge) = self.owned_gauge {
            let owned: usize = state.owned.values().map(HashMap::len).sum();
            metrics::gauge!(gauge).set(owned as f64);
        }
    }
}

impl State {
    fn generation(&self, topic: &str, partition: i32) -> Option<u64> {
        self.owned.get(topic)?.get(&partition).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn work_read_before_a_revoke_is_no_longer_current() {
        let ownership = Ownership::default();
        ownership.assign([("t".to_owned(), 0), ("t".to_owned(), 1)]);
        let old = ownership.generation("t", 0).expect("owned");
        let other = ownership.generation("t", 1).expect("owned");
        ownership.revoke([("t".to_owned(), 0)]);
        assert!(!ownership.is_current("t", 0, old));
        ownership.assign([("t".to_owned(), 0)]);
        let new = ownership.generation("t", 0).expect("owned again");
        ownership.with_current(|current| {
            assert!(
                !current.is_current("t", 0, old),
                "assigned back is a new generation"
            );
            assert!(current.is_current("t", 0, new));
            assert!(
                current.is_current("t", 1, other),
                "the other partition stayed"
            );
        });
        assert_eq!(ownership.revocations(), 1);
    }
}
