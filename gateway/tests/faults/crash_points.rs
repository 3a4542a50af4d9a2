//! A gateway that dies at an exact point of a send: with the message durable
//! in Kafka but not sequenced, and with it sequenced and published but its
//! sender not told. The sender reconnects through nginx to the other gateway
//! and resends with the same client message id: it gets the same message, the
//! writer stores it once, every view stays gap-free (G1, G2, G3, G5).

use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use crate::common::load::Load;
use crate::common::promises::assert_promises_kept;
use crate::common::{Stack, WAIT};
use crate::{clients, room_with_members, two_gateways_behind_nginx};

async fn a_gateway_dying_at(point: &str) {
    let stack = Stack::start().await;
    let failpoint = format!("{point}=1*return");
    let (mut gateways, nginx) =
        two_gateways_behind_nginx(&stack, &[("FAILPOINTS", &failpoint)]).await;
    let site = [nginx.addr()];
    let (room, users) = room_with_members(&site, 6).await;
    // least_conn spreads the six sockets over both gateways: the first send
    // that reaches the point on the east one kills it there
    let mut load = Load::start(clients(&site, room, &users, Duration::from_millis(20)));
    let status = test_support::wait_until("the east gateway dies at the point", WAIT, || {
        let status = gateways[0].exited();
        async move { status }
    })
    .await;
    assert_eq!(
        status.signal(),
        Some(nix::sys::signal::Signal::SIGABRT as i32),
        "the gateway died at {point}, not otherwise ({status})"
    );
    let progress = load.progress.clone();
    load.wait("a client reconnects", move || progress.reconnects() > 0)
        .await;
    let acked = load.progress.acks();
    load.wait_for_acks(acked + 100).await;
    let reports = load.finish(&stack.db.pool, room).await;
    assert_promises_kept(&stack.db.pool, room, &reports, &users[0]).await;
}

#[tokio::test]
async fn a_gateway_dying_after_the_produce_before_the_seq_loses_nothing() {
    a_gateway_dying_at("gateway::after_produce").await;
}

#[tokio::test]
async fn a_gateway_dying_after_the_seq_before_the_ack_loses_nothing() {
    a_gateway_dying_at("gateway::before_ack").await;
}
