//! G1: the writer killed with SIGKILL at random moments while events flow, and
//! restarted, stores every produced event exactly once.

mod common;

use std::time::Duration;

use common::*;
use rand::Rng;
use test_support::{RedisServer, TestDatabase, kafka, wait_until};

const TOTAL: usize = 4000;
const KILLS: usize = 4;
/// Events produced beyond a kill point before waiting for it.
const AHEAD: usize = 300;

#[tokio::test]
async fn a_writer_killed_at_random_moments_stores_every_event_exactly_once() {
    let db = TestDatabase::new().await;
    let redis = RedisServer::start();
    let topics = kafka::unique_topics(4).await;
    let (user, rooms) = seed_rooms(&db.pool, 8).await;
    let all = events(user, &rooms, TOTAL);
    let mut config = writer_config(&db.url, &redis.url(), &topics);
    // static membership: the restarted process takes its partitions back at once
    config.group_instance_id = Some("writer-under-test".into());
    config.batch_max_rows = 100;

    // Events are produced a little ahead of each kill point, so that every kill
    // lands while the writer still has records to store (never after the end).
    let producer = kafka::producer(&topics.brokers);
    let mut produced = 0;
    let mut writer = spawn_writer_process(&config, test_support::free_port());
    for kill in 0..KILLS {
        // a random point in the first three quarters of the stream
        let span = (3 * TOTAL / 4 / KILLS) as i64;
        let target = rand::rng().random_range(kill as i64 * span..(kill as i64 + 1) * span);
        let ahead = (target as usize + AHEAD).min(TOTAL);
        if ahead > produced {
            produce_all(&producer, &topics.topic, &all[produced..ahead]).await;
            produced = ahead;
        }
        wait_until("rows before the kill", Duration::from_secs(120), || async {
            (row_count(&db.pool).await >= target).then_some(())
        })
        .await;
        writer.kill().expect("SIGKILL the writer");
        writer.wait().expect("reap the writer");
        writer = spawn_writer_process(&config, test_support::free_port());
    }
    produce_all(&producer, &topics.topic, &all[produced..]).await;
    wait_for_rows(&db.pool, TOTAL as i64, Duration::from_secs(120)).await;
    writer.kill().expect("stop the writer");
    writer.wait().expect("reap");

    assert_stored_exactly(&db.pool, &all).await;
}
