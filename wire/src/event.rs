//! The Kafka record of a sent message (`chat.messages`) and its validation.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Version of the record layout; a consumer refuses versions it does not know.
pub const SCHEMA_VERSION: u16 = 1;
/// Longest message body, in Unicode scalar values (the database checks it too).
pub const MAX_BODY_CHARS: usize = 4000;
/// Longest client message id, in bytes.
pub const MAX_CLIENT_MSG_ID_LEN: usize = 64;

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type))]
#[cfg_attr(
    feature = "sqlx",
    sqlx(type_name = "message_kind", rename_all = "lowercase")
)]
#[serde(rename_all = "lowercase")]
pub enum MessageKind {
    User,
    Bot,
    System,
}

impl MessageKind {
    /// The name Postgres' `message_kind` enum and the wire use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Bot => "bot",
            Self::System => "system",
        }
    }
}

/// One message as produced to Kafka, before it has a `seq`.
///
/// `Debug` leaves the body out so that a logged event never carries user text.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatEvent {
    /// Schema version, [`SCHEMA_VERSION`].
    pub v: u16,
    /// Server id (UUIDv7), given before the produce.
    pub id: Uuid,
    pub room_id: Uuid,
    pub sender_id: Uuid,
    /// The sender's username when sent, shown to live recipients (the database
    /// keeps only `sender_id`).
    #[serde(default)]
    pub sender_name: String,
    /// The sender's own id for the message: resends carry the same one.
    pub client_msg_id: String,
    pub kind: MessageKind,
    pub body: String,
    pub sent_at: DateTime<Utc>,
}

impl std::fmt::Debug for ChatEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatEvent")
            .field("v", &self.v)
            .field("id", &self.id)
            .field("room_id", &self.room_id)
            .field("sender_id", &self.sender_id)
            .field("kind", &self.kind)
            .field("body.chars", &self.body.chars().count())
            .field("sent_at", &self.sent_at)
            .finish_non_exhaustive()
    }
}

/// Why a record cannot be a [`ChatEvent`]; such a record is poison.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InvalidEvent {
    #[error("record is not a chat event: {0}")]
    Undecodable(String),
    #[error("unsupported schema version {0}")]
    UnsupportedVersion(u16),
    #[error("body is empty")]
    EmptyBody,
    #[error("body is longer than {MAX_BODY_CHARS} characters")]
    BodyTooLong,
    #[error("text contains a NUL character")]
    NulCharacter,
    #[error("client message id must be 1 to {MAX_CLIENT_MSG_ID_LEN} bytes")]
    BadClientMsgId,
}

/// Namespace of the ids of people's messages (UUIDv5 of sender and client message id).
const MESSAGE_ID_NAMESPACE: Uuid = Uuid::from_u128(0x6368_6174_2d6d_7367_2d69_6473_0000_0001);

/// The id of the message `sender` names `client_msg_id`: the same for every
/// send and resend of it, so that a resend is the same message wherever it
/// is looked up, even after every store that remembered the first send forgot it.
pub fn message_id(sender: Uuid, client_msg_id: &str) -> Uuid {
    let mut name = Vec::with_capacity(16 + client_msg_id.len());
    name.extend_from_slice(sender.as_bytes());
    name.extend_from_slice(client_msg_id.as_bytes());
    Uuid::new_v5(&MESSAGE_ID_NAMESPACE, &name)
}

impl ChatEvent {
    /// A new event with a fresh UUIDv7 id, stamped now.
    pub fn new(
        room_id: Uuid,
        sender_id: Uuid,
        client_msg_id: impl Into<String>,
        kind: MessageKind,
        body: impl Into<String>,
    ) -> Self {
        Self {
            v: SCHEMA_VERSION,
            id: Uuid::now_v7(),
            room_id,
            sender_id,
            sender_name: String::new(),
            client_msg_id: client_msg_id.into(),
            kind,
            body: body.into(),
            sent_at: Utc::now(),
        }
    }

    /// The record's bytes on the wire.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self)
            .expect("a ChatEvent of strings, uuids and a timestamp always serialises")
    }

    /// Parses and validates a record; anything that could never be stored is refused.
    pub fn decode(bytes: &[u8]) -> Result<Self, InvalidEvent> {
        #[derive(Deserialize)]
        struct Version {
            v: u16,
        }
        // JSON is UTF-8 text: checked once for the whole record, because
        // serde_json skips the strings of fields it ignores without looking
        let text =
            std::str::from_utf8(bytes).map_err(|e| InvalidEvent::Undecodable(e.to_string()))?;
        let Version { v } =
            serde_json::from_str(text).map_err(|e| InvalidEvent::Undecodable(e.to_string()))?;
        if v != SCHEMA_VERSION {
            return Err(InvalidEvent::UnsupportedVersion(v));
        }
        let event: Self =
            serde_json::from_str(text).map_err(|e| InvalidEvent::Undecodable(e.to_string()))?;
        event.validate()?;
        Ok(event)
    }

    /// Checks the limits the database enforces, so a bad event fails here and not in a batch.
    pub fn validate(&self) -> Result<(), InvalidEvent> {
        validate_body(&self.body)?;
        if self.client_msg_id.is_empty()
            || self.client_msg_id.len() > MAX_CLIENT_MSG_ID_LEN
            || self.client_msg_id.contains('\0')
        {
            return Err(InvalidEvent::BadClientMsgId);
        }
        Ok(())
    }
}

