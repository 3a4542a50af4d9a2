//! The writing half of a connection, the only task that writes to the socket:
//! direct frames, the rooms' feeds (in seq order, resync on a lag, a gap or
//! another epoch), pings, the token's expiry and the session's revocation.
//!
//! Frames are batched: what is ready when the writer wakes (up to
//! [`BATCH_FRAMES`] frames and [`BATCH_BYTES`] bytes) is fed to the socket's
//! write buffer in order and written with one flush, one system call instead
//! of one per frame.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, close_code};
use futures::stream::SplitSink;
use futures::{FutureExt, SinkExt, StreamExt};
use tokio::sync::{mpsc, watch};
use tokio_stream::StreamMap;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::auth::token::now_secs;
use crate::metrics as m;
use crate::relay::{Lease, RoomFrame};
use crate::state::AppState;
use crate::ws::protocol::{ServerFrame, UserRef, encode};

use super::{Attach, CLOSE_TOO_SLOW, Outbound, WRITE_TIMEOUT};

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
pub(super) struct Me {
    pub(super) user: UserRef,
    pub(super) connection: String,
}

/// Frames written to the socket with one flush (one `send` system call), at
/// most: what is waiting when the writer wakes goes out together.
const BATCH_FRAMES: usize = 32;
/// Bytes a batch holds, at most: a frame that would take it past this waits
/// for the next write (a larger frame goes alone). tungstenite's write buffer
/// keeps the capacity of the largest batch for the connection's life, so
/// batching adds nothing to a connection that once received a frame of this
/// size (an idle one's largest is usually `hello` or `subscribed`).
const BATCH_BYTES: usize = 2048;

