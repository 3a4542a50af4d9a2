//! Which offsets the bot may commit while replies finish out of order.
//!
//! Several mentions are answered at once, and a quick one can finish before a
//! slow one that came first. A partition's committable offset is its oldest
//! unfinished record (or one past the newest seen when none is unfinished):
//! a crash replays everything not finished, never skips one.

use std::collections::{BTreeSet, HashMap};

/// A record's place: partition and offset, and the generation of the
/// partition's assignment it was read under
/// ([`chat_core::kafka::ownership`]): a partition revoked and assigned again
/// has a new one, so a late completion from before cannot move the new
/// generation's offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket {
    pub partition: i32,
    pub offset: i64,
    pub generation: u64,
}

#[derive(Debug)]
struct Partition {
    generation: u64,
    unfinished: BTreeSet<i64>,
    /// One past the newest offset seen.
    next: i64,
    /// The last offset handed out to be committed.
    stored: i64,
}

/// The unfinished records of every partition, in its latest generation.
#[derive(Debug, Default)]
pub struct OffsetTracker {
    partitions: HashMap<i32, Partition>,
}

impl OffsetTracker {
    /// A record read under `generation` is being worked on. The first record
    /// of a new generation forgets whatever the partition had before.
    pub fn begin(&mut self, partition: i32, offset: i64, generation: u64) -> Ticket {
        let fresh = || Partition {
            generation,
            unfinished: BTreeSet::new(),
            next: offset,
            stored: offset,
        };
        let state = self.partitions.entry(partition).or_insert_with(fresh);
        if state.generation != generation {
            *state = fresh();
        }
        state.unfinished.insert(offset);
        state.next = state.next.max(offset + 1);
        Ticket {
            partition,
            offset,
            generation,
        }
    }

    /// The record is done with; returns the partition's new committable
    /// offset when it moved. Whether the partition is still owned under the
    /// ticket's generation is for the caller to check, under the ownership's
    /// lock, when it stores the offset.
    pub fn finish(&mut self, ticket: Ticket) -> Option<i64> {
        let state = self.partitions.get_mut(&ticket.partition)?;
        if state.generation != ticket.generation || !state.unfinished.remove(&ticket.offset) {
            return None;
        }
        let committable = state.unfinished.first().copied().unwrap_or(state.next);
        (committable > state.stored).then(|| {
            state.stored = committable;
            committable
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offset_waits_for_the_oldest_unfinished_record() {
        let mut t = OffsetTracker::default();
        let a = t.begin(0, 10, 1);
        let b = t.begin(0, 11, 1);
        let c = t.begin(0, 12, 1);
        assert_eq!(t.finish(c), None, "10 and 11 still run");
        assert_eq!(t.finish(a), Some(11));
        assert_eq!(t.finish(b), Some(13), "everything seen is done");
        assert_eq!(t.finish(b), None, "a second finish changes nothing");
    }

    #[test]
    fn partitions_are_independent() {
        let mut t = OffsetTracker::default();
        let a = t.begin(0, 5, 1);
        let b = t.begin(1, 7, 2);
        assert_eq!(t.finish(b), Some(8));
        assert_eq!(t.finish(a), Some(6));
    }

    #[test]
    fn a_completion_from_before_a_revoke_moves_nothing() {
        let ownership = chat_core::kafka::ownership::Ownership::default();
        ownership.assign([("t".to_owned(), 0)]);
        let mut t = OffsetTracker::default();
        let old = t.begin(0, 10, ownership.generation("t", 0).expect("owned"));
        ownership.revoke([("t".to_owned(), 0)]);
        ownership.assign([("t".to_owned(), 0)]);
        let generation = ownership.generation("t", 0).expect("owned again");
        let new = t.begin(0, 10, generation);
        let later = t.begin(0, 11, generation);
        assert_eq!(t.finish(old), None);
        assert_eq!(t.finish(later), None, "10 is still being answered again");
        assert_eq!(t.finish(new), Some(12));
    }
}
