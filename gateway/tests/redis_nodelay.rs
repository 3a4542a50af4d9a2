//! Every connection the gateway and the writer keep to Redis sends without
//! Nagle's delay (`TCP_NODELAY`). redis-rs leaves Nagle on unless told: on a
//! connection that many sends share, a request written while an earlier one
//! is unanswered then waits for that answer's ACK, and every stage of a send
//! that talks to Redis (dedupe, sequence, the relay) pays it.
//!
//! Read from outside the services: Redis lists its clients (`CLIENT LIST`),
//! and each one's socket is found among this process's own descriptors (the
//! gateway and the writer run in the test process) and asked for the option.

use std::collections::HashMap;
use std::net::SocketAddr;

use rustix::net::sockopt::tcp_nodelay;
use rustix::process::{PidfdFlags, PidfdGetfdFlags, getpid, pidfd_getfd, pidfd_open};
use test_support::wait_until;

mod common;
use common::{Stack, User, WAIT};

/// `TCP_NODELAY` of every TCP socket of this process, by its local address.
fn nodelay_by_local_addr() -> HashMap<SocketAddr, bool> {
    let me = pidfd_open(getpid(), PidfdFlags::empty()).expect("a pidfd of this process");
    let mut sockets = HashMap::new();
    for entry in std::fs::read_dir("/proc/self/fd").expect("/proc/self/fd") {
        let Ok(entry) = entry else { continue };
        let Some(fd) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        let is_socket = std::fs::read_link(entry.path())
            .is_ok_and(|target| target.to_string_lossy().starts_with("socket:"));
        if !is_socket {
            continue;
        }
        // a copy of the descriptor (it may have closed since the listing)
        let Ok(copy) = pidfd_getfd(&me, fd, PidfdGetfdFlags::empty()) else {
            continue;
        };
        let local = rustix::net::getsockname(&copy)
            .ok()
            .and_then(|a| SocketAddr::try_from(a).ok());
        if let (Some(local), Ok(nodelay)) = (local, tcp_nodelay(&copy)) {
            sockets.insert(local, nodelay);
        }
    }
    sockets
}

/// One line of `CLIENT LIST`: the client's address, its flags, its last command.
#[derive(Debug)]
struct RedisClient {
    addr: SocketAddr,
    flags: String,
    cmd: String,
}

async fn redis_clients(redis: &mut redis::aio::MultiplexedConnection) -> Vec<RedisClient> {
    let list: String = redis::cmd("CLIENT")
        .arg("LIST")
        .query_async(redis)
        .await
        .expect("CLIENT LIST");
    list.lines()
        .filter_map(|line| {
            let field = |name: &str| {
                line.split(' ')
                    .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
                    .unwrap_or_default()
                    .to_owned()
            };
            Some(RedisClient {
                addr: field("addr").parse().ok()?,
                flags: field("flags"),
                cmd: field("cmd"),
            })
        })
        .collect()
}

#[tokio::test]
async fn every_redis_connection_of_the_gateway_and_the_writer_has_nagle_off() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "nagle").await;
    let room = alice.create_room("nagle", "public").await;
    let mut socket = alice.connect(gateway.addr).await;
    socket.subscribe(room, None).await;
    let ack = socket.send_message(room, "nagle-1", "hello").await;
    assert_eq!(ack["type"], "ack", "{ack}");
    socket
        .next_matching("the message, through the relay", |f| {
            f["type"] == "message" && f["client_msg_id"] == "nagle-1"
        })
        .await;

    // the writer stores the message once it has asked the sequencer for its
    // seq: by then its Redis connection is open too
    wait_until("the message stored", WAIT, || async {
        (!common::promises::stored(&stack.db.pool, room)
            .await
            .is_empty())
        .then_some(())
    })
    .await;

    // the test's own connection, told apart by its address
    let mut own = redis::Client::open(stack.redis.url())
        .expect("redis url")
        .get_multiplexed_async_connection()
        .await
        .expect("redis connection");
    let own_addr: String = redis::cmd("CLIENT")
        .arg("INFO")
        .query_async::<String>(&mut own)
        .await
        .expect("CLIENT INFO")
        .split(' ')
        .find_map(|kv| kv.strip_prefix("addr=").map(str::to_owned))
        .expect("addr in CLIENT INFO");
    let clients = wait_until("the services' Redis clients", WAIT, || {
        let mut own = own.clone();
        let own_addr = own_addr.clone();
        async move {
            let clients: Vec<_> = redis_clients(&mut own)
                .await
                .into_iter()
                .filter(|c| c.addr.to_string() != own_addr)
                .collect();
            let subscriber = clients.iter().any(|c| c.flags.contains('P'));
            let scripted = clients.iter().any(|c| c.cmd.starts_with("evalsha"));
            (subscriber && scripted && clients.len() >= 3).then_some(clients)
        }
    })
    .await;

    let sockets = nodelay_by_local_addr();
    let with_nagle: Vec<_> = clients
        .iter()
        .filter(|c| sockets.get(&c.addr) != Some(&true))
        .map(|c| match sockets.get(&c.addr) {
            Some(_) => format!("{} (flags {}, last {}): Nagle on", c.addr, c.flags, c.cmd),
            None => format!("{}: not a socket of this process", c.addr),
        })
        .collect();
    assert!(
        with_nagle.is_empty(),
        "{} of {} Redis connections: {with_nagle:#?}",
        with_nagle.len(),
        clients.len()
    );
}
