//! G7 and G8 at the socket's edges (issue 11): connection caps per user and
//! per address, bounded replays, counted pings, the subprotocol, RFC 6455
//! close codes and handshake, bodies that fit however they are escaped,
//! client message ids that name one message, no typing echo, and client
//! addresses believed only from trusted proxies.

mod common;

use chat_gateway::GatewayConfig;
use common::*;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::{self, Message};
use uuid::Uuid;

/// Sets the connection caps.
fn caps(config: &mut GatewayConfig, per_user: usize, per_address: usize) {
    config.ws_max_connections_per_user = per_user;
    config.ws_max_connections_per_address = per_address;
}

/// Sets the replay bounds.
fn replays(config: &mut GatewayConfig, max: i64, per_min: u32, max_rooms: usize) {
    config.ws_replay_max = max;
    config.ws_replays_per_min = per_min;
    config.ws_max_rooms = max_rooms;
}

/// Believes `X-Forwarded-For` only from `proxies`.
fn trust(config: &mut GatewayConfig, proxies: &str) {
    config.trusted_proxies = chat_gateway::config::TrustedProxies::parse(proxies).expect("cidrs");
}

/// Opens `/ws` with `ticket`, offering `protocol` (if any) and sending `extra` headers.
async fn handshake(
    gateway: &Gateway,
    ticket: &str,
    protocol: Option<&str>,
    extra: &[(&'static str, &str)],
) -> Result<(), (u16, Value)> {
    let mut request = format!("ws://{}/ws?ticket={ticket}", gateway.addr)
        .into_client_request()
        .expect("request");
    let headers = request.headers_mut();
    headers.insert("origin", ORIGIN.parse().expect("origin"));
    if let Some(protocol) = protocol {
        headers.insert("sec-websocket-protocol", protocol.parse().expect("header"));
    }
    for (name, value) in extra {
        headers.insert(*name, value.parse().expect("header"));
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok(_) => Ok(()),
        Err(tungstenite::Error::Http(response)) => {
            let status = response.status().as_u16();
            let body = response
                .body()
                .as_ref()
                .and_then(|b| serde_json::from_slice(b).ok())
                .unwrap_or(Value::Null);
            Err((status, body))
        }
        Err(error) => panic!("handshake failed without an HTTP answer: {error}"),
    }
}

#[tokio::test]
async fn a_user_past_its_connection_cap_is_refused_with_429_until_a_socket_closes() {
    let stack = Stack::start().await;
    let mut config = stack.gateway_config();
    caps(&mut config, 2, 100);
    let gateway = Gateway::start(config).await;
    let alice = User::sign_up(&gateway, "alice").await;
    let mut first = alice.connect(gateway.addr).await;
    let _second = alice.connect(gateway.addr).await;

    let refused = handshake(&gateway, &alice.ticket().await, Some(SUBPROTOCOL), &[]).await;

    let (status, body) = refused.expect_err("a third socket is refused");
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    first.raw().close(None).await.expect("close");
    test_support::wait_until("a socket freed", WAIT, || async {
        let ticket = alice.ticket().await;
        handshake(&gateway, &ticket, Some(SUBPROTOCOL), &[])
            .await
            .ok()
    })
    .await;
}

#[tokio::test]
async fn an_address_past_its_connection_cap_is_refused_whoever_connects() {
    let stack = Stack::start().await;
    let mut config = stack.gateway_config();
    caps(&mut config, 100, 2);
    let gateway = Gateway::start(config).await;
    let alice = User::sign_up(&gateway, "alice").await;
    let bob = User::sign_up(&gateway, "bob").await;
    let carol = User::sign_up(&gateway, "carol").await;
    let _a = alice.connect(gateway.addr).await;
    let _b = bob.connect(gateway.addr).await;

    let refused = handshake(&gateway, &carol.ticket().await, Some(SUBPROTOCOL), &[]).await;

    let (status, body) = refused.expect_err("a third socket from the address is refused");
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
}

#[tokio::test]
async fn a_handshake_without_the_subprotocol_is_refused_with_a_json_400() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;

    let none = handshake(&gateway, &alice.ticket().await, None, &[]).await;
    let other = handshake(&gateway, &alice.ticket().await, Some("chat.v2"), &[]).await;

    for refused in [none, other] {
        let (status, body) = refused.expect_err("refused before the upgrade");
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"]["code"], "invalid", "{body}");
    }
    let ticket = alice.ticket().await;
    assert!(
        handshake(&gateway, &ticket, Some("x, chat.v1"), &[])
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_replay_past_its_bound_is_a_resync_and_nearer_ones_replay() {
    let stack = Stack::start().await;
    let mut config = stack.gateway_config();
    replays(&mut config, 5, 60, 100);
    let gateway = Gateway::start(config).await;
    let alice = User::sign_up(&gateway, "alice").await;
    let room = alice.create_room("busy", "public").await;
    let mut sender = alice.connect(gateway.addr).await;
    for i in 1..=8 {
        let ack = sender.send_message(room, &format!("c{i}"), "hello").await;
        assert_eq!(ack["type"], "ack", "{ack}");
    }

    let mut far = alice.connect(gateway.addr).await;
    let subscribed = far.subscribe(room, Some(0)).await;
    let next = far.next_frame().await;

    assert_eq!(subscribed["head_seq"], 8);
    assert_eq!(
        next["type"], "resync",
        "no replay of 8 > 5 messages: {next}"
    );
    assert_eq!(next["reason"], "behind", "{next}");
    far.subscribe(room, Some(3)).await;
    for seq in 4..=8 {
        let message = far.next_of("message").await;
        assert_eq!(message["seq"], seq, "{message}");
    }
}

#[tokio::test]
async fn resuming_subscribes_past_their_rate_are_refused() {
    let stack = Stack::start().await;
    let mut config = stack.gateway_config();
    // bursts of WS_MAX_ROOMS (2), then one a minute
    replays(&mut config, 500, 1, 2);
    let gateway = Gateway::start(config).await;
    let alice = User::sign_up(&gateway, "alice").await;
    let room = alice.create_room("churn", "public").await;
    let mut socket = alice.connect(gateway.addr).await;
    let ack = socket.send_message(room, "c1", "hello").await;
    assert_eq!(ack["type"], "ack", "{ack}");

    socket.subscribe(room, Some(0)).await;
    socket.subscribe(room, Some(0)).await;
    socket
        .send(json!({ "type": "subscribe", "room": room, "last_seq": 0 }))
        .await;
    let third = socket
        .next_matching("subscribed or error", |f| {
            f["type"] == "error" || f["type"] == "subscribed"
        })
        .await;

    assert_eq!(third["type"], "error", "{third}");
    assert_eq!(third["code"], "rate_limited", "{third}");
    // a subscribe that replays nothing is not limited
    socket.subscribe(room, None).await;
}

#[tokio::test]
async fn pings_count_against_the_frame_rate() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let mut socket = alice.connect(gateway.addr).await;

    for _ in 0..500 {
        socket.send_raw(Message::Ping(Default::default())).await;
    }

    assert_eq!(socket.closed_with().await, Some(1008));
}

#[tokio::test]
async fn text_that_is_not_utf8_is_closed_with_1007() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let mut socket = alice.connect(gateway.addr).await;

    let frame = Frame::message(vec![0xff, 0xfe, 0x80], OpCode::Data(Data::Text), true);
    socket.send_raw(Message::Frame(frame)).await;

    assert_eq!(socket.closed_with().await, Some(1007));
}

#[tokio::test]
async fn an_unmasked_client_frame_is_closed_with_1002() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let mut socket = alice.connect(gateway.addr).await;

    // FIN + text, no mask bit, 2 bytes: written past the client library
    let stream = socket.raw().get_mut();
    let tokio_tungstenite::MaybeTlsStream::Plain(tcp) = stream else {
        panic!("plain TCP");
    };
    tcp.write_all(&[0x81, 0x02, b'h', b'i'])
        .await
        .expect("raw write");

    assert_eq!(socket.closed_with().await, Some(1002));
}

