//! Postgres connections held by tasks of their own, for the send path's one read.
//!
//! sqlx pings every connection handed back to its pool (a `Sync` and its
//! `ReadyForQuery`; no setting turns it off), so each query through `&PgPool`
//! is two round trips to its backend. `core/benches/pool_release.rs` measured
//! the cost: through the pool 37 µs of Postgres's CPU and 32.5 µs of the
//! client's per query, on a held connection 14.5 and 9.5. The send path reads
//! once per message, so it reads here instead:
//!
//! - Each of a few connections belongs to one task, which takes queries from
//!   a queue shared by all of them (a free connection takes the next one).
//! - A query runs to its end on its connection even when its caller stopped
//!   waiting (the caller's timeout never leaves a connection mid-protocol);
//!   one whose caller left before it started is skipped.
//! - A connection is opened on first use, pinged first when it was idle for
//!   [`CHECKED_WITHIN`](chat_core::db::CHECKED_WITHIN) (as the pool does), replaced after any error but
//!   Postgres's own `ERROR` answer to the query (a `FATAL` one, a
//!   terminated backend, ends it too), after a query still running at
//!   [`QUERY_DEADLINE`], and after [`MAX_LIFETIME`]. Postgres cancels a
//!   statement running for [`STATEMENT_TIMEOUT`] (a lock held for long, as
//!   the writer's tests do): the connection stays.
//! - While the queue is full, and once the tasks ended, a query goes through
//!   the pool instead: nothing waits for a held connection.
//! - [`HeldConnections::close`] (at shutdown, once the sockets drained) or
//!   dropping the handle ends the tasks and closes their connections.

use std::time::{Duration, Instant};

use chat_core::db::check_before_use;
use futures::future::BoxFuture;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgDatabaseError, PgPool, PgSeverity};
use sqlx::{ConnectOptions, Connection};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

/// A query still running after this long loses its connection.
pub const QUERY_DEADLINE: Duration = Duration::from_secs(5);
/// Postgres cancels a statement on a held connection after this long.
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(2);
/// A held connection is replaced once this old, between queries.
pub const MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);
/// Longest wait to open (or ping) a held connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Queries waiting for a held connection, per connection; past it, the pool.
pub const QUEUE_PER_CONNECTION: usize = 64;

/// A query on a held connection: `&mut PgConnection` in, its answer out.
pub trait HeldQuery<T>:
    for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, Result<T, sqlx::Error>> + Send + 'static
{
}

impl<T, F> HeldQuery<T> for F where
    F: for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, Result<T, sqlx::Error>>
        + Send
        + 'static
{
}

/// A few Postgres connections outside the pool, each held by its own task.
#[derive(Debug)]
pub struct HeldConnections {
    jobs: flume::Sender<Box<dyn Job>>,
    pool: PgPool,
    stop: CancellationToken,
}

impl HeldConnections {
    /// Starts `count` tasks (0: every query goes through `pool`); each opens
    /// its connection, with `pool`'s settings, when its first query comes.
    pub fn start(pool: PgPool, count: usize) -> Self {
        let (jobs, queue) = flume::bounded(count * QUEUE_PER_CONNECTION);
        let stop = CancellationToken::new();
        let options = pool.connect_options().as_ref().clone().options([(
            "statement_timeout",
            STATEMENT_TIMEOUT.as_millis().to_string(),
        )]);
        for _ in 0..count {
            tokio::spawn(hold(options.clone(), queue.clone(), stop.clone()));
        }
        Self { jobs, pool, stop }
    }

    /// Runs `query` on a held connection, or through the pool while none can
    /// take it. Dropping the returned future does not stop a query that
    /// started on a held connection.
    pub async fn run<T: Send + 'static>(&self, query: impl HeldQuery<T>) -> Result<T, sqlx::Error> {
        let (answer, answered) = oneshot::channel();
        let job: Box<dyn Job> = Box::new(Asked { query, answer });
        if let Err(refused) = self.jobs.try_send(job) {
            let job = refused.into_inner();
            match self.pool.acquire().await {
                Ok(mut conn) => job.run(Ok(&mut conn)).await,
                Err(error) => job.run(Err(error)).await,
            };
        }
        answered.await.map_err(|_| sqlx::Error::WorkerCrashed)?
    }

    /// Queries waiting for a held connection.
    pub fn queued(&self) -> usize {
        self.jobs.len()
    }

    /// Ends the tasks and closes their connections; later queries go
    /// through the pool.
    pub fn close(&self) {
        self.stop.cancel();
    }
}

