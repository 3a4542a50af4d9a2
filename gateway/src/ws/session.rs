//! One WebSocket connection: a reader that parses and handles the client's
//! frames, a writer that owns the socket's sending half, and a send worker that
//! runs the client's sends one after another (so they keep their order).
//!
//! The writer merges three sources: direct frames (hello, acks, errors, replay)
//! from a bounded queue, the broadcast receivers of the rooms the connection
//! follows, and timers (pings, token expiry). For each room it remembers the
//! last seq written and drops anything at or below it; a receiver that lags
//! behind its room's buffer, or a gap, turns into a `resync` for that room.

use std::collections::{HashMap, HashSet};
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, close_code};
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use governor::{Quota, RateLimiter};
use tokio::sync::{broadcast, mpsc, watch};
use tokio_stream::StreamMap;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::auth::ticket::TicketHolder;
use crate::auth::token::now_secs;
use crate::metrics as m;
use crate::relay::{Lease, RoomFrame, live_channel};
use crate::state::AppState;
use crate::ws::protocol::{
    ClientFrame, ErrorCode, Limits, PROTOCOL_VERSION, ServerFrame, UserRef, encode,
};
use crate::ws::{send, subscribe};

/// Close code: the client did not read its frames fast enough.
pub const CLOSE_TOO_SLOW: u16 = 4008;
/// How long one write to the socket may take before the client counts as gone.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Frames of any kind a connection may send per second (sustained), and in a burst.
const FRAMES_PER_SEC: u32 = 20;
const FRAMES_BURST: u32 = 60;
/// Typing frames per room are forwarded at most this often.
const TYPING_EVERY: Duration = Duration::from_secs(2);

/// What the reader and the send worker hand to the writer.
#[derive(Debug)]
pub enum Outbound {
    Text(Utf8Bytes),
    /// Start forwarding a room's frames after `last_seq`.
    Attach {
        room: Uuid,
        receiver: broadcast::Receiver<RoomFrame>,
        lease: Lease,
        last_seq: i64,
        /// The room's epoch `last_seq` belongs to.
        epoch: u64,
        /// Already told to resync: forward nothing until the client subscribes again.
        stale: bool,
    },
    Detach(Uuid),
    Close(u16, &'static str),
}

struct SendRequest {
    room: Uuid,
    client_msg_id: String,
    body: String,
}

/// Runs the connection until the client leaves, breaks a limit, its token
/// expires, or the gateway shuts down.
pub async fn run(socket: WebSocket, state: AppState, holder: TicketHolder) {
    let connection = crate::auth::ticket::random_secret()[..16].to_owned();
    let user = UserRef {
        id: holder.user_id,
        username: holder.username.clone(),
    };
    let (sink, stream) = socket.split();
    let (out, out_rx) = mpsc::channel(state.config.ws_send_queue.max(8));
    let (sends, sends_rx) = mpsc::channel(state.config.ws_max_in_flight.max(1));
    let (expiry, expiry_rx) = watch::channel(holder.token_exp);
    let done = state.shutdown.child_token();
    metrics::gauge!(m::CONNECTIONS).increment(1.0);
    tracing::debug!(user.id = %user.id, connection = %connection, "socket open");

    let hello = ServerFrame::Hello {
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
    };
    let _ = out.send(Outbound::Text(encode(&hello))).await;

    let me = Me {
        user: user.clone(),
        connection: connection.clone(),
    };
    let writer = tokio::spawn(write_loop(
        sink,
        out_rx,
        expiry_rx,
        state.clone(),
        done.clone(),
        me,
    ));
    let worker = tokio::spawn(send_worker(
        state.clone(),
        user.clone(),
        sends_rx,
        out.clone(),
    ));
    let mut reader = Reader {
        state: &state,
        user: &user,
        connection: &connection,
        out,
        sends,
        expiry,
        rooms: HashSet::new(),
        typing: HashMap::new(),
        frames: RateLimiter::direct(quota(FRAMES_PER_SEC, FRAMES_BURST)),
        closing: false,
    };
    reader.read_loop(stream, &done).await;

    for room in std::mem::take(&mut reader.rooms) {
        let _ = state.presence.leave(room, &user, &connection).await;
    }
    // closing the queue lets the writer send what is left (a close frame with its reason) and stop
    drop(reader);
    worker.abort();
    let _ = worker.await;
    let _ = writer.await;
    done.cancel();
    metrics::gauge!(m::CONNECTIONS).decrement(1.0);
    tracing::debug!(user.id = %user.id, connection = %connection, "socket closed");
}

/// True when the WebSocket library refused a message or frame for its size,
/// found by the error's type along its sources.
fn is_oversized(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if let Some(ws) = e.downcast_ref::<tungstenite::Error>() {
            return matches!(
                ws,
                tungstenite::Error::Capacity(_)
                    | tungstenite::Error::Protocol(
                        tungstenite::error::ProtocolError::ControlFrameTooBig
                    )
            );
        }
        source = e.source();
    }
    false
}