#[tokio::test]
async fn a_body_of_4000_characters_fits_even_fully_escaped() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let room = alice.create_room("emoji", "public").await;
    let mut socket = alice.connect(gateway.addr).await;

    // 4000 emoji, each written as a surrogate pair of \u escapes: 48,000 bytes
    let body = "\\ud83d\\ude00".repeat(4000);
    let frame = format!(
        r#"{{"type":"send","room":"{room}","client_msg_id":"\u0065\u006d\u006f\u006a\u0069","body":"{body}"}}"#
    );
    socket.send_raw(Message::text(frame)).await;
    let ack = socket
        .next_matching("ack", |f| f["type"] == "ack" || f["type"] == "error")
        .await;

    assert_eq!(ack["type"], "ack", "{ack}");
    assert_eq!(ack["client_msg_id"], "emoji");
}

#[tokio::test]
async fn a_client_msg_id_reused_in_another_room_is_refused_not_answered_with_the_first() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let first_room = alice.create_room("first", "public").await;
    let second_room = alice.create_room("second", "public").await;
    let mut socket = alice.connect(gateway.addr).await;
    let first = socket.send_message(first_room, "c1", "same words").await;
    assert_eq!(first["type"], "ack", "{first}");

    let second = socket.send_message(second_room, "c1", "same words").await;
    let again = socket.send_message(first_room, "c1", "same words").await;

    assert_eq!(
        second["type"], "error",
        "never the first room's ack: {second}"
    );
    assert_eq!(second["code"], "invalid", "{second}");
    assert_eq!(again["type"], "ack", "a true resend still works: {again}");
    assert_eq!(again["id"], first["id"]);
}

