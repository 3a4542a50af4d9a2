//! Clients that send continuously while a test breaks something: each one
//! resends a refused message with the same `client_msg_id` until it is
//! acknowledged, reconnects when its socket dies, resumes with its last seq
//! and epoch, reloads the room on `resync epoch`, and records what it was
//! told (acks, refusals) and what it saw live, for [`super::promises`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use uuid::Uuid;

use super::{ORIGIN, SUBPROTOCOL, User, WAIT};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What the clients are asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Send one message after another.
    Send,
    /// Finish the message in flight, then only read.
    Stop,
    /// Read until the room's `seq` reaches this, then report.
    DrainTo(i64),
}

/// Counters every client of a test shares, to wait on.
#[derive(Debug, Default)]
pub struct Progress {
    pub acks: AtomicUsize,
    pub refusals: AtomicUsize,
    pub idle: AtomicUsize,
    pub reconnects: AtomicUsize,
    pub resyncs: AtomicUsize,
}

impl Progress {
    pub fn acks(&self) -> usize {
        self.acks.load(Ordering::SeqCst)
    }
    pub fn refusals(&self) -> usize {
        self.refusals.load(Ordering::SeqCst)
    }
    pub fn idle(&self) -> usize {
        self.idle.load(Ordering::SeqCst)
    }
    pub fn reconnects(&self) -> usize {
        self.reconnects.load(Ordering::SeqCst)
    }
    pub fn resyncs(&self) -> usize {
        self.resyncs.load(Ordering::SeqCst)
    }
}

/// An acknowledged message.
#[derive(Debug, Clone)]
pub struct Ack {
    pub client_msg_id: String,
    pub id: Uuid,
    pub seq: i64,
    pub epoch: u64,
}

/// A `message` frame a client received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    pub epoch: u64,
    pub seq: i64,
    pub id: Uuid,
}

/// An `unavailable` answer: how long after the send it came.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub client_msg_id: String,
    pub after: Duration,
}

/// Everything one client was told and saw.
#[derive(Debug, Default)]
pub struct Report {
    pub name: String,
    pub acks: Vec<Ack>,
    pub view: Vec<Seen>,
    pub refusals: Vec<Refusal>,
    /// `resync` reasons, in order.
    pub resyncs: Vec<String>,
    pub reconnects: usize,
    /// Each epoch's base, from the `subscribed` frames: a seq at or below it
    /// that the room does not hold never existed.
    pub bases: HashMap<u64, i64>,
}

/// One sending client of `room`, connecting through `addr` (a gateway or nginx).
pub struct Client {
    pub name: String,
    pub user: Arc<User>,
    pub addr: SocketAddr,
    pub room: Uuid,
    /// Pause between one ack and the next send (pacing, not synchronisation).
    pub pace: Duration,
}

struct State {
    report: Report,
    last_seq: i64,
    epoch: Option<u64>,
    next: usize,
    in_flight: Option<(String, Instant)>,
}

