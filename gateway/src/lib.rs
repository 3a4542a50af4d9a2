//! The gateway: the HTTP API and the WebSocket chat every user touches.
//!
//! - [`config`]: settings from the environment; [`error`]: the API error type.
//! - [`auth`]: argon2id passwords, JWT access tokens, WebSocket tickets, extractors.
//! - [`http`]: the HTTP API (accounts, rooms, history, health, OpenAPI).
//! - [`db`]: the SQL the API and the sockets run.
//! - [`ws`]: one task pair per WebSocket, the wire frames, the send path, resume.
//! - [`relay`]: one Redis subscription per room with local members, fanned out to sockets.
//! - [`names`]: name normalisation, invisible characters, reserved names.
//! - [`membership`]: the send path's membership check, which rides out a Postgres outage.
//! - [`moderation`]: who may moderate whom, and the room events that say so.
//! - [`room_changes`]: members removed, slow mode and roles changed, told to every gateway.
//! - [`presence`]: who is online in a room, across every gateway, with expiry.
//! - `presence_local`: this instance's presence entries, walked a chunk at a time by the heartbeat.
//! - [`presence_page`]: a page of who is online in a room, for the HTTP API.
//! - [`user_feed`]: frames about a user's own rooms, to all their connections on every gateway.
//! - [`channel`]: a Redis channel every gateway listens on (sessions, room changes, feeds).
//! - [`state`]: the instance's shared state.
//! - [`allocator`]: mimalloc's settings, fixed by `main` before the process allocates.
//!
//! [`run`] is the whole service; `main` only reads the config and calls it.

pub mod allocator;
pub mod auth;
pub mod channel;
pub mod config;
mod crash;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod membership;
pub mod metrics;
pub mod moderation;
pub mod names;
pub mod presence;
mod presence_local;
pub mod presence_page;
pub mod relay;
pub mod room_changes;
pub mod state;
pub mod ttl_cache;
pub mod user_feed;
pub mod ws;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use config::GatewayConfig;
use state::{App, AppState};

