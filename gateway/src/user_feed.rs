//! The per-user feed: frames about a user's own rooms (`room_added`,
//! `room_removed`, `read`) sent to every live connection of that user, on
//! every gateway, without a subscribe.
//!
//! Each gateway keeps a registry user → its live connections here (a weak
//! handle on each connection's outbound queue; a connection is in it from its
//! hello to its end, so a user's entries are bounded by the per-user
//! connection cap). A frame is delivered to the local connections at once and
//! published on one Redis channel that every gateway listens to; a gateway
//! skips what it published itself. Delivery is best effort: a frame published
//! while a gateway's pub/sub is down, or one finding a connection's queue full,
//! is lost, and the client refetches `GET /api/rooms/mine` after every
//! reconnect (the list and its markers are in Postgres).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::extract::ws::Utf8Bytes;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::db;
use crate::state::AppState;
use crate::ws::protocol::{RemovedReason, ServerFrame, encode};
use crate::ws::session::{Outbound, Outbox};

/// The channel every gateway listens on: `instance\nuser\nframe`.
pub const CHANNEL: &str = "chat:users:feed";

/// This instance's live connections by user.
#[derive(Clone, Default)]
pub struct UserFeed {
    registry: Arc<Mutex<Registry>>,
}

impl std::fmt::Debug for UserFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserFeed").finish_non_exhaustive()
    }
}

#[derive(Default)]
struct Registry {
    next: u64,
    users: HashMap<Uuid, HashMap<u64, flume::WeakSender<Box<Outbound>>>>,
}

fn lock(registry: &Mutex<Registry>) -> MutexGuard<'_, Registry> {
    registry.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A connection's place in the registry; dropping it takes the connection out.
pub struct FeedRegistration {
    registry: Arc<Mutex<Registry>>,
    user: Uuid,
    id: u64,
}

impl std::fmt::Debug for FeedRegistration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedRegistration")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl Drop for FeedRegistration {
    fn drop(&mut self) {
        let mut registry = lock(&self.registry);
        if let Some(of_user) = registry.users.get_mut(&self.user) {
            of_user.remove(&self.id);
            if of_user.is_empty() {
                registry.users.remove(&self.user);
            }
        }
    }
}

impl UserFeed {
    /// Registers a connection of `user` whose frames go to `out` (held weakly:
    /// the registry never keeps a connection's queue open).
    pub fn register(&self, user: Uuid, out: &Outbox) -> FeedRegistration {
        let mut registry = lock(&self.registry);
        let id = registry.next;
        registry.next = registry.next.wrapping_add(1);
        registry
            .users
            .entry(user)
            .or_default()
            .insert(id, out.downgrade());
        FeedRegistration {
            registry: self.registry.clone(),
            user,
            id,
        }
    }

    /// Queues `frame` on every local connection of `user` that has room for
    /// it; returns how many took it.
    pub fn deliver_local(&self, user: Uuid, frame: &Utf8Bytes) -> usize {
        let queues: Vec<_> = lock(&self.registry)
            .users
            .get(&user)
            .map(|of_user| of_user.values().cloned().collect())
            .unwrap_or_default();
        let mut delivered = 0;
        for queue in queues {
            let Some(queue) = queue.upgrade() else {
                continue;
            };
            match queue.try_send(Box::new(Outbound::Text(frame.clone()))) {
                Ok(()) => delivered += 1,
                Err(_) => tracing::debug!(user.id = %user, "a feed frame found a full queue"),
            }
        }
        delivered
    }

    /// Live connections of `user` on this instance.
    pub fn local_connections(&self, user: Uuid) -> usize {
        lock(&self.registry)
            .users
            .get(&user)
            .map_or(0, HashMap::len)
    }
}

/// Sends `frame` to every connection of `user`, here and on every gateway.
pub async fn tell(state: &AppState, user: Uuid, frame: &ServerFrame<'_>) {
    let text = encode(frame);
    state.user_feed.deliver_local(user, &text);
    let payload = format!("{}\n{user}\n{}", state.instance_id, text.as_str());
    let published: Result<i64, _> = redis::cmd("PUBLISH")
        .arg(CHANNEL)
        .arg(payload)
        .query_async(&mut state.redis.clone())
        .await;
    if let Err(error) = published {
        tracing::warn!(%error, user.id = %user, "could not publish a feed frame");
    }
}

