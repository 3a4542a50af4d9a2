//! What the sequencer's test files share: their config and a message event.

use chat_core::sequencer::SequencerConfig;
use chat_core::{ChatEvent, MessageKind};
use test_support::RedisServer;
use uuid::Uuid;

pub fn config(redis: &RedisServer) -> SequencerConfig {
    SequencerConfig {
        redis_url: redis.url(),
        tail_len: 100,
        ttl_secs: 600,
    }
}

/// A message event in `room`, numbered `i` in its client id and body.
pub fn event(room: Uuid, i: usize) -> ChatEvent {
    ChatEvent::new(
        room,
        Uuid::now_v7(),
        format!("c{i}"),
        MessageKind::User,
        format!("m{i}"),
    )
}