impl Drop for HeldConnections {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Whether a connection is fit for the next query.
enum Health {
    Kept,
    Broken,
}

/// A query and where its answer goes, type-erased for the queue.
trait Job: Send {
    /// The caller stopped waiting before the query started.
    fn abandoned(&self) -> bool;
    fn run<'c>(
        self: Box<Self>,
        conn: Result<&'c mut PgConnection, sqlx::Error>,
    ) -> BoxFuture<'c, Health>;
}

impl std::fmt::Debug for dyn Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Job")
    }
}

struct Asked<T, F> {
    query: F,
    answer: oneshot::Sender<Result<T, sqlx::Error>>,
}

impl<T: Send + 'static, F: HeldQuery<T>> Job for Asked<T, F> {
    fn abandoned(&self) -> bool {
        self.answer.is_closed()
    }

    fn run<'c>(
        self: Box<Self>,
        conn: Result<&'c mut PgConnection, sqlx::Error>,
    ) -> BoxFuture<'c, Health> {
        let Self { query, answer } = *self;
        Box::pin(async move {
            let result = match conn {
                Ok(conn) => query(conn).await,
                Err(error) => Err(error),
            };
            let health = match &result {
                Ok(_) => Health::Kept,
                Err(error) if answered(error) => Health::Kept,
                Err(_) => Health::Broken,
            };
            // the caller may have stopped waiting: the query ran to its end anyway
            let _ = answer.send(result);
            health
        })
    }
}

/// Postgres answered the query with an error that leaves the session as it
/// was (an `ERROR`, or no row); a `FATAL` one (the backend was terminated)
/// ends it.
fn answered(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::RowNotFound => true,
        sqlx::Error::Database(error) => {
            error
                .try_downcast_ref::<PgDatabaseError>()
                .is_some_and(|error| {
                    !matches!(error.severity(), PgSeverity::Fatal | PgSeverity::Panic)
                })
        }
        _ => false,
    }
}

/// A held connection and its age.
struct Held {
    conn: PgConnection,
    opened: Instant,
    used: Instant,
}

/// One held connection's task: takes queries until stopped.
async fn hold(
    options: PgConnectOptions,
    queue: flume::Receiver<Box<dyn Job>>,
    stop: CancellationToken,
) {
    let mut held: Option<Held> = None;
    loop {
        let job = tokio::select! {
            biased;
            () = stop.cancelled() => break,
            job = queue.recv_async() => match job {
                Ok(job) => job,
                Err(flume::RecvError::Disconnected) => break,
            },
        };
        if job.abandoned() {
            continue;
        }
        let conn = match ready(&options, &mut held).await {
            Ok(conn) => conn,
            Err(error) => {
                job.run(Err(error)).await;
                continue;
            }
        };
        match tokio::time::timeout(QUERY_DEADLINE, job.run(Ok(conn))).await {
            Ok(Health::Kept) => {
                if let Some(held) = held.as_mut() {
                    held.used = Instant::now();
                }
            }
            Ok(Health::Broken) => held = None,
            Err(_) => {
                tracing::warn!(
                    deadline_ms = QUERY_DEADLINE.as_millis() as u64,
                    "a query on a held Postgres connection ran past its deadline; replacing the connection"
                );
                held = None;
            }
        }
    }
    // queries still queued are dropped: their callers get an error at once
    drop(queue.drain());
    if let Some(held) = held {
        let _ = tokio::time::timeout(CONNECT_TIMEOUT, held.conn.close()).await;
    }
}

/// The task's connection, checked or opened.
async fn ready<'h>(
    options: &PgConnectOptions,
    held: &'h mut Option<Held>,
) -> Result<&'h mut PgConnection, sqlx::Error> {
    if let Some(old) = held.take() {
        if old.opened.elapsed() >= MAX_LIFETIME {
            let _ = tokio::time::timeout(CONNECT_TIMEOUT, old.conn.close()).await;
        } else if !check_before_use(old.used.elapsed()) {
            *held = Some(old);
        } else {
            let mut old = old;
            if let Ok(Ok(())) = tokio::time::timeout(CONNECT_TIMEOUT, old.conn.ping()).await {
                *held = Some(old);
            }
        }
    }
    if let Some(held) = held {
        return Ok(&mut held.conn);
    }
    let conn = tokio::time::timeout(CONNECT_TIMEOUT, options.connect())
        .await
        .map_err(|_| {
            sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "no connection to Postgres in time",
            ))
        })??;
    let now = Instant::now();
    Ok(&mut held
        .insert(Held {
            conn,
            opened: now,
            used: now,
        })
        .conn)
}
