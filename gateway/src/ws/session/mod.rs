//! One WebSocket connection: one task that owns the socket, reads and
//! answers the client's frames and writes everything the client receives,
//! and a send worker that runs the client's sends one after another (so they
//! keep their order).
//!
//! The task merges the client's frames with three sources: direct frames
//! (hello, acks, errors, replay) from a bounded queue, the broadcast
//! receivers of the rooms the connection follows, and timers (pings, token
//! expiry). For each room it remembers the last seq written and drops
//! anything at or below it; a receiver that lags behind its room's buffer, or
//! a gap, turns into a `resync` for that room.
//!
//! - `task`: the connection's select loop.
//! - `reader`: parses and answers the client's frames, queues its sends.
//! - `send_worker`: runs the queued sends one after another; started on the
//!   connection's first send (an idle connection holds no task and no queue
//!   for it).
//! - `writer`: writes to the socket (batched), the per-room feeds.
//! - `gated`: futures and streams the task polls only after they woke it
//!   (the client's frames, the direct queue, the session's revocation).

use std::collections::{HashMap, HashSet};
use std::num::NonZeroU32;
use std::time::Duration;

use axum::extract::ws::{Utf8Bytes, WebSocket};
use futures::StreamExt;
use governor::{Quota, RateLimiter};
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::auth::ticket::TicketHolder;
use crate::metrics as m;
use crate::relay::{Lease, RoomFrame};
use crate::state::AppState;
use crate::ws::caps::Permit;
use crate::ws::protocol::{Limits, PROTOCOL_VERSION, ServerFrame, UserRef, encode};

mod gated;
mod reader;
mod send_worker;
mod task;
mod writer;

use reader::Reader;

/// Close code: the client did not read its frames fast enough.
pub const CLOSE_TOO_SLOW: u16 = 4008;
/// How long one write to the socket may take before the client counts as gone.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Frames of any kind a connection may send per second (sustained), and in a burst.
const FRAMES_PER_SEC: u32 = 20;
const FRAMES_BURST: u32 = 60;
/// Status changes (`status` frames that change it) a connection may make per
/// minute (sustained), and in a burst: each touches every room it follows.
const STATUS_PER_MIN: u32 = 12;
const STATUS_BURST: u32 = 4;
/// Typing frames per room are forwarded at most this often.
const TYPING_EVERY: Duration = Duration::from_secs(2);
/// After a close frame, how long the client has to answer with its own (or to
/// end the stream) before the TCP connection is dropped.
const CLOSE_GRACE: Duration = Duration::from_secs(3);

/// What the reader and the send worker hand to the writer, through an [`Outbox`].
#[derive(Debug)]
pub enum Outbound {
    Text(Utf8Bytes),
    /// Start forwarding a room's frames after `last_seq`.
    Attach(Box<Attach>),
    Detach(Uuid),
    Close(u16, &'static str),
}

/// The writer's queue of direct frames, each boxed in the channel (a pointer a
/// slot; an allocation per direct frame, none per room frame). A flume
/// channel: its state is a small locked queue that grows as frames wait,
/// where tokio's is cache-padded and allocates a block of 32 slots when made
/// (0.8 KiB for every connection, idle or not).
#[derive(Debug, Clone)]
pub struct Outbox(flume::Sender<Box<Outbound>>);

/// The connection's writer has stopped: nothing more reaches the socket.
#[derive(Debug, thiserror::Error)]
#[error("the connection's writer has stopped")]
pub struct WriterGone;

impl Outbox {
    /// A connection's queue of `capacity` and the writer's end of it.
    pub fn channel(capacity: usize) -> (Self, flume::Receiver<Box<Outbound>>) {
        let (out, out_rx) = flume::bounded(capacity);
        (Self(out), out_rx)
    }

    /// A handle that does not keep the queue open (the per-user feed's registry).
    pub fn downgrade(&self) -> flume::WeakSender<Box<Outbound>> {
        self.0.downgrade()
    }

