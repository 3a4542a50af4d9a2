//! The writing side of a connection, the only code that writes to the socket:
//! direct frames, the rooms' feeds (in seq order, resync on a lag, a gap or
//! another epoch), pings and the close frame.
//!
//! Frames are batched: what is ready when the writer wakes (up to
//! [`BATCH_FRAMES`] frames and [`BATCH_BYTES`] bytes) is fed to the socket's
//! write buffer in order and written with one flush, one system call instead
//! of one per frame.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures::{FutureExt, SinkExt, Stream};
use tokio_stream::StreamMap;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use uuid::Uuid;

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

/// A room's frames with where the connection stands in them: one entry per
/// room in the writer's [`StreamMap`] (a list, searched in order, as it is
/// polled), no map of its own beside it.
pub(super) struct RoomFeed {
    frames: BroadcastStream<RoomFrame>,
    feed: Feed,
}

impl Stream for RoomFeed {
    type Item = Result<RoomFrame, BroadcastStreamRecvError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.frames).poll_next(cx)
    }
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
pub(super) enum Step {
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
    Stop(Close),
}

/// Why the writer stops: the close frame to send, if any.
pub(super) type Close = Option<(u16, &'static str)>;

/// The socket (the connection's task reads it too, between writes) and the
/// feeds written to it.
pub(super) struct Writer<'a> {
    pub(super) socket: &'a mut WebSocket,
    pub(super) streams: StreamMap<Uuid, RoomFeed>,
    state: &'a AppState,
    user: &'a UserRef,
    connection: &'a str,
    /// Frames and bytes fed since the last flush.
    batch_frames: usize,
    batch_bytes: usize,
    /// When the batch being fed must be written by, read from the clock the
    /// first time one of its writes has to wait (most never do: a clock
    /// reading per batch was 0.5 % of a gateway's samples at 20k deliveries/s).
    batch_deadline: Option<tokio::time::Instant>,
    /// Room messages fed since the last flush, counted once per batch.
    delivered: u64,
    delivered_total: metrics::Counter,
}

impl<'a> Writer<'a> {
    pub(super) fn new(
        socket: &'a mut WebSocket,
        state: &'a AppState,
        user: &'a UserRef,
        connection: &'a str,
    ) -> Self {
        Self {
            socket,
            streams: StreamMap::new(),
            state,
            user,
            connection,
            batch_frames: 0,
            batch_bytes: 0,
            batch_deadline: None,
            delivered: 0,
            delivered_total: metrics::counter!(m::FRAMES_DELIVERED),
        }
    }

    /// Whether frames were fed and not yet written.
    pub(super) fn batching(&self) -> bool {
        self.batch_frames > 0
    }

    /// Whether the batch being fed may take another frame.
    pub(super) fn room_for_more(&self) -> bool {
        self.batch_frames > 0 && self.batch_frames < BATCH_FRAMES
    }

    /// Whether `step` would take the batch past [`BATCH_BYTES`] (it then
    /// starts the next one).
    pub(super) fn overflows(&self, step: &Step) -> bool {
        matches!(step, Step::Write(text) if self.batch_bytes + text.len() > BATCH_BYTES)
    }

