//! A room's ephemeral channel (presence, typing, a bot's reply in progress):
//! frames published there are relayed to the room's sockets as they are and
//! never stored. The `draft` frame, which the bot publishes and the gateway
//! relays untouched, is defined here so that both sides share one shape.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The pub/sub channel of a room's ephemeral frames, serialised by their publisher.
pub fn live_channel(room: Uuid) -> String {
    format!("chat:room:{room}:live")
}

/// Where a pending reply stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DraftState {
    /// More text is coming; `body` is the whole text so far.
    Streaming,
    /// No reply will come (the model failed and no notice is configured):
    /// the client drops the pending message.
    Cancelled,
}

/// The author of a draft as frames show users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftSender {
    pub id: Uuid,
    pub username: String,
}

/// The constant `"draft"` tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DraftTag {
    Draft,
}

/// A reply being written: the `draft` frame. It carries the whole text so far
/// (not a delta), so a lost or late frame costs nothing; the `message` with the
/// same `id` replaces it once the reply is sequenced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftFrame {
    #[serde(rename = "type")]
    pub tag: DraftTag,
    pub room: Uuid,
    /// The id the final message will have.
    pub id: Uuid,
    /// The message this replies to.
    pub reply_to: Uuid,
    pub sender: DraftSender,
    pub body: String,
    pub state: DraftState,
}

impl DraftFrame {
    /// The frame's text, as published on the live channel and sent to sockets.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("a draft frame of uuids and strings always serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draft_frame_is_tagged_and_round_trips() {
        let frame = DraftFrame {
            tag: DraftTag::Draft,
            room: Uuid::now_v7(),
            id: Uuid::now_v7(),
            reply_to: Uuid::now_v7(),
            sender: DraftSender {
                id: Uuid::now_v7(),
                username: "bot".into(),
            },
            body: "<b>partial".into(),
            state: DraftState::Streaming,
        };
        let text = frame.encode();
        assert!(text.starts_with(r#"{"type":"draft""#));
        assert!(text.contains(r#""state":"streaming""#));
        assert_eq!(serde_json::from_str::<DraftFrame>(&text).ok(), Some(frame));
    }
}