#[tokio::test]
async fn a_client_still_writing_sees_the_close_code_before_the_connection_ends() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let mut seen = Vec::new();
    for _ in 0..8 {
        let socket = alice.connect(gateway.addr).await;
        let (mut sink, mut stream) = socket.into_raw().split();
        // binary frames are refused and counted: the 61st closes with 1008,
        // while this client is still writing
        let writer = tokio::spawn(async move {
            let chunk = vec![7u8; 16 * 1024];
            while sink.send(Message::binary(chunk.clone())).await.is_ok() {}
        });
        let code = tokio::time::timeout(WAIT, async {
            loop {
                match stream.next().await {
                    Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                    Some(Ok(_)) => continue,
                    Some(Err(_)) | None => return None,
                }
            }
        })
        .await
        .expect("the connection ends within the deadline");
        writer.abort();
        seen.push(code);
    }

    assert!(
        seen.iter().all(|c| *c == Some(1008)),
        "close codes seen: {seen:?}"
    );
}

#[tokio::test]
async fn typing_reaches_the_others_but_not_the_typer() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let bob = User::sign_up(&gateway, "bob").await;
    let room = alice.create_room("typing", "public").await;
    bob.join(room).await;
    let mut alices = alice.connect(gateway.addr).await;
    let mut bobs = bob.connect(gateway.addr).await;
    alices.subscribe(room, None).await;
    bobs.subscribe(room, None).await;

    alices.send(json!({ "type": "typing", "room": room })).await;
    let seen_by_bob = bobs.next_of("typing").await;
    // bob types after alice's typing went out: on alice's feed it comes after hers
    bobs.send(json!({ "type": "typing", "room": room })).await;
    let seen_by_alice = alices.next_of("typing").await;

    assert_eq!(seen_by_bob["user"]["id"], alice.id.to_string());
    assert_eq!(
        seen_by_alice["user"]["id"],
        bob.id.to_string(),
        "alice was shown her own typing: {seen_by_alice}"
    );
}

#[tokio::test]
async fn a_forwarded_address_is_believed_only_from_a_trusted_proxy() {
    let stack = Stack::start().await;
    let mut direct = stack.gateway_config();
    direct.login_max_attempts_per_address = 3;
    trust(&mut direct, "10.0.0.0/8");
    let direct = Gateway::start(direct).await;
    let mut proxied = stack.gateway_config();
    proxied.login_max_attempts_per_address = 3;
    trust(&mut proxied, "127.0.0.1/32");
    let proxied = Gateway::start(proxied).await;
    let http = reqwest::Client::new();
    let login = |gateway: &Gateway, i: u32| {
        http.post(gateway.url("/api/auth/login"))
            .header("x-forwarded-for", format!("198.51.100.{i}"))
            .json(&json!({ "username": format!("nobody{i}_{}", Uuid::new_v4().simple()), "password": "wrong password here" }))
            .send()
    };

    let mut from_client = Vec::new();
    let mut from_proxy = Vec::new();
    for i in 1..=4 {
        from_client.push(login(&direct, i).await.expect("login").status().as_u16());
        from_proxy.push(login(&proxied, i).await.expect("login").status().as_u16());
    }

    assert_eq!(
        from_client,
        [401, 401, 401, 429],
        "a direct client's forwarded addresses are ignored"
    );
    assert_eq!(
        from_proxy,
        [401, 401, 401, 401],
        "behind a trusted proxy each forwarded client counts on its own"
    );
}

#[tokio::test]
async fn limits_in_hello_match_the_server() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let ticket = alice.ticket().await;

    let (_socket, hello) = Socket::open_with_hello(gateway.addr, &ticket, ORIGIN)
        .await
        .expect("opens");

    assert_eq!(hello["limits"]["max_body_chars"], 4000);
    assert!(hello["limits"]["max_message_bytes"].as_u64() >= Some(48_000));
}
