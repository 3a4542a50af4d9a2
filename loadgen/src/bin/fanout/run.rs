//! One measured run: every connection subscribed to its room, senders at an
//! open-loop rate, every delivery timed from the moment its message was due
//! (so a stalled sender does not hide the stall: coordinated omission), and
//! every room's seqs checked per connection for loss, duplicates and order.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

use crate::target::{Conn, Target};

/// The shape of a run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Messages per second over all senders.
    pub rate: f64,
    /// Sending time before the measured window (not counted).
    pub warmup: Duration,
    /// The measured window.
    pub window: Duration,
    /// Senders per room.
    pub senders_per_room: usize,
    /// Longest wait after the last send for every delivery.
    pub drain: Duration,
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub sent: u64,
    /// Sends due in the measured window (the window the servers' CPU is
    /// read over), each written once due.
    pub sent_in_window: u64,
    pub acked: u64,
    pub refused: u64,
    /// Refusals by error code.
    pub refused_by_code: std::collections::BTreeMap<String, u64>,
    /// Subscribers told to reload a room (`resync`: they fell behind); what
    /// they missed after it is not counted as lost.
    pub resynced: u64,
    /// Deliveries of messages due in the window, per second of window.
    pub deliveries_per_sec: f64,
    /// Send (when due) to delivery, microseconds, messages due in the window.
    pub latency: Histogram<u64>,
    /// Acknowledged messages a subscriber never got, summed over subscribers.
    pub lost: u64,
    pub duplicated: u64,
    pub out_of_order: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Sending,
    Draining,
    Done,
}

/// Per-room acknowledged seqs, filled by the senders.
type Acked = Arc<Mutex<HashMap<Uuid, BTreeSet<i64>>>>;

struct Seen {
    latency: Histogram<u64>,
    in_window: u64,
    seqs: HashSet<i64>,
    max_seq: i64,
    duplicated: u64,
    out_of_order: u64,
    /// Told to reload the room: the live feed ended here.
    resynced: bool,
}

/// Runs `plan` over connections already open and subscribed (`conns[i]` is
/// in `rooms[i]`); the first `senders_per_room` of each room send.
pub async fn run(
    target: &Target,
    conns: Vec<(Uuid, Conn)>,
    plan: &Plan,
) -> anyhow::Result<Outcome> {
    let origin = Instant::now();
    let window_start = origin + plan.warmup;
    let window_end = window_start + plan.window;
    let acked: Acked = Arc::default();
    let (phase_tx, phase_rx) = watch::channel(Phase::Sending);
    let mut per_room: HashMap<Uuid, usize> = HashMap::new();
    let mut sender_slots = Vec::new();
    for (room, _) in &conns {
        let k = per_room.entry(*room).or_default();
        sender_slots.push(*k < plan.senders_per_room);
        *k += 1;
    }
    let senders = sender_slots.iter().filter(|s| **s).count().max(1);
    let period = Duration::from_secs_f64(senders as f64 / plan.rate);
    let offsets = first_sends(&sender_slots, period);
    let counters = Arc::new(Counters::default());
    // client message ids of this run only: the same users run again, and a
    // reused id is a resend (answered with the first message's place)
    let nonce: Arc<str> = Uuid::new_v4().simple().to_string()[..8].into();
    let firsts: Vec<_> = offsets.iter().map(|o| o.map(|o| origin + o)).collect();
    let (clock, ticks) = crate::pacer::start(&firsts, period, window_end);
    let mut readers = Vec::new();
    let mut sending = Vec::new();
    for (i, ((room, conn), ticks)) in conns.into_iter().zip(ticks).enumerate() {
        let (sink, stream) = conn.split();
        let (acks_tx, acks_rx) = tokio::sync::mpsc::unbounded_channel();
        if let Some(ticks) = ticks {
            sending.push(tokio::spawn(send_loop(
                target.clone(),
                sink,
                room,
                i,
                ticks,
                window_start,
                origin,
                acks_rx,
                acked.clone(),
                counters.clone(),
                nonce.clone(),
            )));
        } else {
            drop(sink);
        }
        readers.push(tokio::spawn(read_loop(
            stream,
            room,
            origin,
            (window_start, window_end),
            acks_tx,
            acked.clone(),
            phase_rx.clone(),
        )));
    }
    // the senders' halves stay open until every reader is done
    let mut sinks = Vec::with_capacity(sending.len());
    for s in sending {
        sinks.push(s.await?);
    }
    // the clock has told every due message by now (or its senders stopped)
    let _ = tokio::task::spawn_blocking(move || clock.join()).await;
    phase_tx.send(Phase::Draining)?;
    let drain_deadline = tokio::time::Instant::now() + plan.drain;
    let mut seen = Vec::with_capacity(readers.len());
    let mut readers = readers.into_iter();
    for reader in readers.by_ref() {
        match tokio::time::timeout_at(drain_deadline, reader).await {
            Ok(result) => seen.push(result?),
            Err(_) => {
                // the drain is over: the rest stop now and count what they lack
                phase_tx.send(Phase::Done)?;
                break;
            }
        }
    }
    phase_tx.send(Phase::Done)?;
    for reader in readers {
        seen.push(reader.await?);
    }
    drop(sinks);
    Ok(summarise(seen, &acked, &counters, plan.window))
}

