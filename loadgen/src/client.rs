//! One user's connection loop: a steady send rate to its rooms, every send
//! resent with the same `client_msg_id` (after `unavailable`, `rate_limited`,
//! silence or a dropped connection) until acknowledged, reconnection through
//! the site with resume from each room's last seq and epoch.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use rand::Rng;
use rand::rngs::StdRng;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use uuid::Uuid;

use crate::record::{Ack, ClientRecord, Stats};
use crate::setup::{Site, User};
use crate::view::{RoomView, Seen};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// New messages at the steady rate.
    Sending,
    /// No new messages; resend until every one is acknowledged.
    Draining,
    /// Stop now.
    Done,
}

/// How one client behaves.
#[derive(Debug, Clone)]
pub struct ClientPlan {
    /// Time between two new messages.
    pub period: Duration,
    /// A send unanswered for this long is resent.
    pub resend_after: Duration,
    /// A connection that shows nothing (not even a ping) for this long is dropped.
    pub silence: Duration,
}

struct Pending {
    room: Uuid,
    body: String,
    first_sent: Instant,
    /// When to send it (again).
    due: Instant,
    /// Sent on this connection, not answered yet.
    in_flight: bool,
}

/// Sends waiting for their answer on one connection, at most (the gateway
/// refuses more than `WS_MAX_IN_FLIGHT`, 64).
const MAX_IN_FLIGHT: usize = 32;

/// Runs one client until `phase` says `Done`, or `Draining` and every
/// message it sent has been acknowledged.
pub async fn run_client(
    site: Site,
    user: User,
    plan: ClientPlan,
    mut rng: StdRng,
    stats: Arc<Stats>,
    mut phase: watch::Receiver<Phase>,
) -> ClientRecord {
    let mut client = Client {
        site,
        plan,
        views: user
            .rooms
            .iter()
            .map(|r| (*r, RoomView::default()))
            .collect(),
        pending: BTreeMap::new(),
        record: ClientRecord {
            user: user.id,
            username: user.username.clone(),
            ..ClientRecord::default()
        },
        http: reqwest::Client::new(),
        stats,
        next_msg: 0,
        resubscribe: HashMap::new(),
        user,
    };
    let mut backoff = Duration::from_millis(100);
    loop {
        let now = *phase.borrow();
        if now == Phase::Done || (now == Phase::Draining && client.pending.is_empty()) {
            break;
        }
        match client.connect().await {
            Ok(ws) => {
                Stats::add(&client.stats.connects);
                backoff = Duration::from_millis(100);
                client.session(ws, &mut rng, &mut phase).await;
            }
            Err(_) => {
                Stats::add(&client.stats.connect_failures);
                let jitter = rng.random_range(0..100);
                tokio::select! {
                    () = tokio::time::sleep(backoff + Duration::from_millis(jitter)) => {}
                    _ = phase.changed() => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(2));
            }
        }
    }
    client.record.unacked = client.pending.keys().cloned().collect();
    client.record
}

/// A ticket bought with `token`, then the WebSocket through the site with the
/// `chat.v1` subprotocol and the site's origin (10 s for each step at most).
pub async fn open_socket(http: &reqwest::Client, site: &Site, token: &str) -> anyhow::Result<Ws> {
    let response = http
        .post(format!("{}/api/ws-ticket", site.base))
        .bearer_auth(token)
        .json(&json!({}))
        .timeout(Duration::from_secs(10))
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "ticket: {}",
        response.status()
    );
    let body: Value = response.json().await?;
    let ticket = body["ticket"].as_str().unwrap_or_default();
    let ws_base = site.base.replacen("http://", "ws://", 1);
    let mut request = format!("{ws_base}/ws?ticket={ticket}").into_client_request()?;
    request.headers_mut().insert("origin", site.origin.parse()?);
    request
        .headers_mut()
        .insert("sec-websocket-protocol", "chat.v1".parse()?);
    let (ws, _) = tokio::time::timeout(
        Duration::from_secs(10),
        tokio_tungstenite::connect_async_with_config(request, Some(ws_config()), true),
    )
    .await??;
    Ok(ws)
}

/// The load generator's WebSocket settings: a small read buffer (Nagle is
/// the caller's, at the connect). tungstenite's default (128 KiB,
/// zero-filled at the first read) made the storm's client zero 640 MB while
/// 5,000 connections came back: the largest item of its profile, on the
/// servers' cores.
pub fn ws_config() -> tokio_tungstenite::tungstenite::protocol::WebSocketConfig {
    tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default().read_buffer_size(4096)
}

struct Client {
    site: Site,
    user: User,
    plan: ClientPlan,
    views: HashMap<Uuid, RoomView>,
    pending: BTreeMap<String, Pending>,
    record: ClientRecord,
    http: reqwest::Client,
    stats: Arc<Stats>,
    next_msg: u64,
    /// Rooms whose subscribe was refused as `unavailable`, to retry at the time given.
    resubscribe: HashMap<Uuid, Instant>,
}

