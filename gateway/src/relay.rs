//! The relay: one Redis subscription per room that has local members, shared
//! by every socket of this instance in that room.
//!
//! Each room has a bounded broadcast channel. A record published by the
//! sequencer is turned into its `message` frame once and handed to every local
//! socket; a socket that falls behind the channel's capacity is told to resync
//! (the answer to a lagging receiver), it never silently misses a message.
//! When the Redis connection drops, it is re-established, every room is
//! subscribed again, and every socket is told to catch up from its last seq.
//!
//! [`Relay::join`] returns only once the room's channels are subscribed on
//! the current connection: a room's readiness is withdrawn when the connection
//! drops and given back when the new connection has subscribed it again, so a
//! socket that subscribes meanwhile waits instead of missing what is published.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use chat_core::SequencedEvent;
use chat_core::sequencer::room_channel;
use futures::StreamExt;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::metrics as m;
use crate::ws::protocol::message_frame;

/// Frames buffered per room for the local sockets; a socket further behind is lagging.
const ROOM_CAPACITY: usize = 1024;

/// What a room's local sockets receive.
#[derive(Debug, Clone)]
pub enum RoomFrame {
    /// A sequenced message, already serialised as a `message` frame.
    Message {
        seq: i64,
        epoch: u64,
        text: Utf8Bytes,
    },
    /// An ephemeral frame (presence, typing, a bot's draft), serialised by its publisher.
    Live(Utf8Bytes),
    /// A member left the room (the serialised `member_left` frame is for the others).
    Left { user: Uuid, text: Utf8Bytes },
    /// Someone is typing: for everyone but that user's own connections.
    Typing { user: Uuid, text: Utf8Bytes },
    /// The Redis subscription was interrupted: messages may have been missed.
    Interrupted,
}

pub use chat_core::live::live_channel;

/// The room's wanted state changed (it gained its first member or lost its
/// last): the connection task brings its subscription in line.
struct Changed(Uuid);

struct Room {
    sender: broadcast::Sender<RoomFrame>,
    members: usize,
    /// Resolves once Redis confirmed the subscription on the current connection.
    ready: futures::future::Shared<oneshot::Receiver<()>>,
    /// Resolves `ready`; `None` once it has.
    confirm: Option<oneshot::Sender<()>>,
}

impl Room {
    fn new() -> Self {
        let (confirm, ready) = oneshot::channel();
        Self {
            sender: broadcast::channel(ROOM_CAPACITY).0,
            members: 0,
            ready: futures::FutureExt::shared(ready),
            confirm: Some(confirm),
        }
    }

    /// The subscription is gone (the connection dropped): joiners wait again.
    fn withdraw(&mut self) {
        if self.confirm.is_none() {
            let (confirm, ready) = oneshot::channel();
            self.ready = futures::FutureExt::shared(ready);
            self.confirm = Some(confirm);
        }
    }
}

struct Inner {
    rooms: Mutex<HashMap<Uuid, Room>>,
    commands: mpsc::UnboundedSender<Changed>,
}

/// Handle on this instance's relay; cheap to clone.
#[derive(Clone)]
pub struct Relay {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay").finish_non_exhaustive()
    }
}

/// A socket's membership in a room's fan-out; dropping it leaves.
#[derive(Debug)]
pub struct Lease {
    relay: Relay,
    room: Uuid,
}

impl Drop for Lease {
    fn drop(&mut self) {
        let mut rooms = self
            .relay
            .inner
            .rooms
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(room) = rooms.get_mut(&self.room) {
            room.members -= 1;
            if room.members == 0 {
                rooms.remove(&self.room);
                let _ = self.relay.inner.commands.send(Changed(self.room));
            }
        }
    }
}

/// Why joining a room's fan-out failed.
#[derive(Debug, thiserror::Error)]
#[error("the relay is not running")]
pub struct RelayDown;

