//! Deleting a message's text from the room's recent tail: the records of the
//! message and of its edits are rewritten with an empty body, so a resume
//! never replays a deleted message's text. Run by the gateway once a delete is
//! sequenced and by the writer once it stored one; idempotent.

use redis::Script;
use uuid::Uuid;

use super::{Sequencer, SequencerError, tail_key};
use crate::event::{EventOp, SequencedEvent};

const SCRUB_LUA: &str = include_str!("../scrub_tail.lua");

/// True when `record` carries text of `message`: the message itself, or one of its edits.
fn carries_text_of(record: &SequencedEvent, message: Uuid) -> bool {
    let e = &record.event;
    let is_it = e.id == message && e.ext.op == EventOp::Message;
    let edit_of_it = e.ext.op == EventOp::Edit && e.ext.target == Some(message);
    (is_it || edit_of_it) && !e.body.is_empty()
}

impl Sequencer {
    /// Rewrites the tail's records of `message` and of its edits with an empty
    /// body (and no mentions). Returns how many records were rewritten. The
    /// tail is capped (`SEQUENCER_TAIL_LEN`), so this reads a bounded set.
    pub async fn scrub_deleted(&self, room: Uuid, message: Uuid) -> Result<u64, SequencerError> {
        let mut conn = self.redis.clone();
        let raw: Vec<String> = redis::cmd("ZRANGE")
            .arg(tail_key(room))
            .arg(0)
            .arg(-1)
            .query_async(&mut conn)
            .await?;
        let script = Script::new(SCRUB_LUA);
        let mut invocation = script.prepare_invoke();
        invocation.key(tail_key(room));
        let mut any = false;
        for text in raw {
            let Ok(mut record) = serde_json::from_str::<SequencedEvent>(&text) else {
                continue;
            };
            if !carries_text_of(&record, message) {
                continue;
            }
            record.event.body.clear();
            record.event.ext.mentions.clear();
            record.event.ext.mention_room = false;
            let scrubbed = serde_json::to_string(&record)
                .map_err(|e| SequencerError::Protocol(e.to_string()))?;
            invocation.arg(text).arg(scrubbed).arg(record.seq);
            any = true;
        }
        if !any {
            return Ok(0);
        }
        Ok(invocation.invoke_async(&mut conn).await?)
    }
}