/// Tells `user` about `room` as `GET /api/rooms/mine` shows it; nothing when
/// they are not a member (any more).
pub async fn room_added(state: &AppState, user: Uuid, room: Uuid) {
    match db::rooms::one_of_member(&state.pool, user, room).await {
        Ok(Some(entry)) => tell(state, user, &ServerFrame::RoomAdded { room: &entry }).await,
        Ok(None) => {}
        Err(error) => {
            tracing::warn!(%error, room.id = %room, "no room_added: the room's entry is unreadable")
        }
    }
}

/// Tells `user` that `room` left their list.
pub async fn room_removed(state: &AppState, user: Uuid, room: Uuid, reason: RemovedReason) {
    tell(state, user, &ServerFrame::RoomRemoved { room, reason }).await;
}

/// Tells `user` that their read marker of `room` is now `seq`.
pub async fn read(state: &AppState, user: Uuid, room: Uuid, seq: i64) {
    tell(state, user, &ServerFrame::Read { room, seq }).await;
}

/// Listens on [`CHANNEL`] until shutdown (see [`crate::channel`]) and
/// delivers what other gateways published to the local connections.
pub fn spawn_listener(
    state: AppState,
    shutdown: CancellationToken,
) -> Result<tokio::task::JoinHandle<()>, redis::RedisError> {
    let redis_url = state.config.sequencer.redis_url.clone();
    crate::channel::spawn(&redis_url, CHANNEL, Listener(state), shutdown)
}

/// Delivers the frames other gateways published to this one's connections.
struct Listener(AppState);

impl crate::channel::Listener for Listener {
    const WHAT: &'static str = "user feeds";

    fn message(&self, payload: &[u8]) {
        let state = &self.0;
        if let Some((from, user, frame)) = parse(payload)
            && from != state.instance_id
        {
            state
                .user_feed
                .deliver_local(user, &Utf8Bytes::from(frame.to_owned()));
        }
    }
}

/// `instance\nuser\nframe` into its parts.
fn parse(payload: &[u8]) -> Option<(&str, Uuid, &str)> {
    let text = std::str::from_utf8(payload).ok()?;
    let mut parts = text.splitn(3, '\n');
    let from = parts.next()?;
    let user = parts.next()?.parse().ok()?;
    Some((from, user, parts.next()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_frame_reaches_every_live_connection_of_its_user_and_no_other() {
        let feed = UserFeed::default();
        let (alice, bob) = (Uuid::now_v7(), Uuid::now_v7());
        let (a1, a1_rx) = Outbox::channel(4);
        let (a2, a2_rx) = Outbox::channel(4);
        let (b1, b1_rx) = Outbox::channel(4);
        let _r1 = feed.register(alice, &a1);
        let r2 = feed.register(alice, &a2);
        let _r3 = feed.register(bob, &b1);

        assert_eq!(feed.deliver_local(alice, &Utf8Bytes::from_static("x")), 2);
        assert!(matches!(a1_rx.try_recv().map(|b| *b), Ok(Outbound::Text(t)) if t.as_str() == "x"));
        assert!(matches!(
            a2_rx.try_recv().map(|b| *b),
            Ok(Outbound::Text(_))
        ));
        assert!(b1_rx.try_recv().is_err());

        drop(r2);
        assert_eq!(feed.local_connections(alice), 1);
    }

    #[tokio::test]
    async fn the_registry_neither_keeps_a_queue_open_nor_outlives_its_connections() {
        let feed = UserFeed::default();
        let user = Uuid::now_v7();
        let (out, rx) = Outbox::channel(1);
        let registration = feed.register(user, &out);
        drop(out);
        assert!(
            rx.recv_async().await.is_err(),
            "the queue closed with its last sender"
        );
        assert_eq!(feed.deliver_local(user, &Utf8Bytes::from_static("x")), 0);
        drop(registration);
        assert!(lock(&feed.registry).users.is_empty());
    }

    #[tokio::test]
    async fn a_full_queue_loses_the_frame_without_waiting() {
        let feed = UserFeed::default();
        let user = Uuid::now_v7();
        let (out, _rx) = Outbox::channel(1);
        let _registration = feed.register(user, &out);
        assert_eq!(feed.deliver_local(user, &Utf8Bytes::from_static("1")), 1);
        assert_eq!(feed.deliver_local(user, &Utf8Bytes::from_static("2")), 0);
    }

    #[test]
    fn a_payload_names_its_gateway_its_user_and_its_frame() {
        let user = Uuid::now_v7();
        let payload = format!("gw-1\n{user}\n{{\"type\":\"read\"}}");
        assert_eq!(
            parse(payload.as_bytes()),
            Some(("gw-1", user, "{\"type\":\"read\"}"))
        );
        assert_eq!(parse(b"gw-1\nnot-a-uuid\n{}"), None);
    }
}