impl Relay {
    /// Starts the relay's Redis connection task.
    pub fn start(redis_url: &str, shutdown: CancellationToken) -> Result<Self, redis::RedisError> {
        let client = chat_core::redis_client::client(redis_url)?;
        let (commands, receiver) = mpsc::unbounded_channel();
        let relay = Self {
            inner: Arc::new(Inner {
                rooms: Mutex::new(HashMap::new()),
                commands,
            }),
        };
        tokio::spawn(relay.clone().connection_loop(client, receiver, shutdown));
        Ok(relay)
    }

    /// Joins the room's fan-out and waits until Redis delivers its channel to
    /// this instance, so that anything published afterwards reaches the
    /// receiver. While the relay reconnects to Redis, this waits for the new
    /// connection's subscription.
    pub async fn join(
        &self,
        room: Uuid,
    ) -> Result<(broadcast::Receiver<RoomFrame>, Lease), RelayDown> {
        let (receiver, ready) = {
            let mut rooms = self
                .inner
                .rooms
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let entry = rooms.entry(room).or_insert_with(|| {
                let _ = self.inner.commands.send(Changed(room));
                Room::new()
            });
            entry.members += 1;
            (entry.sender.subscribe(), entry.ready.clone())
        };
        let lease = Lease {
            relay: self.clone(),
            room,
        };
        match tokio::time::timeout(Duration::from_secs(10), ready).await {
            Ok(Ok(())) => Ok((receiver, lease)),
            _ => Err(RelayDown),
        }
    }

    /// Rooms with local members right now.
    pub fn rooms(&self) -> Vec<Uuid> {
        self.inner
            .rooms
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .copied()
            .collect()
    }

    fn is_wanted(&self, room: Uuid) -> bool {
        self.inner
            .rooms
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key(&room)
    }

    /// The room is subscribed on the current connection: its joiners may go on.
    fn confirm(&self, room: Uuid) {
        let mut rooms = self
            .inner
            .rooms
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(done) = rooms.get_mut(&room).and_then(|entry| entry.confirm.take()) {
            let _ = done.send(());
        }
    }

    /// The connection dropped: no room is subscribed until the next one says so.
    fn withdraw_all(&self) {
        let mut rooms = self
            .inner
            .rooms
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for entry in rooms.values_mut() {
            entry.withdraw();
        }
    }

    fn dispatch(&self, room: Uuid, frame: RoomFrame) {
        let rooms = self
            .inner
            .rooms
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = rooms.get(&room) {
            let _ = entry.sender.send(frame);
        }
    }