/// When each sender's first message is due, from the run's start (`None`
/// for a connection that only receives): the senders' first sends spread
/// evenly over one period, by their rank among the senders, so the open-loop
/// rate is steady rather than a burst each period.
fn first_sends(sender_slots: &[bool], period: Duration) -> Vec<Option<Duration>> {
    let senders = sender_slots.iter().filter(|s| **s).count().max(1);
    let mut rank = 0;
    sender_slots
        .iter()
        .map(|&sends| {
            sends.then(|| {
                rank += 1;
                period.mul_f64((rank - 1) as f64 / senders as f64)
            })
        })
        .collect()
}

#[derive(Debug, Default)]
struct Counters {
    sent: std::sync::atomic::AtomicU64,
    sent_in_window: std::sync::atomic::AtomicU64,
    acked: std::sync::atomic::AtomicU64,
    refused: std::sync::atomic::AtomicU64,
    codes: Mutex<std::collections::BTreeMap<String, u64>>,
}

fn add(counter: &std::sync::atomic::AtomicU64) {
    counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

fn get(counter: &std::sync::atomic::AtomicU64) -> u64 {
    counter.load(std::sync::atomic::Ordering::Relaxed)
}

fn summarise(
    seen: Vec<(Uuid, Seen)>,
    acked: &Acked,
    counters: &Counters,
    window: Duration,
) -> Outcome {
    let acked = acked.lock().map(|a| a.clone()).unwrap_or_default();
    let mut latency = new_histogram();
    let (mut lost, mut duplicated, mut out_of_order, mut in_window) = (0, 0, 0, 0);
    let resynced = seen.iter().filter(|(_, s)| s.resynced).count() as u64;
    for (room, s) in seen {
        // a histogram of the same bounds always takes another's values
        let _ = latency.add(&s.latency);
        in_window += s.in_window;
        duplicated += s.duplicated;
        out_of_order += s.out_of_order;
        if let Some(room_acked) = acked.get(&room)
            && !s.resynced
        {
            lost += room_acked.iter().filter(|q| !s.seqs.contains(q)).count() as u64;
        }
    }
    Outcome {
        sent: get(&counters.sent),
        sent_in_window: get(&counters.sent_in_window),
        acked: get(&counters.acked),
        refused: get(&counters.refused),
        refused_by_code: counters.codes.lock().map(|c| c.clone()).unwrap_or_default(),
        resynced,
        deliveries_per_sec: in_window as f64 / window.as_secs_f64(),
        latency,
        lost,
        duplicated,
        out_of_order,
    }
}

pub fn new_histogram() -> Histogram<u64> {
    // constant bounds that hdrhistogram accepts: 1 µs to 1 h, 3 significant digits
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid constant bounds")
}

/// Sends when the clock says a message is due, until it stops; reads its
/// acks from the reader (same socket).
#[allow(clippy::too_many_arguments)]
async fn send_loop(
    target: Target,
    mut sink: crate::target::Sink,
    room: Uuid,
    conn: usize,
    mut ticks: tokio::sync::mpsc::UnboundedReceiver<Instant>,
    window_start: Instant,
    origin: Instant,
    mut acks: tokio::sync::mpsc::UnboundedReceiver<Value>,
    acked: Acked,
    counters: Arc<Counters>,
    nonce: Arc<str>,
) -> crate::target::Sink {
    let mut n = 0u64;
    let mut outstanding = 0u64;
    loop {
        tokio::select! {
            tick = ticks.recv() => {
                // open loop: the clock tells each due instant, whether or not
                // the previous send has been answered
                let Some(due) = tick else { break };
                let body = format!("b:{conn}:{n}:{}", due.duration_since(origin).as_micros());
                let frame = target.send_frame(room, &format!("c{nonce}-{conn}-{n}"), &body);
                if sink.send(Message::text(frame)).await.is_err() {
                    return sink;
                }
                add(&counters.sent);
                if due >= window_start {
                    add(&counters.sent_in_window);
                }
                outstanding += 1;
                n += 1;
            }
            Some(answer) = acks.recv() => {
                outstanding = outstanding.saturating_sub(1);
                record_answer(&answer, room, &acked, &counters);
            }
        }
    }
    // the answers still on their way
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while outstanding > 0 {
        match tokio::time::timeout_at(deadline, acks.recv()).await {
            Ok(Some(answer)) => {
                outstanding -= 1;
                record_answer(&answer, room, &acked, &counters);
            }
            _ => break,
        }
    }
    sink
}

fn record_answer(answer: &Value, room: Uuid, acked: &Acked, counters: &Counters) {
    if answer["type"] == "ack" {
        add(&counters.acked);
        if let (Some(seq), Ok(mut acked)) = (answer["seq"].as_i64(), acked.lock()) {
            acked.entry(room).or_default().insert(seq);
        }
    } else {
        add(&counters.refused);
        let code = answer["code"].as_str().unwrap_or("?").to_owned();
        if let Ok(mut codes) = counters.codes.lock() {
            *codes.entry(code).or_default() += 1;
        }
    }
}

/// Reads deliveries until drained (every acked seq of the room seen) or told to stop.
async fn read_loop(
    mut stream: crate::target::Stream,
    room: Uuid,
    origin: Instant,
    (window_start, window_end): (Instant, Instant),
    acks: tokio::sync::mpsc::UnboundedSender<Value>,
    acked: Acked,
    mut phase: watch::Receiver<Phase>,
) -> (Uuid, Seen) {
    let mut seen = Seen {
        latency: new_histogram(),
        in_window: 0,
        seqs: HashSet::new(),
        max_seq: 0,
        duplicated: 0,
        out_of_order: 0,
        resynced: false,
    };
    let window = (window_start.duration_since(origin).as_micros() as u64)
        ..(window_end.duration_since(origin).as_micros() as u64);
    // while draining, a reader whose room is complete stops at its next
    // look; not while sending: a timer per reader (all aligned, a thousand
    // wakes at once every tick) was most of the client's latency floor
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let mut sending = true;
    loop {
        tokio::select! {
            frame = stream.next() => {
                let Some(Ok(Message::Text(text))) = frame else {
                    if matches!(frame, Some(Ok(_))) { continue; }
                    break;
                };
                let now = origin.elapsed().as_micros() as u64;
                // a delivery is read without building a JSON tree: on one
                // machine the client's parsing must not be what is measured
                let Ok(frame) = serde_json::from_str::<Incoming<'_>>(text.as_str()) else { continue };
                match frame.kind {
                    "message" => deliver(&mut seen, &frame, now, &window),
                    "ack" | "error" => {
                        if let Ok(v) = serde_json::from_str::<Value>(text.as_str()) {
                            let _ = acks.send(v);
                        }
                    }
                    "resync" => seen.resynced = true,
                    _ => {}
                }
            }
            _ = tick.tick(), if !sending => {}
            _ = phase.changed() => {}
        }
        // whether every acked seq arrived is asked only once sending is over:
        // it walks the room's acked seqs under a lock shared by every reader
        match *phase.borrow() {
            Phase::Sending => {}
            Phase::Draining => {
                sending = false;
                if seen.resynced || caught_up(&seen, room, &acked) {
                    break;
                }
            }
            Phase::Done => break,
        }
    }
    (room, seen)
}

/// The fields of a server frame the load generator reads (bodies it sends
/// have no escapes, so they borrow).
#[derive(serde::Deserialize)]
struct Incoming<'a> {
    #[serde(rename = "type", borrow)]
    kind: &'a str,
    #[serde(default)]
    seq: Option<i64>,
    #[serde(default, borrow)]
    body: Option<&'a str>,
}

