//! The Kafka record of a sent message (`chat.messages`) and its validation.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Version of the record layout; a consumer refuses versions it does not know.
/// A plain message is written as version 1 (a writer of the previous release
/// still stores it); an event with an [`EventExt`] as version 2, which that
/// writer refuses rather than store an edit or a reaction as a new message.
pub const SCHEMA_VERSION: u16 = 2;
/// The version of a record without an [`EventExt`].
pub const PLAIN_SCHEMA_VERSION: u16 = 1;
/// Longest room topic, in Unicode scalar values (the database checks it too).
pub const MAX_TOPIC_CHARS: usize = 300;
/// Most users one message may mention by name.
pub const MAX_MENTIONS: usize = 20;
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
    /// What the event does besides (or instead of) adding a message; absent
    /// for a plain message. `docs/protocol.md`, "Room events".
    #[serde(default, skip_serializing_if = "EventExt::is_plain")]
    pub ext: EventExt,
}

/// What a room event does: every change to a room's content travels as a
/// record of `chat.messages`, gets the room's next seq and is stored once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type))]
#[cfg_attr(
    feature = "sqlx",
    sqlx(type_name = "message_op", rename_all = "snake_case")
)]
#[serde(rename_all = "snake_case")]
pub enum EventOp {
    /// A new message (`body`, maybe `reply_to` and mentions).
    #[default]
    Message,
    /// The sender's new text (`body`) for their message `target`.
    Edit,
    /// `target` deleted (by its sender or a moderator); `body` is empty.
    Delete,
    /// The sender reacted to `target` with `emoji`.
    React,
    /// The sender took back their `emoji` reaction to `target`.
    Unreact,
    /// The room's new topic is `body` (empty: none).
    Topic,
    /// A moderation action (`moderation`); `body` is empty.
    Moderation,
}

impl EventOp {
    /// The name Postgres' `message_op` enum and the wire use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Message => "message",
            Self::Edit => "edit",
            Self::Delete => "delete",
            Self::React => "react",
            Self::Unreact => "unreact",
            Self::Topic => "topic",
            Self::Moderation => "moderation",
        }
    }
}

/// A moderation action as the room sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModAction {
    /// `user` removed from the room; they may join again.
    Kick,
    /// `user` removed and barred until unbanned.
    Ban,
    Unban,
    /// One message per member per `seconds` (0: off).
    SlowMode,
    /// `user`'s role is now `role` (`moderator` or `member`).
    Role,
}

/// The details of a [`EventOp::Moderation`] event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moderation {
    pub action: ModAction,
    /// The member acted on (kick, ban, unban, role).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<Uuid>,
    /// Their username when acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Slow mode's interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<u32>,
    /// The new role (`moderator` or `member`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// The parts of a room event beyond a plain message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventExt {
    #[serde(default)]
    pub op: EventOp,
    /// The message an edit, delete or reaction acts on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Uuid>,
    /// The message a new message replies to (same room).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<Uuid>,
    /// The emoji of a reaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emoji: Option<String>,
    /// Members a message or an edit mentions by `@username` (resolved by the gateway).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<Uuid>,
    /// `@room`: every member is mentioned (owners and moderators only).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mention_room: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moderation: Option<Moderation>,
}

impl EventExt {
    /// True for a plain message: nothing beyond the v1 record.
    pub fn is_plain(&self) -> bool {
        *self == Self::default()
    }
}

