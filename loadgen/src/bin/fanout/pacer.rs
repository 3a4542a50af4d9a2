//! The senders' clock: one thread that tells each sender when its next
//! message is due, to within the operating system's sleep precision (tens of
//! microseconds). tokio's timers fire on millisecond ticks, rounded up, so a
//! sender that slept on one went out a millisecond late at p50, and that
//! lateness counted in every latency (measured from when a message is due).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

/// Starts the clock. Connection `k`, if `firsts[k]` is set, sends at that
/// instant, then every `period`, while before `last`; its receiver (at `k`
/// of the answer, `None` where `firsts[k]` is) gets each due instant once
/// that instant has passed, in order, and closes after the last one.
pub fn start(
    firsts: &[Option<Instant>],
    period: Duration,
    last: Instant,
) -> (
    JoinHandle<()>,
    Vec<Option<mpsc::UnboundedReceiver<Instant>>>,
) {
    let mut schedule = Vec::new();
    let mut senders = Vec::new();
    let receivers = firsts
        .iter()
        .map(|first| {
            first.map(|first| {
                let (sender, receiver) = mpsc::unbounded_channel();
                schedule.push(first);
                senders.push(sender);
                receiver
            })
        })
        .collect();
    let thread = std::thread::spawn(move || run(schedule, period, last, senders));
    (thread, receivers)
}

fn run(
    firsts: Vec<Instant>,
    period: Duration,
    last: Instant,
    senders: Vec<mpsc::UnboundedSender<Instant>>,
) {
    let mut schedule: BinaryHeap<Reverse<(Instant, usize)>> = firsts
        .into_iter()
        .enumerate()
        .filter(|(_, due)| *due < last)
        .map(|(k, due)| Reverse((due, k)))
        .collect();
    while let Some(Reverse((due, k))) = schedule.pop() {
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        // a sender that has stopped (its socket closed) is no longer told
        if senders[k].send(due).is_ok() && due + period < last {
            schedule.push(Reverse((due + period, k)));
        }
    }
    // dropping the senders closes every receiver: the sending is over
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_sender_is_told_its_due_instants_in_order_once_they_have_passed() {
        let origin = Instant::now();
        let period = Duration::from_millis(10);
        let firsts = [
            origin,
            origin + Duration::from_millis(3),
            origin + Duration::from_millis(6),
        ];
        let last = origin + Duration::from_millis(45);
        // a receiving connection between the senders gets no clock
        let slots = [Some(firsts[0]), None, Some(firsts[1]), Some(firsts[2])];
        let (thread, receivers) = start(&slots, period, last);
        assert!(receivers[1].is_none());
        let mut receivers: Vec<_> = receivers.into_iter().flatten().collect();
        assert_eq!(receivers.len(), 3);
        for (k, receiver) in receivers.iter_mut().enumerate() {
            let mut told = Vec::new();
            while let Some(due) = receiver.blocking_recv() {
                assert!(Instant::now() >= due, "sender {k} told before {due:?}");
                told.push(due);
            }
            let expected: Vec<Instant> = (0..)
                .map(|n| firsts[k] + period * n)
                .take_while(|due| *due < last)
                .collect();
            assert_eq!(told, expected, "sender {k}");
        }
        thread.join().expect("the clock's thread");
    }

    #[test]
    fn a_sender_that_stopped_does_not_hold_the_others_up() {
        let origin = Instant::now();
        let period = Duration::from_millis(5);
        let last = origin + Duration::from_millis(30);
        let (thread, receivers) = start(&[Some(origin), Some(origin)], period, last);
        let mut receivers: Vec<_> = receivers.into_iter().flatten().collect();
        drop(receivers.remove(0));
        let mut told = 0;
        while receivers[0].blocking_recv().is_some() {
            told += 1;
        }
        assert_eq!(told, 6);
        thread.join().expect("the clock's thread");
    }
}
