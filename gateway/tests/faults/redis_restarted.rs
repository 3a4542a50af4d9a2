//! Redis restarted empty while clients on two gateways send: rooms are
//! restored from Postgres with a new epoch, clients that come back with the
//! old epoch are told `resync epoch` and reload, and nothing acknowledged is
//! lost or doubled (G1, G4).

use std::time::Duration;

use crate::common::Stack;
use crate::common::load::Load;
use crate::common::promises::assert_promises_kept;
use crate::{clients, room_with_members};

#[tokio::test]
async fn redis_restarted_empty_under_load_gives_a_new_epoch_and_loses_nothing() {
    let mut stack = Stack::start().await;
    let (east, west) = (stack.gateway().await, stack.gateway().await);
    let sites = [east.addr, west.addr];
    let (room, users) = room_with_members(&sites, 4).await;
    let mut load = Load::start(clients(&sites, room, &users, Duration::from_millis(10)));
    load.wait_for_acks(100).await;

    stack.redis.restart_empty();
    let progress = load.progress.clone();
    load.wait("every client resyncs", move || progress.resyncs() >= 4)
        .await;
    let acked = load.progress.acks();
    load.wait_for_acks(acked + 100).await;
    let reports = load.finish(&stack.db.pool, room).await;

    for report in &reports {
        assert!(
            report.resyncs.iter().any(|r| r == "epoch"),
            "{} came back with its old epoch and was told to reload: resyncs {:?}",
            report.name,
            report.resyncs
        );
    }
    assert_promises_kept(&stack.db.pool, room, &reports, &users[0]).await;
    east.stop().await;
    west.stop().await;
}