impl Client {
    /// Runs until told to drain and the room's `seq` is reached.
    pub async fn run(self, mut phase: watch::Receiver<Phase>, progress: Arc<Progress>) -> Report {
        let mut st = State {
            report: Report {
                name: self.name.clone(),
                ..Report::default()
            },
            last_seq: 0,
            epoch: None,
            next: 0,
            in_flight: None,
        };
        let mut idle_told = false;
        'connection: loop {
            let mut ws = self.connect().await;
            // a fresh subscription replays everything after what it saw
            let (last, epoch) = (st.last_seq, st.epoch);
            if !self.subscribe(&mut ws, last, epoch).await {
                continue 'connection;
            }
            if let Some((cmid, _)) = st.in_flight.clone() {
                st.in_flight = Some((cmid.clone(), Instant::now()));
                if !self.send(&mut ws, &cmid).await {
                    continue 'connection;
                }
            }
            loop {
                let current = *phase.borrow();
                if st.in_flight.is_none() {
                    match current {
                        Phase::Send => {
                            tokio::time::sleep(self.pace).await;
                            let cmid = format!("{}-{}", self.name, st.next);
                            st.next += 1;
                            st.in_flight = Some((cmid.clone(), Instant::now()));
                            if !self.send(&mut ws, &cmid).await {
                                continue 'connection;
                            }
                        }
                        Phase::Stop | Phase::DrainTo(_) => {
                            if !idle_told {
                                idle_told = true;
                                progress.idle.fetch_add(1, Ordering::SeqCst);
                            }
                            if matches!(current, Phase::DrainTo(target) if st.last_seq >= target) {
                                return st.report;
                            }
                        }
                    }
                }
                let frame = tokio::select! {
                    frame = tokio::time::timeout(WAIT, ws.next()) => frame,
                    _ = phase.changed(), if st.in_flight.is_none() => continue,
                };
                let text = match frame {
                    Err(_) => panic!("{}: no frame within {WAIT:?}", self.name),
                    Ok(Some(Ok(Message::Text(text)))) => text,
                    Ok(Some(Ok(Message::Close(_)) | Err(_)) | None) => {
                        st.report.reconnects += 1;
                        progress.reconnects.fetch_add(1, Ordering::SeqCst);
                        continue 'connection;
                    }
                    Ok(Some(Ok(_))) => continue,
                };
                let frame: Value = serde_json::from_str(text.as_str()).expect("json frame");
                if !self.handle(&mut ws, &mut st, &frame, &progress).await {
                    continue 'connection;
                }
            }
        }
    }

    /// Handles one frame; false when the socket failed.
    async fn handle(
        &self,
        ws: &mut Ws,
        st: &mut State,
        frame: &Value,
        progress: &Progress,
    ) -> bool {
        let in_flight = st.in_flight.as_ref().map(|(c, _)| c.clone());
        match frame["type"].as_str() {
            Some("message") if frame["room"] == self.room.to_string() => {
                let seen = Seen {
                    epoch: frame["epoch"].as_u64().expect("epoch"),
                    seq: frame["seq"].as_i64().expect("seq"),
                    id: frame["id"].as_str().expect("id").parse().expect("uuid"),
                };
                st.report.view.push(seen);
                st.last_seq = seen.seq;
                st.epoch = Some(seen.epoch);
            }
            Some("subscribed") => {
                st.epoch = frame["epoch"].as_u64();
                let base = frame["base_seq"].as_i64().expect("base_seq");
                st.report.bases.insert(st.epoch.expect("epoch"), base);
            }
            Some("ack") if frame["client_msg_id"].as_str() == in_flight.as_deref() => {
                st.report.acks.push(Ack {
                    client_msg_id: in_flight.expect("in flight"),
                    id: frame["id"].as_str().expect("id").parse().expect("uuid"),
                    seq: frame["seq"].as_i64().expect("seq"),
                    epoch: frame["epoch"].as_u64().expect("epoch"),
                });
                st.in_flight = None;
                progress.acks.fetch_add(1, Ordering::SeqCst);
            }
            Some("error")
                if frame["code"] == "unavailable"
                    && in_flight.is_some()
                    && frame["client_msg_id"].as_str() == in_flight.as_deref() =>
            {
                let (cmid, at) = st.in_flight.clone().expect("in flight");
                st.report.refusals.push(Refusal {
                    client_msg_id: cmid.clone(),
                    after: at.elapsed(),
                });
                progress.refusals.fetch_add(1, Ordering::SeqCst);
                st.in_flight = Some((cmid.clone(), Instant::now()));
                return self.send(ws, &cmid).await;
            }
            Some("error") if frame["code"] == "unavailable" && frame["client_msg_id"].is_null() => {
                // a subscribe refused while a dependency is down: ask again
                tokio::time::sleep(Duration::from_millis(100)).await;
                return self.subscribe(ws, st.last_seq, st.epoch).await;
            }
            Some("resync") => {
                let reason = frame["reason"].as_str().unwrap_or_default().to_owned();
                progress.resyncs.fetch_add(1, Ordering::SeqCst);
                st.report.resyncs.push(reason.clone());
                if reason == "epoch" {
                    // the room's seqs changed meaning: reload it from the start
                    st.last_seq = 0;
                    st.epoch = None;
                }
                return self.subscribe(ws, st.last_seq, st.epoch).await;
            }
            Some("error") => panic!("{}: unexpected error frame {frame}", self.name),
            _ => {}
        }
        true
    }

    /// Opens a socket, retrying while the site has no gateway to answer.
    async fn connect(&self) -> Ws {
        test_support::wait_until(&format!("{} connects", self.name), WAIT, || async {
            let ticket = self.ticket().await?;
            let mut request = format!("ws://{}/ws?ticket={ticket}", self.addr)
                .into_client_request()
                .ok()?;
            request
                .headers_mut()
                .insert("origin", ORIGIN.parse().expect("origin"));
            request.headers_mut().insert(
                "sec-websocket-protocol",
                SUBPROTOCOL.parse().expect("header"),
            );
            let (ws, _) = tokio_tungstenite::connect_async(request).await.ok()?;
            Some(ws)
        })
        .await
    }

    async fn ticket(&self) -> Option<String> {
        let response = self
            .user
            .http
            .post(format!("http://{}/api/ws-ticket", self.addr))
            .bearer_auth(&self.user.token)
            .json(&json!({}))
            .send()
            .await
            .ok()?;
        if !response.status().is_success() {
            return None;
        }
        let body: Value = response.json().await.ok()?;
        body["ticket"].as_str().map(str::to_owned)
    }

    async fn subscribe(&self, ws: &mut Ws, last_seq: i64, epoch: Option<u64>) -> bool {
        let mut frame = json!({ "type": "subscribe", "room": self.room, "last_seq": last_seq });
        if let Some(epoch) = epoch {
            frame["epoch"] = json!(epoch);
        }
        ws.send(Message::text(frame.to_string())).await.is_ok()
    }

    async fn send(&self, ws: &mut Ws, client_msg_id: &str) -> bool {
        let frame = json!({
            "type": "send", "room": self.room, "client_msg_id": client_msg_id,
            "body": format!("load from {}", self.name),
        });
        ws.send(Message::text(frame.to_string())).await.is_ok()
    }
}

