//! Room changes every gateway learns at once: a member removed (kick, ban).
//! One Redis channel for all rooms; each gateway's listener forgets the
//! membership it remembered for Postgres outages ([`crate::membership`]).
//! Best effort: when a notice is lost (Redis pub/sub down), the memory's own
//! bound holds (it only answers during a Postgres outage). A room's slow mode
//! and its members' roles need no notice: each send reads them.

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::state::AppState;

/// The channel every gateway listens on.
pub const CHANNEL: &str = "chat:rooms:changed";

/// What changed in a room. (Gateways before 2026-11-30 also announced slow
/// mode and role changes, without `removed`: those do not parse, and need
/// nothing forgotten.)
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Change {
    pub room: Uuid,
    /// A member who is not one any more.
    pub removed: Uuid,
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
    state.membership.forget(change.room, change.removed);
}

/// Listens on [`CHANNEL`] until shutdown (see [`crate::channel`]).
pub fn spawn_listener(
    state: AppState,
    shutdown: CancellationToken,
) -> Result<tokio::task::JoinHandle<()>, redis::RedisError> {
    let redis_url = state.config.sequencer.redis_url.clone();
    crate::channel::spawn(&redis_url, CHANNEL, Listener(state), shutdown)
}

/// Forgets, on this gateway, what a change announced by another one makes stale.
struct Listener(AppState);

impl crate::channel::Listener for Listener {
    const WHAT: &'static str = "room changes";

    fn message(&self, payload: &[u8]) {
        if let Ok(change) = serde_json::from_slice::<Change>(payload) {
            forget(&self.0, change);
        }
    }
}
