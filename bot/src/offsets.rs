//! Which offsets the bot may commit while replies finish out of order.
//!
//! Several mentions are answered at once, and a quick one can finish before a
//! slow one that came first. A partition's committable offset is its oldest
//! unfinished record (or one past the newest seen when none is unfinished):
//! a crash replays everything not finished, never skips one.

use std::collections::{BTreeSet, HashMap};

/// A record's place: partition and offset, and the partition's generation
/// when it was read (a partition revoked and assigned again starts a new one,
/// so a late completion from before cannot move the new generation's offset).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket {
    pub partition: i32,
    pub offset: i64,
    generation: u64,
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

/// The unfinished records of every assigned partition.
#[derive(Debug, Default)]
pub struct OffsetTracker {
    partitions: HashMap<i32, Partition>,
    generations: u64,
}

impl OffsetTracker {
    /// A record was read and is being worked on.
    pub fn begin(&mut self, partition: i32, offset: i64) -> Ticket {
        let generations = &mut self.generations;
        let state = self.partitions.entry(partition).or_insert_with(|| {
            *generations += 1;
            Partition {
                generation: *generations,
                unfinished: BTreeSet::new(),
                next: offset,
                stored: offset,
            }
        });
        state.unfinished.insert(offset);
        state.next = state.next.max(offset + 1);
        Ticket {
            partition,
            offset,
            generation: state.generation,
        }
    }

    /// The record is done with; returns the partition's new committable
    /// offset when it moved.
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

    /// The partitions left this consumer: whatever finishes there later is forgotten.
    pub fn revoke(&mut self, partitions: impl IntoIterator<Item = i32>) {
        for p in partitions {
            self.partitions.remove(&p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offset_waits_for_the_oldest_unfinished_record() {
        let mut t = OffsetTracker::default();
        let a = t.begin(0, 10);
        let b = t.begin(0, 11);
        let c = t.begin(0, 12);
        assert_eq!(t.finish(c), None, "10 and 11 still run");
        assert_eq!(t.finish(a), Some(11));
        assert_eq!(t.finish(b), Some(13), "everything seen is done");
        assert_eq!(t.finish(b), None, "a second finish changes nothing");
    }

    #[test]
    fn partitions_are_independent() {
        let mut t = OffsetTracker::default();
        let a = t.begin(0, 5);
        let b = t.begin(1, 7);
        assert_eq!(t.finish(b), Some(8));
        assert_eq!(t.finish(a), Some(6));
    }

    #[test]
    fn a_completion_from_before_a_revoke_moves_nothing() {
        let mut t = OffsetTracker::default();
        let old = t.begin(0, 10);
        t.revoke([0]);
        let new = t.begin(0, 10);
        let later = t.begin(0, 11);
        assert_eq!(t.finish(old), None);
        assert_eq!(t.finish(later), None, "10 is still being answered again");
        assert_eq!(t.finish(new), Some(12));
    }
}
