//! A gateway process SIGKILLed while its clients send: they reconnect through
//! nginx to the other one, resend what was in flight, resume with their last
//! seq, and get every message exactly once, in order (G1, G2, G5).

use std::time::Duration;

use crate::common::Stack;
use crate::common::load::Load;
use crate::common::promises::assert_promises_kept;
use crate::{clients, room_with_members, two_gateways_behind_nginx};

#[tokio::test]
async fn a_gateway_killed_mid_stream_loses_nothing_and_its_clients_resume_exactly_once() {
    let stack = Stack::start().await;
    let (mut gateways, nginx) = two_gateways_behind_nginx(&stack, &[]).await;
    let site = [nginx.addr()];
    let (room, users) = room_with_members(&site, 6).await;
    // least_conn spreads the six sockets over both gateways
    let mut load = Load::start(clients(&site, room, &users, Duration::from_millis(20)));
    load.wait_for_acks(150).await;

    gateways[0].kill();
    let progress = load.progress.clone();
    load.wait("a client reconnects", move || progress.reconnects() > 0)
        .await;
    let acked = load.progress.acks();
    load.wait_for_acks(acked + 150).await;
    let reports = load.finish(&stack.db.pool, room).await;

    let moved = reports.iter().filter(|r| r.reconnects > 0).count();
    assert!(moved > 0, "some clients were on the killed gateway");
    assert_promises_kept(&stack.db.pool, room, &reports, &users[0]).await;
    eprintln!(
        "gateway killed: {} acks, {moved} of {} clients moved",
        reports.iter().map(|r| r.acks.len()).sum::<usize>(),
        reports.len()
    );
}
