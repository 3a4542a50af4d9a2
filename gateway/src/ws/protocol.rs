//! The WebSocket wire protocol, version 1: every frame is one JSON text message
//! with a `type`. Documented in `docs/protocol.md`.

use axum::extract::ws::Utf8Bytes;
use chat_core::event::{EventOp, ModAction, Moderation};
use chat_core::{MessageKind, SequencedEvent};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::rooms::MyRoom;

/// The protocol version this gateway speaks (also the `chat.v1` subprotocol).
pub const PROTOCOL_VERSION: u32 = 1;
pub const SUBPROTOCOL: &str = "chat.v1";

/// A frame from the client, and the error of a text frame that is none.
/// They live in chat-wire so that the fuzz target `client_frame` builds without
/// the gateway's dependencies.
pub use chat_wire::client::{BadFrame, ClientFrame, Status};

/// A user as frames show it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct UserRef {
    pub id: Uuid,
    pub username: String,
}

/// A frame from the server.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame<'a> {
    Hello {
        protocol: u32,
        /// The gateway instance serving this connection (for diagnostics).
        server: &'a str,
        session: &'a str,
        user: UserRef,
        /// The server pings at this interval; a client may ping too.
        heartbeat_ms: u64,
        limits: Limits,
    },
    Subscribed {
        room: Uuid,
        epoch: u64,
        /// The room's latest seq when the subscription started (0: none yet).
        head_seq: i64,
        /// The seq the room's epoch started from: a seq at or below it that
        /// history does not hold will never exist (no gap).
        base_seq: i64,
        /// How many users are online in the room (you included); who they
        /// are is `GET /api/rooms/{id}/online`.
        online_count: u64,
    },
    Unsubscribed {
        room: Uuid,
    },
    Ack {
        room: Uuid,
        client_msg_id: &'a str,
        id: Uuid,
        seq: i64,
        epoch: u64,
    },
    Error {
        code: ErrorCode,
        message: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        room: Option<Uuid>,
        #[serde(skip_serializing_if = "Option::is_none")]
        client_msg_id: Option<&'a str>,
        /// With `rate_limited`, when the server knows the wait (slow mode always says it).
        #[serde(skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
    },
    /// The client missed messages of this room: reload it (history, then subscribe with the last seq).
    Resync {
        room: Uuid,
        reason: &'a str,
    },
    /// A user came online in the room (signed in somewhere, with any
    /// connection following it), went offline, or changed status.
    Presence {
        room: Uuid,
        user: UserRef,
        online: bool,
        /// While online: `away` when every connection of theirs is away.
        #[serde(skip_serializing_if = "Option::is_none")]
        status: Option<Status>,
    },
    Typing {
        room: Uuid,
        user: UserRef,
    },
    /// A member left the room; if it is you, the room's feed has ended.
    MemberLeft {
        room: Uuid,
        user: UserRef,
    },
    Pong {
        #[serde(skip_serializing_if = "Option::is_none")]
        nonce: Option<u64>,
    },
    /// The user's feed: they have a room more (invited, a direct room, a room
    /// created or joined on another connection); one entry of `GET /api/rooms/mine`.
    RoomAdded {
        room: &'a MyRoom,
    },
    /// The user's feed: they are not a member of the room any more.
    RoomRemoved {
        room: Uuid,
        reason: RemovedReason,
    },
    /// The user's feed: their read marker of the room moved forward (any device).
    Read {
        room: Uuid,
        seq: i64,
    },
}

/// Why a room left the user's list (`room_removed`).
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RemovedReason {
    /// They left it (on any device).
    Left,
    Kicked,
    Banned,
}

/// Limits the client should respect (sent in `hello`).
#[derive(Debug, Serialize)]
pub struct Limits {
    pub max_body_chars: usize,
    pub max_message_bytes: usize,
    pub messages_per_sec: u32,
    pub messages_burst: u32,
    pub max_rooms: usize,
}

/// Machine-readable error codes of `error` frames.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The frame is not valid JSON or not a known frame.
    BadFrame,
    /// A field is invalid (empty or oversized body, bad client message id).
    Invalid,
    /// Not a member of the room, or the room does not exist.
    Forbidden,
    /// Too many messages; slow down.
    RateLimited,
    /// Too many rooms on this connection.
    TooManyRooms,
    /// Not subscribed to that room.
    NotSubscribed,
    /// The message could not be made durable in time; resend it with the same client_msg_id.
    Unavailable,
    /// The token in an `auth` frame is not valid for this connection.
    Unauthenticated,
}