/// A rate of `per_sec` with bursts of `burst` (both at least 1).
pub fn quota(per_sec: u32, burst: u32) -> Quota {
    let per_sec = NonZeroU32::new(per_sec.max(1)).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::per_second(per_sec).allow_burst(burst)
}

/// The reading half and what it needs to answer frames.
struct Reader<'a> {
    state: &'a AppState,
    user: &'a UserRef,
    connection: &'a str,
    out: mpsc::Sender<Outbound>,
    sends: mpsc::Sender<SendRequest>,
    expiry: watch::Sender<u64>,
    rooms: HashSet<Uuid>,
    typing: HashMap<Uuid, Instant>,
    frames: governor::DefaultDirectRateLimiter,
    /// Set once a close frame is queued: nothing more is read.
    closing: bool,
}

impl Reader<'_> {
    async fn read_loop(&mut self, mut stream: SplitStream<WebSocket>, done: &CancellationToken) {
        loop {
            let message = tokio::select! {
                () = done.cancelled() => return,
                message = stream.next() => message,
            };
            match message {
                Some(Ok(Message::Text(text))) => {
                    self.on_text(text.as_str()).await;
                    if self.closing {
                        return;
                    }
                }
                Some(Ok(Message::Binary(_))) => {
                    if !self.count_frame().await {
                        return;
                    }
                    self.error(ErrorCode::BadFrame, "frames are JSON text", None, None)
                        .await;
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(_))) | None => return,
                Some(Err(error)) => {
                    // oversized messages end here: say why before the socket goes
                    if is_oversized(&error) {
                        self.close(close_code::SIZE, "message too big").await;
                    }
                    return;
                }
            }
        }
    }

    /// Counts a frame against the connection's frame rate; past it the
    /// connection is closed with 1008. Returns false when closing.
    async fn count_frame(&mut self) -> bool {
        if self.frames.check().is_err() {
            self.close(close_code::POLICY, "too many frames").await;
            return false;
        }
        true
    }

    async fn on_text(&mut self, text: &str) {
        let frame = match serde_json::from_str::<ClientFrame>(text) {
            Ok(frame) => frame,
            Err(_) => {
                if !self.count_frame().await {
                    return;
                }
                self.error(
                    ErrorCode::BadFrame,
                    "not a valid frame of protocol 1",
                    None,
                    None,
                )
                .await;
                return;
            }
        };
        // sends have their own per-user limit (refused sends count here too);
        // every other frame counts here
        if !matches!(frame, ClientFrame::Send { .. }) && !self.count_frame().await {
            return;
        }
        match frame {
            ClientFrame::Subscribe {
                room,
                last_seq,
                epoch,
            } => self.subscribe(room, last_seq, epoch).await,
            ClientFrame::Unsubscribe { room } => {
                if self.rooms.remove(&room) {
                    let _ = self.out.send(Outbound::Detach(room)).await;
                    let _ = self
                        .state
                        .presence
                        .leave(room, self.user, self.connection)
                        .await;
                    self.text(encode(&ServerFrame::Unsubscribed { room })).await;
                } else {
                    self.error(
                        ErrorCode::NotSubscribed,
                        "not subscribed to this room",
                        Some(room),
                        None,
                    )
                    .await;
                }
            }
            ClientFrame::Send {
                room,
                client_msg_id,
                body,
            } => self.send(room, client_msg_id, body).await,
            ClientFrame::Typing { room } => self.typing(room).await,
            ClientFrame::Ping { nonce } => self.text(encode(&ServerFrame::Pong { nonce })).await,
            ClientFrame::Auth { token } => match self.state.tokens.verify(&token) {
                Ok(claims) if claims.sub == self.user.id => {
                    let _ = self.expiry.send(claims.exp);
                }
                _ => {
                    self.error(
                        ErrorCode::Unauthenticated,
                        "token not valid for this connection",
                        None,
                        None,
                    )
                    .await
                }
            },
        }
    }

    async fn subscribe(&mut self, room: Uuid, last_seq: Option<i64>, epoch: Option<u64>) {
        if !self.rooms.contains(&room) && self.rooms.len() >= self.state.config.ws_max_rooms {
            self.error(
                ErrorCode::TooManyRooms,
                "too many rooms on this connection",
                Some(room),
                None,
            )
            .await;
            return;
        }
        if self.rooms.contains(&room) {
            // a re-subscribe (after a resync): replace the old feed
            let _ = self.out.send(Outbound::Detach(room)).await;
        }
        match subscribe::subscribe(
            self.state,
            self.user,
            self.connection,
            room,
            last_seq,
            epoch,
            &self.out,
        )
        .await
        {
            Ok(()) => {
                self.rooms.insert(room);
            }
            Err(refused) => {
                self.rooms.remove(&room);
                // the refusal may come after the presence entry was made
                let _ = self
                    .state
                    .presence
                    .leave(room, self.user, self.connection)
                    .await;
                self.error(refused.code, refused.message, Some(room), None)
                    .await;
            }
        }
    }

    async fn send(&mut self, room: Uuid, client_msg_id: String, body: String) {
        if self.state.send_limiter.check_key(&self.user.id).is_err() {
            if !self.count_frame().await {
                return;
            }
            self.error(
                ErrorCode::RateLimited,
                "too many messages; slow down",
                Some(room),
                Some(&client_msg_id),
            )
            .await;
            return;
        }
        let request = SendRequest {
            room,
            client_msg_id,
            body,
        };
        if let Err(
            mpsc::error::TrySendError::Full(request) | mpsc::error::TrySendError::Closed(request),
        ) = self.sends.try_send(request)
        {
            self.error(
                ErrorCode::RateLimited,
                "too many messages in flight; slow down",
                Some(room),
                Some(&request.client_msg_id),
            )
            .await;
        }
    }

    async fn typing(&mut self, room: Uuid) {
        if !self.rooms.contains(&room) {
            self.error(
                ErrorCode::NotSubscribed,
                "subscribe to the room first",
                Some(room),
                None,
            )
            .await;
            return;
        }
        let now = Instant::now();
        if self
            .typing
            .get(&room)
            .is_some_and(|at| now.duration_since(*at) < TYPING_EVERY)
        {
            return;
        }
        self.typing.insert(room, now);
        if !matches!(
            crate::db::rooms::is_member(&self.state.pool, room, self.user.id).await,
            Ok(true)
        ) {
            self.error(
                ErrorCode::Forbidden,
                "not a member of this room",
                Some(room),
                None,
            )
            .await;
            return;
        }
        let frame = encode(&ServerFrame::Typing {
            room,
            user: self.user.clone(),
        });
        let _ = redis::cmd("PUBLISH")
            .arg(live_channel(room))
            .arg(frame.as_str())
            .query_async::<i64>(&mut self.state.redis.clone())
            .await;
    }

    async fn text(&self, text: Utf8Bytes) {
        let _ = self.out.send(Outbound::Text(text)).await;
    }

    async fn error(
        &self,
        code: ErrorCode,
        message: &str,
        room: Option<Uuid>,
        client_msg_id: Option<&str>,
    ) {
        self.text(encode(&ServerFrame::Error {
            code,
            message,
            room,
            client_msg_id,
        }))
        .await;
    }

    async fn close(&mut self, code: u16, reason: &'static str) {
        self.closing = true;
        let _ = self.out.send(Outbound::Close(code, reason)).await;
    }
}