/// Why the gateway could not start or stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("configuration: {0}")]
    Config(#[from] config::ConfigError),
    #[error("postgres: {0}")]
    Postgres(#[from] sqlx::Error),
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    #[error("sequencer: {0}")]
    Sequencer(#[from] chat_core::SequencerError),
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
    #[error("start-up: {0}")]
    Startup(String),
}

/// Builds the instance's state: connections are lazy, so the gateway starts
/// even while a dependency is down and reports it in `/readyz`.
pub fn build_state(
    config: GatewayConfig,
    shutdown: CancellationToken,
) -> Result<AppState, GatewayError> {
    config.validate()?;
    metrics::handle();
    let pool = chat_core::db::lazy_pool(&config.database_url, config.db_max_connections)?;
    let redis = chat_core::redis_client::managed(&config.sequencer.redis_url)?;
    let sequencer = chat_core::Sequencer::new(&config.sequencer, pool.clone())?;
    let membership = membership::Membership::new(pool.clone());
    let held = db::held::HeldConnections::new(pool.clone(), config.db_held_connections);
    let producer = chat_core::kafka::durable_producer(&config.kafka.brokers)
        .set("message.timeout.ms", config.send_timeout_ms.to_string())
        .set("linger.ms", config.kafka_linger_ms.to_string())
        .create()?;
    let slots = auth::hashing::HashSlots::new(
        config.password_hash_concurrency,
        config.password_hash_queue,
        Duration::from_millis(config.password_hash_wait_ms),
    )?;
    let passwords = auth::Passwords::new(config.argon2_memory_kib, config.argon2_iterations, slots)
        .map_err(|e| GatewayError::Startup(e.to_string()))?;
    let sessions = auth::Sessions::new(redis.clone(), config.access_ttl_secs);
    let instance_id = config
        .instance_id
        .clone()
        .unwrap_or_else(|| format!("gw-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]));
    let relay = relay::Relay::start(&config.sequencer.redis_url, shutdown.clone())?;
    let presence = presence::Presence::new(redis.clone(), &instance_id, config.presence_ttl_secs);
    let slow_mode = ws::slow_mode::SlowMode::new(redis.clone());
    Ok(AppState(Arc::new(App {
        tokens: auth::TokenKeys::new(&config),
        passwords,
        sessions,
        instance_id,
        pool,
        held,
        redis,
        sequencer,
        membership,
        stored_lookup: ws::dedupe::LookupBreaker::default(),
        producer,
        relay,
        presence,
        user_feed: user_feed::UserFeed::default(),
        slow_mode,
        send_metrics: metrics::SendMetrics::new(),
        send_limiter: governor::RateLimiter::keyed(ws::session::quota(
            config.ws_messages_per_sec,
            config.ws_messages_burst,
        )),
        connection_caps: ws::caps::ConnectionCaps::new(
            config.ws_max_connections_per_user,
            config.ws_max_connections_per_address,
        ),
        preview: ttl_cache::TtlCache::new(http::preview::CACHE_TTL),
        shutdown,
        sockets: TaskTracker::new(),
        config,
    })))
}

/// Serves the API and the WebSocket on `listener` until `shutdown` is cancelled;
/// then closes every socket with 1001 (going away) and flushes the producer.
pub async fn run(
    config: GatewayConfig,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> Result<(), GatewayError> {
    let state = build_state(config, shutdown.clone())?;
    let background = presence::spawn_upkeep(state.clone());
    let revocations = state
        .sessions
        .spawn_listener(&state.config.sequencer.redis_url, shutdown.clone())?;
    let room_changes = room_changes::spawn_listener(state.clone(), shutdown.clone())?;
    let user_feeds = user_feed::spawn_listener(state.clone(), shutdown.clone())?;
    tracing::info!(
        gateway.instance = %state.instance_id,
        gateway.addr = %listener.local_addr()?,
        "gateway started"
    );
    let router = http::router(state.clone());
    axum::serve(
        no_delay(listener),
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown.clone().cancelled_owned())
    .await?;
    state.sockets.close();
    if tokio::time::timeout(Duration::from_secs(10), state.sockets.wait())
        .await
        .is_err()
    {
        tracing::warn!("sockets still open after 10 s of shutdown");
    }
    state.held.close().await;
    background.abort();
    revocations.abort();
    room_changes.abort();
    user_feeds.abort();
    use rdkafka::producer::Producer;
    if let Err(error) = state.producer.flush(Duration::from_secs(5)) {
        tracing::warn!(%error, "producer flush at shutdown");
    }
    tracing::info!("gateway stopped");
    Ok(())
}

/// The gateway's listener: each accepted connection has Nagle's algorithm
/// off (`TCP_NODELAY`). With it on, a frame written while the previous one is
/// unacknowledged waits for the client's ACK, which Linux delays up to 40 ms:
/// a message behind another (a burst, an ack then its message) arrived late.
pub fn no_delay(
    listener: TcpListener,
) -> axum::serve::TapIo<TcpListener, fn(&mut tokio::net::TcpStream)> {
    use axum::serve::ListenerExt;
    listener.tap_io(set_no_delay as fn(&mut tokio::net::TcpStream))
}

fn set_no_delay(tcp: &mut tokio::net::TcpStream) {
    if let Err(error) = tcp.set_nodelay(true) {
        tracing::debug!(%error, "TCP_NODELAY not set on a connection");
    }
}

#[cfg(test)]
mod listener_tests {
    use axum::serve::Listener;

    #[tokio::test]
    async fn every_accepted_connection_has_nagle_off() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut listener = super::no_delay(listener);
        let _client = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let (accepted, _) = listener.accept().await;
        assert!(accepted.nodelay().expect("nodelay readable"));
    }
}
