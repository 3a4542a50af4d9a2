//! G1 at exact points: the writer process aborts right after fetching a batch,
//! with its rows inserted but not committed, and with them committed but not
//! their offsets; a new writer then stores every event exactly once.

mod common;

use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use common::*;
use test_support::{RedisServer, TestDatabase, kafka, wait_until};

const TOTAL: usize = 600;

async fn crash_at_then_recover(point: &str) {
    let db = TestDatabase::new().await;
    let redis = RedisServer::start();
    let topics = kafka::unique_topics(3).await;
    let (user, rooms) = seed_rooms(&db.pool, 6).await;
    let all = events(user, &rooms, TOTAL);
    let mut config = writer_config(&db.url, &redis.url(), &topics);
    config.batch_max_rows = 50;
    // static membership: the next writer takes the partitions at once
    config.group_instance_id = Some("crashing-writer".into());
    let producer = kafka::producer(&topics.brokers);

    // the first batch past the point crashes the process there
    let failpoint = format!("{point}=1*return");
    let mut writer = spawn_writer_process_with(
        &config,
        test_support::free_port(),
        &[("FAILPOINTS", &failpoint)],
    );
    produce_all(&producer, &topics.topic, &all[..TOTAL / 2]).await;
    let status = wait_until(
        "the writer crashes at the point",
        Duration::from_secs(60),
        || {
            let status = writer.try_wait().expect("poll the writer");
            async move { status }
        },
    )
    .await;
    assert_eq!(
        status.signal(),
        Some(nix::sys::signal::Signal::SIGABRT as i32),
        "the writer died at {point}, not otherwise ({status})"
    );

    let mut writer = spawn_writer_process(&config, test_support::free_port());
    produce_all(&producer, &topics.topic, &all[TOTAL / 2..]).await;
    wait_for_rows(&db.pool, TOTAL as i64, Duration::from_secs(90)).await;
    writer.kill().expect("stop the writer");
    writer.wait().expect("reap");
    assert_stored_exactly(&db.pool, &all).await;
}

#[tokio::test]
async fn a_writer_crashing_right_after_a_fetch_loses_nothing() {
    crash_at_then_recover("writer::after_fetch").await;
}

#[tokio::test]
async fn a_writer_crashing_with_its_insert_uncommitted_loses_nothing() {
    crash_at_then_recover("writer::during_insert").await;
}

#[tokio::test]
async fn a_writer_crashing_between_the_database_commit_and_the_offset_commit_stores_nothing_twice()
{
    crash_at_then_recover("writer::after_db_commit").await;
}