impl Client {
    async fn connect(&self) -> anyhow::Result<Ws> {
        open_socket(&self.http, &self.site, &self.user.token).await
    }

    /// One connection: subscribe with resume points, resend what is pending,
    /// then send, read and resend until the connection drops or the run ends.
    async fn session(&mut self, mut ws: Ws, rng: &mut StdRng, phase: &mut watch::Receiver<Phase>) {
        let rooms: Vec<Uuid> = self.user.rooms.clone();
        for room in rooms {
            if ws
                .send(Message::text(self.subscribe_frame(room).to_string()))
                .await
                .is_err()
            {
                return;
            }
        }
        let now = Instant::now();
        for p in self.pending.values_mut() {
            p.due = now;
            p.in_flight = false;
        }
        self.resubscribe.clear();
        let mut send_tick = tokio::time::interval(self.plan.period);
        send_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut resend_tick = tokio::time::interval(Duration::from_millis(250));
        let mut last_frame = Instant::now();
        loop {
            let current = *phase.borrow();
            if current == Phase::Done || (current == Phase::Draining && self.pending.is_empty()) {
                let _ = ws.close(None).await;
                return;
            }
            tokio::select! {
                _ = send_tick.tick(), if current == Phase::Sending => {
                    if let Some(frame) = self.new_message(rng)
                        && ws.send(Message::text(frame.to_string())).await.is_err()
                    {
                        return;
                    }
                }
                _ = resend_tick.tick() => {
                    if last_frame.elapsed() > self.plan.silence {
                        self.record.notes.push(format!("{}: connection silent, dropped", self.user.username));
                        return;
                    }
                    for frame in self.due_resubscribes().into_iter().chain(self.due_resends()) {
                        if ws.send(Message::text(frame.to_string())).await.is_err() {
                            return;
                        }
                    }
                }
                _ = phase.changed() => {}
                frame = ws.next() => {
                    last_frame = Instant::now();
                    let text = match frame {
                        Some(Ok(Message::Text(text))) => text,
                        Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                        Some(Ok(_)) => continue,
                    };
                    let Ok(value) = serde_json::from_str::<Value>(&text) else {
                        self.record.violations.push(format!("not JSON from the server: {} bytes", text.len()));
                        continue;
                    };
                    for reply in self.on_frame(&value) {
                        if ws.send(Message::text(reply.to_string())).await.is_err() {
                            return;
                        }
                    }
                }
            }
        }
    }

    fn subscribe_frame(&self, room: Uuid) -> Value {
        match self.views.get(&room).and_then(RoomView::resume_point) {
            Some((last_seq, epoch)) => {
                json!({"type": "subscribe", "room": room, "last_seq": last_seq, "epoch": epoch})
            }
            None => json!({"type": "subscribe", "room": room}),
        }
    }

    /// A new message; its `send` frame, unless too many are in flight (then
    /// it waits for the resend tick).
    fn new_message(&mut self, rng: &mut StdRng) -> Option<Value> {
        let room = self.user.rooms[rng.random_range(0..self.user.rooms.len())];
        self.next_msg += 1;
        let client_msg_id = format!("{}-{}", &self.user.username, self.next_msg);
        let body = format!("soak {} #{}", self.user.username, self.next_msg);
        let now = Instant::now();
        let send_now = self.in_flight() < MAX_IN_FLIGHT;
        self.pending.insert(
            client_msg_id.clone(),
            Pending {
                room,
                body: body.clone(),
                first_sent: now,
                due: if send_now {
                    now + self.plan.resend_after
                } else {
                    now
                },
                in_flight: send_now,
            },
        );
        Stats::add(&self.stats.sent);
        send_now.then(
            || json!({"type": "send", "room": room, "client_msg_id": client_msg_id, "body": body}),
        )
    }

    fn in_flight(&self) -> usize {
        self.pending.values().filter(|p| p.in_flight).count()
    }