/// What the writer does with one item it took.
enum Step {
    /// Nothing to write (a duplicate, a feed that is stale, an attach).
    Skip,
    Write(Utf8Bytes),
    /// Membership of the room ended: this frame, then the room's feed stops.
    Left {
        room: Uuid,
        text: Utf8Bytes,
    },
    Ping,
    /// Stop, after a close frame with this code and reason if any.
    Stop(Option<(u16, &'static str)>),
}

/// The socket's sending half and the feeds it writes.
struct Writer {
    sink: SplitSink<WebSocket, Message>,
    feeds: HashMap<Uuid, Feed>,
    streams: StreamMap<Uuid, BroadcastStream<RoomFrame>>,
    state: AppState,
    me: Me,
    /// Frames and bytes fed since the last flush.
    batch_frames: usize,
    batch_bytes: usize,
    /// When the batch being fed must be written by: one clock reading per
    /// batch, not one per frame and per flush.
    batch_deadline: tokio::time::Instant,
    /// Room messages fed since the last flush, counted once per batch.
    delivered: u64,
    delivered_total: metrics::Counter,
}

/// The writing half: the only place that writes to the socket.
pub(super) async fn write_loop(
    sink: SplitSink<WebSocket, Message>,
    mut out: mpsc::Receiver<Box<Outbound>>,
    expiry: watch::Receiver<u64>,
    revoked: CancellationToken,
    state: AppState,
    done: CancellationToken,
    me: Me,
) {
    let mut ping = tokio::time::interval(Duration::from_secs(state.config.ws_ping_secs.max(1)));
    ping.tick().await;
    // one timer for the token's expiry, moved when an `auth` frame extends it
    let until_expiry = |exp: u64| {
        tokio::time::Instant::now() + Duration::from_secs(exp.saturating_sub(now_secs()))
    };
    let token_expired = tokio::time::sleep_until(until_expiry(*expiry.borrow()));
    tokio::pin!(token_expired);
    // made once, not at every wake: each one made and dropped is a lock on its notifier
    let mut expiry_changed = std::pin::pin!(next_expiry(expiry));
    let mut expiry_open = true;
    let cancelled = done.cancelled();
    tokio::pin!(cancelled);
    let session_ended = revoked.cancelled();
    tokio::pin!(session_ended);
    let mut w = Writer {
        sink,
        feeds: HashMap::new(),
        streams: StreamMap::new(),
        delivered_total: metrics::counter!(m::FRAMES_DELIVERED),
        state,
        me,
        batch_frames: 0,
        batch_bytes: 0,
        batch_deadline: tokio::time::Instant::now(),
        delivered: 0,
    };
    // a frame taken that did not fit the last batch: it starts the next
    let mut carried = None;
    let close = 'wakes: loop {
        let step = if let Some(step) = carried.take() {
            step
        } else {
            tokio::select! {
            biased;
            () = &mut cancelled => Step::Stop(if w.state.shutdown.is_cancelled() {
                Some((close_code::AWAY, "server shutting down; reconnect"))
            } else {
                Some((close_code::NORMAL, "bye"))
            }),
            () = &mut token_expired => Step::Stop(Some((close_code::POLICY, "token expired"))),
            () = &mut session_ended => Step::Stop(Some((close_code::POLICY, "session ended"))),
            changed = &mut expiry_changed, if expiry_open => {
                match changed {
                    Some((exp, receiver)) => {
                        token_expired.as_mut().reset(until_expiry(exp));
                        expiry_changed.set(next_expiry(receiver));
                    }
                    None => expiry_open = false,
                }
                continue;
            }
            item = out.recv() => w.on_direct(item.map(|item| *item)),
            Some((room, item)) = w.streams.next() => w.on_room(room, item),
            _ = ping.tick() => Step::Ping,
            }
        };
        if let Some(close) = w.take(step).await {
            break close;
        }
        // what else is ready now goes into the same write, in the order it
        // would have gone alone: direct frames first, then the rooms' feeds
        while w.batch_frames > 0 && w.batch_frames < BATCH_FRAMES {
            let step = match out.try_recv() {
                Ok(item) => w.on_direct(Some(*item)),
                Err(mpsc::error::TryRecvError::Disconnected) => w.on_direct(None),
                Err(mpsc::error::TryRecvError::Empty) => match w.streams.next().now_or_never() {
                    Some(Some((room, item))) => w.on_room(room, item),
                    _ => break,
                },
            };
            if let Step::Write(text) = &step
                && w.batch_bytes + text.len() > BATCH_BYTES
            {
                carried = Some(step);
                break;
            }
            if let Some(close) = w.take(step).await {
                break 'wakes close;
            }
        }
        if !w.flush().await {
            break Some((CLOSE_TOO_SLOW, "too slow"));
        }
    };
    // what was fed before a stop still goes out, ahead of the close frame
    if w.batch_frames > 0 && !w.flush().await {
        done.cancel();
        return;
    }
    if let Some((code, reason)) = close {
        let frame = CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        };
        let _ = tokio::time::timeout(WRITE_TIMEOUT, w.sink.send(Message::Close(Some(frame)))).await;
    }
    done.cancel();
}

/// Waits for the token's expiry to change: the new expiry, and the receiver
/// back to wait again; `None` once the reader is gone.
async fn next_expiry(mut expiry: watch::Receiver<u64>) -> Option<(u64, watch::Receiver<u64>)> {
    expiry.changed().await.ok()?;
    let exp = *expiry.borrow_and_update();
    Some((exp, expiry))
}

impl Writer {
    /// What to do with an item of the direct queue (`None`: the reader is gone).
    fn on_direct(&mut self, item: Option<Outbound>) -> Step {
        match item {
            None => Step::Stop(None),
            Some(Outbound::Text(text)) => Step::Write(text),
            Some(Outbound::Close(code, reason)) => Step::Stop(Some((code, reason))),
            Some(Outbound::Attach(attach)) => {
                let Attach {
                    room,
                    receiver,
                    lease,
                    last_seq,
                    epoch,
                    stale,
                } = *attach;
                self.streams.insert(room, BroadcastStream::new(receiver));
                self.feeds.insert(
                    room,
                    Feed {
                        last_seq,
                        epoch,
                        stale,
                        _lease: lease,
                    },
                );
                Step::Skip
            }
            Some(Outbound::Detach(room)) => {
                self.streams.remove(&room);
                self.feeds.remove(&room);
                Step::Skip
            }
        }
    }

