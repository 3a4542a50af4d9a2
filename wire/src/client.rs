//! The frames a client sends on its WebSocket (protocol 1, `docs/protocol.md`)
//! and their parser.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A frame from the client.
///
/// `Debug` leaves message bodies and tokens out, so a logged frame never
/// carries user text or a credential.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientFrame {
    /// Start receiving a room. With `last_seq`, everything after it is replayed
    /// first (resume); `epoch` is the room epoch the client's seqs belong to.
    Subscribe {
        room: Uuid,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last_seq: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        epoch: Option<u64>,
    },
    Unsubscribe {
        room: Uuid,
    },
    /// Send a message; resending with the same `client_msg_id` is safe. The
    /// limits of `client_msg_id` and `body` are checked when the message
    /// becomes a [`ChatEvent`](crate::ChatEvent), so that a refusal can name
    /// the message it refuses.
    Send {
        room: Uuid,
        client_msg_id: String,
        body: String,
        /// The message of the same room this one answers.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply_to: Option<Uuid>,
    },
    /// New text for the sender's own message `message`.
    Edit {
        room: Uuid,
        client_msg_id: String,
        message: Uuid,
        body: String,
    },
    /// Delete `message` (its sender, or an owner or moderator of the room).
    Delete {
        room: Uuid,
        client_msg_id: String,
        message: Uuid,
    },
    /// React to `message` with one emoji.
    React {
        room: Uuid,
        client_msg_id: String,
        message: Uuid,
        emoji: String,
    },
    /// Take back one's `emoji` reaction to `message`.
    Unreact {
        room: Uuid,
        client_msg_id: String,
        message: Uuid,
        emoji: String,
    },
    /// "I am typing" in a room; ephemeral, throttled.
    Typing {
        room: Uuid,
    },
    /// Application-level keepalive.
    Ping {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nonce: Option<u64>,
    },
    /// A fresher access token, extending the connection's life.
    Auth {
        token: String,
    },
    /// The person's activity behind this connection: `away` after a while
    /// without input, `active` again on input. A user is away in a room when
    /// every live connection of theirs is.
    Status {
        status: Status,
    },
}

/// Whether the person behind a connection is at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    #[default]
    Active,
    Away,
}

/// A text frame that is not a frame of protocol 1: not JSON, an unknown
/// `type`, an unknown or missing field, or a field of the wrong type.
#[derive(Debug, thiserror::Error)]
#[error("not a frame of protocol 1: {0}")]
pub struct BadFrame(#[from] serde_json::Error);

impl ClientFrame {
    /// Parses one WebSocket text frame.
    pub fn parse(text: &str) -> Result<Self, BadFrame> {
        Ok(serde_json::from_str(text)?)
    }

    /// The frame's `type`.
    pub fn tag(&self) -> &'static str {
        match self {
            Self::Subscribe { .. } => "subscribe",
            Self::Unsubscribe { .. } => "unsubscribe",
            Self::Send { .. } => "send",
            Self::Edit { .. } => "edit",
            Self::Delete { .. } => "delete",
            Self::React { .. } => "react",
            Self::Unreact { .. } => "unreact",
            Self::Typing { .. } => "typing",
            Self::Ping { .. } => "ping",
            Self::Auth { .. } => "auth",
            Self::Status { .. } => "status",
        }
    }
}

