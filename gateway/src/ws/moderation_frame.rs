//! The `moderation` object of a `message` frame: the record's
//! [`Moderation`] with its user as `{id, username}`.

use chat_core::event::{ModAction, Moderation};
use serde::{Deserialize, Serialize};

use super::protocol::UserRef;

/// A moderation action as a client sees it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ModerationFrame {
    pub action: ModAction,
    /// The member acted on (kick, ban, unban, role).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<UserRef>,
    /// Slow mode's interval (0: off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<u32>,
    /// The new role (`moderator` or `member`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

impl From<&Moderation> for ModerationFrame {
    fn from(m: &Moderation) -> Self {
        Self {
            action: m.action,
            user: m.user.map(|id| UserRef {
                id,
                username: m.username.clone().unwrap_or_default(),
            }),
            seconds: m.seconds,
            role: m.role.clone(),
        }
    }
}
