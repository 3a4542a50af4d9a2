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

    /// Up to `max` entries after `after` (from the first when `None`), in
    /// order. Walking from `None`, each call after the last entry of the one
    /// before, visits every entry present throughout the walk once; one
    /// added meanwhile may be visited or not, one removed may not be.
    pub(crate) fn chunk_after(&self, after: Option<&Entry>, max: usize) -> Vec<Entry> {
        let set = self.lock();
        let from = after.map_or(Bound::Unbounded, Bound::Excluded);
        set.range((from, Bound::Unbounded))
            .take(max)
            .cloned()
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<Entry>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(entries: &LocalEntries, max: usize) -> Vec<Vec<Entry>> {
        let mut chunks = Vec::new();
        let mut after: Option<Entry> = None;
        loop {
            let chunk = entries.chunk_after(after.as_ref(), max);
            let Some(last) = chunk.last().cloned() else {
                return chunks;
            };
            chunks.push(chunk);
            after = Some(last);
        }
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
        let first = entries.chunk_after(None, 3);
        // the walk's cursor leaves the set before the next chunk is taken
        entries.remove(first.last().expect("a chunk"));
        let rest = entries.chunk_after(first.last(), 3);
        let members: Vec<&str> = rest.iter().map(|(_, m)| m.as_str()).collect();
        assert_eq!(members, ["m3", "m4", "m5"]);
    }

    #[test]
    fn an_empty_set_gives_no_chunk() {
        assert!(LocalEntries::default().chunk_after(None, 8).is_empty());
    }
}
