//! G7 for a reader that falls behind its room: the connection's writer
//! blocks on a full socket while the room's frames keep coming; once the
//! room's buffer has moved past it, the client is told `resync lagging` before
//! anything it would otherwise have missed silently, and what it does receive
//! comes in the order it was published (frames are written in batches; the
//! order within and across batches is the room's).

mod common;

use chat_gateway::relay::live_channel;
use common::*;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Frames larger than the socket buffers on both sides hold together
/// (`net.ipv4.tcp_wmem`'s largest send buffer is 4 MiB), so the writer blocks.
const BIG_FRAMES: usize = 24;
const BIG_FRAME_BYTES: usize = 256 * 1024;
/// Numbered frames after them: more than the room's buffer (1,024 frames).
const PROBES: i64 = 1500;

#[tokio::test]
async fn a_reader_that_falls_behind_its_room_is_told_to_resync_and_misses_nothing_silently() {
    let stack = Stack::start().await;
    let gateway = stack.gateway().await;
    let alice = User::sign_up(&gateway, "alice").await;
    let room = alice.create_room("flood", "public").await;

    // a small receive buffer on the client's side: the gateway's socket fills sooner
    let tcp = tokio::net::TcpSocket::new_v4().expect("socket");
    tcp.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    let tcp = tcp.connect(gateway.addr).await.expect("connect");
    let mut request = format!("ws://{}/ws?ticket={}", gateway.addr, alice.ticket().await)
        .into_client_request()
        .expect("request");
    let headers = request.headers_mut();
    headers.insert("origin", ORIGIN.parse().expect("origin"));
    headers.insert(
        "sec-websocket-protocol",
        SUBPROTOCOL.parse().expect("header"),
    );
    let (mut ws, _) = tokio_tungstenite::client_async(request, tcp)
        .await
        .expect("websocket opens");
    ws.send(Message::text(
        json!({ "type": "subscribe", "room": room }).to_string(),
    ))
    .await
    .expect("subscribe sent");
    while next_frame(&mut ws).await["type"] != "subscribed" {}

    // the room is flooded while the client reads nothing
    let mut redis = redis::Client::open(stack.redis.url())
        .expect("redis url")
        .get_multiplexed_async_connection()
        .await
        .expect("redis connection");
    let pad = "x".repeat(BIG_FRAME_BYTES);
    let mut flood = redis::pipe();
    for _ in 0..BIG_FRAMES {
        flood
            .cmd("PUBLISH")
            .arg(live_channel(room))
            .arg(json!({ "type": "flood", "pad": pad }).to_string())
            .ignore();
    }
    for n in 0..PROBES {
        flood
            .cmd("PUBLISH")
            .arg(live_channel(room))
            .arg(json!({ "type": "probe", "n": n }).to_string())
            .ignore();
    }
    let () = flood.query_async(&mut redis).await.expect("PUBLISH");

    // then reads everything: the probes rise, and any gap comes after `resync lagging`
    let mut last: Option<i64> = None;
    let mut lagging = false;
    while last != Some(PROBES - 1) {
        let frame = next_frame(&mut ws).await;
        match frame["type"].as_str() {
            Some("resync") => {
                assert_eq!(frame["room"], room.to_string(), "{frame}");
                assert_eq!(frame["reason"], "lagging", "{frame}");
                lagging = true;
            }
            Some("probe") => {
                let n = frame["n"].as_i64().expect("n");
                let expected = last.map_or(0, |l| l + 1);
                assert!(
                    n >= expected,
                    "probe {n} after probe {last:?}: out of order"
                );
                assert!(
                    n == expected || lagging,
                    "probe {n} after probe {last:?} with no resync before it: a silent miss"
                );
                last = Some(n);
            }
            _ => {}
        }
    }
    assert!(
        lagging,
        "the flood outran the room's buffer, yet no `resync lagging` came"
    );
}

/// The next text frame as JSON (pings skipped); panics after the deadline or on close.
async fn next_frame(ws: &mut tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>) -> Value {
    loop {
        let message = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a frame within the deadline")
            .expect("socket open")
            .expect("socket ok");
        match message {
            Message::Text(text) => return serde_json::from_str(text.as_str()).expect("json"),
            Message::Close(frame) => panic!("socket closed: {frame:?}"),
            _ => {}
        }
    }
}
