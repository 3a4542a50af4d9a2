//! A value loaded at most once per interval however many ask for it: the
//! first caller past the interval loads it while the others wait for that
//! load (one at a time), then everyone gets the stored copy until it ages out.
//! A failed load stores nothing; the next caller tries again.

use std::future::Future;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

pub struct TtlCache<T> {
    ttl: Duration,
    slot: Mutex<Option<(Instant, T)>>,
}

impl<T: Clone> TtlCache<T> {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            slot: Mutex::new(None),
        }
    }

    /// The stored value while younger than the interval, else what `load` gives.
    pub async fn get_or_load<E, F, Fut>(&self, load: F) -> Result<T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let mut slot = self.slot.lock().await;
        if let Some((at, value)) = slot.as_ref()
            && at.elapsed() < self.ttl
        {
            return Ok(value.clone());
        }
        let value = load().await?;
        *slot = Some((Instant::now(), value.clone()));
        Ok(value)
    }
}

impl<T> std::fmt::Debug for TtlCache<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TtlCache").field("ttl", &self.ttl).finish()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    async fn counted(cache: &TtlCache<usize>, loads: &AtomicUsize) -> Result<usize, ()> {
        cache
            .get_or_load(|| async {
                let n = loads.fetch_add(1, Ordering::SeqCst) + 1;
                // a slow query: the others arrive while it runs
                tokio::time::sleep(Duration::from_millis(20)).await;
                Ok(n)
            })
            .await
    }

    async fn flood(cache: &Arc<TtlCache<usize>>, loads: &Arc<AtomicUsize>) -> Vec<usize> {
        let tasks: Vec<_> = (0..100)
            .map(|_| {
                let (cache, loads) = (cache.clone(), loads.clone());
                tokio::spawn(async move { counted(&cache, &loads).await })
            })
            .collect();
        let mut seen = Vec::new();
        for task in tasks {
            seen.push(task.await.expect("task").expect("load"));
        }
        seen
    }

    #[tokio::test]
    async fn a_flood_of_callers_within_the_interval_costs_one_load() {
        let cache = Arc::new(TtlCache::new(Duration::from_secs(3600)));
        let loads = Arc::new(AtomicUsize::new(0));
        let seen = flood(&cache, &loads).await;
        assert!(seen.iter().all(|&n| n == 1), "{seen:?}");
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        assert_eq!(counted(&cache, &loads).await, Ok(1));
        assert_eq!(loads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn past_the_interval_the_next_caller_loads_again_and_the_others_wait_for_it() {
        // an interval of zero: every value is already old when asked for
        let cache = Arc::new(TtlCache::new(Duration::ZERO));
        let loads = Arc::new(AtomicUsize::new(0));
        assert_eq!(counted(&cache, &loads).await, Ok(1));
        assert_eq!(counted(&cache, &loads).await, Ok(2));
        // one load at a time, never two at once
        let mut seen = flood(&cache, &loads).await;
        seen.sort_unstable();
        assert_eq!(seen, (3..=102).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn a_failed_load_is_not_stored() {
        let cache = TtlCache::new(Duration::from_secs(3600));
        let failed: Result<u8, &str> = cache.get_or_load(|| async { Err("down") }).await;
        assert_eq!(failed, Err("down"));
        assert_eq!(
            cache.get_or_load(|| async { Ok::<_, &str>(7) }).await,
            Ok(7)
        );
        assert_eq!(
            cache.get_or_load(|| async { Ok::<_, &str>(8) }).await,
            Ok(7)
        );
    }
}
