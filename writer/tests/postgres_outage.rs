//! Postgres going away is an outage, not poison: the writer waits, commits
//! nothing, dead-letters nothing, and catches up when Postgres is back.
//! (Its own test binary, so the metrics it reads are this writer's alone.)

mod common;

use std::time::Duration;

use common::*;
use test_support::{PostgresServer, RedisServer, TestDatabase, kafka, wait_until};

const DEADLINE: Duration = Duration::from_secs(90);

#[tokio::test]
async fn postgres_stopped_and_started_again_loses_nothing_and_advances_no_offset() {
    let server = PostgresServer::start();
    let db = TestDatabase::on_server(&server.admin_url()).await;
    let redis = RedisServer::start();
    let topics = kafka::unique_topics(2).await;
    let (user, rooms) = seed_rooms(&db.pool, 3).await;
    let all = events(user, &rooms, 600);
    let (before, during) = all.split_at(300);
    let producer = kafka::producer(&topics.brokers);
    let writer = InProcessWriter::start(writer_config(&db.url, &redis.url(), &topics)).await;

    produce_all(&producer, &topics.topic, before).await;
    wait_for_rows(&db.pool, 300, DEADLINE).await;
    let committed_before = wait_until("offsets of the first half committed", DEADLINE, || async {
        let offsets = kafka::committed_offsets(&topics.brokers, &topics.group, &topics.topic, 2);
        let total: i64 = offsets.iter().flatten().sum();
        (total == 300).then_some(offsets)
    })
    .await;

    db.pool.close().await;
    server.stop();
    produce_all(&producer, &topics.topic, during).await;
    // the writer has the second half and keeps failing to store it
    wait_until("several failed tries", DEADLINE, || async {
        (counter_value(&writer.metrics().await, "writer_batch_retries_total") >= 3.0).then_some(())
    })
    .await;
    assert_eq!(
        kafka::committed_offsets(&topics.brokers, &topics.group, &topics.topic, 2),
        committed_before,
        "no offset may move while Postgres is down"
    );

    server.start_again();
    let pool = sqlx::PgPool::connect(&db.url).await.expect("reconnect");
    wait_for_rows(&pool, 600, DEADLINE).await;
    wait_until("every offset committed", DEADLINE, || async {
        let offsets = kafka::committed_offsets(&topics.brokers, &topics.group, &topics.topic, 2);
        (offsets.iter().flatten().sum::<i64>() == 600).then_some(())
    })
    .await;
    writer.stop().await;

    assert_stored_exactly(&pool, &all).await;
    assert_eq!(
        counter_value(&writer_metrics_after_stop(), "writer_dlq_records_total"),
        0.0,
        "an outage is never poison"
    );
    assert!(
        kafka::read_all(&topics.brokers, &topics.dlq, 1, Duration::from_secs(3)).is_empty(),
        "nothing in the dead-letter topic"
    );
}

/// The process-wide metrics, readable after the writer's endpoint has closed.
fn writer_metrics_after_stop() -> String {
    chat_writer::metrics::handle().render()
}
