//! This instance's presence entries, kept in order so the heartbeat can walk
//! them a bounded chunk at a time (`Presence::heartbeat`): its memory and
//! each Redis pipeline it sends stay the same size however many connections
//! the gateway holds.

use std::collections::BTreeSet;
use std::ops::Bound;
use std::sync::{Mutex, PoisonError};

use uuid::Uuid;

/// A room and a member of its presence set.
pub(crate) type Entry = (Uuid, String);

/// The (room, member) of every local entry, by room then member.
#[derive(Debug, Default)]
pub(crate) struct LocalEntries(Mutex<BTreeSet<Entry>>);

impl LocalEntries {
    pub(crate) fn insert(&self, entry: Entry) {
        self.lock().insert(entry);
    }

    pub(crate) fn remove(&self, entry: &Entry) {
        self.lock().remove(entry);
    }

    /// A walk over the entries `max` at a time (at least one), each chunk
    /// taken under the lock after the last entry of the one before: every
    /// entry present throughout the walk is visited once; one added meanwhile
    /// may be visited or not, one removed may not be.
    pub(crate) fn walk(&self, max: usize) -> Walk<'_> {
        Walk {
            entries: self,
            max: max.max(1),
            after: None,
            done: false,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<Entry>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// See [`LocalEntries::walk`].
pub(crate) struct Walk<'a> {
    entries: &'a LocalEntries,
    max: usize,
    /// The last entry given, where the next chunk starts after.
    after: Option<Entry>,
    /// The last chunk was short: nothing is after it.
    done: bool,
}

impl Walk<'_> {
    /// The next chunk, in order; `None` once the walk is over.
    pub(crate) fn next_chunk(&mut self) -> Option<Vec<Entry>> {
        if self.done {
            return None;
        }
        let chunk: Vec<Entry> = {
            let set = self.entries.lock();
            let from = self
                .after
                .as_ref()
                .map_or(Bound::Unbounded, Bound::Excluded);
            set.range((from, Bound::Unbounded))
                .take(self.max)
                .cloned()
                .collect()
        };
        self.done = chunk.len() < self.max;
        self.after = Some(chunk.last()?.clone());
        Some(chunk)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(entries: &LocalEntries, max: usize) -> Vec<Vec<Entry>> {
        let mut walk = entries.walk(max);
        std::iter::from_fn(|| walk.next_chunk()).collect()
    }

    #[test]
    fn a_walk_visits_every_entry_once_in_chunks_of_at_most_max() {
        let entries = LocalEntries::default();
        let rooms = [Uuid::now_v7(), Uuid::now_v7()];
        for i in 0..23 {
            entries.insert((rooms[i % 2], format!("member{i:02}")));
        }
        let chunks = walk(&entries, 5);
        assert!(chunks.iter().all(|c| !c.is_empty() && c.len() <= 5));
        assert_eq!(chunks.len(), 5, "23 entries in chunks of 5");
        let visited: Vec<Entry> = chunks.into_iter().flatten().collect();
        let all: Vec<Entry> = entries.lock().iter().cloned().collect();
        assert_eq!(visited, all, "every entry once, in order");
    }

    #[test]
    fn a_walk_goes_on_past_an_entry_removed_under_it() {
        let entries = LocalEntries::default();
        let room = Uuid::now_v7();
        for i in 0..6 {
            entries.insert((room, format!("m{i}")));
        }
        let mut walk = entries.walk(3);
        let first = walk.next_chunk().expect("a chunk");
        // the walk's cursor leaves the set before the next chunk is taken
        entries.remove(first.last().expect("a full chunk"));
        let rest = walk.next_chunk().expect("the rest");
        let members: Vec<&str> = rest.iter().map(|(_, m)| m.as_str()).collect();
        assert_eq!(members, ["m3", "m4", "m5"]);
        assert!(
            walk.next_chunk().is_none(),
            "a walk ends after its last full chunk"
        );
    }

    #[test]
    fn an_empty_set_gives_no_chunk() {
        assert!(LocalEntries::default().walk(8).next_chunk().is_none());
    }
}
