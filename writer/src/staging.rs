//! The queue between the gather and store stages, bounded by batches and by
//! the bytes of the records they hold.
//!
//! It is deep on purpose. When it is full the gather stage pauses its
//! partitions, and librdkafka fetches again only when its broker thread next
//! wakes, up to a second after the resume (the thread sleeps up to 1 s, and a
//! resume does not wake it). The batches queued are the store stage's work
//! meanwhile: with four of them it sat idle a third to a half of the time
//! while the writer caught up (BENCHMARKS.md, session 20).

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

use crate::consumer::Staged;

/// A prepared batch in the queue; its bytes count against the budget until
/// the store stage drops it, after its commit.
pub(crate) struct Queued {
    staged: Staged,
    budget: OwnedSemaphorePermit,
}

impl Queued {
    /// The batch, and its share of the budget, given back when dropped.
    pub(crate) fn into_parts(self) -> (Staged, OwnedSemaphorePermit) {
        (self.staged, self.budget)
    }
}

/// The store stage stopped taking batches.
#[derive(Debug)]
pub(crate) struct Closed;

/// The gather stage's end of the queue.
pub(crate) struct Sender {
    slots: mpsc::Sender<Queued>,
    budget: Arc<Semaphore>,
    max_bytes: u32,
}

/// The store stage's end of the queue.
pub(crate) type Receiver = mpsc::Receiver<Queued>;

/// A queue of at most `batches` batches holding at most `bytes` of records
/// between them; a batch of more than `bytes` on its own waits for an empty
/// queue.
pub(crate) fn queue(batches: usize, bytes: u32) -> (Sender, Receiver) {
    let (slots, receiver) = mpsc::channel(batches.max(1));
    let max_bytes = bytes.max(1);
    let sender = Sender {
        slots,
        budget: Arc::new(Semaphore::new(max_bytes as usize)),
        max_bytes,
    };
    (sender, receiver)
}

/// Room for one batch, reserved.
pub(crate) struct Room<'a> {
    slot: mpsc::Permit<'a, Queued>,
    budget: OwnedSemaphorePermit,
}

impl Room<'_> {
    pub(crate) fn send(self, staged: Staged) {
        self.slot.send(Queued {
            staged,
            budget: self.budget,
        });
    }
}

impl Sender {
    /// Waits for room for a batch of `bytes`. Cancel-safe: dropped before it
    /// is ready, it holds nothing.
    pub(crate) async fn room(&self, bytes: usize) -> Result<Room<'_>, Closed> {
        let wanted = u32::try_from(bytes)
            .unwrap_or(u32::MAX)
            .clamp(1, self.max_bytes);
        let budget = self
            .budget
            .clone()
            .acquire_many_owned(wanted)
            .await
            .map_err(|_| Closed)?;
        let slot = self.slots.reserve().await.map_err(|_| Closed)?;
        Ok(Room { slot, budget })
    }

    /// Waits for room, then queues `staged`.
    pub(crate) async fn send(&self, staged: Staged) -> Result<(), Closed> {
        self.room(staged.batch.bytes()).await?.send(staged);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use futures::FutureExt;

    use super::*;
    use crate::batch::{Batch, Record};

    fn staged(payload_bytes: usize) -> Staged {
        let mut batch = Batch::default();
        batch.push(Record {
            topic: "t".into(),
            partition: 0,
            offset: 0,
            generation: 1,
            key: None,
            payload: vec![b'x'; payload_bytes],
        });
        Staged {
            batch,
            prepared: None,
        }
    }

    #[tokio::test]
    async fn a_batch_waits_until_the_bytes_queued_before_it_are_stored() {
        let (sender, mut receiver) = queue(8, 100);
        sender.send(staged(60)).await.unwrap();
        assert!(
            sender.room(60).now_or_never().is_none(),
            "120 bytes queued of a budget of 100"
        );
        let first = receiver.recv().await.unwrap();
        assert!(
            sender.room(60).now_or_never().is_none(),
            "a batch being stored still holds its bytes"
        );
        drop(first);
        assert!(sender.room(60).now_or_never().is_some());
    }

    #[tokio::test]
    async fn a_batch_waits_for_a_free_slot_however_small() {
        let (sender, mut receiver) = queue(2, 1000);
        sender.send(staged(1)).await.unwrap();
        sender.send(staged(1)).await.unwrap();
        assert!(sender.room(1).now_or_never().is_none());
        drop(receiver.recv().await.unwrap());
        assert!(sender.room(1).now_or_never().is_some());
    }

    #[tokio::test]
    async fn a_batch_larger_than_the_budget_passes_once_the_queue_is_empty() {
        let (sender, mut receiver) = queue(8, 100);
        sender.send(staged(10)).await.unwrap();
        assert!(sender.room(500).now_or_never().is_none());
        drop(receiver.recv().await.unwrap());
        let room = sender.room(500).now_or_never();
        assert!(
            room.is_some(),
            "a batch over the budget must not wait forever"
        );
    }

    #[tokio::test]
    async fn room_given_up_before_it_came_holds_nothing() {
        let (sender, mut receiver) = queue(8, 100);
        sender.send(staged(90)).await.unwrap();
        // waits for the whole budget, then is dropped before it is granted
        assert!(sender.room(100).now_or_never().is_none());
        drop(receiver.recv().await.unwrap());
        assert!(sender.room(100).now_or_never().is_some());
    }

    #[tokio::test]
    async fn a_stopped_store_stage_is_reported() {
        let (sender, receiver) = queue(8, 100);
        drop(receiver);
        assert!(sender.send(staged(1)).await.is_err());
    }
}