/// Runs the connection's sends one at a time, in the order they arrived.
async fn send_worker(
    state: AppState,
    user: UserRef,
    mut requests: mpsc::Receiver<SendRequest>,
    out: mpsc::Sender<Outbound>,
) {
    while let Some(request) = requests.recv().await {
        let frame = match send::send_message(
            &state,
            &user,
            request.room,
            &request.client_msg_id,
            request.body,
        )
        .await
        {
            Ok(accepted) => encode(&ServerFrame::Ack {
                room: accepted.room,
                client_msg_id: &request.client_msg_id,
                id: accepted.id,
                seq: accepted.seq,
                epoch: accepted.epoch,
            }),
            Err(refused) => encode(&ServerFrame::Error {
                code: refused.code,
                message: refused.message,
                room: Some(request.room),
                client_msg_id: Some(&request.client_msg_id),
            }),
        };
        if out.send(Outbound::Text(frame)).await.is_err() {
            return;
        }
    }
}

/// Where a room's feed stands for this connection.
struct Feed {
    last_seq: i64,
    /// The epoch of `last_seq`: a message of another epoch means the room's
    /// state was reset, and the client must reload.
    epoch: u64,
    /// Told to resync: nothing more is forwarded until the client subscribes again.
    stale: bool,
    _lease: Lease,
}

/// Whose connection the writer serves.
struct Me {
    user: UserRef,
    connection: String,
}