/// Whether `emoji` is one emoji (any Unicode emoji, with skin tone or ZWJ
/// sequence), the only thing a reaction may carry.
pub fn is_emoji(emoji: &str) -> bool {
    emoji.len() <= 64 && emojis::get(emoji).is_some()
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
            .field("op", &self.ext.op)
            .field("target", &self.ext.target)
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
    /// The fields do not fit the event's `op` (a missing target, a body on a
    /// delete, an extension on a version 1 record, ...).
    #[error("fields do not fit a {0} event")]
    BadShape(&'static str),
    #[error("a reaction must be one emoji")]
    BadEmoji,
    #[error("topic is longer than {MAX_TOPIC_CHARS} characters")]
    TopicTooLong,
    #[error("a message mentions at most {MAX_MENTIONS} users")]
    TooManyMentions,
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
            v: PLAIN_SCHEMA_VERSION,
            id: Uuid::now_v7(),
            room_id,
            sender_id,
            sender_name: String::new(),
            client_msg_id: client_msg_id.into(),
            kind,
            body: body.into(),
            sent_at: Utc::now(),
            ext: EventExt::default(),
        }
    }

    /// The same event with `ext`, at the version that carries it.
    pub fn with_ext(mut self, ext: EventExt) -> Self {
        self.v = if ext.is_plain() {
            PLAIN_SCHEMA_VERSION
        } else {
            SCHEMA_VERSION
        };
        self.ext = ext;
        self
    }

    /// What the event does.
    pub fn op(&self) -> EventOp {
        self.ext.op
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
        if !(PLAIN_SCHEMA_VERSION..=SCHEMA_VERSION).contains(&v) {
            return Err(InvalidEvent::UnsupportedVersion(v));
        }
        let event: Self =
            serde_json::from_str(text).map_err(|e| InvalidEvent::Undecodable(e.to_string()))?;
        event.validate()?;
        Ok(event)
    }

    /// Checks the limits the database enforces, so a bad event fails here and not in a batch.
    pub fn validate(&self) -> Result<(), InvalidEvent> {
        self.validate_shape()?;
        if self.client_msg_id.is_empty()
            || self.client_msg_id.len() > MAX_CLIENT_MSG_ID_LEN
            || self.client_msg_id.contains('\0')
        {
            return Err(InvalidEvent::BadClientMsgId);
        }
        Ok(())
    }
}

