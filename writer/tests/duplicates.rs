//! A record whose (sender, client message id) is stored under another id is a
//! duplicate of a stored message (a resend that Redis forgot), never poison.

mod common;

use std::time::Duration;

use chat_core::ChatEvent;
use common::*;
use test_support::{RedisServer, TestDatabase, kafka};
use uuid::Uuid;

const DEADLINE: Duration = Duration::from_secs(60);

/// The same message under a new id, as a gateway that lost the dedupe key produces it.
fn under_new_id(event: &ChatEvent) -> ChatEvent {
    let mut copy = event.clone();
    copy.id = Uuid::now_v7();
    copy
}

#[tokio::test]
async fn a_resend_under_a_new_id_is_skipped_not_dead_lettered() {
    let db = TestDatabase::new().await;
    let redis = RedisServer::start();
    let topics = kafka::unique_topics(1).await;
    let (user, rooms) = seed_rooms(&db.pool, 1).await;
    let good = events(user, &rooms, 4);
    let producer = kafka::producer(&topics.brokers);
    produce_all(&producer, &topics.topic, &good[..2]).await;
    let writer = InProcessWriter::start(writer_config(&db.url, &redis.url(), &topics)).await;
    wait_for_rows(&db.pool, 2, DEADLINE).await;

    // one copy of a stored message, and one of a message of the same batch
    let late = [
        under_new_id(&good[0]),
        good[2].clone(),
        under_new_id(&good[2]),
        good[3].clone(),
    ];
    produce_all(&producer, &topics.topic, &late).await;
    test_support::wait_until("offsets committed past the copies", DEADLINE, || async {
        kafka::caught_up(&topics.brokers, &topics.group, &topics.topic, 1).then_some(())
    })
    .await;
    let dead = kafka::read_all(&topics.brokers, &topics.dlq, 1, Duration::from_secs(3));
    writer.stop().await;

    assert!(
        dead.is_empty(),
        "{} copies of stored messages were dead-lettered",
        dead.len()
    );
    assert_stored_exactly(&db.pool, &good).await;
}