    /// Keeps one pub/sub connection to Redis alive, re-subscribing every room after a drop.
    async fn connection_loop(
        self,
        client: redis::Client,
        mut commands: mpsc::UnboundedReceiver<Changed>,
        shutdown: CancellationToken,
    ) {
        let mut backoff = Duration::from_millis(100);
        let mut first = true;
        loop {
            if shutdown.is_cancelled() {
                return;
            }
            match client.get_async_pubsub().await {
                Ok(pubsub) => {
                    backoff = Duration::from_millis(100);
                    let (sink, stream) = pubsub.split();
                    if !first {
                        tracing::warn!("redis pub/sub reconnected; rooms told to catch up");
                    }
                    first = false;
                    self.serve(sink, stream, &mut commands, &shutdown).await;
                    metrics::gauge!(m::ROOM_SUBSCRIPTIONS).set(0.0);
                    // joiners from now on wait for the next connection's subscription,
                    // and every room may have missed messages while the connection was down
                    self.withdraw_all();
                    for room in self.rooms() {
                        self.dispatch(room, RoomFrame::Interrupted);
                    }
                }
                Err(error) => tracing::warn!(%error, "redis pub/sub unavailable"),
            }
            tokio::select! {
                () = tokio::time::sleep(backoff) => {}
                () = shutdown.cancelled() => return,
            }
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
    }

    /// Runs one connection until it drops or shutdown.
    async fn serve(
        &self,
        mut sink: redis::aio::PubSubSink,
        mut stream: redis::aio::PubSubStream,
        commands: &mut mpsc::UnboundedReceiver<Changed>,
        shutdown: &CancellationToken,
    ) {
        // the rooms subscribed on this connection
        let mut subscribed = HashSet::new();
        // rooms that had members before a reconnect are subscribed again first
        for room in self.rooms() {
            if !self.sync(&mut sink, &mut subscribed, room).await {
                return;
            }
        }
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                command = commands.recv() => match command {
                    Some(Changed(room)) => if !self.sync(&mut sink, &mut subscribed, room).await {
                        return;
                    },
                    None => return,
                },
                message = stream.next() => match message {
                    Some(message) => self.on_message(message.get_channel_name(), message.get_payload_bytes()),
                    None => return,
                },
            }
        }
    }

    /// Subscribes `room` on this connection if it has members, unsubscribes it
    /// if not, and confirms it to its joiners once subscribed. False when the
    /// connection failed.
    async fn sync(
        &self,
        sink: &mut redis::aio::PubSubSink,
        subscribed: &mut HashSet<Uuid>,
        room: Uuid,
    ) -> bool {
        let channels = [room_channel(room), live_channel(room)];
        let wanted = self.is_wanted(room);
        if wanted && !subscribed.contains(&room) {
            if sink.subscribe(&channels).await.is_err() {
                return false;
            }
            subscribed.insert(room);
        } else if !wanted && subscribed.contains(&room) {
            if sink.unsubscribe(&channels).await.is_err() {
                return false;
            }
            subscribed.remove(&room);
        }
        metrics::gauge!(m::ROOM_SUBSCRIPTIONS).set(subscribed.len() as f64);
        if wanted {
            // members may have come since `is_wanted`: the room is subscribed all the same
            self.confirm(room);
        }
        true
    }

    fn on_message(&self, channel: &str, payload: &[u8]) {
        let Some(rest) = channel.strip_prefix("chat:room:") else {
            return;
        };
        if let Some(room) = rest.strip_suffix(":live") {
            if let (Ok(room), Ok(text)) = (room.parse(), std::str::from_utf8(payload)) {
                let text = Utf8Bytes::from(text.to_owned());
                let frame = if let Some(user) = user_of(text.as_str(), "member_left") {
                    RoomFrame::Left { user, text }
                } else if let Some(user) = user_of(text.as_str(), "typing") {
                    RoomFrame::Typing { user, text }
                } else {
                    RoomFrame::Live(text)
                };
                self.dispatch(room, frame);
            }
            return;
        }
        let Ok(room) = rest.parse::<Uuid>() else {
            return;
        };
        match serde_json::from_slice::<SequencedEvent>(payload) {
            Ok(record) => {
                let lag = chrono::Utc::now() - record.event.sent_at;
                metrics::histogram!(crate::metrics::RELAY_LAG_SECONDS)
                    .record(lag.num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6);
                let text = message_frame(&record);
                self.dispatch(
                    room,
                    RoomFrame::Message {
                        seq: record.seq,
                        epoch: record.epoch,
                        text,
                    },
                );
            }
            Err(error) => tracing::error!(%error, room.id = %room, "unreadable sequenced record"),
        }
    }
}

/// The user a live frame of type `kind` (`member_left`, `typing`) is about, if
/// `text` is one.
fn user_of(text: &str, kind: &str) -> Option<Uuid> {
    #[derive(serde::Deserialize)]
    struct About {
        user: crate::ws::protocol::UserRef,
    }
    let tag = text.strip_prefix(r#"{"type":""#)?.strip_prefix(kind)?;
    if !tag.starts_with('"') {
        return None;
    }
    serde_json::from_str::<About>(text).ok().map(|a| a.user.id)
}
