//! `writer_commit_lag_seconds`: one sample per message row the writer
//! commits, from the event's `sent_at` to the commit; none for a redelivered
//! record whose row is stored already, none for a row Postgres refuses.
//! (Its own test binary, so the metrics it reads are this writer's alone.)

mod common;

use std::time::Duration;

use chat_core::{ChatEvent, MessageKind};
use common::*;
use test_support::{RedisServer, TestDatabase, kafka, wait_until};
use uuid::Uuid;

const DEADLINE: Duration = Duration::from_secs(60);
const LAG: &str = "writer_commit_lag_seconds";

#[tokio::test]
async fn every_committed_row_and_only_those_records_its_lag_since_sent_at() {
    let db = TestDatabase::new().await;
    let redis = RedisServer::start();
    let topics = kafka::unique_topics(1).await;
    let (user, rooms) = seed_rooms(&db.pool, 1).await;
    let first = events(user, &rooms, 3);
    let producer = kafka::producer(&topics.brokers);
    let writer = InProcessWriter::start(writer_config(&db.url, &redis.url(), &topics)).await;

    produce_all(&producer, &topics.topic, &first).await;
    wait_for_rows(&db.pool, 3, DEADLINE).await;
    wait_until("three lag samples", DEADLINE, || async {
        (histogram_count(&writer.metrics().await, LAG) == 3.0).then_some(())
    })
    .await;

    // the first three again (redelivered, stored already), two new ones sent
    // three seconds ago, and one Postgres refuses (its room does not exist)
    let mut late = events(user, &rooms, 2);
    for event in &mut late {
        event.sent_at -= chrono::TimeDelta::seconds(3);
    }
    let refused = ChatEvent::new(Uuid::now_v7(), user, "c-x", MessageKind::User, "hi");
    let second: Vec<ChatEvent> = first
        .iter()
        .chain(&late)
        .chain([&refused])
        .cloned()
        .collect();
    produce_all(&producer, &topics.topic, &second).await;
    wait_until(
        "offsets committed past the second lot",
        DEADLINE,
        || async {
            kafka::caught_up(&topics.brokers, &topics.group, &topics.topic, 1).then_some(())
        },
    )
    .await;
    let metrics = writer.metrics().await;
    writer.stop().await;

    assert_eq!(row_count(&db.pool).await, 5, "five rows stored");
    assert_eq!(
        counter_value(&metrics, "writer_rows_already_stored_total"),
        3.0,
        "the first three were redelivered"
    );
    assert_eq!(
        histogram_count(&metrics, LAG),
        5.0,
        "one sample per committed row, none for the redelivered or refused ones"
    );
    let sum = metric_value(&metrics, &format!("{LAG}_sum"));
    assert!(
        sum >= 6.0,
        "the two rows sent three seconds before their commit add at least 6 s, got {sum}"
    );
}

/// The `_count` of an unlabelled histogram, 0 when absent.
fn histogram_count(metrics: &str, name: &str) -> f64 {
    metric_value(metrics, &format!("{name}_count"))
}

/// The value of the unlabelled series `name` exactly, 0 when absent.
fn metric_value(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .filter_map(|l| l.strip_prefix(name)?.strip_prefix(" ")?.parse::<f64>().ok())
        .sum()
}