/// The writing half: the only place that writes to the socket.
async fn write_loop(
    mut sink: SplitSink<WebSocket, Message>,
    mut out: mpsc::Receiver<Outbound>,
    mut expiry: watch::Receiver<u64>,
    state: AppState,
    done: CancellationToken,
    me: Me,
) {
    let mut feeds: HashMap<Uuid, Feed> = HashMap::new();
    let mut streams: StreamMap<Uuid, BroadcastStream<RoomFrame>> = StreamMap::new();
    let mut ping = tokio::time::interval(Duration::from_secs(state.config.ws_ping_secs.max(1)));
    ping.tick().await;
    // one timer for the token's expiry, moved when an `auth` frame extends it
    let until_expiry = |exp: u64| {
        tokio::time::Instant::now() + Duration::from_secs(exp.saturating_sub(now_secs()))
    };
    let token_expired = tokio::time::sleep_until(until_expiry(*expiry.borrow()));
    tokio::pin!(token_expired);
    let close = loop {
        let next = tokio::select! {
            biased;
            () = done.cancelled() => {
                break if state.shutdown.is_cancelled() {
                    Some((close_code::AWAY, "server shutting down; reconnect"))
                } else {
                    Some((close_code::NORMAL, "bye"))
                };
            }
            () = &mut token_expired => break Some((close_code::POLICY, "token expired")),
            Ok(()) = expiry.changed() => {
                token_expired.as_mut().reset(until_expiry(*expiry.borrow()));
                continue;
            }
            item = out.recv() => match item {
                None => break None,
                Some(Outbound::Text(text)) => Some(text),
                Some(Outbound::Close(code, reason)) => break Some((code, reason)),
                Some(Outbound::Attach { room, receiver, lease, last_seq, epoch, stale }) => {
                    streams.insert(room, BroadcastStream::new(receiver));
                    feeds.insert(room, Feed { last_seq, epoch, stale, _lease: lease });
                    continue;
                }
                Some(Outbound::Detach(room)) => {
                    streams.remove(&room);
                    feeds.remove(&room);
                    continue;
                }
            },
            Some((room, item)) = streams.next() => match item {
                Ok(RoomFrame::Left { user, .. }) if user == me.user.id => {
                    // membership ended: this connection stops receiving the room
                    streams.remove(&room);
                    feeds.remove(&room);
                    let _ = state.presence.leave(room, &me.user, &me.connection).await;
                    Some(encode(&ServerFrame::Unsubscribed { room }))
                }
                item => room_frame(&mut feeds, room, item),
            },
            _ = ping.tick() => {
                if !write(&mut sink, Message::Ping(Default::default())).await {
                    break None;
                }
                continue;
            }
        };
        if let Some(text) = next
            && !write(&mut sink, Message::Text(text)).await
        {
            break Some((CLOSE_TOO_SLOW, "too slow"));
        }
    };
    if let Some((code, reason)) = close {
        let frame = CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        };
        let _ = tokio::time::timeout(WRITE_TIMEOUT, sink.send(Message::Close(Some(frame)))).await;
    }
    done.cancel();
}

/// What to write for one item of a room's feed, if anything.
fn room_frame(
    feeds: &mut HashMap<Uuid, Feed>,
    room: Uuid,
    item: Result<RoomFrame, BroadcastStreamRecvError>,
) -> Option<Utf8Bytes> {
    let feed = feeds.get_mut(&room)?;
    match item {
        Ok(RoomFrame::Live(text) | RoomFrame::Left { text, .. }) => Some(text),
        Ok(RoomFrame::Message { seq, epoch, text }) => {
            if feed.stale {
                None
            } else if epoch != feed.epoch {
                resync(feed, room, "epoch")
            } else if seq <= feed.last_seq {
                None
            } else if seq == feed.last_seq + 1 {
                feed.last_seq = seq;
                metrics::counter!(m::FRAMES_DELIVERED).increment(1);
                Some(text)
            } else {
                resync(feed, room, "gap")
            }
        }
        Ok(RoomFrame::Interrupted) => resync(feed, room, "interrupted"),
        Err(BroadcastStreamRecvError::Lagged(_)) => resync(feed, room, "lagging"),
    }
}

fn resync(feed: &mut Feed, room: Uuid, reason: &'static str) -> Option<Utf8Bytes> {
    if feed.stale {
        return None;
    }
    feed.stale = true;
    metrics::counter!(m::RESYNCS).increment(1);
    Some(encode(&ServerFrame::Resync { room, reason }))
}

/// Writes one message within the write timeout; false when the socket is gone or stuck.
async fn write(sink: &mut SplitSink<WebSocket, Message>, message: Message) -> bool {
    matches!(
        tokio::time::timeout(WRITE_TIMEOUT, sink.send(message)).await,
        Ok(Ok(()))
    )
}
