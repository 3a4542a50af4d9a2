//! The sequencer against real Redis and Postgres.

use std::time::Duration;

use chat_core::sequencer::room_channel;
use chat_core::{ChatEvent, SequencedEvent, Sequencer};
use futures::StreamExt;
use test_support::{RedisServer, TestDatabase};
use uuid::Uuid;

mod common;
use common::{config, event};

#[tokio::test]
async fn concurrent_callers_for_one_room_get_distinct_contiguous_seqs_published_in_seq_order() {
    let db = TestDatabase::new().await;
    let redis = RedisServer::start();
    let room = Uuid::now_v7();
    let client = redis::Client::open(redis.url()).expect("client");
    let mut pubsub = client.get_async_pubsub().await.expect("pubsub");
    pubsub
        .subscribe(room_channel(room))
        .await
        .expect("subscribe");

    let callers = 10;
    let per_caller = 50;
    let tasks: Vec<_> = (0..callers)
        .map(|c| {
            // each caller its own connection, as separate gateways have
            let sequencer = Sequencer::new(&config(&redis), db.pool.clone()).expect("sequencer");
            tokio::spawn(async move {
                let mut seqs = Vec::new();
                for i in 0..per_caller {
                    let assigned = sequencer
                        .sequence_new(&[event(room, c * 1000 + i)])
                        .await
                        .expect("sequenced");
                    assert!(assigned[0].fresh);
                    seqs.push(assigned[0].seq);
                }
                seqs
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        let seqs = task.await.expect("caller");
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "one caller's seqs increase"
        );
        all.extend(seqs);
    }
    all.sort_unstable();
    let total = (callers * per_caller) as i64;
    assert_eq!(all, (1..=total).collect::<Vec<_>>());

    let mut stream = pubsub.on_message();
    let mut published = Vec::new();
    while published.len() < total as usize {
        let message = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("every record is published")
            .expect("stream open");
        let record: SequencedEvent = serde_json::from_slice(message.get_payload_bytes())
            .expect("a published record is JSON");
        published.push(record.seq);
    }
    assert_eq!(
        published,
        (1..=total).collect::<Vec<_>>(),
        "publish order is seq order"
    );
}

#[tokio::test]
async fn a_repeated_call_for_the_same_message_returns_the_same_seq_and_publishes_nothing() {
    let db = TestDatabase::new().await;
    let redis = RedisServer::start();
    let sequencer = Sequencer::new(&config(&redis), db.pool.clone()).expect("sequencer");
    let room = Uuid::now_v7();
    let (a, b) = (event(room, 1), event(room, 2));

    let first = sequencer
        .sequence_new(&[a.clone(), b.clone()])
        .await
        .expect("first");
    let again = sequencer
        .sequence_new(&[b.clone(), a.clone(), a.clone()])
        .await
        .expect("again");

    assert_eq!((first[0].seq, first[1].seq), (1, 2));
    assert!(first.iter().all(|x| x.fresh));
    assert_eq!((again[0].seq, again[1].seq, again[2].seq), (2, 1, 1));
    assert!(
        again.iter().all(|x| !x.fresh),
        "nothing is assigned or published twice"
    );
    let tail = sequencer.tail_after(room, 0).await.expect("tail");
    assert_eq!(tail.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!(tail[0].event, a);
}

#[tokio::test]
async fn the_tail_keeps_the_newest_records_and_answers_after_a_seq() {
    let db = TestDatabase::new().await;
    let redis = RedisServer::start();
    let sequencer = Sequencer::new(&config(&redis), db.pool.clone()).expect("sequencer");
    let room = Uuid::now_v7();
    let events: Vec<_> = (0..130).map(|i| event(room, i)).collect();
    sequencer.sequence_new(&events).await.expect("sequenced");

    let tail = sequencer.tail_after(room, 0).await.expect("tail");
    assert_eq!(tail.len(), 100, "capped at tail_len");
    assert_eq!(tail[0].seq, 31);
    let after = sequencer.tail_after(room, 120).await.expect("tail");
    assert_eq!(
        after.iter().map(|r| r.seq).collect::<Vec<_>>(),
        (121..=130).collect::<Vec<_>>()
    );
    assert_eq!(after[9].event, events[129]);
}

#[tokio::test]
async fn after_redis_loses_its_state_counters_restart_from_postgres_with_a_new_epoch() {
    let db = TestDatabase::new().await;
    let mut redis = RedisServer::start();
    let sequencer = Sequencer::new(&config(&redis), db.pool.clone()).expect("sequencer");
    let user = Uuid::now_v7();
    let room = Uuid::now_v7();
    sqlx::query("INSERT INTO users (id, username, password_hash) VALUES ($1, 'epoch_user', 'x')")
        .bind(user)
        .execute(&db.pool)
        .await
        .expect("user");
    sqlx::query("INSERT INTO rooms (id, name, kind) VALUES ($1, 'r', 'public')")
        .bind(room)
        .execute(&db.pool)
        .await
        .expect("room");
    let stored: Vec<_> = (0..5)
        .map(|i| ChatEvent {
            sender_id: user,
            ..event(room, i)
        })
        .collect();
    let assigned = sequencer.sequence_new(&stored).await.expect("sequenced");
    for (e, a) in stored.iter().zip(&assigned) {
        sqlx::query(
            "INSERT INTO messages (id, room_id, seq, sender_id, client_msg_id, kind, body, sent_at)
             VALUES ($1, $2, $3, $4, $5, 'user', $6, now())",
        )
        .bind(e.id)
        .bind(room)
        .bind(a.seq)
        .bind(user)
        .bind(&e.client_msg_id)
        .bind(&e.body)
        .execute(&db.pool)
        .await
        .expect("stored");
    }
    let old_epoch = assigned[0].epoch;

    redis.restart_empty();
    let next = test_support::wait_until("redis back", Duration::from_secs(10), || async {
        sequencer.sequence_new(&[event(room, 99)]).await.ok()
    })
    .await;

    assert_eq!(
        next[0].seq, 6,
        "the counter continues after Postgres' highest seq"
    );
    assert!(next[0].fresh);
    assert!(
        next[0].epoch > old_epoch,
        "a new epoch tells clients to reload"
    );
    assert!(!sequencer.epochs_unchanged(&assigned).await.expect("epochs"));
    assert!(sequencer.epochs_unchanged(&next).await.expect("epochs"));
}

/// Advisory locks waited for in this test's database.
async fn restores_waiting(pool: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
         WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = current_database()",
    )
    .fetch_one(pool)
    .await
    .expect("pg_locks")
}

#[tokio::test]
async fn a_writer_holding_one_rooms_counters_blocks_restoring_that_room_only() {
    let db = TestDatabase::new().await;
    let redis = RedisServer::start();
    let sequencer = Sequencer::new(&config(&redis), db.pool.clone()).expect("sequencer");
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let writer = sequencer.hold_rooms(&[a]).await.expect("hold room A");

    let head_b = tokio::time::timeout(Duration::from_secs(10), sequencer.head(b))
        .await
        .expect("restoring room B does not wait for a writer in room A")
        .expect("head of B");
    let restoring_a = tokio::spawn({
        let sequencer = sequencer.clone();
        async move { sequencer.head(a).await }
    });
    test_support::wait_until(
        "room A's restore waits",
        Duration::from_secs(10),
        || async { (restores_waiting(&db.pool).await == 1).then_some(()) },
    )
    .await;
    assert!(!restoring_a.is_finished(), "room A waits for the writer");
    let committed = writer.commit(&[]).await.expect("commit");
    assert_eq!(committed, chat_core::sequencer::Committed::Done);
    let head_a = tokio::time::timeout(Duration::from_secs(10), restoring_a)
        .await
        .expect("room A is restored once the writer commits")
        .expect("task")
        .expect("head of A");

    assert_eq!(head_b.seq, 0);
    assert_eq!(head_a.seq, 0);
}

#[tokio::test]
async fn a_redis_restarted_from_an_old_snapshot_reuses_no_seq_under_the_same_epoch() {
    let db = TestDatabase::new().await;
    let mut redis = RedisServer::start_with_snapshots();
    let sequencer = Sequencer::new(&config(&redis), db.pool.clone()).expect("sequencer");
    let room = Uuid::now_v7();
    let events: Vec<_> = (0..8).map(|i| event(room, i)).collect();
    let kept = sequencer
        .sequence_new(&events[..5])
        .await
        .expect("sequenced");
    redis.snapshot();
    // acknowledged and published, but the writer is behind: nothing is stored
    let lost = sequencer
        .sequence_new(&events[5..])
        .await
        .expect("sequenced");
    let old_epoch = lost[0].epoch;

    redis.restart_from_snapshot();
    let newer = event(room, 100);
    let after = test_support::wait_until("redis back", Duration::from_secs(10), || async {
        sequencer
            .sequence_new(std::slice::from_ref(&newer))
            .await
            .ok()
    })
    .await;
    // the writer sequences the lost messages again when it reads them from Kafka
    let again = sequencer
        .sequence_new(&events[5..])
        .await
        .expect("sequenced");
    let chat_core::sequencer::Head {
        seq: head, epoch, ..
    } = sequencer.head(room).await.expect("head");

    let mut places = std::collections::HashMap::new();
    for a in kept.iter().chain(&lost).chain(&after).chain(&again) {
        let owner = places.entry((a.seq, a.epoch)).or_insert(a.id);
        assert_eq!(
            *owner, a.id,
            "seq {} of epoch {} names one message",
            a.seq, a.epoch
        );
    }
    assert_ne!(epoch, old_epoch, "a resubscribing client is told to reload");
    assert!(after.iter().chain(&again).all(|a| a.epoch == epoch));
    assert!(head >= 9, "every message has a place: head {head}");
    assert!(!sequencer.epochs_unchanged(&lost).await.expect("epochs"));
}

#[tokio::test]
async fn a_held_batch_whose_room_lost_its_state_meanwhile_is_rolled_back() {
    let db = TestDatabase::new().await;
    let mut redis = RedisServer::start();
    let sequencer = Sequencer::new(&config(&redis), db.pool.clone()).expect("sequencer");
    let user = Uuid::now_v7();
    let room = Uuid::now_v7();
    sqlx::query("INSERT INTO users (id, username, password_hash) VALUES ($1, 'held_user', 'x')")
        .bind(user)
        .execute(&db.pool)
        .await
        .expect("user");
    sqlx::query("INSERT INTO rooms (id, name, kind) VALUES ($1, 'r', 'public')")
        .bind(room)
        .execute(&db.pool)
        .await
        .expect("room");
    let e = ChatEvent {
        sender_id: user,
        ..event(room, 1)
    };
    let assigned = sequencer
        .sequence_maybe_stored(std::slice::from_ref(&e))
        .await
        .expect("sequenced");
    let mut held = sequencer.hold_rooms(&[room]).await.expect("held");
    sqlx::query(
        "INSERT INTO messages (id, room_id, seq, sender_id, client_msg_id, kind, body, sent_at)
         VALUES ($1, $2, $3, $4, $5, 'user', $6, now())",
    )
    .bind(e.id)
    .bind(room)
    .bind(assigned[0].seq)
    .bind(user)
    .bind(&e.client_msg_id)
    .bind(&e.body)
    .execute(held.conn())
    .await
    .expect("inserted");

    redis.restart_empty();
    test_support::wait_until("redis back", Duration::from_secs(10), || async {
        sequencer.epoch(room).await.ok()
    })
    .await;
    let outcome = held.commit(&assigned).await.expect("commit or roll back");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM messages")
        .fetch_one(&db.pool)
        .await
        .expect("count");

    assert_eq!(outcome, chat_core::sequencer::Committed::EpochChanged);
    assert_eq!(
        stored, 0,
        "nothing is committed under a seq Redis no longer has"
    );
}
