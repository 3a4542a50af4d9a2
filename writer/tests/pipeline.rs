//! The writer against real Kafka, Redis and Postgres: ordering, redelivery, poison.

mod common;

use std::time::Duration;

use chat_core::{ChatEvent, MessageKind};
use common::*;
use rdkafka::Message;
use rdkafka::message::Headers;
use test_support::{RedisServer, TestDatabase, kafka};
use uuid::Uuid;

const DEADLINE: Duration = Duration::from_secs(60);

#[tokio::test]
async fn events_for_several_rooms_are_stored_once_with_contiguous_seqs_in_produce_order() {
    let db = TestDatabase::new().await;
    let redis = RedisServer::start();
    let topics = kafka::unique_topics(4).await;
    let (user, rooms) = seed_rooms(&db.pool, 5).await;
    let events = events(user, &rooms, 1000);
    produce_all(&kafka::producer(&topics.brokers), &topics.topic, &events).await;

    let writer = InProcessWriter::start(writer_config(&db.url, &redis.url(), &topics)).await;
    wait_for_rows(&db.pool, 1000, DEADLINE).await;
    writer.stop().await;

    assert_stored_exactly(&db.pool, &events).await;
}

#[tokio::test]
async fn the_same_event_delivered_twice_is_stored_once() {
    let db = TestDatabase::new().await;
    let redis = RedisServer::start();
    let topics = kafka::unique_topics(2).await;
    let (user, rooms) = seed_rooms(&db.pool, 1).await;
    let events = events(user, &rooms, 3);
    let producer = kafka::producer(&topics.brokers);
    // the second event twice in one batch
    let delivered = [&events[0], &events[1], &events[1], &events[2]].map(Clone::clone);
    produce_all(&producer, &topics.topic, &delivered).await;

    let writer = InProcessWriter::start(writer_config(&db.url, &redis.url(), &topics)).await;
    wait_for_rows(&db.pool, 3, DEADLINE).await;
    // and the first again, long after it was stored, followed by a marker event
    let marker = common::events(user, &rooms, 1).remove(0);
    produce_all(
        &producer,
        &topics.topic,
        &[events[0].clone(), marker.clone()],
    )
    .await;
    wait_for_rows(&db.pool, 4, DEADLINE).await;
    writer.stop().await;

    let mut expected = events.clone();
    expected.push(marker);
    assert_stored_exactly(&db.pool, &expected).await;
}