    fn due_resubscribes(&mut self) -> Vec<Value> {
        let now = Instant::now();
        let due: Vec<Uuid> = self
            .resubscribe
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(r, _)| *r)
            .collect();
        due.into_iter()
            .map(|room| {
                self.resubscribe.remove(&room);
                self.subscribe_frame(room)
            })
            .collect()
    }

    fn due_resends(&mut self) -> Vec<Value> {
        let now = Instant::now();
        let mut room_for = MAX_IN_FLIGHT.saturating_sub(self.in_flight());
        let mut frames = Vec::new();
        for (client_msg_id, p) in &mut self.pending {
            if p.due <= now && (p.in_flight || room_for > 0) {
                if !p.in_flight {
                    room_for -= 1;
                }
                p.in_flight = true;
                p.due = now + self.plan.resend_after;
                Stats::add(&self.stats.resent);
                frames.push(json!({"type": "send", "room": p.room, "client_msg_id": client_msg_id, "body": p.body}));
            }
        }
        frames
    }

    /// Handles one frame; returns the frames to send in answer.
    fn on_frame(&mut self, frame: &Value) -> Vec<Value> {
        let room = frame["room"].as_str().and_then(|r| r.parse::<Uuid>().ok());
        match frame["type"].as_str().unwrap_or_default() {
            "subscribed" => {
                if let Some(view) = room.and_then(|r| self.views.get_mut(&r)) {
                    view.subscribed(
                        frame["epoch"].as_i64().unwrap_or_default(),
                        frame["head_seq"].as_i64().unwrap_or_default(),
                    );
                }
            }
            "message" => self.on_message(frame, room),
            "ack" => self.on_ack(frame, room),
            "error" => self.on_error(frame),
            "resync" => {
                let reason = frame["reason"].as_str().unwrap_or("?");
                self.stats.resync(reason);
                if let Some(room) = room
                    && let Some(view) = self.views.get_mut(&room)
                {
                    view.resync(reason);
                    return vec![self.subscribe_frame(room)];
                }
            }
            _ => {}
        }
        Vec::new()
    }

    fn on_message(&mut self, frame: &Value, room: Option<Uuid>) {
        Stats::add(&self.stats.received);
        let (Some(room), Some(seq), Some(epoch), Some(id)) = (
            room,
            frame["seq"].as_i64(),
            frame["epoch"].as_i64(),
            frame["id"].as_str().and_then(|i| i.parse::<Uuid>().ok()),
        ) else {
            self.record
                .violations
                .push(format!("message frame without room/seq/epoch/id: {frame}"));
            return;
        };
        let Some(view) = self.views.get_mut(&room) else {
            self.record
                .violations
                .push(format!("message {id} of room {room}, not subscribed"));
            return;
        };
        if let Err(problem) = view.message(epoch, seq) {
            self.record.violations.push(format!(
                "view of {} in room {room}: {problem} (id {id})",
                self.user.username
            ));
        }
        self.record.seen.push(Seen {
            room,
            epoch,
            seq,
            id,
        });
    }

    fn on_ack(&mut self, frame: &Value, room: Option<Uuid>) {
        let client_msg_id = frame["client_msg_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let (Some(room), Some(id), Some(seq), Some(epoch)) = (
            room,
            frame["id"].as_str().and_then(|i| i.parse::<Uuid>().ok()),
            frame["seq"].as_i64(),
            frame["epoch"].as_i64(),
        ) else {
            self.record
                .violations
                .push(format!("ack without room/id/seq/epoch: {frame}"));
            return;
        };
        let ack = Ack {
            client_msg_id: client_msg_id.clone(),
            room,
            id,
            seq,
            epoch,
        };
        if let Some(p) = self.pending.remove(&client_msg_id) {
            Stats::add(&self.stats.acked);
            let ms = u64::try_from(p.first_sent.elapsed().as_millis()).unwrap_or(u64::MAX);
            self.stats.ack_latency(ms);
            self.record.acks.insert(client_msg_id, ack);
        } else if let Some(first) = self.record.acks.get(&client_msg_id) {
            if first.id != ack.id || first.room != ack.room {
                self.record.violations.push(format!(
                    "resend of {client_msg_id} acked as id {} then as id {} (G2)",
                    first.id, ack.id
                ));
            } else if first.seq != ack.seq {
                let what = format!(
                    "resend of {client_msg_id} (id {id}) acked with seq {} (epoch {}) then seq {seq} (epoch {epoch})",
                    first.seq, first.epoch
                );
                if first.epoch == epoch {
                    self.record.violations.push(format!("{what} (G2)"));
                } else {
                    self.record.notes.push(what);
                }
            }
        } else {
            self.record
                .violations
                .push(format!("ack for {client_msg_id}, never sent"));
        }
    }

    fn on_error(&mut self, frame: &Value) {
        let code = frame["code"].as_str().unwrap_or("?");
        let client_msg_id = frame["client_msg_id"].as_str();
        match (code, client_msg_id) {
            ("unavailable" | "rate_limited", Some(cmid)) => {
                Stats::add(if code == "unavailable" {
                    &self.stats.unavailable
                } else {
                    &self.stats.rate_limited
                });
                if let Some(p) = self.pending.get_mut(cmid) {
                    p.due = Instant::now() + Duration::from_millis(500);
                    p.in_flight = false;
                }
            }
            (_, Some(cmid)) => {
                self.pending.remove(cmid);
                self.record
                    .violations
                    .push(format!("send {cmid} refused: {code}"));
            }
            (_, None) => {
                self.stats.refusal(code);
                match frame["room"].as_str().and_then(|r| r.parse::<Uuid>().ok()) {
                    Some(room) if code == "unavailable" => {
                        self.resubscribe
                            .insert(room, Instant::now() + Duration::from_millis(500));
                    }
                    _ => self.record.violations.push(format!(
                        "{}: error frame {code} ({}) not answering a send",
                        self.user.username, frame["message"]
                    )),
                }
            }
        }
    }
}
