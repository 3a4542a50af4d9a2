//! Fuzz target: one WebSocket text frame from a client, parsed as the gateway's
//! session parses it (`ClientFrame::parse`).
//!
//! Properties, beyond "never panics":
//! - a frame that parses is a JSON object whose `type` is the frame's tag and
//!   whose keys are exactly the documented fields of that frame (all required
//!   ones, no unknown one);
//! - a parsed frame serialises to a text that parses to the same frame;
//! - a `send` or `edit` frame becomes an event (`ChatEvent`) exactly when its fields are
//!   within the limits of docs/protocol.md and the database (`client_msg_id`
//!   1-64 bytes, `body` 1-4000 characters and not blank, no NUL in either),
//!   and an accepted message is a Kafka record the writer decodes back to
//!   itself: a send the gateway accepts is never poison.

#![no_main]

use chat_wire::event::{EventExt, EventOp};
use chat_wire::{ChatEvent, ClientFrame, MessageKind};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use uuid::Uuid;

/// The documented limits, written out again here rather than borrowed from
/// the code under test.
const BODY_CHARS: std::ops::RangeInclusive<usize> = 1..=4000;
const CLIENT_MSG_ID_BYTES: std::ops::RangeInclusive<usize> = 1..=64;

/// (required, optional) fields of each frame, from docs/protocol.md.
fn fields(tag: &str) -> (&'static [&'static str], &'static [&'static str]) {
    match tag {
        "subscribe" => (&["room"], &["last_seq", "epoch"]),
        "unsubscribe" | "typing" => (&["room"], &[]),
        "send" => (&["room", "client_msg_id", "body"], &["reply_to"]),
        "edit" => (&["room", "client_msg_id", "message", "body"], &[]),
        "delete" => (&["room", "client_msg_id", "message"], &[]),
        "react" | "unreact" => (&["room", "client_msg_id", "message", "emoji"], &[]),
        "ping" => (&[], &["nonce"]),
        "auth" => (&["token"], &[]),
        "status" => (&["status"], &[]),
        other => panic!("a frame parsed with an undocumented type {other:?}"),
    }
}

fn within_limits(client_msg_id: &str, body: &str) -> bool {
    CLIENT_MSG_ID_BYTES.contains(&client_msg_id.len())
        && !client_msg_id.contains('\0')
        && BODY_CHARS.contains(&body.chars().count())
        && !body.chars().all(char::is_whitespace)
        && !body.contains('\0')
}

fuzz_target!(|data: &[u8]| {
    // a WebSocket text frame is UTF-8 by the time the session sees it
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = ClientFrame::parse(text);
    let Ok(frame) = parsed else {
        return;
    };

    let Ok(Value::Object(object)) = serde_json::from_str::<Value>(text) else {
        panic!("a frame parsed from a text that is not a JSON object: {text:?}");
    };
    assert_eq!(
        object.get("type").and_then(Value::as_str),
        Some(frame.tag()),
        "the frame's type is not the text's: {text:?}"
    );
    let (required, optional) = fields(frame.tag());
    for key in object.keys().filter(|k| *k != "type") {
        assert!(
            required.contains(&key.as_str()) || optional.contains(&key.as_str()),
            "a {} frame parsed with the unknown field {key:?}",
            frame.tag()
        );
    }
    for key in required {
        assert!(
            object.contains_key(*key),
            "a {} frame parsed without its field {key:?}",
            frame.tag()
        );
    }

    let again = serde_json::to_string(&frame).expect("a frame serialises");
    assert_eq!(
        ClientFrame::parse(&again).ok().as_ref(),
        Some(&frame),
        "the frame does not survive serialise and parse: {again:?}"
    );

    // what the gateway does with a send or an edit (gateway/src/ws/events.rs)
    let sender = Uuid::from_u128(1);
    let (event, client_msg_id, body) = match frame {
        ClientFrame::Send {
            room,
            client_msg_id,
            body,
            reply_to,
        } => {
            let event = ChatEvent::new(
                room,
                sender,
                client_msg_id.clone(),
                MessageKind::User,
                body.clone(),
            )
            .with_ext(EventExt {
                reply_to,
                ..EventExt::default()
            });
            (event, client_msg_id, body)
        }
        ClientFrame::Edit {
            room,
            client_msg_id,
            message,
            body,
        } => {
            let event = ChatEvent::new(
                room,
                sender,
                client_msg_id.clone(),
                MessageKind::User,
                body.clone(),
            )
            .with_ext(EventExt {
                op: EventOp::Edit,
                target: Some(message),
                ..EventExt::default()
            });
            (event, client_msg_id, body)
        }
        _ => return,
    };
    let accepted = event.validate().is_ok();
    assert_eq!(
        accepted,
        within_limits(&client_msg_id, &body),
        "validation disagrees with the documented limits (client_msg_id {} bytes, body {} chars)",
        client_msg_id.len(),
        body.chars().count()
    );
    if accepted {
        assert_eq!(
            ChatEvent::decode(&event.encode()).as_ref(),
            Ok(&event),
            "an accepted send or edit is not a record the writer decodes to itself"
        );
    }
});
