//! The sequencer's cost per batch: one script call per chunk of messages, and
//! each call reads the Redis server's run_id (`INFO server`) once, not once a
//! message.

use chat_core::Sequencer;
use test_support::{RedisServer, TestDatabase};
use uuid::Uuid;

mod common;
use common::{config, event};

/// How many times Redis has run `INFO` since it started.
async fn info_calls(redis: &RedisServer) -> u64 {
    let client = redis::Client::open(redis.url()).expect("client");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("connection");
    let stats: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(&mut conn)
        .await
        .expect("commandstats");
    stats
        .lines()
        .find_map(|line| line.strip_prefix("cmdstat_info:calls="))
        .and_then(|rest| rest.split(',').next())
        .map_or(0, |calls| calls.parse().expect("a count"))
}

#[tokio::test]
async fn a_batch_over_several_rooms_keeps_each_rooms_order_and_reads_the_run_id_once_a_chunk() {
    let db = TestDatabase::new().await;
    let redis = RedisServer::start();
    let sequencer = Sequencer::new(&config(&redis), db.pool.clone()).expect("sequencer");
    let rooms = [Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7()];
    // interleaved: room i % 3, so each room's messages are spread over the batch
    let events: Vec<_> = (0..300).map(|i| event(rooms[i % 3], i)).collect();

    let before = info_calls(&redis).await;
    let assigned = sequencer.sequence_new(&events).await.expect("sequenced");
    // this call's own INFO counts once
    let during = info_calls(&redis).await - before - 1;

    for (i, (a, e)) in assigned.iter().zip(&events).enumerate() {
        assert_eq!((a.id, a.room_id), (e.id, e.room_id), "in the batch's order");
        assert_eq!(a.seq, (i / 3 + 1) as i64, "message {i}: its room's order");
        assert!(a.fresh);
    }
    // three rooms restored (one INFO each), then 300 messages in chunks of 64
    // (five calls, one INFO each); one INFO a message would be 300 and more
    assert!(
        during <= 3 + 5,
        "INFO ran {during} times to sequence 300 messages"
    );

    let again = sequencer.sequence_new(&events).await.expect("again");
    assert_eq!(
        again.iter().map(|a| a.seq).collect::<Vec<_>>(),
        assigned.iter().map(|a| a.seq).collect::<Vec<_>>(),
        "a repeated batch gets the same seqs"
    );
    assert!(again.iter().all(|a| !a.fresh));
}
