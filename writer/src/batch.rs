//! The batch being gathered: records from Kafka, bounded by count and bytes,
//! with the offsets to commit once it is stored, and the records left out
//! when their partition's ownership changed.

use std::collections::BTreeMap;

use chat_core::kafka::ownership::Ownership;
use rdkafka::message::{BorrowedMessage, Message};
use rdkafka::{Offset, TopicPartitionList};

use crate::metrics as m;

/// One Kafka record, owned.
#[derive(Debug, Clone)]
pub struct Record {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    /// The generation of the partition's assignment it was read under
    /// (see [`chat_core::kafka::ownership`]).
    pub generation: u64,
    pub key: Option<Vec<u8>>,
    pub payload: Vec<u8>,
}

impl Record {
    pub fn from_message(message: &BorrowedMessage<'_>, generation: u64) -> Self {
        Self {
            topic: message.topic().to_owned(),
            partition: message.partition(),
            offset: message.offset(),
            generation,
            key: message.key().map(<[u8]>::to_vec),
            payload: message.payload().map(<[u8]>::to_vec).unwrap_or_default(),
        }
    }
}

/// Records in arrival order (which is offset order within each partition).
#[derive(Debug, Default)]
pub struct Batch {
    records: Vec<Record>,
    bytes: usize,
}

impl Batch {
    pub fn push(&mut self, record: Record) {
        self.bytes += record.payload.len();
        self.records.push(record);
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The bytes of the records' payloads.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn is_full(&self, max_rows: usize, max_bytes: usize) -> bool {
        self.records.len() >= max_rows || self.bytes >= max_bytes
    }

    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// Keeps the records for which `keep` is true; returns how many left.
    pub fn retain(&mut self, mut keep: impl FnMut(&Record) -> bool) -> usize {
        let before = self.records.len();
        self.records.retain(|r| keep(r));
        self.bytes = self.records.iter().map(|r| r.payload.len()).sum();
        before - self.records.len()
    }

    /// The offsets to commit once every record is stored: the next offset to read
    /// on each partition, counting only the records `include` accepts.
    pub fn next_offsets(&self, include: impl Fn(&Record) -> bool) -> TopicPartitionList {
        let mut next: BTreeMap<(&str, i32), i64> = BTreeMap::new();
        for r in self.records.iter().filter(|r| include(r)) {
            let entry = next.entry((r.topic.as_str(), r.partition)).or_insert(0);
            *entry = (*entry).max(r.offset + 1);
        }
        let mut list = TopicPartitionList::new();
        for ((topic, partition), offset) in next {
            // adding a fresh partition to a list we own cannot fail
            let _ = list.add_partition_offset(topic, partition, Offset::Offset(offset));
        }
        list
    }

    pub fn clear(&mut self) {
        self.records.clear();
        self.bytes = 0;
    }

    /// Drops the records whose partition was revoked since they were read
    /// (perhaps assigned back since, under a new generation); returns how many.
    pub fn drop_stale(&mut self, ownership: &Ownership) -> usize {
        let dropped = ownership.with_current(|current| {
            self.retain(|r| current.is_current(&r.topic, r.partition, r.generation))
        });
        if dropped > 0 {
            metrics::counter!(m::RECORDS_ABANDONED).increment(dropped as u64);
            tracing::info!(records = dropped, "abandoned records of revoked partitions");
        }
        dropped
    }

    /// Calls `commit` with the next offsets of the records still owned under
    /// the generation they were read in, while no rebalance can change that.
    /// Does nothing when none is.
    pub fn commit_owned(&self, ownership: &Ownership, commit: impl FnOnce(&TopicPartitionList)) {
        ownership.with_current(|current| {
            let offsets =
                self.next_offsets(|r| current.is_current(&r.topic, r.partition, r.generation));
            if offsets.count() > 0 {
                commit(&offsets);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(partition: i32, offset: i64) -> Record {
        Record {
            topic: "t".into(),
            partition,
            offset,
            generation: 1,
            key: None,
            payload: vec![0; 10],
        }
    }

    #[test]
    fn the_next_offset_is_one_past_the_highest_per_partition() {
        let mut batch = Batch::default();
        for (p, o) in [(0, 5), (1, 7), (0, 6), (1, 8)] {
            batch.push(record(p, o));
        }
        let list = batch.next_offsets(|_| true);
        assert_eq!(
            list.find_partition("t", 0).map(|e| e.offset()),
            Some(Offset::Offset(7))
        );
        assert_eq!(
            list.find_partition("t", 1).map(|e| e.offset()),
            Some(Offset::Offset(9))
        );
    }

    #[test]
    fn a_batch_is_full_by_rows_or_by_bytes() {
        let mut batch = Batch::default();
        batch.push(record(0, 1));
        assert!(!batch.is_full(2, 100));
        batch.push(record(0, 2));
        assert!(batch.is_full(2, 100));
        assert!(batch.is_full(10, 20));
    }

    fn read(ownership: &Ownership, batch: &mut Batch, partition: i32, offset: i64) {
        let generation = ownership.generation("t", partition).expect("owned");
        batch.push(Record {
            generation,
            ..record(partition, offset)
        });
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
        batch.commit_owned(&ownership, |offsets| {
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

        assert_eq!(batch.drop_stale(&ownership), 1);
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
        batch.commit_owned(&ownership, |_| called = true);
        assert!(!called);
    }

    #[test]
    fn records_left_out_leave_the_batch_and_its_size() {
        let mut batch = Batch::default();
        for (p, o) in [(0, 1), (1, 1), (0, 2)] {
            batch.push(record(p, o));
        }
        assert_eq!(batch.retain(|r| r.partition != 0), 2);
        assert_eq!(batch.len(), 1);
        assert!(!batch.is_full(10, 11));
    }
}
