//! The send path's held Postgres connections (`db::held`), on a real
//! Postgres: queries run there and not in the pool, a query its caller
//! stopped waiting for closes its connection, a killed backend is replaced,
//! busy connections and closed ones leave queries to the pool, and Postgres's
//! statement timeout keeps the connection.

use std::time::Duration;

use chat_gateway::db::held::HeldConnections;
use sqlx::{PgConnection, PgPool};
use test_support::{TestDatabase, wait_until};

const WAIT: Duration = Duration::from_secs(20);
/// Sleeps `$1` seconds, then answers the backend's pid.
const SLEEP: &str = "SELECT pg_backend_pid() FROM pg_sleep($1)";

/// The backend that answers, through `held`.
async fn backend(held: &HeldConnections) -> Result<i32, sqlx::Error> {
    held.run(|conn: &mut PgConnection| {
        Box::pin(async move {
            sqlx::query_scalar("SELECT pg_backend_pid()")
                .fetch_one(conn)
                .await
        })
    })
    .await
}

/// Sleeps `secs` in Postgres, then answers its backend, through `held`.
async fn sleep_then_backend(held: &HeldConnections, secs: f64) -> Result<i32, sqlx::Error> {
    held.run(move |conn: &mut PgConnection| {
        Box::pin(async move { sqlx::query_scalar(SLEEP).bind(secs).fetch_one(conn).await })
    })
    .await
}

/// A pool of its own on `db` (nothing opened yet), to count what it opens.
fn fresh_pool(db: &TestDatabase) -> PgPool {
    chat_core::db::lazy_pool(&db.url, 2).expect("pool")
}

/// Whether a backend of this pid is connected, seen from `db`'s own pool.
async fn connected(db: &TestDatabase, pid: i32) -> bool {
    sqlx::query_scalar("SELECT count(*) = 1 FROM pg_stat_activity WHERE pid = $1")
        .bind(pid)
        .fetch_one(&db.pool)
        .await
        .expect("pg_stat_activity")
}

/// Waits until a held connection runs `pg_sleep`.
async fn wait_sleeping(db: &TestDatabase) {
    let pool = &db.pool;
    wait_until("a held connection runs pg_sleep", WAIT, || async move {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query = $1",
        )
        .bind(SLEEP)
        .fetch_one(pool)
        .await
        .ok()?;
        (n > 0).then_some(())
    })
    .await;
}

#[tokio::test]
async fn queries_run_on_held_connections_and_never_open_the_pool() {
    let db = TestDatabase::new().await;
    let pool = fresh_pool(&db);
    let held = HeldConnections::new(pool.clone(), 2);
    let mut backends = std::collections::BTreeSet::new();
    for _ in 0..20 {
        backends.insert(backend(&held).await.expect("answered"));
    }
    assert!(
        (1..=2).contains(&backends.len()),
        "answered by {backends:?}: more backends than held connections"
    );
    assert_eq!(pool.size(), 0, "the pool opened a connection");
}

#[tokio::test]
async fn a_query_its_caller_stopped_waiting_for_closes_its_connection() {
    let db = TestDatabase::new().await;
    let held = HeldConnections::new(fresh_pool(&db), 1);
    let first = backend(&held).await.expect("answered");
    assert_eq!(backend(&held).await.expect("answered"), first, "reused");

    let gave_up =
        tokio::time::timeout(Duration::from_millis(50), sleep_then_backend(&held, 0.3)).await;
    assert!(gave_up.is_err(), "the sleep answered within 50 ms");

    // its reply would be half read: a fresh connection answers next
    let next = backend(&held).await.expect("answered");
    assert_ne!(next, first);
    wait_until("the abandoned connection is closed", WAIT, || async {
        (!connected(&db, first).await).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_killed_backend_is_replaced_after_at_most_one_failure() {
    let db = TestDatabase::new().await;
    let held = HeldConnections::new(fresh_pool(&db), 1);
    let first = backend(&held).await.expect("answered");
    let killed: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(first)
        .fetch_one(&db.pool)
        .await
        .expect("terminate");
    assert!(killed);
    wait_until("the backend is gone", WAIT, || async {
        (!connected(&db, first).await).then_some(())
    })
    .await;

    // used within the last 500 ms, so not pinged: this query may fail once
    let next = match backend(&held).await {
        Ok(pid) => pid,
        Err(_) => backend(&held).await.expect("a fresh connection answers"),
    };
    assert_ne!(next, first);
}

#[tokio::test]
async fn while_every_held_connection_is_busy_queries_go_through_the_pool() {
    let db = TestDatabase::new().await;
    let pool = fresh_pool(&db);
    let held = std::sync::Arc::new(HeldConnections::new(pool.clone(), 1));
    let mine = backend(&held).await.expect("answered");

    let sleeper = {
        let held = held.clone();
        tokio::spawn(async move { sleep_then_backend(&held, 1.5).await })
    };
    wait_sleeping(&db).await;
    let overflow = backend(&held).await.expect("answered");
    assert_ne!(overflow, mine);
    assert_eq!(pool.size(), 1, "the pool was not used");

    assert_eq!(sleeper.await.expect("task").expect("answered"), mine);
    assert_eq!(backend(&held).await.expect("answered"), mine, "put back");
}

#[tokio::test]
async fn closing_ends_the_held_connections_and_later_queries_use_the_pool() {
    let db = TestDatabase::new().await;
    let pool = fresh_pool(&db);
    let held = HeldConnections::new(pool.clone(), 1);
    let mine = backend(&held).await.expect("answered");
    assert!(connected(&db, mine).await);

    held.close().await;
    wait_until("the held connection is closed", WAIT, || async {
        (!connected(&db, mine).await).then_some(())
    })
    .await;
    assert_eq!(pool.size(), 0);
    let after = backend(&held).await.expect("the pool answers");
    assert_ne!(after, mine);
    assert_eq!(pool.size(), 1);
}

#[tokio::test]
async fn postgres_cancels_a_long_statement_and_the_connection_stays() {
    let db = TestDatabase::new().await;
    let held = HeldConnections::new(fresh_pool(&db), 1);
    let mine = backend(&held).await.expect("answered");

    let error = sleep_then_backend(&held, 30.0)
        .await
        .expect_err("cancelled by statement_timeout");
    let code = error
        .as_database_error()
        .and_then(|e| e.code())
        .map(|c| c.into_owned());
    assert_eq!(code.as_deref(), Some("57014"), "{error}");
    assert_eq!(backend(&held).await.expect("answered"), mine);
}
