//! Room changes every gateway learns at once: a member removed (kick, ban),
//! a room's slow mode or a role changed. One Redis channel for all rooms;
//! each gateway's listener forgets what it cached: the membership it
//! remembered for Postgres outages ([`crate::membership`]) and the slow mode
//! settings ([`crate::ws::slow_mode`]). Best effort: when a notice is lost
//! (Redis pub/sub down), the caches' own bounds hold (slow mode's 2 s; the
//! membership memory only answers during a Postgres outage).

use std::time::Duration;

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::state::AppState;

/// The channel every gateway listens on.
pub const CHANNEL: &str = "chat:rooms:changed";

/// What changed in a room.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Change {
    pub room: Uuid,
    /// A member who is not one any more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed: Option<Uuid>,
}

/// Applies `change` here and tells every other gateway.
pub async fn announce(state: &AppState, change: Change) {
    forget(state, change);
    let Ok(payload) = serde_json::to_string(&change) else {
        return;
    };
    let published: Result<i64, _> = redis::cmd("PUBLISH")
        .arg(CHANNEL)
        .arg(payload)
        .query_async(&mut state.redis.clone())
        .await;
    if let Err(error) = published {
        tracing::warn!(%error, room.id = %change.room, "could not announce a room change");
    }
}

fn forget(state: &AppState, change: Change) {
    if let Some(user) = change.removed {
        state.membership.forget(change.room, user);
    }
    state.slow_mode.forget_room(change.room);
}

/// Listens on [`CHANNEL`] until shutdown, reconnecting with backoff.
pub fn spawn_listener(
    state: AppState,
    shutdown: CancellationToken,
) -> Result<tokio::task::JoinHandle<()>, redis::RedisError> {
    let client = redis::Client::open(state.config.sequencer.redis_url.as_str())?;
    Ok(tokio::spawn(async move {
        let mut backoff = Duration::from_millis(100);
        while !shutdown.is_cancelled() {
            match client.get_async_pubsub().await {
                Ok(mut pubsub) => {
                    if pubsub.subscribe(CHANNEL).await.is_ok() {
                        backoff = Duration::from_millis(100);
                        listen(&state, pubsub, &shutdown).await;
                    }
                }
                Err(error) => tracing::warn!(%error, "redis pub/sub for room changes unavailable"),
            }
            tokio::select! {
                () = tokio::time::sleep(backoff) => {}
                () = shutdown.cancelled() => return,
            }
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
    }))
}

async fn listen(state: &AppState, mut pubsub: redis::aio::PubSub, shutdown: &CancellationToken) {
    let mut messages = pubsub.on_message();
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            message = messages.next() => match message {
                Some(message) => {
                    if let Ok(change) = serde_json::from_slice::<Change>(message.get_payload_bytes()) {
                        forget(state, change);
                    }
                }
                None => return,
            },
        }
    }
}