    /// Queues `item` for the writer, waiting while the queue is full.
    pub async fn send(&self, item: Outbound) -> Result<(), WriterGone> {
        self.0
            .send_async(Box::new(item))
            .await
            .map_err(|_| WriterGone)
    }
}

/// A room's feed to start: see [`Outbound::Attach`].
#[derive(Debug)]
pub struct Attach {
    pub room: Uuid,
    pub receiver: broadcast::Receiver<RoomFrame>,
    pub lease: Lease,
    pub last_seq: i64,
    /// The room's epoch `last_seq` belongs to.
    pub epoch: u64,
    /// Already told to resync: forward nothing until the client subscribes again.
    pub stale: bool,
}

/// A send queued for the send worker, boxed in its channel (see [`Outbound`]).
struct SendRequest {
    room: Uuid,
    client_msg_id: String,
    action: crate::ws::events::Action,
}

/// Runs the connection until the client leaves, breaks a limit, its token
/// expires, or the gateway shuts down. `_permit` counts it against the
/// connection caps until it ends.
pub async fn run(mut socket: WebSocket, state: AppState, holder: TicketHolder, _permit: Permit) {
    let connection = crate::auth::ticket::random_secret()[..16].to_owned();
    let user = UserRef {
        id: holder.user_id,
        username: holder.username.clone(),
    };
    let (out, out_rx) = Outbox::channel(state.config.ws_send_queue.max(8));
    // revoking the login session (logout, a reused refresh token) closes the socket with 1008
    let session = state
        .sessions
        .register_socket(holder.sid, &state.shutdown)
        .await;
    metrics::gauge!(m::CONNECTIONS).increment(1.0);
    tracing::debug!(user.id = %user.id, connection = %connection, "socket open");

    // encoded at once: a frame kept in scope would be kept in the connection's future
    let hello = encode(&ServerFrame::Hello {
        protocol: PROTOCOL_VERSION,
        server: &state.instance_id,
        session: &connection,
        user: user.clone(),
        heartbeat_ms: state.config.ws_ping_secs * 1000,
        limits: Limits {
            max_body_chars: chat_core::event::MAX_BODY_CHARS,
            max_message_bytes: state.config.ws_max_message_bytes,
            messages_per_sec: state.config.ws_messages_per_sec,
            messages_burst: state.config.ws_messages_burst,
            max_rooms: state.config.ws_max_rooms,
        },
    });
    let _ = out.send(Outbound::Text(hello)).await;
    // the user's feed (room_added, room_removed, read) reaches this connection from now on
    let feed = state.user_feed.register(user.id, &out);

    let reader = Box::new(Reader {
        state: state.clone(),
        user: user.clone(),
        sid: holder.sid,
        connection: connection.as_str().into(),
        out,
        worker: None,
        token_exp: holder.token_exp,
        rooms: HashSet::new(),
        typing: HashMap::new(),
        frames: limiter(quota(FRAMES_PER_SEC, FRAMES_BURST)),
        replays: limiter(per_minute(
            state.config.ws_replays_per_min,
            u32::try_from(state.config.ws_max_rooms).unwrap_or(u32::MAX),
        )),
        closing: false,
        status: crate::ws::protocol::Status::Active,
        statuses: limiter(per_minute(STATUS_PER_MIN, STATUS_BURST)),
    });
    let parts = task::Parts {
        socket: &mut socket,
        state: &state,
        user: &user,
        connection: &connection,
        revoked: &session.revoked,
    };
    // `None` only if an answer's task panicked (a bug): its rooms' presence entries are
    // then left behind, as when a panic ended the connection's own task
    if let Some(mut reader) = task::drive(parts, out_rx, reader).await {
        for room in std::mem::take(&mut reader.rooms) {
            let _ = Box::pin(state.presence.leave(room, &user, &connection)).await;
        }
        if let Some(worker) = reader.worker.take() {
            worker.task.abort();
            let _ = worker.task.await;
        }
    }
    finish_close(&mut socket).await;
    drop(session);
    drop(feed);
    metrics::gauge!(m::CONNECTIONS).decrement(1.0);
    tracing::debug!(user.id = %user.id, connection = %connection, "socket closed");
}

/// Ends the close handshake (RFC 6455, 7.1.1): after the close frame, what the
/// client still sends is read and dropped until its close frame arrives and
/// the stream ends, for at most [`CLOSE_GRACE`]. Dropping the TCP connection
/// with unread data in it would reset it, and a client still writing would
/// lose our close frame (and its code) to the reset.
async fn finish_close(stream: &mut WebSocket) {
    let _ = tokio::time::timeout(CLOSE_GRACE, async {
        while let Some(Ok(_)) = stream.next().await {}
    })
    .await;
}

/// A rate of `per_min` a minute with bursts of `burst` (both at least 1).
pub fn per_minute(per_min: u32, burst: u32) -> Quota {
    let per_min = NonZeroU32::new(per_min.max(1)).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(per_min).allow_burst(burst)
}

/// One clock for every connection's limiters. Each limiter made with its own
/// clock built one (quanta probes the CPU with `cpuid` for it, which a
/// virtual machine traps): 2.4 % of all CPU in a reconnect storm's profile.
static CLOCK: std::sync::LazyLock<governor::clock::DefaultClock> =
    std::sync::LazyLock::new(Default::default);

/// A connection's rate limiter on the shared clock.
fn limiter(quota: Quota) -> governor::DefaultDirectRateLimiter {
    RateLimiter::direct_with_clock(quota, CLOCK.clone())
}

/// A rate of `per_sec` with bursts of `burst` (both at least 1).
pub fn quota(per_sec: u32, burst: u32) -> Quota {
    let per_sec = NonZeroU32::new(per_sec.max(1)).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::per_second(per_sec).allow_burst(burst)
}