    /// What to do with an item of a room's feed.
    fn on_room(&mut self, room: Uuid, item: Result<RoomFrame, BroadcastStreamRecvError>) -> Step {
        match item {
            // membership ended (a leave, a kick, a ban): the user is told, this
            // connection stops receiving the room, and this instance forgets
            // the membership (the change may come from another gateway)
            Ok(RoomFrame::Left { user, text }) if user == self.me.user.id => {
                Step::Left { room, text }
            }
            // nobody is shown their own typing
            Ok(RoomFrame::Typing { user, .. }) if user == self.me.user.id => Step::Skip,
            item => match room_frame(&mut self.feeds, room, item, &mut self.delivered) {
                Some(text) => Step::Write(text),
                None => Step::Skip,
            },
        }
    }

    /// Carries out one step; `Some(close)` when the writer stops.
    async fn take(&mut self, step: Step) -> Option<Option<(u16, &'static str)>> {
        match step {
            Step::Skip => None,
            Step::Write(text) => {
                (!self.feed(text).await).then_some(Some((CLOSE_TOO_SLOW, "too slow")))
            }
            Step::Left { room, text } => {
                if !self.feed(text).await || !self.flush().await {
                    return Some(Some((CLOSE_TOO_SLOW, "too slow")));
                }
                self.state.membership.forget(room, self.me.user.id);
                self.streams.remove(&room);
                self.feeds.remove(&room);
                // boxed: its state is only held while it runs, not by every idle writer
                let _ = Box::pin(self.state.presence.leave(
                    room,
                    &self.me.user,
                    &self.me.connection,
                ))
                .await;
                let unsubscribed = encode(&ServerFrame::Unsubscribed { room });
                (!self.feed(unsubscribed).await).then_some(Some((CLOSE_TOO_SLOW, "too slow")))
            }
            // a ping starts a wake, never joins a batch
            Step::Ping => {
                (!write(&mut self.sink, Message::Ping(Default::default())).await).then_some(None)
            }
            Step::Stop(close) => Some(close),
        }
    }

    /// Queues a frame in the socket's write buffer, without writing it yet.
    async fn feed(&mut self, text: Utf8Bytes) -> bool {
        if self.batch_frames == 0 {
            self.batch_deadline = tokio::time::Instant::now() + WRITE_TIMEOUT;
        }
        self.batch_frames += 1;
        self.batch_bytes += text.len();
        matches!(
            tokio::time::timeout_at(self.batch_deadline, self.sink.feed(Message::Text(text))).await,
            Ok(Ok(()))
        )
    }

    /// Writes what was fed, within the write timeout; false when the socket is gone or stuck.
    async fn flush(&mut self) -> bool {
        if self.batch_frames == 0 {
            return true;
        }
        self.batch_frames = 0;
        self.batch_bytes = 0;
        if self.delivered > 0 {
            self.delivered_total
                .increment(std::mem::take(&mut self.delivered));
        }
        matches!(
            tokio::time::timeout_at(self.batch_deadline, self.sink.flush()).await,
            Ok(Ok(()))
        )
    }
}

/// What to write for one item of a room's feed, if anything.
fn room_frame(
    feeds: &mut HashMap<Uuid, Feed>,
    room: Uuid,
    item: Result<RoomFrame, BroadcastStreamRecvError>,
    delivered: &mut u64,
) -> Option<Utf8Bytes> {
    let feed = feeds.get_mut(&room)?;
    match item {
        Ok(
            RoomFrame::Live(text) | RoomFrame::Left { text, .. } | RoomFrame::Typing { text, .. },
        ) => Some(text),
        Ok(RoomFrame::Message { seq, epoch, text }) => {
            if feed.stale {
                None
            } else if epoch != feed.epoch {
                resync(feed, room, "epoch")
            } else if seq <= feed.last_seq {
                None
            } else if seq == feed.last_seq + 1 {
                feed.last_seq = seq;
                *delivered += 1;
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
