//! Fuzz target: one record value from the `chat.messages` topic, decoded as
//! the writer and the bot decode it (`ChatEvent::decode`).
//!
//! Properties, beyond "never panics":
//! - bytes that are not JSON (UTF-8 text in the JSON grammar) are refused as
//!   undecodable (a poison record);
//! - a decoded event has the current schema version and passes `validate`
//!   (the writer can store it: no batch fails on it);
//! - it re-encodes to a record that decodes to an equal event, and that
//!   record encodes to the same bytes again;
//! - wrapped with its seq as the sequencer keeps it in the Redis tail and
//!   publishes it (`SequencedEvent`), it survives serialise and parse, so the
//!   gateways and the bot can read back every message the writer accepted.

#![no_main]

use chat_wire::event::{
    ChatEvent, InvalidEvent, PLAIN_SCHEMA_VERSION, SCHEMA_VERSION, SequencedEvent,
};
use libfuzzer_sys::fuzz_target;
use serde::de::IgnoredAny;

/// UTF-8 text in the JSON grammar. (Not `serde_json::Value`: it refuses
/// numbers beyond f64, such as `1e999`, which are JSON all the same and which
/// a decoder that skips the field rightly lets through.)
fn is_json(data: &[u8]) -> bool {
    std::str::from_utf8(data).is_ok_and(|text| serde_json::from_str::<IgnoredAny>(text).is_ok())
}

fuzz_target!(|data: &[u8]| {
    let event = match ChatEvent::decode(data) {
        Ok(event) => event,
        Err(error) => {
            if !is_json(data) {
                assert!(
                    matches!(error, InvalidEvent::Undecodable(_)),
                    "a record that is not JSON was refused as {error:?}"
                );
            }
            return;
        }
    };

    assert!((PLAIN_SCHEMA_VERSION..=SCHEMA_VERSION).contains(&event.v));
    assert_eq!(event.validate(), Ok(()), "a decoded event fails validation");

    let bytes = event.encode();
    assert_eq!(
        ChatEvent::decode(&bytes).as_ref(),
        Ok(&event),
        "the re-encoded record does not decode to the same event: {}",
        String::from_utf8_lossy(&bytes)
    );
    assert_eq!(
        ChatEvent::decode(&bytes).map(|e| e.encode()).as_deref(),
        Ok(&bytes[..]),
        "the encoding is not stable"
    );

    let sequenced = SequencedEvent {
        seq: 1,
        epoch: 1,
        event,
    };
    let text = serde_json::to_vec(&sequenced).expect("a sequenced event serialises");
    let back = serde_json::from_slice::<SequencedEvent>(&text);
    assert!(
        back.as_ref().ok() == Some(&sequenced),
        "the sequenced event does not survive the Redis tail: {back:?} from {}",
        String::from_utf8_lossy(&text)
    );
});
