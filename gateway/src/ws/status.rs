//! The `status` frame's effect: a connection's person is away or active
//! again, and the presence of every room the connection follows learns it
//! (`presence_status.lua` announces the user's status where it changed).

use std::collections::HashSet;

use uuid::Uuid;

use crate::state::AppState;
use crate::ws::protocol::{Status, UserRef};

/// Sets the connection's `status` in each of its `rooms`; a room whose
/// presence cannot be told keeps the old status until the next change or
/// subscribe (logged).
pub async fn announce(
    state: &AppState,
    user: &UserRef,
    connection: &str,
    rooms: &HashSet<Uuid>,
    status: Status,
) {
    for room in rooms {
        if let Err(error) = state
            .presence
            .set_status(*room, user, connection, status)
            .await
        {
            tracing::warn!(%error, room.id = %room, "could not set a presence status");
        }
    }
}
