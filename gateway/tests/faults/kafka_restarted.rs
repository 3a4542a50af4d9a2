//! The Kafka broker stopped and started again while clients on two gateways
//! send: sends are refused with `unavailable` within `SEND_TIMEOUT_MS` (G3),
//! resends are acknowledged once it is back, nothing is lost or doubled (G1).

use std::sync::Arc;
use std::time::Duration;

use test_support::KafkaServer;
use test_support::kafka::TestTopics;
use uuid::Uuid;

use crate::common::load::Load;
use crate::common::promises::assert_promises_kept;
use crate::common::{Options, Stack};
use crate::{clients, room_with_members};

/// The gateways' `SEND_TIMEOUT_MS` (their producer's `message.timeout.ms`).
const SEND_TIMEOUT: Duration = Duration::from_millis(2_000);
/// How late past the send timeout an `unavailable` may come (a loaded machine).
const SLACK: Duration = Duration::from_millis(1_500);

#[tokio::test]
async fn kafka_stopped_under_load_refuses_sends_within_the_timeout_and_loses_nothing() {
    let id = Uuid::new_v4().simple();
    let topics = TestTopics {
        brokers: String::new(),
        topic: format!("test.messages.{id}"),
        dlq: format!("test.messages.{id}.dlq"),
        group: format!("test.writer.{id}"),
    };
    let (topic, dlq) = (topics.topic.clone(), topics.dlq.clone());
    let kafka = Arc::new(
        tokio::task::spawn_blocking(move || KafkaServer::start(&topic, &dlq))
            .await
            .expect("kafka starts"),
    );
    let stack = Stack::start_with(Options {
        topics: Some(TestTopics {
            brokers: kafka.brokers(),
            ..topics
        }),
        send_timeout_ms: Some(SEND_TIMEOUT.as_millis() as u64),
        ..Options::default()
    })
    .await;
    let (east, west) = (stack.gateway().await, stack.gateway().await);
    let sites = [east.addr, west.addr];
    let (room, users) = room_with_members(&sites, 4).await;
    let mut load = Load::start(clients(&sites, room, &users, Duration::from_millis(10)));
    load.wait_for_acks(50).await;

    let broker = kafka.clone();
    tokio::task::spawn_blocking(move || broker.stop())
        .await
        .expect("kafka stops");
    let progress = load.progress.clone();
    load.wait("every client refused", move || progress.refusals() >= 4)
        .await;
    let broker = kafka.clone();
    tokio::task::spawn_blocking(move || broker.start_again())
        .await
        .expect("kafka starts again");
    let acked = load.progress.acks();
    load.wait_for_acks(acked + 100).await;
    let reports = load.finish(&stack.db.pool, room).await;

    let refusals: Vec<_> = reports.iter().flat_map(|r| &r.refusals).collect();
    let slowest = refusals.iter().map(|r| r.after).max().expect("refusals");
    assert!(
        slowest <= SEND_TIMEOUT + SLACK,
        "every unavailable within SEND_TIMEOUT_MS {SEND_TIMEOUT:?} (+{SLACK:?}): the slowest took {slowest:?}"
    );
    assert_promises_kept(&stack.db.pool, room, &reports, &users[0]).await;
    eprintln!(
        "kafka restart: {} acks, {} refusals, slowest refusal {slowest:?}",
        reports.iter().map(|r| r.acks.len()).sum::<usize>(),
        refusals.len()
    );
    east.stop().await;
    west.stop().await;
}
