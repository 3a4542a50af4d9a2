//! The services' Postgres pool: a connection Postgres dropped while it sat
//! idle is replaced without the caller seeing an error, though a connection
//! used moments ago is handed out unchecked.

use std::time::Duration;

use chat_core::db::{CHECKED_WITHIN, check_before_use, lazy_pool};
use test_support::{TestDatabase, wait_until};

#[test]
fn only_a_connection_idle_for_the_window_is_checked() {
    assert!(!check_before_use(Duration::ZERO));
    assert!(!check_before_use(CHECKED_WITHIN - Duration::from_millis(1)));
    assert!(check_before_use(CHECKED_WITHIN));
    assert!(check_before_use(Duration::from_secs(600)));
}

#[tokio::test]
async fn a_connection_postgres_dropped_while_idle_is_replaced_unseen() {
    let db = TestDatabase::new().await;
    let pool = lazy_pool(&db.url, 1).expect("pool");
    let first: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&pool)
        .await
        .expect("first query");

    let terminated: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(first)
        .fetch_one(&db.pool)
        .await
        .expect("terminate");
    assert!(terminated);
    wait_until("the backend gone", Duration::from_secs(10), || async {
        let left: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE pid = $1")
            .bind(first)
            .fetch_one(&db.pool)
            .await
            .expect("pg_stat_activity");
        (left == 0).then_some(())
    })
    .await;
    // the scenario: the connection sits idle past the window
    tokio::time::sleep(CHECKED_WITHIN + Duration::from_millis(100)).await;

    let second: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&pool)
        .await
        .expect("the next query succeeds on a new connection");
    assert_ne!(second, first);
}
