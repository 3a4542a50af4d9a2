//! A second writer joining the group mid-stream and leaving again moves
//! partitions twice: nothing is lost and nothing is stored twice.
//!
//! Both writers run in this process, so the runtime has several threads: a
//! writer leaving the group closes its consumer on a blocking thread while
//! the other goes on.

mod common;

use std::time::Duration;

use chat_core::ChatEvent;
use common::*;
use test_support::kafka::group_assignment;
use test_support::{RedisServer, TestDatabase, kafka, wait_until};

const TOTAL: usize = 3000;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_writer_joining_and_leaving_the_group_loses_nothing_and_duplicates_nothing() {
    let db = TestDatabase::new().await;
    let redis = RedisServer::start();
    let topics = kafka::unique_topics(6).await;
    let (user, rooms) = seed_rooms(&db.pool, 12).await;
    let all = events(user, &rooms, TOTAL);
    let mut config = writer_config(&db.url, &redis.url(), &topics);
    config.batch_max_rows = 50;

    let producer = kafka::producer(&topics.brokers);
    let thirds: Vec<Vec<ChatEvent>> = all.chunks(TOTAL / 3).map(<[ChatEvent]>::to_vec).collect();

    let first = InProcessWriter::start(config.clone()).await;
    produce_all(&producer, &topics.topic, &thirds[0]).await;
    wait_for_rows(&db.pool, (TOTAL / 3) as i64, Duration::from_secs(60)).await;

    // the second writer joins while the second third is produced and consumed
    let second = InProcessWriter::start(config.clone()).await;
    produce_all(&producer, &topics.topic, &thirds[1]).await;
    wait_until(
        "both writers owning partitions",
        Duration::from_secs(60),
        || async {
            let members = group_assignment(&topics.brokers, &topics.group)?;
            (members.len() == 2 && members.iter().all(|(_, owned)| !owned.is_empty())).then_some(())
        },
    )
    .await;
    wait_for_rows(&db.pool, (2 * TOTAL / 3) as i64, Duration::from_secs(60)).await;

    // and leaves while the last third flows
    let (flow_producer, topic, last) = (producer.clone(), topics.topic.clone(), thirds[2].clone());
    let flowing = tokio::spawn(async move { produce_all(&flow_producer, &topic, &last).await });
    second.stop().await;
    flowing.await.expect("the last third produced");
    wait_for_rows(&db.pool, TOTAL as i64, Duration::from_secs(90)).await;
    first.stop().await;

    assert_eq!(
        group_members(&topics.brokers, &topics.group),
        0,
        "both writers left the group"
    );
    assert_stored_exactly(&db.pool, &all).await;
}