/// Clients running together, and the way to stop them.
pub struct Load {
    phase: watch::Sender<Phase>,
    pub progress: Arc<Progress>,
    tasks: Vec<tokio::task::JoinHandle<Report>>,
}

impl Load {
    /// Starts every client sending.
    pub fn start(clients: Vec<Client>) -> Self {
        let (phase, _) = watch::channel(Phase::Send);
        let progress = Arc::new(Progress::default());
        let tasks = clients
            .into_iter()
            .map(|c| tokio::spawn(c.run(phase.subscribe(), progress.clone())))
            .collect();
        Self {
            phase,
            progress,
            tasks,
        }
    }

    /// Waits until the clients have `n` acks in all.
    pub async fn wait_for_acks(&mut self, n: usize) {
        let progress = self.progress.clone();
        self.wait(&format!("{n} acks"), move || progress.acks() >= n)
            .await;
    }

    /// Waits until `done`; a client that panics meanwhile fails the test with its message.
    pub async fn wait(&mut self, what: &str, done: impl Fn() -> bool) {
        let tasks = &mut self.tasks;
        let deadline = tokio::time::Instant::now() + WAIT;
        while !done() {
            if let Some(i) = tasks.iter().position(|t| t.is_finished()) {
                let task = tasks.remove(i);
                if let Err(e) = task.await
                    && e.is_panic()
                {
                    std::panic::resume_unwind(e.into_panic());
                }
                panic!("a client stopped while waiting for {what}");
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out after {WAIT:?} waiting for {what}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops sending; once every acknowledged message is stored, lets each
    /// client read up to the room's last seq and returns what each saw.
    pub async fn finish(mut self, pool: &sqlx::PgPool, room: Uuid) -> Vec<Report> {
        self.phase.send_replace(Phase::Stop);
        let n = self.tasks.len();
        let progress = self.progress.clone();
        self.wait("every client idle", move || progress.idle() >= n)
            .await;
        let acks = self.progress.acks() as i64;
        let head = test_support::wait_until("every ack stored", WAIT, || async move {
            let (count, head): (i64, Option<i64>) =
                sqlx::query_as("SELECT count(*), max(seq) FROM messages WHERE room_id = $1")
                    .bind(room)
                    .fetch_one(pool)
                    .await
                    .ok()?;
            (count >= acks).then_some(head.unwrap_or(0))
        })
        .await;
        self.phase.send_replace(Phase::DrainTo(head));
        let mut reports = Vec::new();
        for task in self.tasks {
            reports.push(task.await.expect("client task"));
        }
        reports
    }
}
