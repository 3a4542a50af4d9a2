//! One idle connection of the storm: subscribed to one room through nginx,
//! checking that its seqs follow each other; when dropped, it comes back the
//! way the web client does (equal-jitter backoff from 500 ms) and resumes
//! from its last seq.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use loadgen::Site;
use loadgen::client::{Ws, open_socket};
use rand::Rng;
use rand::rngs::StdRng;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

use crate::board::Board;

/// One watcher's identity and resume point.
#[derive(Debug)]
pub struct Watcher {
    /// Its slot on the board.
    pub index: usize,
    pub token: String,
    pub room: Uuid,
    last_seq: Option<i64>,
    epoch: Option<i64>,
    /// When the connection dropped, while it is down.
    down_since: Option<Instant>,
}

impl Watcher {
    pub fn new(index: usize, token: String, room: Uuid) -> Self {
        Self {
            index,
            token,
            room,
            last_seq: None,
            epoch: None,
            down_since: None,
        }
    }
}

/// The web client's reconnect delay: half of the step fixed, half random.
fn backoff(attempt: u32, rng: &mut StdRng) -> Duration {
    let step = 500u64.saturating_mul(1 << attempt.min(6)).min(30_000);
    Duration::from_millis(step / 2 + rng.random_range(0..=step / 2))
}

/// Opens the first connection and waits for its `subscribed`.
pub async fn open(
    http: &reqwest::Client,
    site: &Site,
    watcher: &mut Watcher,
    board: &Board,
) -> anyhow::Result<Ws> {
    let mut ws = open_socket(http, site, &watcher.token).await?;
    ws.send(Message::text(subscribe(watcher).to_string()))
        .await?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let frame = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await?
            .ok_or_else(|| anyhow::anyhow!("closed before subscribed"))??;
        if let Message::Text(text) = frame
            && handle(watcher, board, &text)?
        {
            return Ok(ws);
        }
    }
    anyhow::bail!("no subscribed within 30 s")
}

/// Runs `watcher` on `ws` until `stop`; reconnects and resumes each time the
/// connection drops.
pub async fn run(
    http: reqwest::Client,
    site: Site,
    mut watcher: Watcher,
    mut ws: Option<Ws>,
    board: Arc<Board>,
    mut rng: StdRng,
    mut stop: watch::Receiver<bool>,
) {
    let mut attempt = 0u32;
    loop {
        if let Some(socket) = ws.take() {
            attempt = 0;
            if session(socket, &mut watcher, &board, &mut stop).await {
                return;
            }
            if watcher.down_since.is_none() {
                watcher.down_since = Some(Instant::now());
                board.subscribed.fetch_sub(1, Ordering::Relaxed);
                board.down.fetch_add(1, Ordering::Relaxed);
                Board::add(&board.drops, 1);
            }
        }
        let wait = backoff(attempt, &mut rng);
        attempt = attempt.saturating_add(1);
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
        match open_socket(&http, &site, &watcher.token).await {
            Ok(mut socket) => {
                let frame = Message::text(subscribe(&watcher).to_string());
                if socket.send(frame).await.is_ok() {
                    ws = Some(socket);
                }
            }
            Err(_) => Board::add(&board.reconnect_failures, 1),
        }
    }
}

fn subscribe(watcher: &Watcher) -> Value {
    let mut frame = json!({"type": "subscribe", "room": watcher.room});
    if let (Some(seq), Some(epoch)) = (watcher.last_seq, watcher.epoch) {
        frame["last_seq"] = json!(seq);
        frame["epoch"] = json!(epoch);
    }
    frame
}

/// Reads until the connection drops (false) or the run stops (true).
async fn session(
    mut ws: Ws,
    watcher: &mut Watcher,
    board: &Board,
    stop: &mut watch::Receiver<bool>,
) -> bool {
    loop {
        tokio::select! {
            _ = stop.changed() => {
                let _ = ws.close(None).await;
                return true;
            }
            frame = ws.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    if handle(watcher, board, &text).is_err() {
                        return false;
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return false,
            }
        }
    }
}

/// One frame; true when it is the room's `subscribed`. An error ends the connection.
fn handle(watcher: &mut Watcher, board: &Board, text: &str) -> anyhow::Result<bool> {
    let frame: Value = serde_json::from_str(text)?;
    match frame["type"].as_str() {
        Some("subscribed") => {
            watcher.epoch = frame["epoch"].as_i64().or(watcher.epoch);
            if watcher.last_seq.is_none() {
                // The first subscription: live from the head on.
                watcher.last_seq = frame["head_seq"].as_i64();
                board.last_seq[watcher.index]
                    .store(watcher.last_seq.unwrap_or(-1), Ordering::Relaxed);
            }
            if let Some(since) = watcher.down_since.take() {
                board.resumed(since.elapsed());
                board.down.fetch_sub(1, Ordering::Relaxed);
            }
            board.subscribed.fetch_add(1, Ordering::Relaxed);
            Ok(true)
        }
        Some("message") if frame["room"].as_str() == Some(&watcher.room.to_string()) => {
            let seq = frame["seq"].as_i64().unwrap_or_default();
            match watcher.last_seq {
                Some(last) if seq <= last => Board::add(&board.duplicated, 1),
                Some(last) if seq > last + 1 => {
                    Board::add(&board.missed, u64::try_from(seq - last - 1).unwrap_or(0));
                }
                _ => {}
            }
            let last = watcher.last_seq.map_or(seq, |l| l.max(seq));
            watcher.last_seq = Some(last);
            watcher.epoch = frame["epoch"].as_i64().or(watcher.epoch);
            board.last_seq[watcher.index].store(last, Ordering::Relaxed);
            Board::add(&board.deliveries, 1);
            Ok(false)
        }
        Some("presence") => {
            Board::add(&board.presence, 1);
            Ok(false)
        }
        Some("resync") => {
            Board::add(&board.resyncs, 1);
            anyhow::bail!("resync")
        }
        Some("error") => {
            Board::add(&board.refusals, 1);
            anyhow::bail!("refused: {}", frame["code"])
        }
        _ => Ok(false),
    }
}
