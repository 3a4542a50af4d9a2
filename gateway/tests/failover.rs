//! A gateway killed with SIGKILL: its clients reconnect through nginx to the
//! other gateway and resume without loss; the dead gateway's users drop out
//! of presence within the presence TTL. And the binary's own start: it runs
//! with its allocator's settings.

mod common;

use std::time::Duration;

use common::process::{ready, spawn_gateway};
use common::*;
use serde_json::Value;
use test_support::nginx::NginxServer;
use uuid::Uuid;

#[tokio::test]
async fn clients_of_a_killed_gateway_reconnect_through_nginx_and_resume_without_loss() {
    let stack = Stack::start().await;
    let ports = [test_support::free_port(), test_support::free_port()];
    let mut gateways = [
        spawn_gateway(&stack, ports[0], "east"),
        spawn_gateway(&stack, ports[1], "west"),
    ];
    for port in ports {
        ready(port).await;
    }
    let nginx = NginxServer::start(&ports);
    let site = nginx.addr();

    let alice = User::sign_up_at(site, "alice").await;
    let bob = User::sign_up_at(site, "bob").await;
    let room = alice.create_room("failover", "public").await;
    bob.join(room).await;

    // bob through nginx; alice straight to the other gateway
    let ticket = bob.ticket().await;
    let (mut b, hello) = Socket::open_with_hello(site, &ticket, ORIGIN)
        .await
        .expect("bob connects");
    let doomed = if hello["server"] == "east" { 0 } else { 1 };
    let survivor = 1 - doomed;
    let mut a = alice
        .connect(std::net::SocketAddr::from((
            [127, 0, 0, 1],
            ports[survivor],
        )))
        .await;
    b.subscribe(room, Some(0)).await;
    a.subscribe(room, Some(0)).await;

    let mut sent: Vec<(i64, Uuid)> = Vec::new();
    for i in 0..10 {
        let ack = a
            .send_message(room, &format!("before-{i}"), "before the crash")
            .await;
        sent.push((
            ack["seq"].as_i64().expect("seq"),
            ack["id"].as_str().expect("id").parse().expect("uuid"),
        ));
    }
    let mut got: Vec<(i64, Uuid)> = Vec::new();
    for _ in 0..10 {
        got.push(seq_id(&b.next_of("message").await));
    }
    assert_eq!(got, sent);

    gateways[doomed].kill();
    assert_eq!(
        b.closed_with().await,
        None,
        "bob's socket dies with its gateway"
    );

    // the dead gateway cannot say goodbye: bob's entry expires and a sweep reports it
    let offline = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let frame = a.next_of("presence").await;
            if frame["user"]["username"] == bob.username.as_str() && frame["online"] == false {
                return frame;
            }
        }
    })
    .await
    .expect("bob goes offline within the presence TTL and a sweep");
    assert_eq!(offline["room"], room.to_string());

    for i in 0..20 {
        let ack = a
            .send_message(room, &format!("during-{i}"), "while bob reconnects")
            .await;
        sent.push((
            ack["seq"].as_i64().expect("seq"),
            ack["id"].as_str().expect("id").parse().expect("uuid"),
        ));
    }
    let last = got.last().expect("got messages").0;
    let ticket = bob.ticket().await;
    let (mut b, hello) = Socket::open_with_hello(site, &ticket, ORIGIN)
        .await
        .expect("bob reconnects through nginx");
    assert_ne!(hello["server"], if doomed == 0 { "east" } else { "west" });
    b.subscribe(room, Some(last)).await;
    while got.len() < sent.len() {
        got.push(seq_id(&b.next_of("message").await));
    }
    assert_eq!(got, sent, "every message once, in order, across the crash");
}

fn seq_id(frame: &Value) -> (i64, Uuid) {
    (
        frame["seq"].as_i64().expect("seq"),
        frame["id"].as_str().expect("id").parse().expect("uuid"),
    )
}

/// The environment a running process was started with.
fn environ(pid: u32) -> Vec<String> {
    std::fs::read(format!("/proc/{pid}/environ"))
        .expect("read the process's environment")
        .split(|b| *b == 0)
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect()
}

#[tokio::test]
async fn the_gateway_binary_runs_with_its_allocator_settings_and_keeps_an_operators_own() {
    let stack = Stack::start().await;
    let ports = [test_support::free_port(), test_support::free_port()];
    let defaults = spawn_gateway(&stack, ports[0], "defaults");
    let operator = common::process::spawn_gateway_with(
        &stack,
        ports[1],
        "operator",
        &[("MIMALLOC_PURGE_DELAY", "25")],
    );
    for port in ports {
        ready(port).await;
    }
    let env = environ(defaults.pid());
    for (name, value) in chat_gateway::allocator::OPTIONS {
        assert!(
            env.contains(&format!("{name}={value}")),
            "{name}={value} not in the running gateway's environment"
        );
    }
    let env = environ(operator.pid());
    assert!(
        env.contains(&"MIMALLOC_PURGE_DELAY=25".to_owned()),
        "the operator's value was replaced"
    );
    assert!(env.contains(&"MIMALLOC_ARENA_EAGER_COMMIT=0".to_owned()));
}
