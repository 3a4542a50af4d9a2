//! Partition ownership across rebalances: a partition taken away and given
//! back while the writer waits for records loses none of its records, and
//! writers joining, crashing and leaving under a steady stream store every
//! record once, and a writer whose store stage stalls still gives
//! partitions up to a writer that joins.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::*;
use test_support::kafka::group_assignment;
use test_support::{RedisServer, TestDatabase, kafka, wait_until};

const PARTITIONS: i32 = 6;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_partition_revoked_and_assigned_back_while_idle_loses_no_record() {
    let db = TestDatabase::new().await;
    let redis = RedisServer::start();
    let topics = kafka::unique_topics(PARTITIONS).await;
    let (user, rooms) = seed_rooms(&db.pool, 24).await;
    let config = writer_config(&db.url, &redis.url(), &topics);
    let producer = kafka::producer(&topics.brokers);

    // the first writer owns every partition; one message per room tells each room's partition
    let first = InProcessWriter::start(config.clone()).await;
    let warmup = events(user, &rooms, rooms.len());
    let landed = produce_all_partitions(&producer, &topics.topic, &warmup).await;
    wait_for_rows(&db.pool, warmup.len() as i64, Duration::from_secs(60)).await;
    let first_id = wait_until(
        "the first writer alone owns every partition",
        GROUP_WAIT,
        || async {
            match group_assignment(&topics.brokers, &topics.group)?.as_slice() {
                [(id, owned)] if owned.len() == PARTITIONS as usize => Some(id.clone()),
                _ => None,
            }
        },
    )
    .await;

    // a second writer joins and takes some partitions away from the first ...
    let second = InProcessWriter::start(config.clone()).await;
    let moved: BTreeSet<i32> =
        wait_until("the second writer owns partitions", GROUP_WAIT, || async {
            let members = group_assignment(&topics.brokers, &topics.group)?;
            let [a, b] = members.as_slice() else {
                return None;
            };
            let (_, theirs) = if a.0 == first_id { b } else { a };
            (!a.1.is_empty() && !b.1.is_empty()).then(|| theirs.iter().copied().collect())
        })
        .await;
    // ... and leaves: they go back to the first, which has been waiting for records all along
    second.stop().await;
    wait_until(
        "the first writer owns every partition again",
        GROUP_WAIT,
        || async {
            match group_assignment(&topics.brokers, &topics.group)?.as_slice() {
                [(id, owned)] if *id == first_id && owned.len() == PARTITIONS as usize => Some(()),
                _ => None,
            }
        },
    )
    .await;

    // the next records of the partitions that moved are all stored
    let moved_rooms: Vec<_> = rooms
        .iter()
        .zip(&landed)
        .filter(|(_, p)| moved.contains(p))
        .map(|(room, _)| *room)
        .collect();
    let next = events(user, &moved_rooms, moved_rooms.len() * 5);
    produce_all(&producer, &topics.topic, &next).await;
    let all: Vec<_> = warmup.iter().chain(&next).cloned().collect();
    wait_for_rows(&db.pool, all.len() as i64, Duration::from_secs(60)).await;
    first.stop().await;
    assert_stored_exactly(&db.pool, &all).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_writers_joining_crashing_and_leaving_under_a_stream_store_every_record_once() {
    let db = TestDatabase::new().await;
    let redis = RedisServer::start();
    let topics = kafka::unique_topics(PARTITIONS).await;
    let (user, rooms) = seed_rooms(&db.pool, 12).await;
    let all = events(user, &rooms, 3500);
    let phases: Vec<&[chat_core::ChatEvent]> = all.chunks(500).collect();
    let mut config = writer_config(&db.url, &redis.url(), &topics);
    config.batch_max_rows = 50;
    let producer = kafka::producer(&topics.brokers);
    let owners = |n: usize| {
        let topics = topics.clone();
        move || {
            let topics = topics.clone();
            async move {
                let members = group_assignment(&topics.brokers, &topics.group)?;
                let owned: usize = members.iter().map(|(_, p)| p.len()).sum();
                (members.len() == n
                    && owned == PARTITIONS as usize
                    && members.iter().all(|(_, p)| !p.is_empty()))
                .then_some(())
            }
        }
    };
    // Each membership change is made while a phase of records is being
    // produced, and waited for before the next one: every change lands mid-stream.
    let first = InProcessWriter::start(config.clone()).await;
    produce_all(&producer, &topics.topic, phases[0]).await;

    let mut second = spawn_writer_process(&config, test_support::free_port());
    let (_, ()) = tokio::join!(
        produce_all(&producer, &topics.topic, phases[1]),
        wait_until("two writers owning partitions", GROUP_WAIT, owners(2)),
    );
    let mut third = spawn_writer_process(&config, test_support::free_port());
    let (_, ()) = tokio::join!(
        produce_all(&producer, &topics.topic, phases[2]),
        wait_until("three writers owning partitions", GROUP_WAIT, owners(3)),
    );
    wait_for_rows(&db.pool, 1200, GROUP_WAIT).await;

    // the second crashes: its partitions move after the session timeout
    second.kill().expect("SIGKILL the second writer");
    second.wait().expect("reap it");
    let (_, ()) = tokio::join!(
        produce_all(&producer, &topics.topic, phases[3]),
        wait_until("two writers after the crash", GROUP_WAIT, owners(2)),
    );
    // the third leaves cleanly
    let pid = nix::unistd::Pid::from_raw(i32::try_from(third.id()).expect("pid"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM the third");
    let (_, ()) = tokio::join!(
        produce_all(&producer, &topics.topic, phases[4]),
        wait_until("the first writer alone", GROUP_WAIT, owners(1)),
    );
    assert!(
        third.wait().expect("reap it").success(),
        "the third writer exits cleanly"
    );
    // and a new one joins for the end of the stream
    let fourth = InProcessWriter::start(config.clone()).await;
    let (_, ()) = tokio::join!(
        produce_all(&producer, &topics.topic, phases[5]),
        wait_until("two writers again", GROUP_WAIT, owners(2)),
    );
    produce_all(&producer, &topics.topic, phases[6]).await;

    wait_for_rows(&db.pool, all.len() as i64, Duration::from_secs(90)).await;
    fourth.stop().await;
    first.stop().await;
    assert_stored_exactly(&db.pool, &all).await;
}

/// Two writers while the first one's store stage stalls: the first (a process)
/// stores its first batch, then waits `stall_ms` before committing its
/// offsets; a second (in this process) joins, takes partitions, and stores and
/// commits their records to the end while the first is still stalled.
struct Stalled {
    db: TestDatabase,
    _redis: RedisServer,
    topics: kafka::TestTopics,
    all: Vec<chat_core::ChatEvent>,
    first: WriterProcess,
    first_metrics: std::net::SocketAddr,
    second: Option<InProcessWriter>,
    /// The partitions the second writer took, and where the topic ended.
    moved: Vec<i32>,
    ends: Vec<i64>,
}

impl Stalled {
    async fn start(
        tune_first: impl FnOnce(&mut chat_writer::WriterConfig),
        stall_ms: u64,
        still_stalled: &str,
    ) -> Self {
        let db = TestDatabase::new().await;
        let redis = RedisServer::start();
        let topics = kafka::unique_topics(PARTITIONS).await;
        let (user, rooms) = seed_rooms(&db.pool, 12).await;
        let all = events(user, &rooms, 600);
        let config = writer_config(&db.url, &redis.url(), &topics);
        let mut stalling = config.clone();
        tune_first(&mut stalling);
        let producer = kafka::producer(&topics.brokers);

        let first_http = test_support::free_port();
        let failpoint = format!("writer::after_db_commit=1*return({stall_ms})");
        let first = spawn_writer_process_with(&stalling, first_http, &[("FAILPOINTS", &failpoint)]);
        produce_all(&producer, &topics.topic, &all[..300]).await;
        wait_until("the first batch stored", GROUP_WAIT, || async {
            (row_count(&db.pool).await > 0).then_some(())
        })
        .await;
        let second = InProcessWriter::start(config.clone()).await;
        let members = wait_until("the second writer owns partitions", GROUP_WAIT, || async {
            let members = group_assignment(&topics.brokers, &topics.group)?;
            (members.len() == 2 && members.iter().all(|(_, p)| !p.is_empty())).then_some(members)
        })
        .await;
        produce_all(&producer, &topics.topic, &all[300..]).await;
        let ends = kafka::end_offsets(&topics.brokers, &topics.topic, PARTITIONS);
        // the stalled first writer commits nothing: the member whose partitions
        // are committed to the end is the second
        let moved: Vec<i32> = wait_until(
            "the second writer committed its partitions to the end",
            GROUP_WAIT,
            || async {
                let committed = kafka::committed_offsets(
                    &topics.brokers,
                    &topics.group,
                    &topics.topic,
                    PARTITIONS,
                );
                members
                    .iter()
                    .map(|(_, p)| p)
                    .find(|p| {
                        p.iter()
                            .all(|&p| committed[p as usize].unwrap_or(0) >= ends[p as usize])
                    })
                    .cloned()
            },
        )
        .await;
        let first_metrics = std::net::SocketAddr::from(([127, 0, 0, 1], first_http));
        assert_eq!(
            counter_value(
                &http_get(first_metrics, "/metrics").await,
                "writer_batches_total"
            ),
            0.0,
            "{still_stalled}"
        );
        Self {
            db,
            _redis: redis,
            topics,
            all,
            first,
            first_metrics,
            second: Some(second),
            moved,
            ends,
        }
    }

    /// Once everything is stored: both writers stop cleanly, every record is stored once.
    async fn finish(mut self) -> Self {
        wait_for_rows(
            &self.db.pool,
            self.all.len() as i64,
            Duration::from_secs(90),
        )
        .await;
        let metrics = self.first_metrics;
        wait_until(
            "the first writer past its stall",
            Duration::from_secs(60),
            || async {
                let text = http_get(metrics, "/metrics").await;
                (counter_value(&text, "writer_batches_total") >= 1.0).then_some(())
            },
        )
        .await;
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.first.id()).expect("pid"));
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM the first");
        assert!(
            self.first.wait().expect("reap").success(),
            "the first writer exits cleanly"
        );
        if let Some(second) = self.second.take() {
            second.stop().await;
        }
        assert_stored_exactly(&self.db.pool, &self.all).await;
        self
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_batch_stored_after_its_partitions_moved_does_not_move_their_offsets_back() {
    // The first writer gathers the whole first burst into one batch: the
    // stalled batch holds records of every partition, some of which move
    // while it stalls.
    let stalled = Stalled::start(
        |first| {
            first.batch_max_rows = 1000;
            first.batch_linger_ms = 2000;
        },
        25_000,
        "the first writer is still stalled before its first offset commit",
    )
    .await
    .finish()
    .await;

    // the stalled batch went on; its moved partitions' offsets did not go back
    let t = &stalled.topics;
    let committed = kafka::committed_offsets(&t.brokers, &t.group, &t.topic, PARTITIONS);
    for &p in &stalled.moved {
        assert!(
            committed[p as usize].unwrap_or(0) >= stalled.ends[p as usize],
            "partition {p}: committed offset {:?} went back below {}",
            committed[p as usize],
            stalled.ends[p as usize]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_writer_whose_store_stage_stalls_still_gives_partitions_to_a_joining_writer() {
    // Batches of two records: while the first batch stalls in the store
    // stage, the next 32 fill its queue, one more waits to be handed off and
    // the one after it fills (68 of the 300 records produced first), so the
    // gather stage waits on the hand-off with its partitions paused, not in
    // `recv()`.
    Stalled::start(
        |first| first.batch_max_rows = 2,
        30_000,
        "the second writer got and stored its partitions only once the first's stall was over",
    )
    .await
    .finish()
    .await;
}

/// How long a group may take to settle after a member joins or leaves.
const GROUP_WAIT: Duration = Duration::from_secs(60);
