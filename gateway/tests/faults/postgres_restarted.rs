//! Postgres stopped and started again while clients send: sends keep being
//! acknowledged (Kafka is the durable step, the writer waits), everything is
//! stored once it is back (G1, G6), and a resume across a gap longer than the
//! Redis tail replays the older part from Postgres (G5).

use std::sync::Arc;
use std::time::Duration;

use test_support::PostgresServer;

use crate::common::load::Load;
use crate::common::promises::{assert_promises_kept, stored};
use crate::common::{Options, Stack};
use crate::{clients, room_with_members};

/// `SEQUENCER_TAIL_LEN`: far fewer than the messages a resume below misses.
const TAIL_LEN: u32 = 20;
/// How long Postgres stays down at most (less once 60 sends are acknowledged).
const OUTAGE: Duration = Duration::from_secs(12);

#[tokio::test]
async fn postgres_stopped_under_load_keeps_acknowledging_and_stores_everything_when_back() {
    let postgres = Arc::new(
        tokio::task::spawn_blocking(PostgresServer::start)
            .await
            .expect("postgres starts"),
    );
    let stack = Stack::start_with(Options {
        postgres_admin_url: Some(postgres.admin_url()),
        tail_len: Some(TAIL_LEN),
        ..Options::default()
    })
    .await;
    let (east, west) = (stack.gateway().await, stack.gateway().await);
    let sites = [east.addr, west.addr];
    let (room, users) = room_with_members(&sites, 4).await;
    let mut load = Load::start(clients(&sites, room, &users, Duration::from_millis(10)));
    load.wait_for_acks(50).await;

    let server = postgres.clone();
    tokio::task::spawn_blocking(move || server.stop())
        .await
        .expect("postgres stops");
    // while it is down, senders should keep getting acks (asserted last, so
    // that the other promises are checked whatever happens here)
    let before = load.progress.acks();
    let _ = tokio::time::timeout(OUTAGE, load.wait_for_acks(before + 60)).await;
    let acked_while_down = load.progress.acks() - before;
    let server = postgres.clone();
    tokio::task::spawn_blocking(move || server.start_again())
        .await
        .expect("postgres starts again");
    let acked = load.progress.acks();
    load.wait_for_acks(acked + 50).await;
    let reports = load.finish(&stack.db.pool, room).await;
    assert_promises_kept(&stack.db.pool, room, &reports, &users[0]).await;

    // a client that was away since seq 5 gets the rest: Postgres, then the tail
    let whole: Vec<(i64, uuid::Uuid)> = stored(&stack.db.pool, room).await.into_iter().collect();
    assert!(
        whole.len() > 5 + 2 * TAIL_LEN as usize,
        "the gap exceeds the tail"
    );
    let mut socket = users[1].connect(west.addr).await;
    socket.subscribe(room, Some(5)).await;
    let mut replayed = Vec::new();
    while replayed.len() < whole.len() - 5 {
        let frame = socket.next_of("message").await;
        replayed.push((
            frame["seq"].as_i64().expect("seq"),
            frame["id"].as_str().expect("id").parse().expect("uuid"),
        ));
    }
    assert_eq!(
        replayed,
        whole[5..],
        "the resume replays seq 6.. from Postgres and the tail"
    );
    assert!(
        acked_while_down >= 60,
        "sends are acknowledged while Postgres is down (Kafka is the durable step): \
         {acked_while_down} acks in {OUTAGE:?}"
    );
    east.stop().await;
    west.stop().await;
}
