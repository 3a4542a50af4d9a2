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

    let producer = kafka::producer(&topics.brokers);
    let topic = topics.topic.clone();
    let to_send = all.clone();
    let feeding = tokio::spawn(async move {
        for chunk in to_send.chunks(50) {
            produce_all(&producer, &topic, chunk).await;
        }
    });

    let first = InProcessWriter::start(config.clone()).await;
    wait_until("a third stored", Duration::from_secs(60), || async {
        (row_count(&db.pool).await >= (TOTAL / 3) as i64).then_some(())
    })
    .await;
    let second = InProcessWriter::start(config.clone()).await;
    wait_until("two thirds stored", Duration::from_secs(60), || async {
        (row_count(&db.pool).await >= (2 * TOTAL / 3) as i64).then_some(())
    })
    .await;
    second.stop().await;

    feeding.await.expect("every event produced");
    wait_for_rows(&db.pool, TOTAL as i64, Duration::from_secs(90)).await;
    first.stop().await;

    assert_stored_exactly(&db.pool, &all).await;
}
