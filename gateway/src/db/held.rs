//! Postgres connections held apart from the pool, for the send path's one read.
//!
//! sqlx pings every connection handed back to its pool (a `Sync` and its
//! `ReadyForQuery`; no setting turns it off), so each query through `&PgPool`
//! is two round trips to its backend. `core/benches/pool_release.rs` measured
//! the cost: through the pool 37 µs of Postgres's CPU and 32.5 µs of the
//! client's per query, on a held connection 14.5 and 9.5. The send path reads
//! once per message, so it reads here instead (in the chat, Postgres then
//! spent 13 % less; the gateways' own saving was within the runs' spread:
//! BENCHMARKS.md, session 16):
//!
//! - A query takes an idle held connection and runs on it in the caller's
//!   own task (no hand-off to another task); it is put back when the query
//!   ends with Postgres's answer (rows, or an `ERROR`).
//! - A connection is never reused after anything else: a query its caller
//!   stopped waiting for (the reply may be half read), an error of the
//!   connection itself, or a `FATAL` answer (a terminated backend). It is
//!   closed, and a new one is opened when a query next needs it.
//! - A connection is opened on first use, pinged first when it was idle for
//!   [`CHECKED_WITHIN`](chat_core::db::CHECKED_WITHIN) (as the pool does), and
//!   replaced after [`MAX_LIFETIME`]. Postgres cancels a statement running for
//!   [`STATEMENT_TIMEOUT`] (a table locked for long): the connection stays.
//! - While every held connection is busy, and once [`HeldConnections::close`]
//!   ran (at shutdown, when the sockets drained), a query goes through the
//!   pool instead: nothing waits for a held connection.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use chat_core::db::check_before_use;
use futures::future::BoxFuture;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgDatabaseError, PgPool, PgSeverity};
use sqlx::{ConnectOptions, Connection};

/// Postgres cancels a statement on a held connection after this long.
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(2);
/// A held connection is replaced once this old, between queries.
pub const MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);
/// Longest wait to open (or ping) a held connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// A query on a held connection: `&mut PgConnection` in, its answer out.
pub trait HeldQuery<T>:
    for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, Result<T, sqlx::Error>> + Send
{
}

impl<T, F> HeldQuery<T> for F where
    F: for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, Result<T, sqlx::Error>> + Send
{
}

/// A few Postgres connections outside the pool, taken by one query at a time.
pub struct HeldConnections {
    slots: Mutex<Slots>,
    options: PgConnectOptions,
    pool: PgPool,
}

/// The idle connections, and how many more may be opened.
#[derive(Default)]
struct Slots {
    idle: Vec<Held>,
    unopened: usize,
    closed: bool,
}

impl std::fmt::Debug for HeldConnections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeldConnections").finish_non_exhaustive()
    }
}

impl HeldConnections {
    /// Up to `count` connections (0: every query goes through `pool`), with
    /// `pool`'s settings, each opened when a query first needs it.
    pub fn new(pool: PgPool, count: usize) -> Self {
        let options = pool.connect_options().as_ref().clone().options([(
            "statement_timeout",
            STATEMENT_TIMEOUT.as_millis().to_string(),
        )]);
        Self {
            slots: Mutex::new(Slots {
                unopened: count,
                ..Slots::default()
            }),
            options,
            pool,
        }
    }

    fn slots(&self) -> MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `query` on a held connection, or through the pool while none is
    /// free. A held connection whose query did not end with Postgres's answer
    /// (the caller stopped waiting, the connection failed) is closed.
    pub async fn run<T>(&self, query: impl HeldQuery<T>) -> Result<T, sqlx::Error> {
        let Some(mut lease) = self.lease() else {
            let mut conn = self.pool.acquire().await?;
            return query(&mut conn).await;
        };
        let conn = lease.ready(&self.options).await?;
        let result = query(conn).await;
        lease.kept = answered(&result);
        result
    }

    /// An idle connection, or a slot to open one in; `None` while all are busy.
    fn lease(&self) -> Option<Lease<'_>> {
        let mut slots = self.slots();
        if slots.closed {
            return None;
        }
        let held = match slots.idle.pop() {
            Some(held) => Some(held),
            None if slots.unopened > 0 => {
                slots.unopened -= 1;
                None
            }
            None => return None,
        };
        Some(Lease {
            home: self,
            held,
            kept: false,
        })
    }

    /// Closes the idle connections; busy ones close when their query ends,
    /// and later queries go through the pool.
    pub async fn close(&self) {
        let idle = {
            let mut slots = self.slots();
            slots.closed = true;
            std::mem::take(&mut slots.idle)
        };
        for held in idle {
            let _ = tokio::time::timeout(CONNECT_TIMEOUT, held.conn.close()).await;
        }
    }
}

/// Postgres answered the query (rows, or an error that leaves the session
/// as it was): the connection is where it was before it.
fn answered<T>(result: &Result<T, sqlx::Error>) -> bool {
    match result {
        Ok(_) | Err(sqlx::Error::RowNotFound) => true,
        // an `ERROR` leaves the session as it was; `FATAL` ends it
        Err(sqlx::Error::Database(error)) => error
            .try_downcast_ref::<PgDatabaseError>()
            .is_some_and(|e| !matches!(e.severity(), PgSeverity::Fatal | PgSeverity::Panic)),
        Err(_) => false,
    }
}

/// A held connection and its age.
struct Held {
    conn: PgConnection,
    opened: Instant,
    used: Instant,
}

/// One query's hold on a connection (or on a slot to open one in). Dropped,
/// it puts the connection back if the query was answered, else closes it.
struct Lease<'h> {
    home: &'h HeldConnections,
    held: Option<Held>,
    kept: bool,
}

impl Lease<'_> {
    /// The connection, checked, or opened.
    async fn ready(
        &mut self,
        options: &PgConnectOptions,
    ) -> Result<&mut PgConnection, sqlx::Error> {
        if let Some(mut old) = self.held.take() {
            if old.opened.elapsed() >= MAX_LIFETIME {
                let _ = tokio::time::timeout(CONNECT_TIMEOUT, old.conn.close()).await;
            } else if !check_before_use(old.used.elapsed())
                || matches!(
                    tokio::time::timeout(CONNECT_TIMEOUT, old.conn.ping()).await,
                    Ok(Ok(()))
                )
            {
                self.held = Some(old);
            }
        }
        let held = match self.held.take() {
            Some(held) => held,
            None => {
                let conn = tokio::time::timeout(CONNECT_TIMEOUT, options.connect())
                    .await
                    .map_err(|_| {
                        sqlx::Error::Io(std::io::Error::new(
                            std::io::ErrorKind::TimedOut,
                            "no connection to Postgres in time",
                        ))
                    })??;
                let now = Instant::now();
                Held {
                    conn,
                    opened: now,
                    used: now,
                }
            }
        };
        Ok(&mut self.held.insert(held).conn)
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let mut slots = self.home.slots();
        match self.held.take() {
            Some(mut held) if self.kept && !slots.closed => {
                held.used = Instant::now();
                slots.idle.push(held);
            }
            // closed with its socket (after the lock): never reused mid-reply
            other => {
                slots.unopened += 1;
                drop(slots);
                drop(other);
            }
        }
    }
}
