//! A future polled again only once it has woken its task. The connection's
//! task selects over futures that wake it at every frame and one that seldom
//! does (the session's revocation): polling that one at every wake took two
//! locks each time (a cancellation token's state and its notifier), 2 % of a
//! gateway's samples at 20k deliveries/s. Gated, a wake of the task by
//! anything else costs it two atomic operations.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use futures::task::AtomicWaker;

/// `inner`, polled at the first poll and after each wake it made since.
pub(super) struct Gated<F> {
    inner: F,
    flag: Arc<Flag>,
}

/// Whether `inner` woke since it was last polled, and the task to wake.
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

impl<F> Gated<F> {
    pub(super) fn new(inner: F) -> Self {
        Self {
            inner,
            flag: Arc::new(Flag {
                woken: AtomicBool::new(true),
                task: AtomicWaker::new(),
            }),
        }
    }
}

impl<F: Future + Unpin> Future for Gated<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        // registered before the flag is read: a wake in between is not lost
        this.flag.task.register(cx.waker());
        if !this.flag.woken.swap(false, Ordering::AcqRel) {
            return Poll::Pending;
        }
        let waker = Waker::from(this.flag.clone());
        Pin::new(&mut this.inner).poll(&mut Context::from_waker(&waker))
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
