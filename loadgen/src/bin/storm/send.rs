//! The storm's senders: a few connections straight to the gateway that is not
//! restarted, sending to every room in turn at a steady rate, each message
//! resent with its `client_msg_id` until acknowledged (after `unavailable` or
//! `rate_limited`, or 5 s without an answer). Their acks give each
//! room's head, which every watcher must reach in the end.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use loadgen::Site;
use loadgen::client::open_socket;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

/// The highest acknowledged seq of each room.
pub type Heads = Arc<Mutex<HashMap<Uuid, i64>>>;

/// One sender: `rooms` in turn, one message every `period`, until `stop`;
/// then until every message is acknowledged (at most `drain`).
pub async fn run(
    site: Site,
    token: String,
    rooms: Vec<Uuid>,
    period: Duration,
    heads: Heads,
    mut stop: watch::Receiver<bool>,
    drain: Duration,
) -> anyhow::Result<u64> {
    let http = reqwest::Client::new();
    let mut ws = open_socket(&http, &site, &token).await?;
    let mut pending: HashMap<String, (Uuid, String, Instant)> = HashMap::new();
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut resend = tokio::time::interval(Duration::from_millis(500));
    let mut next = 0usize;
    let mut acked = 0u64;
    let mut stopped_at: Option<Instant> = None;
    loop {
        if let Some(at) = stopped_at {
            if pending.is_empty() {
                return Ok(acked);
            }
            anyhow::ensure!(
                at.elapsed() < drain,
                "{} sends never acknowledged",
                pending.len()
            );
        }
        tokio::select! {
            _ = tick.tick(), if stopped_at.is_none() => {
                let room = rooms[next % rooms.len()];
                let id = Uuid::new_v4().to_string();
                let body = format!("storm {next}");
                next += 1;
                ws.send(Message::text(send_frame(room, &id, &body).to_string())).await?;
                pending.insert(id, (room, body, Instant::now()));
            }
            _ = resend.tick() => {
                for (id, (room, body, sent)) in &mut pending {
                    if sent.elapsed() > Duration::from_secs(5) {
                        *sent = Instant::now();
                        ws.send(Message::text(send_frame(*room, id, body).to_string())).await?;
                    }
                }
            }
            _ = stop.changed(), if stopped_at.is_none() => stopped_at = Some(Instant::now()),
            frame = ws.next() => {
                let Some(frame) = frame else { anyhow::bail!("sender's connection closed") };
                let Message::Text(text) = frame? else { continue };
                let frame: Value = serde_json::from_str(&text)?;
                match frame["type"].as_str() {
                    Some("ack") => {
                        let id = frame["client_msg_id"].as_str().unwrap_or_default();
                        if let Some((room, _, _)) = pending.remove(id) {
                            acked += 1;
                            let seq = frame["seq"].as_i64().unwrap_or_default();
                            let mut heads = heads.lock().unwrap_or_else(|e| e.into_inner());
                            let head = heads.entry(room).or_insert(0);
                            *head = (*head).max(seq);
                        }
                    }
                    // unavailable, or too many in flight while a gateway is
                    // busy: resent by the timer under the same id
                    Some("error")
                        if !matches!(frame["code"].as_str(), Some("unavailable" | "rate_limited")) =>
                    {
                        anyhow::bail!("a send was refused: {text}");
                    }
                    _ => {}
                }
            }
        }
    }
}

fn send_frame(room: Uuid, client_msg_id: &str, body: &str) -> Value {
    json!({"type": "send", "room": room, "client_msg_id": client_msg_id, "body": body})
}