/// Checks a message body against the limits every layer shares.
pub fn validate_body(body: &str) -> Result<(), InvalidEvent> {
    if body.trim().is_empty() {
        return Err(InvalidEvent::EmptyBody);
    }
    if body.chars().count() > MAX_BODY_CHARS {
        return Err(InvalidEvent::BodyTooLong);
    }
    if body.contains('\0') {
        return Err(InvalidEvent::NulCharacter);
    }
    Ok(())
}

/// A message with its place in the room: what the sequencer publishes and keeps
/// in the room's tail, and what a live recipient gets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SequencedEvent {
    pub seq: i64,
    pub epoch: u64,
    pub event: ChatEvent,
}

#[cfg(test)]
mod message_id_tests {
    use super::*;

    #[test]
    fn a_message_id_is_the_same_for_every_send_and_differs_per_sender_and_client_id() {
        let (alice, bob) = (Uuid::from_u128(1), Uuid::from_u128(2));
        assert_eq!(message_id(alice, "c-1"), message_id(alice, "c-1"));
        assert_ne!(message_id(alice, "c-1"), message_id(bob, "c-1"));
        assert_ne!(message_id(alice, "c-1"), message_id(alice, "c-2"));
        // the sender's bytes and the client id cannot be shifted into each other
        assert_ne!(message_id(alice, "c-1"), message_id(Uuid::nil(), "c-1"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(body: &str) -> ChatEvent {
        ChatEvent::new(
            Uuid::now_v7(),
            Uuid::now_v7(),
            "c-1",
            MessageKind::User,
            body,
        )
    }

    #[test]
    fn an_event_survives_encode_and_decode() {
        let e = event("hello <b>world</b> \u{1F600}");
        assert_eq!(ChatEvent::decode(&e.encode()), Ok(e));
    }

    #[test]
    fn garbage_is_undecodable() {
        assert!(matches!(
            ChatEvent::decode(b"\xff\x00not json"),
            Err(InvalidEvent::Undecodable(_))
        ));
    }

    /// Found by the fuzz target `kafka_record`: serde_json skips an unknown
    /// field's string without checking its UTF-8, so a corrupt record was
    /// refused as "unsupported version" or, with `v: 1`, accepted.
    #[test]
    fn a_record_that_is_not_utf8_is_undecodable() {
        let mut e = event("hi");
        let json = String::from_utf8(e.encode()).expect("utf-8");
        let corrupt = |json: &str| {
            let mut bytes = json.replacen('{', r#"{"extra":"X","#, 1).into_bytes();
            let x = bytes.iter().position(|b| *b == b'X').expect("marker");
            bytes[x] = 0xff;
            bytes
        };
        assert!(matches!(
            ChatEvent::decode(&corrupt(&json)),
            Err(InvalidEvent::Undecodable(_))
        ));
        e.v = 2;
        let json = String::from_utf8(e.encode()).expect("utf-8");
        assert!(matches!(
            ChatEvent::decode(&corrupt(&json)),
            Err(InvalidEvent::Undecodable(_))
        ));
    }

    #[test]
    fn an_unknown_version_is_refused() {
        let mut e = event("hi");
        e.v = 99;
        assert_eq!(
            ChatEvent::decode(&e.encode()),
            Err(InvalidEvent::UnsupportedVersion(99))
        );
    }

    #[test]
    fn bodies_outside_the_limits_are_refused() {
        assert_eq!(event("  ").validate(), Err(InvalidEvent::EmptyBody));
        assert_eq!(event("a\0b").validate(), Err(InvalidEvent::NulCharacter));
        let long = "é".repeat(MAX_BODY_CHARS + 1);
        assert_eq!(event(&long).validate(), Err(InvalidEvent::BodyTooLong));
        assert_eq!(event(&"é".repeat(MAX_BODY_CHARS)).validate(), Ok(()));
    }

    #[test]
    fn debug_output_leaves_the_body_out() {
        let e = event("my secret text");
        assert!(!format!("{e:?}").contains("secret"));
    }
}
