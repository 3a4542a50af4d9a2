//! Futures and streams polled again only once they have woken their task.
//! The connection's task selects over sources one of which woke it (a room's
//! feed, at every frame) and others that seldom do (the client's frames, the
//! direct queue, the session's revocation). Polling those at every wake cost
//! each a lock or a chain of wrappers down to the socket (the client's side:
//! axum, tokio-tungstenite's waker proxies, hyper's upgraded stream): gating
//! them cut a gateway's CPU by 8 % at 20k deliveries/s (BENCHMARKS.md,
//! session 17). Gated, a wake of the task by anything else costs each two
//! atomic operations.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use futures::Stream;
use futures::task::AtomicWaker;

/// Lets a poll through only after the waker it handed the last one was woken.
pub(super) struct Gate {
    flag: Arc<Flag>,
    /// `flag` as a waker, made once.
    waker: Waker,
}

/// Whether the gated source woke since it was last polled, and the task to wake.
struct Flag {
    woken: AtomicBool,
    task: AtomicWaker,
}

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.task.wake();
    }
}

impl Gate {
    /// Open: the first poll goes through.
    pub(super) fn new() -> Self {
        let flag = Arc::new(Flag {
            woken: AtomicBool::new(true),
            task: AtomicWaker::new(),
        });
        let waker = Waker::from(flag.clone());
        Self { flag, waker }
    }

    /// Runs `poll` with the gate's waker if it was woken since the last
    /// `Pending` (or the last poll was ready: more may be waiting), else
    /// answers `Pending`. The task of `cx` is woken by the next wake either
    /// way, so a source polled only through its gate misses none.
    pub(super) fn poll<T>(
        &self,
        cx: &mut Context<'_>,
        poll: impl FnOnce(&mut Context<'_>) -> Poll<T>,
    ) -> Poll<T> {
        // registered before the flag is read: a wake in between is not lost
        self.flag.task.register(cx.waker());
        if !self.flag.woken.swap(false, Ordering::AcqRel) {
            return Poll::Pending;
        }
        let polled = poll(&mut Context::from_waker(&self.waker));
        if polled.is_ready() {
            self.flag.woken.store(true, Ordering::Release);
        }
        polled
    }
}

/// `inner`, polled at the first poll and after each wake it made since (a
/// stream also after each item it gave).
pub(super) struct Gated<F> {
    inner: F,
    gate: Gate,
}

impl<F> Gated<F> {
    pub(super) fn new(inner: F) -> Self {
        Self {
            inner,
            gate: Gate::new(),
        }
    }
}

impl<F: Future + Unpin> Future for Gated<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        this.gate.poll(cx, |cx| Pin::new(&mut this.inner).poll(cx))
    }
}

impl<S: Stream + Unpin> Stream for Gated<S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let this = &mut *self;
        this.gate
            .poll(cx, |cx| Pin::new(&mut this.inner).poll_next(cx))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use futures::task::noop_waker;
    use tokio::sync::Notify;

    use super::*;

    /// Waits for `notify`, counting its polls.
    fn counted<'a>(
        notify: &'a Notify,
        polls: &'a AtomicUsize,
    ) -> Pin<Box<impl Future<Output = ()> + 'a>> {
        Box::pin(async move {
            let notified = notify.notified();
            tokio::pin!(notified);
            std::future::poll_fn(|cx| {
                polls.fetch_add(1, Ordering::Relaxed);
                notified.as_mut().poll(cx)
            })
            .await;
        })
    }

    #[test]
    fn the_inner_future_is_polled_again_only_after_it_woke_the_task() {
        let notify = Notify::new();
        let polls = AtomicUsize::new(0);
        let mut gated = Gated::new(counted(&notify, &polls));
        let task = Arc::new(Counter::default());
        let waker = Waker::from(task.clone());
        let mut cx = Context::from_waker(&waker);

        assert!(Pin::new(&mut gated).poll(&mut cx).is_pending());
        assert_eq!(polls.load(Ordering::Relaxed), 1);
        // the task woken by something else: the inner future is left alone
        for _ in 0..3 {
            assert!(Pin::new(&mut gated).poll(&mut cx).is_pending());
        }
        assert_eq!(polls.load(Ordering::Relaxed), 1);
        assert_eq!(task.wakes.load(Ordering::Relaxed), 0);

        // its own wake reaches the task, and the next poll finds it ready
        notify.notify_one();
        assert_eq!(task.wakes.load(Ordering::Relaxed), 1);
        assert!(Pin::new(&mut gated).poll(&mut cx).is_ready());
        assert_eq!(polls.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn a_wake_before_the_task_registers_is_kept() {
        let notify = Notify::new();
        let polls = AtomicUsize::new(0);
        let mut gated = Gated::new(counted(&notify, &polls));
        let noop = noop_waker();
        assert!(
            Pin::new(&mut gated)
                .poll(&mut Context::from_waker(&noop))
                .is_pending()
        );
        notify.notify_one();
        // polled by a task whose waker it never held: the wake was not lost
        let task = Arc::new(Counter::default());
        let waker = Waker::from(task);
        assert!(
            Pin::new(&mut gated)
                .poll(&mut Context::from_waker(&waker))
                .is_ready()
        );
    }

    #[test]
    fn a_stream_gives_every_waiting_item_then_waits_for_its_wake() {
        let (tx, rx) = futures::channel::mpsc::unbounded::<u32>();
        let mut gated = Gated::new(Polls {
            inner: rx,
            polls: 0,
        });
        let task = Arc::new(Counter::default());
        let waker = Waker::from(task.clone());
        let mut cx = Context::from_waker(&waker);
        for item in 1..=3 {
            tx.unbounded_send(item).unwrap();
        }
        // the items waiting are all given, with no wake between them
        for item in 1..=3 {
            assert_eq!(
                Pin::new(&mut gated).poll_next(&mut cx),
                Poll::Ready(Some(item))
            );
        }
        assert!(Pin::new(&mut gated).poll_next(&mut cx).is_pending());
        assert_eq!(gated.inner.polls, 4);
        // then it is left alone until it wakes the task
        for _ in 0..3 {
            assert!(Pin::new(&mut gated).poll_next(&mut cx).is_pending());
        }
        assert_eq!(gated.inner.polls, 4);
        tx.unbounded_send(4).unwrap();
        assert_eq!(task.wakes.load(Ordering::Relaxed), 1);
        assert_eq!(
            Pin::new(&mut gated).poll_next(&mut cx),
            Poll::Ready(Some(4))
        );
        drop(tx);
        assert_eq!(Pin::new(&mut gated).poll_next(&mut cx), Poll::Ready(None));
    }

    /// A stream that counts its polls.
    struct Polls<S> {
        inner: S,
        polls: usize,
    }

    impl<S: Stream + Unpin> Stream for Polls<S> {
        type Item = S::Item;

        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
            self.polls += 1;
            Pin::new(&mut self.inner).poll_next(cx)
        }
    }

    #[derive(Default)]
    struct Counter {
        wakes: AtomicUsize,
    }

    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.wakes.fetch_add(1, Ordering::Relaxed);
        }
    }
}