impl std::fmt::Debug for ClientFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Subscribe {
                room,
                last_seq,
                epoch,
            } => f
                .debug_struct("Subscribe")
                .field("room", room)
                .field("last_seq", last_seq)
                .field("epoch", epoch)
                .finish(),
            Self::Unsubscribe { room } => {
                f.debug_struct("Unsubscribe").field("room", room).finish()
            }
            Self::Send {
                room,
                client_msg_id,
                body,
                reply_to,
            } => f
                .debug_struct("Send")
                .field("room", room)
                .field("client_msg_id", client_msg_id)
                .field("body.chars", &body.chars().count())
                .field("reply_to", reply_to)
                .finish(),
            Self::Edit {
                room,
                client_msg_id,
                message,
                body,
            } => f
                .debug_struct("Edit")
                .field("room", room)
                .field("client_msg_id", client_msg_id)
                .field("message", message)
                .field("body.chars", &body.chars().count())
                .finish(),
            Self::Delete {
                room,
                client_msg_id,
                message,
            } => f
                .debug_struct("Delete")
                .field("room", room)
                .field("client_msg_id", client_msg_id)
                .field("message", message)
                .finish(),
            Self::React {
                room,
                client_msg_id,
                message,
                emoji,
            }
            | Self::Unreact {
                room,
                client_msg_id,
                message,
                emoji,
            } => f
                .debug_struct(if matches!(self, Self::React { .. }) {
                    "React"
                } else {
                    "Unreact"
                })
                .field("room", room)
                .field("client_msg_id", client_msg_id)
                .field("message", message)
                .field("emoji", emoji)
                .finish(),
            Self::Typing { room } => f.debug_struct("Typing").field("room", room).finish(),
            Self::Ping { nonce } => f.debug_struct("Ping").field("nonce", nonce).finish(),
            Self::Auth { .. } => f.debug_struct("Auth").finish_non_exhaustive(),
            Self::Status { status } => f.debug_struct("Status").field("status", status).finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room() -> Uuid {
        Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_000a)
    }

    #[test]
    fn client_frames_parse_and_unknown_ones_are_refused() {
        let room = room();
        let send = ClientFrame::parse(&format!(
            r#"{{"type":"send","room":"{room}","client_msg_id":"c1","body":"hi"}}"#
        ))
        .expect("send parses");
        assert_eq!(
            send,
            ClientFrame::Send {
                room,
                client_msg_id: "c1".into(),
                body: "hi".into(),
                reply_to: None,
            }
        );
        let message = Uuid::from_u128(7);
        let edit = ClientFrame::parse(&format!(
            r#"{{"type":"edit","room":"{room}","client_msg_id":"c2","message":"{message}","body":"new"}}"#
        ))
        .expect("edit parses");
        assert_eq!(edit.tag(), "edit");
        // a reaction needs its emoji; a delete takes no body
        assert!(
            ClientFrame::parse(&format!(
                r#"{{"type":"react","room":"{room}","client_msg_id":"c3","message":"{message}"}}"#
            ))
            .is_err()
        );
        assert!(
            ClientFrame::parse(&format!(
                r#"{{"type":"delete","room":"{room}","client_msg_id":"c4","message":"{message}","body":"x"}}"#
            ))
            .is_err()
        );
        assert!(ClientFrame::parse(r#"{"type":"launch_missiles"}"#).is_err());
        assert!(
            ClientFrame::parse(&format!(r#"{{"type":"typing","room":"{room}","extra":1}}"#))
                .is_err()
        );
        assert!(ClientFrame::parse(r#"{"type":"ping","nonce":-1}"#).is_err());
    }

    #[test]
    fn a_frame_survives_serialise_and_parse() {
        let frames = [
            ClientFrame::Subscribe {
                room: room(),
                last_seq: Some(7),
                epoch: Some(3),
            },
            ClientFrame::Subscribe {
                room: room(),
                last_seq: None,
                epoch: None,
            },
            ClientFrame::Send {
                room: room(),
                client_msg_id: "c".into(),
                body: "b".into(),
                reply_to: Some(room()),
            },
            ClientFrame::Delete {
                room: room(),
                client_msg_id: "d".into(),
                message: room(),
            },
            ClientFrame::Unreact {
                room: room(),
                client_msg_id: "u".into(),
                message: room(),
                emoji: "\u{1F44D}".into(),
            },
            ClientFrame::Ping { nonce: None },
            ClientFrame::Auth { token: "t".into() },
            ClientFrame::Status {
                status: Status::Away,
            },
        ];
        for frame in frames {
            let text = serde_json::to_string(&frame).expect("serialisable");
            assert_eq!(ClientFrame::parse(&text).expect("parses"), frame, "{text}");
        }
    }

    #[test]
    fn debug_output_leaves_bodies_and_tokens_out() {
        let send = ClientFrame::Send {
            room: room(),
            client_msg_id: "c".into(),
            body: "my secret text".into(),
            reply_to: None,
        };
        let edit = ClientFrame::Edit {
            room: room(),
            client_msg_id: "c".into(),
            message: room(),
            body: "my secret text".into(),
        };
        assert!(!format!("{edit:?}").contains("secret"));
        let auth = ClientFrame::Auth {
            token: "eyJsecret".into(),
        };
        assert!(!format!("{send:?}").contains("secret"));
        assert!(!format!("{auth:?}").contains("secret"));
    }
}
