//! The shared state of one gateway instance, handed to every handler.

use std::ops::Deref;
use std::sync::Arc;

use chat_core::Sequencer;
use rdkafka::producer::FutureProducer;
use redis::aio::ConnectionManager;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::{Passwords, Sessions, TokenKeys};
use crate::config::GatewayConfig;
use crate::membership::Membership;
use crate::presence::Presence;
use crate::relay::Relay;

/// Cheap-to-clone handle on the instance's [`App`].
#[derive(Clone, Debug)]
pub struct AppState(pub Arc<App>);

impl Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

/// Everything a request or a socket of this instance may need.
pub struct App {
    pub config: GatewayConfig,
    /// Name of this instance (logs, presence entries).
    pub instance_id: String,
    pub pool: PgPool,
    /// Connections held apart from the pool for the send path's one read.
    pub held: crate::db::held::HeldConnections,
    pub redis: ConnectionManager,
    pub sequencer: Sequencer,
    /// The send path's membership check, which rides out a Postgres outage.
    pub membership: Membership,
    /// When the dedupe step last found Postgres unreadable (it then skips
    /// the stored-message lookup for a moment).
    pub stored_lookup: crate::ws::dedupe::LookupBreaker,
    /// Idempotent, `acks=all` producer to the messages topic.
    pub producer: FutureProducer,
    pub tokens: TokenKeys,
    /// Bounded password hashing (`PASSWORD_HASH_*`).
    pub passwords: Passwords,
    /// Revoked login sessions, and this instance's sockets by session.
    pub sessions: Sessions,
    /// Per-room Redis subscriptions shared by this instance's sockets.
    pub relay: Relay,
    pub presence: Presence,
    /// This instance's live connections by user, for the per-user feed.
    pub user_feed: crate::user_feed::UserFeed,
    /// Slow mode's cache of room settings and roles, and its shared slots.
    pub slow_mode: crate::ws::slow_mode::SlowMode,
    /// The send path's metric handles.
    pub send_metrics: crate::metrics::SendMetrics,
    /// Sends per user on this instance (`WS_MESSAGES_PER_SEC`, `WS_MESSAGES_BURST`).
    pub send_limiter: governor::DefaultKeyedRateLimiter<uuid::Uuid>,
    /// Open WebSockets per user and per client address on this instance.
    pub connection_caps: crate::ws::caps::ConnectionCaps,
    /// The landing page's preview of the public rooms, built once per interval.
    pub preview: crate::ttl_cache::TtlCache<axum::body::Bytes>,
    /// Cancelled on shutdown: sockets close with 1001.
    pub shutdown: CancellationToken,
    /// Every socket task, so that shutdown can wait for them.
    pub sockets: TaskTracker,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("instance_id", &self.instance_id)
            .finish_non_exhaustive()
    }
}
