//! A gateway killed with SIGKILL: its clients reconnect through nginx to the
//! other gateway and resume without loss; the dead gateway's users drop out
//! of presence within the presence TTL.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use serde_json::Value;
use test_support::nginx::NginxServer;
use uuid::Uuid;

/// The `gateway` binary as a real process with `config` in its environment.
fn spawn_gateway(stack: &Stack, port: u16, instance: &str) -> Child {
    let config = stack.gateway_config();
    Command::new(env!("CARGO_BIN_EXE_gateway"))
        .env_clear()
        .env("GATEWAY_ADDR", format!("127.0.0.1:{port}"))
        .env("GATEWAY_INSTANCE_ID", instance)
        .env("DATABASE_URL", &config.database_url)
        .env("KAFKA_BROKERS", &config.kafka.brokers)
        .env("KAFKA_TOPIC", &config.kafka.topic)
        .env("KAFKA_DLQ_TOPIC", &config.kafka.dlq_topic)
        .env("REDIS_URL", &config.sequencer.redis_url)
        .env("JWT_SECRET", SECRET)
        .env("ALLOWED_ORIGINS", ORIGIN)
        .env("COOKIE_SECURE", "false")
        .env("TRUST_FORWARDED_FOR", "true")
        .env("PRESENCE_TTL_SECS", "3")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the gateway binary")
}

async fn ready(port: u16) {
    test_support::wait_until("gateway ready", WAIT, || async move {
        let response = reqwest::get(format!("http://127.0.0.1:{port}/readyz"))
            .await
            .ok()?;
        response.status().is_success().then_some(())
    })
    .await;
}

#[tokio::test]
async fn clients_of_a_killed_gateway_reconnect_through_nginx_and_resume_without_loss() {
    let stack = Stack::start().await;
    let ports = [test_support::free_port(), test_support::free_port()];
    let mut gateways = vec![
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

    gateways[doomed].kill().expect("SIGKILL the gateway");
    gateways[doomed].wait().expect("reap");
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

    for mut gateway in gateways {
        let _ = gateway.kill();
        let _ = gateway.wait();
    }
}

fn seq_id(frame: &Value) -> (i64, Uuid) {
    (
        frame["seq"].as_i64().expect("seq"),
        frame["id"].as_str().expect("id").parse().expect("uuid"),
    )
}
