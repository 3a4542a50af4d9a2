//! The fan-out ceiling: a bare WebSocket broadcast server (tokio-tungstenite,
//! no accounts, no Kafka, no Redis) that numbers each room's messages and
//! sends each to every socket of its room, serialised once. Run in its own
//! process (`fanout --bare-server PORT`) so that its CPU is counted apart.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use uuid::Uuid;

#[derive(Default)]
struct Room {
    seq: i64,
    sockets: Vec<mpsc::UnboundedSender<Utf8Bytes>>,
}

type Rooms = Arc<Mutex<HashMap<Uuid, Room>>>;

/// Serves until killed.
pub async fn serve(port: u16) -> anyhow::Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let rooms: Rooms = Arc::default();
    loop {
        let (socket, _) = listener.accept().await?;
        let _ = socket.set_nodelay(true);
        let rooms = rooms.clone();
        tokio::spawn(async move {
            if let Ok(ws) = tokio_tungstenite::accept_async(socket).await {
                connection(ws, rooms).await;
            }
        });
    }
}

async fn connection(ws: tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>, rooms: Rooms) {
    let (mut sink, mut stream) = ws.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Utf8Bytes>();
    let writer = tokio::spawn(async move {
        while let Some(text) = rx.recv().await {
            if sink.send(Message::Text(text)).await.is_err() {
                break;
            }
        }
    });
    while let Some(Ok(frame)) = stream.next().await {
        let Message::Text(text) = frame else { continue };
        let Ok(v) = serde_json::from_str::<Value>(text.as_str()) else {
            continue;
        };
        let Some(room) = v["room"].as_str().and_then(|r| r.parse::<Uuid>().ok()) else {
            continue;
        };
        match v["type"].as_str() {
            Some("subscribe") => {
                if let Ok(mut rooms) = rooms.lock() {
                    rooms.entry(room).or_default().sockets.push(tx.clone());
                }
                let _ = tx.send(
                    json!({"type": "subscribed", "room": room})
                        .to_string()
                        .into(),
                );
            }
            Some("send") => {
                let Ok(mut rooms) = rooms.lock() else { break };
                let r = rooms.entry(room).or_default();
                r.seq += 1;
                let frame: Utf8Bytes = json!({
                    "type": "message", "room": room, "seq": r.seq,
                    "client_msg_id": v["client_msg_id"], "body": v["body"],
                })
                .to_string()
                .into();
                let _ = tx.send(
                    json!({"type": "ack", "room": room, "client_msg_id": v["client_msg_id"], "seq": r.seq})
                        .to_string()
                        .into(),
                );
                r.sockets.retain(|s| s.send(frame.clone()).is_ok());
            }
            _ => {}
        }
    }
    writer.abort();
}
