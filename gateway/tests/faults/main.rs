//! Fault tests of the whole gateway path: clients keep sending while a
//! dependency is stopped, restarted empty, slowed, or a gateway is killed, and
//! every test ends with the same checks (`common::promises`): acknowledged =
//! stored, once each; every live view gap-free and in order; live = history.

#[path = "../common/mod.rs"]
mod common;

mod crash_points;
mod gateway_killed;
mod kafka_restarted;
mod postgres_restarted;
mod postgres_slow;
mod redis_restarted;

use std::sync::Arc;
use std::time::Duration;

use common::User;
use common::load::Client;
use uuid::Uuid;

/// Two gateway processes, "east" (with `east_env` added to its environment)
/// and "west", both ready, behind nginx (`least_conn`).
pub(crate) async fn two_gateways_behind_nginx(
    stack: &common::Stack,
    east_env: &[(&str, &str)],
) -> (
    [common::process::GatewayProcess; 2],
    test_support::NginxServer,
) {
    let ports = [test_support::free_port(), test_support::free_port()];
    let gateways = [
        common::process::spawn_gateway_with(stack, ports[0], "east", east_env),
        common::process::spawn_gateway(stack, ports[1], "west"),
    ];
    for port in ports {
        common::process::ready(port).await;
    }
    (gateways, test_support::NginxServer::start(&ports))
}

/// A public room with `n` members signed up through `gateways` in turn (an
/// in-process gateway or nginx); returns the room and its members.
pub(crate) async fn room_with_members(
    gateways: &[std::net::SocketAddr],
    n: usize,
) -> (Uuid, Vec<Arc<User>>) {
    let mut users = Vec::new();
    for i in 0..n {
        users.push(Arc::new(
            User::sign_up_at(gateways[i % gateways.len()], "load").await,
        ));
    }
    let room = users[0].create_room("faults", "public").await;
    for user in &users[1..] {
        user.join(room).await;
    }
    (room, users)
}

/// One sending client per member, spread over `gateways`.
pub(crate) fn clients(
    gateways: &[std::net::SocketAddr],
    room: Uuid,
    users: &[Arc<User>],
    pace: Duration,
) -> Vec<Client> {
    users
        .iter()
        .enumerate()
        .map(|(i, user)| Client {
            name: format!("c{i}"),
            user: user.clone(),
            addr: gateways[i % gateways.len()],
            room,
            pace,
        })
        .collect()
}
