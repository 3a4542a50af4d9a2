//! The room's recent messages up to a mention: what the model reads.
//!
//! The room's Redis tail (which the sequencer fills before anything is
//! stored) usually holds them all; what it lacks (older messages, or a tail
//! that expired) comes from Postgres, merged in by seq.

use std::collections::BTreeMap;

use chat_core::Sequencer;
use sqlx::PgPool;
use uuid::Uuid;

use crate::error::BotError;

/// One message of the context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextMessage {
    pub seq: i64,
    pub sender_id: Uuid,
    pub sender_name: String,
    pub body: String,
}

/// The `limit` messages of `room` up to and including `upto` (the mention's seq), oldest first.
pub async fn recent_messages(
    pool: &PgPool,
    sequencer: &Sequencer,
    room: Uuid,
    upto: i64,
    limit: usize,
) -> Result<Vec<ContextMessage>, BotError> {
    let limit = limit.max(1) as i64;
    let from = (upto - limit + 1).max(1);
    let mut by_seq = BTreeMap::new();
    for record in sequencer.tail_after(room, from - 1).await? {
        if record.seq > upto {
            break;
        }
        let e = record.event;
        by_seq.insert(
            record.seq,
            ContextMessage {
                seq: record.seq,
                sender_id: e.sender_id,
                sender_name: e.sender_name,
                body: e.body,
            },
        );
    }
    if by_seq.len() as i64 == upto - from + 1 {
        // the tail holds them all (the usual case in a lively room)
        return Ok(with_text(by_seq));
    }
    let stored: Vec<(i64, Uuid, String, String)> = sqlx::query_as(
        "SELECT m.seq, m.sender_id, coalesce(u.username::text, ''), m.body \
         FROM messages m LEFT JOIN users u ON u.id = m.sender_id \
         WHERE m.room_id = $1 AND m.seq BETWEEN $2 AND $3",
    )
    .bind(room)
    .bind(from)
    .bind(upto)
    .fetch_all(pool)
    .await?;
    for (seq, sender_id, sender_name, body) in stored {
        by_seq.entry(seq).or_insert(ContextMessage {
            seq,
            sender_id,
            sender_name,
            body,
        });
    }
    Ok(with_text(by_seq))
}

/// The entries that carry text: a reaction, a delete or a deleted message
/// (its text scrubbed) has none, and tells the model nothing.
fn with_text(by_seq: BTreeMap<i64, ContextMessage>) -> Vec<ContextMessage> {
    by_seq
        .into_values()
        .filter(|m| !m.body.is_empty())
        .collect()
}
