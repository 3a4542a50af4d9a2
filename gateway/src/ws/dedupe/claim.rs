//! The claim a first send leaves in Redis: enough to rebuild its event from a
//! resend and to refuse a client message id reused for another event.

use chat_core::ChatEvent;
use chat_core::event::EventOp;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::DedupeError;

/// What a claim holds: enough to rebuild the first send's event byte for byte
/// from a resend (sender, client message id and body come with the resend;
/// the sender's name from its session) and to refuse a resend with other
/// content. Stored as 57 bytes: a version byte (1), the id, the room (16 bytes
/// each), `sent_at` in nanoseconds since 1970 (8, big-endian) and the first 16
/// bytes of the content's SHA-256 (see `content_digest`): never the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    pub id: Uuid,
    pub room: Uuid,
    pub sent_at: DateTime<Utc>,
    body_digest: [u8; 16],
}

const CLAIM_V1: u8 = 1;
const CLAIM_LEN: usize = 57;

/// The first 16 bytes of the SHA-256 of what the event does: for a plain
/// message (no reply) its body alone, as claims of earlier gateways hold it;
/// for any other event its op, target, emoji, reply_to and body.
fn content_digest(event: &ChatEvent) -> [u8; 16] {
    let x = &event.ext;
    let hash = if x.op == EventOp::Message && x.reply_to.is_none() {
        Sha256::digest(event.body.as_bytes())
    } else {
        let mut h = Sha256::new();
        h.update(x.op.as_str().as_bytes());
        for part in [x.target, x.reply_to] {
            h.update([0]);
            h.update(part.map(|id| *id.as_bytes()).unwrap_or_default());
        }
        h.update([0]);
        h.update(x.emoji.as_deref().unwrap_or("").as_bytes());
        h.update([0]);
        h.update(event.body.as_bytes());
        h.finalize()
    };
    let mut digest = [0; 16];
    digest.copy_from_slice(&hash[..16]);
    digest
}

impl Claim {
    /// The claim of a first send.
    pub fn of(event: &ChatEvent) -> Self {
        Self {
            id: event.id,
            room: event.room_id,
            sent_at: event.sent_at,
            body_digest: content_digest(event),
        }
    }

    /// The claim's bytes in Redis.
    pub fn encode(&self) -> Result<Vec<u8>, DedupeError> {
        let nanos = self
            .sent_at
            .timestamp_nanos_opt()
            .ok_or(DedupeError::Unreadable)?;
        let mut bytes = Vec::with_capacity(CLAIM_LEN);
        bytes.push(CLAIM_V1);
        bytes.extend_from_slice(self.id.as_bytes());
        bytes.extend_from_slice(self.room.as_bytes());
        bytes.extend_from_slice(&nanos.to_be_bytes());
        bytes.extend_from_slice(&self.body_digest);
        Ok(bytes)
    }

    /// Reads a claim; also the whole event that gateways before this format stored.
    pub fn decode(bytes: &[u8]) -> Result<Self, DedupeError> {
        if bytes.first() == Some(&b'{') {
            return ChatEvent::decode(bytes)
                .map(|event| Self::of(&event))
                .map_err(|_| DedupeError::Unreadable);
        }
        if bytes.len() != CLAIM_LEN || bytes[0] != CLAIM_V1 {
            return Err(DedupeError::Unreadable);
        }
        let uuid = |at: usize| {
            <[u8; 16]>::try_from(&bytes[at..at + 16])
                .map(Uuid::from_bytes)
                .map_err(|_| DedupeError::Unreadable)
        };
        let nanos = <[u8; 8]>::try_from(&bytes[33..41]).map_err(|_| DedupeError::Unreadable)?;
        let body_digest =
            <[u8; 16]>::try_from(&bytes[41..57]).map_err(|_| DedupeError::Unreadable)?;
        Ok(Self {
            id: uuid(1)?,
            room: uuid(17)?,
            sent_at: DateTime::from_timestamp_nanos(i64::from_be_bytes(nanos)),
            body_digest,
        })
    }

    /// The claimed message's event rebuilt from `resend`, or `OtherBody`.
    pub fn event_for(&self, resend: ChatEvent) -> Result<ChatEvent, DedupeError> {
        if content_digest(&resend) != self.body_digest {
            return Err(DedupeError::OtherBody);
        }
        Ok(ChatEvent {
            id: self.id,
            room_id: self.room,
            sent_at: self.sent_at,
            ..resend
        })
    }
}

#[cfg(test)]
mod tests {
    use chat_core::MessageKind;

    use super::*;
    use crate::ws::dedupe::DedupeError;

    fn event(body: &str) -> ChatEvent {
        let mut event = ChatEvent::new(
            Uuid::now_v7(),
            Uuid::now_v7(),
            "c-1",
            MessageKind::User,
            body,
        );
        event.sender_name = "alice".into();
        event
    }

    #[test]
    fn a_claim_rebuilds_the_first_sends_record_byte_for_byte() {
        let first = event("hello");
        let bytes = Claim::of(&first).encode().expect("encodes");
        let mut resend = event("hello");
        resend.sender_id = first.sender_id;

        let rebuilt = Claim::decode(&bytes)
            .expect("decodes")
            .event_for(resend)
            .expect("same body");

        assert_eq!(bytes.len(), CLAIM_LEN);
        assert_eq!(rebuilt.encode(), first.encode());
    }

    #[test]
    fn a_resend_with_another_body_is_refused() {
        let claim = Claim::of(&event("hello"));
        assert!(matches!(
            claim.event_for(event("hullo")),
            Err(DedupeError::OtherBody)
        ));
    }

    #[test]
    fn a_client_msg_id_reused_for_another_event_is_refused() {
        use chat_core::event::EventExt;
        let target = Uuid::now_v7();
        let edit = |body: &str, target: Uuid| {
            event(body).with_ext(EventExt {
                op: EventOp::Edit,
                target: Some(target),
                ..EventExt::default()
            })
        };
        let claim = Claim::of(&edit("new text", target));
        assert!(claim.event_for(edit("new text", target)).is_ok());
        assert!(matches!(
            claim.event_for(edit("new text", Uuid::now_v7())),
            Err(DedupeError::OtherBody)
        ));
        // the same text as a message, or a reply, is another event
        assert!(matches!(
            claim.event_for(event("new text")),
            Err(DedupeError::OtherBody)
        ));
        let reply = event("new text").with_ext(EventExt {
            reply_to: Some(target),
            ..EventExt::default()
        });
        assert!(matches!(
            Claim::of(&event("new text")).event_for(reply),
            Err(DedupeError::OtherBody)
        ));
    }

    #[test]
    fn a_claim_written_as_a_whole_event_is_still_read() {
        let first = event("hello");
        assert_eq!(
            Claim::decode(&first.encode()).expect("decodes"),
            Claim::of(&first)
        );
        assert!(matches!(
            Claim::decode(b"\x02garbage"),
            Err(DedupeError::Unreadable)
        ));
    }
}
