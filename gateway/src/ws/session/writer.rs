//! The writing half of a connection, the only task that writes to the socket:
//! direct frames, the rooms' feeds (in seq order, resync on a lag, a gap or
//! another epoch), pings, the token's expiry and the session's revocation.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, close_code};
use futures::stream::SplitSink;
use futures::{SinkExt, StreamExt};
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

/// The writing half: the only place that writes to the socket.
pub(super) async fn write_loop(
    mut sink: SplitSink<WebSocket, Message>,
    mut out: mpsc::Receiver<Outbound>,
    mut expiry: watch::Receiver<u64>,
    revoked: CancellationToken,
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
            () = revoked.cancelled() => break Some((close_code::POLICY, "session ended")),
            Ok(()) = expiry.changed() => {
                token_expired.as_mut().reset(until_expiry(*expiry.borrow()));
                continue;
            }
            item = out.recv() => match item {
                None => break None,
                Some(Outbound::Text(text)) => Some(text),
                Some(Outbound::Close(code, reason)) => break Some((code, reason)),
                Some(Outbound::Attach(attach)) => {
                    let Attach { room, receiver, lease, last_seq, epoch, stale } = *attach;
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
                Ok(RoomFrame::Left { user, text }) if user == me.user.id => {
                    // membership ended (a leave, a kick, a ban): the user is told,
                    // this connection stops receiving the room, and this instance
                    // forgets the membership (the change may come from another gateway)
                    if !write(&mut sink, Message::Text(text)).await {
                        break Some((CLOSE_TOO_SLOW, "too slow"));
                    }
                    state.membership.forget(room, me.user.id);
                    streams.remove(&room);
                    feeds.remove(&room);
                    // boxed: its state is only held while it runs, not by every idle writer
                    let _ = Box::pin(state.presence.leave(room, &me.user, &me.connection)).await;
                    Some(encode(&ServerFrame::Unsubscribed { room }))
                }
                // nobody is shown their own typing
                Ok(RoomFrame::Typing { user, .. }) if user == me.user.id => None,
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