impl ChatEvent {
    /// Checks the fields `op` needs and refuses the ones it does not take.
    fn validate_shape(&self) -> Result<(), InvalidEvent> {
        let x = &self.ext;
        let op = x.op;
        let shape = |ok: bool| {
            if ok {
                Ok(())
            } else {
                Err(InvalidEvent::BadShape(op.as_str()))
            }
        };
        if self.v == PLAIN_SCHEMA_VERSION && !x.is_plain() {
            return Err(InvalidEvent::BadShape(op.as_str()));
        }
        if x.mentions.len() > MAX_MENTIONS {
            return Err(InvalidEvent::TooManyMentions);
        }
        let mentions_ok = matches!(op, EventOp::Message | EventOp::Edit)
            || (x.mentions.is_empty() && !x.mention_room);
        shape(mentions_ok)?;
        shape(x.moderation.is_none() || op == EventOp::Moderation)?;
        shape(x.emoji.is_none() || matches!(op, EventOp::React | EventOp::Unreact))?;
        shape(x.reply_to.is_none() || op == EventOp::Message)?;
        let targeted = matches!(
            op,
            EventOp::Edit | EventOp::Delete | EventOp::React | EventOp::Unreact
        );
        shape(x.target.is_some() == targeted)?;
        match op {
            EventOp::Message | EventOp::Edit => validate_body(&self.body),
            EventOp::Delete => shape(self.body.is_empty()),
            EventOp::React | EventOp::Unreact => {
                shape(self.body.is_empty())?;
                match &x.emoji {
                    Some(emoji) if is_emoji(emoji) => Ok(()),
                    _ => Err(InvalidEvent::BadEmoji),
                }
            }
            EventOp::Topic => {
                if self.body.contains('\0') {
                    return Err(InvalidEvent::NulCharacter);
                }
                if self.body.chars().count() > MAX_TOPIC_CHARS {
                    return Err(InvalidEvent::TopicTooLong);
                }
                Ok(())
            }
            EventOp::Moderation => shape(self.body.is_empty() && x.moderation.is_some()),
        }
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

    fn targeted(op: EventOp, body: &str) -> ChatEvent {
        event(body).with_ext(EventExt {
            op,
            target: Some(Uuid::now_v7()),
            ..EventExt::default()
        })
    }

    #[test]
    fn an_event_with_an_extension_is_version_2_and_round_trips() {
        let mut e = targeted(EventOp::React, "");
        e.ext.emoji = Some("\u{1F44D}\u{1F3FD}".into());
        assert_eq!(e.v, SCHEMA_VERSION);
        assert_eq!(ChatEvent::decode(&e.encode()), Ok(e.clone()));
        // a plain message stays version 1, without the extension on the wire
        let plain = event("hi").with_ext(EventExt::default());
        assert_eq!(plain.v, PLAIN_SCHEMA_VERSION);
        assert!(
            !String::from_utf8(plain.encode())
                .expect("utf-8")
                .contains("ext")
        );
    }

    #[test]
    fn a_version_1_record_cannot_carry_an_extension() {
        let mut e = targeted(EventOp::Delete, "");
        e.v = PLAIN_SCHEMA_VERSION;
        assert_eq!(e.validate(), Err(InvalidEvent::BadShape("delete")));
    }

    #[test]
    fn each_op_takes_its_own_fields() {
        assert_eq!(targeted(EventOp::Edit, "new").validate(), Ok(()));
        assert_eq!(
            targeted(EventOp::Edit, " ").validate(),
            Err(InvalidEvent::EmptyBody)
        );
        assert_eq!(targeted(EventOp::Delete, "").validate(), Ok(()));
        assert_eq!(
            targeted(EventOp::Delete, "body").validate(),
            Err(InvalidEvent::BadShape("delete"))
        );
        // a reaction needs one emoji, and only an emoji
        let mut react = targeted(EventOp::React, "");
        assert_eq!(react.validate(), Err(InvalidEvent::BadEmoji));
        for bad in ["a", ":)", "\u{1F600}\u{1F600}", "\u{1F600} ", ""] {
            react.ext.emoji = Some(bad.into());
            assert_eq!(react.validate(), Err(InvalidEvent::BadEmoji), "{bad:?}");
        }
        for good in [
            "\u{1F600}",
            "\u{2764}\u{FE0F}",
            "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}",
        ] {
            react.ext.emoji = Some(good.into());
            assert_eq!(react.validate(), Ok(()), "{good:?}");
        }
        // an edit without its target, a message with one
        let mut edit = targeted(EventOp::Edit, "x");
        edit.ext.target = None;
        assert_eq!(edit.validate(), Err(InvalidEvent::BadShape("edit")));
        let mut message = event("x").with_ext(EventExt {
            reply_to: Some(Uuid::now_v7()),
            ..EventExt::default()
        });
        assert_eq!(message.validate(), Ok(()));
        message.ext.target = Some(Uuid::now_v7());
        assert_eq!(message.validate(), Err(InvalidEvent::BadShape("message")));
        // mentions only on messages and edits, and a bounded number of them
        let mut mentions = event("x").with_ext(EventExt {
            mentions: vec![Uuid::now_v7(); MAX_MENTIONS + 1],
            ..EventExt::default()
        });
        assert_eq!(mentions.validate(), Err(InvalidEvent::TooManyMentions));
        mentions.ext.mentions.truncate(MAX_MENTIONS);
        assert_eq!(mentions.validate(), Ok(()));
        let mut delete = targeted(EventOp::Delete, "");
        delete.ext.mention_room = true;
        assert_eq!(delete.validate(), Err(InvalidEvent::BadShape("delete")));
    }

    #[test]
    fn topics_and_moderation_events_are_checked() {
        let topic = |body: &str| {
            event("x")
                .with_ext(EventExt {
                    op: EventOp::Topic,
                    ..EventExt::default()
                })
                .tap_body(body)
        };
        assert_eq!(topic("").validate(), Ok(()));
        assert_eq!(topic(&"t".repeat(MAX_TOPIC_CHARS)).validate(), Ok(()));
        assert_eq!(
            topic(&"t".repeat(MAX_TOPIC_CHARS + 1)).validate(),
            Err(InvalidEvent::TopicTooLong)
        );
        let ban = event("").with_ext(EventExt {
            op: EventOp::Moderation,
            moderation: Some(Moderation {
                action: ModAction::Ban,
                user: Some(Uuid::now_v7()),
                username: Some("mallory".into()),
                seconds: None,
                role: None,
            }),
            ..EventExt::default()
        });
        assert_eq!(ban.validate(), Ok(()));
        assert_eq!(ChatEvent::decode(&ban.encode()), Ok(ban.clone()));
        let mut no_details = ban.clone();
        no_details.ext.moderation = None;
        assert_eq!(
            no_details.validate(),
            Err(InvalidEvent::BadShape("moderation"))
        );
    }

    trait TapBody {
        fn tap_body(self, body: &str) -> Self;
    }
    impl TapBody for ChatEvent {
        fn tap_body(mut self, body: &str) -> Self {
            self.body = body.into();
            self
        }
    }

    #[test]
    fn debug_output_leaves_the_body_out() {
        let e = event("my secret text");
        assert!(!format!("{e:?}").contains("secret"));
    }
}
