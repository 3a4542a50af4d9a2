//! The bound on password hashing: at most `concurrency` argon2 computations at
//! once (each holds `ARGON2_MEMORY_KIB` while it runs), at most `queue` more
//! waiting for a slot, none of them longer than `wait`; past any of these the
//! request is refused at once with `Busy` (`503` and `Retry-After`), so a flood
//! of sign-ups or logins costs bounded memory and threads, never a growing queue.
//!
//! Hashes run on `concurrency` threads of their own, not on tokio's blocking
//! pool: that pool starts a new thread whenever none is idle at the instant a
//! task arrives, and with the system allocator every new thread's arena kept
//! its 19 MiB blocks (856 MB after a one-minute flood with only two hashes at
//! once; BENCHMARKS.md).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::time::Duration;

use tokio::sync::{Semaphore, oneshot};

use crate::error::ApiError;
use crate::metrics as m;

/// Seconds a refused client is asked to wait: a slot frees within a hash's time.
pub const RETRY_AFTER_SECS: u64 = 1;

/// Slots for password hashes, shared by sign-up and login.
#[derive(Debug, Clone)]
pub struct HashSlots {
    /// One permit per hash that may run.
    running: Arc<Semaphore>,
    /// One permit per hash that may run or wait.
    admitted: Arc<Semaphore>,
    wait: Duration,
    counts: Arc<Counts>,
    /// The hashing threads' work queue; they stop when every clone is dropped.
    jobs: mpsc::Sender<Job>,
}

type Job = Box<dyn FnOnce() + Send>;

/// Starts `n` threads that run jobs from one queue until its senders are gone.
fn start_threads(n: usize) -> std::io::Result<mpsc::Sender<Job>> {
    let (jobs, queue) = mpsc::channel::<Job>();
    let queue = Arc::new(Mutex::new(queue));
    for i in 0..n {
        let queue = queue.clone();
        std::thread::Builder::new()
            .name(format!("password-hash-{i}"))
            .spawn(move || {
                loop {
                    let job = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
                    match job {
                        // a panicking job loses its answer (the request gets 500), not the thread
                        Ok(job) => {
                            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                        }
                        Err(mpsc::RecvError) => return,
                    }
                }
            })?;
    }
    Ok(jobs)
}

#[derive(Debug, Default)]
struct Counts {
    in_flight: AtomicUsize,
    peak: AtomicUsize,
}

/// Counts a running hash until dropped (on the blocking thread that ran it).
struct Running(Arc<Counts>);

impl Running {
    fn start(counts: Arc<Counts>) -> Self {
        let now = counts.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        counts.peak.fetch_max(now, Ordering::SeqCst);
        metrics::gauge!(m::HASHES_IN_FLIGHT).increment(1.0);
        Self(counts)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
        metrics::gauge!(m::HASHES_IN_FLIGHT).decrement(1.0);
    }
}

fn busy() -> ApiError {
    metrics::counter!(m::HASHES_REFUSED).increment(1);
    ApiError::Busy {
        retry_after_secs: RETRY_AFTER_SECS,
    }
}

impl HashSlots {
    /// `concurrency` 0 means one slot per core; starts that many threads.
    pub fn new(concurrency: usize, queue: usize, wait: Duration) -> std::io::Result<Self> {
        let concurrency = if concurrency == 0 {
            std::thread::available_parallelism().map_or(1, usize::from)
        } else {
            concurrency
        };
        metrics::gauge!(m::HASHES_IN_FLIGHT).increment(0.0);
        Ok(Self {
            running: Arc::new(Semaphore::new(concurrency)),
            admitted: Arc::new(Semaphore::new(concurrency.saturating_add(queue))),
            wait,
            counts: Arc::default(),
            jobs: start_threads(concurrency)?,
        })
    }

    /// Runs `work` on a hashing thread once a slot is free; `Busy` when the
    /// queue is full or no slot frees within the wait. The slot is held by the
    /// job, so a request that goes away does not free it early.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let admitted = self
            .admitted
            .clone()
            .try_acquire_owned()
            .map_err(|_| busy())?;
        let running = tokio::time::timeout(self.wait, self.running.clone().acquire_owned())
            .await
            .map_err(|_| busy())?
            .map_err(|_| busy())?;
        let counts = self.counts.clone();
        let (done, result) = oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                let _slot = (admitted, running, Running::start(counts));
                let _ = done.send(work());
            }))
            .map_err(|_| ApiError::Internal("the hashing threads are gone".into()))?;
        result
            .await
            .map_err(|_| ApiError::Internal("a hash job ended without a result".into()))
    }

    /// The most hashes that ever ran at once.
    pub fn peak(&self) -> usize {
        self.counts.peak.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn past_the_slots_and_the_queue_a_hash_is_refused_at_once() {
        let slots = HashSlots::new(2, 2, Duration::from_secs(30)).expect("threads");
        let started = std::time::Instant::now();

        let results = futures::future::join_all(
            (0..20).map(|_| slots.run(|| std::thread::sleep(Duration::from_millis(100)))),
        )
        .await;

        let done = results.iter().filter(|r| r.is_ok()).count();
        let refused = results
            .iter()
            .filter(|r| matches!(r, Err(ApiError::Busy { .. })))
            .count();
        assert_eq!(
            (done, refused),
            (4, 16),
            "two run, two wait, the rest are refused"
        );
        assert_eq!(slots.peak(), 2, "never more than two at once");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn a_hash_that_cannot_get_a_slot_in_time_is_refused() {
        let slots = HashSlots::new(1, 4, Duration::from_millis(50)).expect("threads");
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let holder = tokio::spawn({
            let slots = slots.clone();
            async move { slots.run(move || rx.recv()).await }
        });
        until_running(&slots).await;

        let waited = slots.run(|| ()).await;

        assert!(matches!(waited, Err(ApiError::Busy { .. })), "{waited:?}");
        tx.send(()).expect("the holder is waiting");
        assert!(holder.await.expect("holder task").is_ok());
    }

    /// Waits until a hash holds a slot.
    async fn until_running(slots: &HashSlots) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while slots.counts.in_flight.load(Ordering::SeqCst) == 0 {
            assert!(tokio::time::Instant::now() < deadline, "the hash started");
            tokio::task::yield_now().await;
        }
    }
}