fn deliver(seen: &mut Seen, frame: &Incoming<'_>, now: u64, window: &std::ops::Range<u64>) {
    let Some(seq) = frame.seq else { return };
    if !seen.seqs.insert(seq) {
        seen.duplicated += 1;
        return;
    }
    if seq < seen.max_seq {
        seen.out_of_order += 1;
    }
    seen.max_seq = seen.max_seq.max(seq);
    let due = frame
        .body
        .and_then(|b| b.rsplit(':').next())
        .and_then(|t| t.parse::<u64>().ok());
    if let Some(due) = due
        && window.contains(&due)
    {
        seen.in_window += 1;
        let _ = seen.latency.record(now.saturating_sub(due).max(1));
    }
}

fn caught_up(seen: &Seen, room: Uuid, acked: &Acked) -> bool {
    acked.lock().is_ok_and(|a| {
        a.get(&room)
            .is_none_or(|q| q.iter().all(|s| seen.seqs.contains(s)))
    })
}

/// The `subscribe` frame of the chat protocol.
pub fn subscribe_frame(room: Uuid) -> String {
    json!({"type": "subscribe", "room": room}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_senders_first_sends_are_spread_evenly_over_a_period() {
        // the goal's shape: 1,000 connections in rooms of 100 (connection i in
        // room i / 100), the first 10 of each room sending
        let slots: Vec<bool> = (0..1000).map(|i| i % 100 < 10).collect();
        let period = Duration::from_millis(500);
        let mut offsets: Vec<Duration> =
            first_sends(&slots, period).into_iter().flatten().collect();
        assert_eq!(offsets.len(), 100);
        offsets.sort();
        let step = period / 100;
        for (k, offset) in offsets.iter().enumerate() {
            assert_eq!(*offset, step * k as u32, "sender {k} of 100");
        }
    }

    #[test]
    fn receivers_get_no_send_time() {
        let offsets = first_sends(&[false, true, false, true], Duration::from_millis(10));
        assert_eq!(
            offsets,
            vec![
                None,
                Some(Duration::ZERO),
                None,
                Some(Duration::from_millis(5))
            ]
        );
    }
}
