//! A second writer joining the group mid-stream and leaving again moves
//! partitions twice: nothing is lost and nothing is stored twice.

mod common;

use std::time::Duration;

use common::*;
use test_support::{RedisServer, TestDatabase, kafka, wait_until};

const TOTAL: usize = 3000;

#[tokio::test]
async fn a_writer_joining_and_leaving_the_group_loses_nothing_and_duplicates_nothing() {
    let db = TestDatabase::new().await;
    let redis = RedisServer::start();
    let topics = kafka::unique_topics(6).await;
    let (user, rooms) = seed_rooms(&db.pool, 12).await;
    let all = events(user, &rooms, TOTAL);
    let mut config = writer_config(&db.url, &redis.url(), &topics);
    config.batch_max_rows = 50;

    let feeding = feed_with_backlog(
        kafka::producer(&topics.brokers),
        topics.topic.clone(),
        all.clone(),
        db.pool.clone(),
        50,
        2,
    );

    let first = InProcessWriter::start(config.clone()).await;
    wait_until("a third stored", Duration::from_secs(60), || async {
        (row_count(&db.pool).await >= (TOTAL / 3) as i64).then_some(())
    })
    .await;
    let second = InProcessWriter::start(config.clone()).await;
    wait_until(
        "the second writer in the group",
        Duration::from_secs(60),
        || async { (group_members(&topics.brokers, &topics.group) == 2).then_some(()) },
    )
    .await;
    let joined_at = row_count(&db.pool).await;
    wait_until("two thirds stored", Duration::from_secs(60), || async {
        (row_count(&db.pool).await >= (2 * TOTAL / 3) as i64).then_some(())
    })
    .await;
    second.stop().await;
    let left_at = row_count(&db.pool).await;

    feeding.await.expect("every event produced");
    wait_for_rows(&db.pool, TOTAL as i64, Duration::from_secs(90)).await;
    first.stop().await;

    assert!(
        joined_at < TOTAL as i64 && left_at < TOTAL as i64,
        "both rebalances happened mid-stream (joined at {joined_at}, left at {left_at} rows)"
    );
    assert_stored_exactly(&db.pool, &all).await;
}