/// A sequenced room event as it travels: the `message` frame. Every op
/// (a message, an edit, a delete, a reaction, a topic, a moderation action)
/// is one, with the room's next seq.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct MessageFrame {
    #[serde(rename = "type")]
    pub kind_tag: MessageTag,
    pub room: Uuid,
    pub seq: i64,
    pub epoch: u64,
    pub id: Uuid,
    pub sender: UserRef,
    pub client_msg_id: String,
    pub kind: MessageKind,
    /// The text of a message or an edit, the topic of a topic, "" otherwise
    /// (and once the message is deleted).
    pub body: String,
    pub sent_at: DateTime<Utc>,
    pub op: EventOp,
    /// The message an edit, delete, react or unreact acts on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Uuid>,
    /// The message a message answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emoji: Option<String>,
    /// Users the message or edit mentions by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<Uuid>,
    /// `@room` by an owner or a moderator.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mention_room: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moderation: Option<ModerationView>,
}

/// A moderation action as frames and history show it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ModerationView {
    pub action: ModAction,
    /// The member acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<UserRef>,
    /// Slow mode's interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<u32>,
    /// The new role: `moderator` or `member`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

impl From<&Moderation> for ModerationView {
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

/// The constant `"message"` tag.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MessageTag {
    Message,
}

impl MessageFrame {
    pub fn from_record(record: &SequencedEvent) -> Self {
        let e = &record.event;
        Self {
            kind_tag: MessageTag::Message,
            room: e.room_id,
            seq: record.seq,
            epoch: record.epoch,
            id: e.id,
            sender: UserRef {
                id: e.sender_id,
                username: e.sender_name.clone(),
            },
            client_msg_id: e.client_msg_id.clone(),
            kind: e.kind,
            body: e.body.clone(),
            sent_at: e.sent_at,
            op: e.ext.op,
            target: e.ext.target,
            reply_to: e.ext.reply_to,
            emoji: e.ext.emoji.clone(),
            mentions: e.ext.mentions.clone(),
            mention_room: e.ext.mention_room,
            moderation: e.ext.moderation.as_ref().map(ModerationView::from),
        }
    }
}

/// The `message` frame of a sequenced record, serialised once for every socket.
pub fn message_frame(record: &SequencedEvent) -> Utf8Bytes {
    encode(&MessageFrame::from_record(record))
}

/// Serialises a frame to a WebSocket text payload.
pub fn encode<T: Serialize>(frame: &T) -> Utf8Bytes {
    Utf8Bytes::from(serde_json::to_string(frame).unwrap_or_else(|error| {
        tracing::error!(%error, "frame serialisation failed");
        String::from(r#"{"type":"error","code":"bad_frame","message":"internal"}"#)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_frame_round_trips() {
        let event = chat_core::ChatEvent::new(
            Uuid::now_v7(),
            Uuid::now_v7(),
            "c",
            MessageKind::User,
            "<b>x</b>",
        );
        let record = SequencedEvent {
            seq: 7,
            epoch: 3,
            event,
        };
        let text = message_frame(&record);
        let back: MessageFrame = serde_json::from_str(text.as_str()).expect("parses");
        assert_eq!(back, MessageFrame::from_record(&record));
        assert!(text.as_str().starts_with(r#"{"type":"message""#));
        assert!(text.as_str().contains(r#""op":"message""#));
        assert!(
            !text.as_str().contains("mentions"),
            "empty fields are left out"
        );
    }

    #[test]
    fn a_moderation_event_shows_its_user_with_their_name() {
        let event = chat_core::ChatEvent::new(
            Uuid::now_v7(),
            Uuid::now_v7(),
            "srv-1",
            MessageKind::System,
            "",
        )
        .with_ext(chat_core::event::EventExt {
            op: EventOp::Moderation,
            moderation: Some(Moderation {
                action: ModAction::Kick,
                user: Some(Uuid::from_u128(5)),
                username: Some("mallory".into()),
                seconds: None,
                role: None,
            }),
            ..Default::default()
        });
        let record = SequencedEvent {
            seq: 1,
            epoch: 1,
            event,
        };
        let frame: serde_json::Value =
            serde_json::from_str(message_frame(&record).as_str()).expect("json");
        assert_eq!(frame["op"], "moderation");
        assert_eq!(frame["moderation"]["action"], "kick");
        assert_eq!(frame["moderation"]["user"]["username"], "mallory");
    }
}