    /// Sends the close frame, within the write timeout.
    pub(super) async fn close(&mut self, code: u16, reason: &'static str) {
        let frame = CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        };
        let _ = tokio::time::timeout(WRITE_TIMEOUT, self.socket.send(Message::Close(Some(frame))))
            .await;
    }

    /// What to do with an item of the direct queue (`None`: it was closed).
    pub(super) fn on_direct(&mut self, item: Option<Outbound>) -> Step {
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
                self.streams.insert(
                    room,
                    RoomFeed {
                        frames: BroadcastStream::new(receiver),
                        feed: Feed {
                            last_seq,
                            epoch,
                            stale,
                            _lease: lease,
                        },
                    },
                );
                Step::Skip
            }
            Some(Outbound::Detach(room)) => {
                self.streams.remove(&room);
                Step::Skip
            }
        }
    }

    /// What to do with an item of a room's feed.
    pub(super) fn on_room(
        &mut self,
        room: Uuid,
        item: Result<RoomFrame, BroadcastStreamRecvError>,
    ) -> Step {
        match item {
            // membership ended (a leave, a kick, a ban): the user is told, this
            // connection stops receiving the room, and this instance forgets
            // the membership (the change may come from another gateway)
            Ok(RoomFrame::Left { user, text }) if user == self.user.id => Step::Left { room, text },
            // nobody is shown their own typing
            Ok(RoomFrame::Typing { user, .. }) if user == self.user.id => Step::Skip,
            item => {
                let feed = self.streams.iter_mut().find(|(r, _)| *r == room);
                match feed
                    .and_then(|(_, f)| room_frame(&mut f.feed, room, item, &mut self.delivered))
                {
                    Some(text) => Step::Write(text),
                    None => Step::Skip,
                }
            }
        }
    }

    /// Carries out one step; `Some(close)` when the writer stops.
    pub(super) async fn take(&mut self, step: Step) -> Option<Close> {
        match step {
            Step::Skip => None,
            Step::Write(text) => {
                (!self.feed(text).await).then_some(Some((CLOSE_TOO_SLOW, "too slow")))
            }
            // boxed: its state is only held while it runs, not by every idle connection
            Step::Left { room, text } => Box::pin(self.left(room, text)).await,
            // a ping starts a wake, never joins a batch
            Step::Ping => {
                (!write(self.socket, Message::Ping(Default::default())).await).then_some(None)
            }
            Step::Stop(close) => Some(close),
        }
    }

    /// The user's membership of `room` ended: `text` says so, then the room's
    /// feed and presence entry end and the client is told it is unsubscribed.
    async fn left(&mut self, room: Uuid, text: Utf8Bytes) -> Option<Close> {
        if !self.feed(text).await || !self.flush().await {
            return Some(Some((CLOSE_TOO_SLOW, "too slow")));
        }
        self.state.membership.forget(room, self.user.id);
        self.streams.remove(&room);
        let _ = self
            .state
            .presence
            .leave(room, self.user, self.connection)
            .await;
        let unsubscribed = encode(&ServerFrame::Unsubscribed { room });
        (!self.feed(unsubscribed).await).then_some(Some((CLOSE_TOO_SLOW, "too slow")))
    }

    /// Queues a frame in the socket's write buffer, without writing it yet.
    async fn feed(&mut self, text: Utf8Bytes) -> bool {
        if self.batch_frames == 0 {
            self.batch_deadline = None;
        }
        self.batch_frames += 1;
        self.batch_bytes += text.len();
        within(
            &mut self.batch_deadline,
            self.socket.feed(Message::Text(text)),
        )
        .await
    }

    /// Writes what was fed, within the write timeout; false when the socket is gone or stuck.
    pub(super) async fn flush(&mut self) -> bool {
        if self.batch_frames == 0 {
            return true;
        }
        self.batch_frames = 0;
        self.batch_bytes = 0;
        if self.delivered > 0 {
            self.delivered_total
                .increment(std::mem::take(&mut self.delivered));
        }
        within(&mut self.batch_deadline, self.socket.flush()).await
    }
}

/// Runs one write of a batch, within [`WRITE_TIMEOUT`] of the first of its
/// writes that had to wait; false when the socket is gone or stuck.
async fn within(
    deadline: &mut Option<tokio::time::Instant>,
    write: impl Future<Output = Result<(), axum::Error>>,
) -> bool {
    let mut write = std::pin::pin!(write);
    // polled once before any clock is read: a write to a socket with room completes at once
    if let Some(done) = write.as_mut().now_or_never() {
        return done.is_ok();
    }
    let at = *deadline.get_or_insert_with(|| tokio::time::Instant::now() + WRITE_TIMEOUT);
    matches!(tokio::time::timeout_at(at, write).await, Ok(Ok(())))
}

/// What to write for one item of a room's feed, if anything.
fn room_frame(
    feed: &mut Feed,
    room: Uuid,
    item: Result<RoomFrame, BroadcastStreamRecvError>,
    delivered: &mut u64,
) -> Option<Utf8Bytes> {
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
async fn write(socket: &mut WebSocket, message: Message) -> bool {
    matches!(
        tokio::time::timeout(WRITE_TIMEOUT, socket.send(message)).await,
        Ok(Ok(()))
    )
}

#[cfg(test)]
mod tests {
    use std::future::{pending, ready};

    use tokio::time::{Duration, Instant};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_write_that_completes_at_once_sets_no_deadline() {
        let mut deadline = None;
        assert!(within(&mut deadline, ready(Ok(()))).await);
        assert!(!within(&mut deadline, ready(Err(axum::Error::new("gone")))).await);
        assert_eq!(deadline, None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_stuck_write_fails_at_the_write_timeout() {
        let mut deadline = None;
        let started = Instant::now();
        assert!(!within(&mut deadline, pending()).await);
        assert_eq!(started.elapsed(), WRITE_TIMEOUT);
        assert_eq!(deadline, Some(started + WRITE_TIMEOUT));
    }

    #[tokio::test(start_paused = true)]
    async fn the_writes_of_one_batch_share_one_deadline() {
        let mut deadline = None;
        let started = Instant::now();
        // the first write waits a second, then completes
        let slow = async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            Ok(())
        };
        assert!(within(&mut deadline, slow).await);
        // the next one gets what is left of the batch's time, not a new timeout
        assert!(!within(&mut deadline, pending()).await);
        assert_eq!(started.elapsed(), WRITE_TIMEOUT);
    }
}