#[tokio::test]
async fn a_poison_record_goes_to_the_dead_letter_topic_and_the_good_ones_are_stored() {
    let db = TestDatabase::new().await;
    let redis = RedisServer::start();
    let topics = kafka::unique_topics(1).await;
    let (user, rooms) = seed_rooms(&db.pool, 1).await;
    let good = events(user, &rooms, 4);
    let mut future_version = good[0].clone();
    future_version.id = Uuid::now_v7();
    future_version.v = 99;
    let unknown_room = ChatEvent::new(Uuid::now_v7(), user, "c-x", MessageKind::User, "hi");
    let producer = kafka::producer(&topics.brokers);
    let key = rooms[0].to_string();

    let mut poison_offsets = Vec::new();
    kafka::produce(&producer, &topics.topic, key.as_bytes(), &good[0].encode()).await;
    poison_offsets.push(
        kafka::produce(&producer, &topics.topic, key.as_bytes(), b"{not json")
            .await
            .1,
    );
    kafka::produce(&producer, &topics.topic, key.as_bytes(), &good[1].encode()).await;
    poison_offsets.push(
        kafka::produce(
            &producer,
            &topics.topic,
            key.as_bytes(),
            &unknown_room.encode(),
        )
        .await
        .1,
    );
    kafka::produce(&producer, &topics.topic, key.as_bytes(), &good[2].encode()).await;
    poison_offsets.push(
        kafka::produce(
            &producer,
            &topics.topic,
            key.as_bytes(),
            &future_version.encode(),
        )
        .await
        .1,
    );
    let (_, last) =
        kafka::produce(&producer, &topics.topic, key.as_bytes(), &good[3].encode()).await;

    let writer = InProcessWriter::start(writer_config(&db.url, &redis.url(), &topics)).await;
    wait_for_rows(&db.pool, 4, DEADLINE).await;
    // offsets move only after the dead letters are acknowledged: once they are
    // past the poison, all three must be in the dead-letter topic
    test_support::wait_until("offsets committed past the poison", DEADLINE, || async {
        let committed = kafka::committed_offsets(&topics.brokers, &topics.group, &topics.topic, 1);
        (committed == vec![Some(last + 1)]).then_some(())
    })
    .await;
    let dead = kafka::read_all(&topics.brokers, &topics.dlq, 3, DEADLINE);
    writer.stop().await;

    assert_stored_exactly(&db.pool, &good).await;
    assert_eq!(
        dead.len(),
        3,
        "three poison records in the dead-letter topic"
    );
    let mut offsets = Vec::new();
    for record in &dead {
        let headers = record.headers().expect("dead letters carry headers");
        let header = |name: &str| {
            headers
                .iter()
                .find(|h| h.key == name)
                .and_then(|h| h.value)
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .unwrap_or_else(|| panic!("header {name}"))
        };
        assert_eq!(header("dlq.topic"), topics.topic);
        assert_eq!(header("dlq.partition"), "0");
        assert!(!header("dlq.error").is_empty());
        offsets.push(header("dlq.offset").parse::<i64>().expect("offset"));
    }
    offsets.sort_unstable();
    assert_eq!(offsets, poison_offsets);
    let payloads: Vec<&[u8]> = dead.iter().filter_map(|r| r.payload()).collect();
    assert!(
        payloads.contains(&b"{not json".as_slice()),
        "the original bytes are kept"
    );
}

#[tokio::test]
async fn a_sequencer_that_fell_behind_after_a_redis_restart_loses_no_message() {
    let db = TestDatabase::new().await;
    let redis = RedisServer::start();
    let topics = kafka::unique_topics(1).await;
    let (user, rooms) = seed_rooms(&db.pool, 1).await;
    let room = rooms[0];
    let all = events(user, &rooms, 8);
    let producer = kafka::producer(&topics.brokers);
    let writer = InProcessWriter::start(writer_config(&db.url, &redis.url(), &topics)).await;
    produce_all(&producer, &topics.topic, &all[..5]).await;
    wait_for_rows(&db.pool, 5, DEADLINE).await;
    let state = chat_core::sequencer::state_key(room);
    let mut conn = redis::Client::open(redis.url())
        .expect("client")
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    let old_epoch: u64 = redis::cmd("HGET")
        .arg(&state)
        .arg("epoch")
        .query_async(&mut conn)
        .await
        .expect("epoch");

    // Redis came back from an append-only file that missed its last writes (or
    // a lagging replica took over): the counter, the id -> seq keys and the
    // tail are rolled back together to seq 2, while the writer stored 1..5
    let mut rollback = redis::pipe();
    rollback.atomic().hset(&state, "seq", 2);
    for event in &all[2..5] {
        rollback.del(chat_core::sequencer::message_key(room, event.id));
    }
    rollback
        .cmd("ZREMRANGEBYSCORE")
        .arg(chat_core::sequencer::tail_key(room))
        .arg(3)
        .arg("+inf");
    rollback.query_async::<()>(&mut conn).await.expect("rewind");
    produce_all(&producer, &topics.topic, &all[5..]).await;
    wait_for_rows(&db.pool, 8, DEADLINE).await;
    writer.stop().await;

    assert_stored_exactly(&db.pool, &all).await;
    let new_epoch: u64 = redis::cmd("HGET")
        .arg(&state)
        .arg("epoch")
        .query_async(&mut conn)
        .await
        .expect("epoch");
    assert_ne!(new_epoch, old_epoch, "clients are told to reload the room");
    assert!(
        kafka::read_all(&topics.brokers, &topics.dlq, 1, Duration::from_secs(2)).is_empty(),
        "nothing dead-lettered"
    );
}
