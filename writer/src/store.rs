//! SQL of the writer: copies of stored messages, and the bulk insert.

use std::collections::HashSet;

use chat_core::ChatEvent;
use sqlx::PgConnection;
use uuid::Uuid;

/// The ids of the `events` whose message is stored under another id with the
/// same `(sender_id, client_msg_id)`: a copy produced by a gateway that gave
/// a resend a new id (before ids were derived from the client message id).
pub async fn copies_of_stored(
    conn: &mut PgConnection,
    events: &[&ChatEvent],
) -> Result<HashSet<Uuid>, sqlx::Error> {
    if events.is_empty() {
        return Ok(HashSet::new());
    }
    let ids: Vec<Uuid> = events.iter().map(|e| e.id).collect();
    let senders: Vec<Uuid> = events.iter().map(|e| e.sender_id).collect();
    let client_ids: Vec<&str> = events.iter().map(|e| e.client_msg_id.as_str()).collect();
    let rows: Vec<Uuid> = sqlx::query_scalar(
        "SELECT e.id FROM UNNEST($1::uuid[], $2::uuid[], $3::text[])
                          AS e(id, sender_id, client_msg_id)
         WHERE EXISTS (SELECT 1 FROM messages m
                       WHERE m.sender_id = e.sender_id AND m.client_msg_id = e.client_msg_id
                         AND m.id <> e.id)",
    )
    .bind(&ids)
    .bind(&senders)
    .bind(&client_ids)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().collect())
}

/// Inserts `rows` (event, seq) in one statement; a row whose id is stored already
/// is skipped. Any other constraint violation fails the statement. Returns the
/// number of rows inserted. An event's effect on the message it targets is
/// [`crate::effects`]' (same transaction).
pub async fn insert_messages(
    conn: &mut PgConnection,
    rows: &[(&ChatEvent, i64)],
) -> Result<u64, sqlx::Error> {
    if rows.is_empty() {
        return Ok(0);
    }
    let c = Columns::of(rows);
    let result = sqlx::query(
        "INSERT INTO messages (id, room_id, seq, sender_id, client_msg_id, kind, body, sent_at,
                               op, target_id, reply_to, emoji, data, mention_room, mentions)
         SELECT id, room_id, seq, sender_id, client_msg_id, kind::message_kind, body, sent_at,
                op::message_op, target_id, reply_to, emoji, data::jsonb, mention_room,
                mentions::uuid[]
         FROM UNNEST($1::uuid[], $2::uuid[], $3::bigint[], $4::uuid[], $5::text[], $6::text[],
                     $7::text[], $8::timestamptz[], $9::text[], $10::uuid[], $11::uuid[],
                     $12::text[], $13::text[], $14::bool[], $15::text[])
              AS t(id, room_id, seq, sender_id, client_msg_id, kind, body, sent_at,
                   op, target_id, reply_to, emoji, data, mention_room, mentions)
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(&c.ids)
    .bind(&c.rooms)
    .bind(&c.seqs)
    .bind(&c.senders)
    .bind(&c.client_ids)
    .bind(&c.kinds)
    .bind(&c.bodies)
    .bind(&c.sent)
    .bind(&c.ops)
    .bind(&c.targets)
    .bind(&c.reply_to)
    .bind(&c.emoji)
    .bind(&c.data)
    .bind(&c.mention_room)
    .bind(&c.mentions)
    .execute(conn)
    .await?;
    Ok(result.rows_affected())
}

/// The rows as one array per column, for `UNNEST`.
struct Columns<'a> {
    ids: Vec<Uuid>,
    rooms: Vec<Uuid>,
    seqs: Vec<i64>,
    senders: Vec<Uuid>,
    client_ids: Vec<&'a str>,
    kinds: Vec<&'static str>,
    bodies: Vec<&'a str>,
    sent: Vec<chrono::DateTime<chrono::Utc>>,
    ops: Vec<&'static str>,
    targets: Vec<Option<Uuid>>,
    reply_to: Vec<Option<Uuid>>,
    emoji: Vec<Option<&'a str>>,
    /// A moderation event's details as JSON text.
    data: Vec<Option<String>>,
    mention_room: Vec<bool>,
    /// Postgres array literals (`{id,id}`): `UNNEST` cannot take an array of arrays
    /// of different lengths.
    mentions: Vec<String>,
}

impl<'a> Columns<'a> {
    fn of(rows: &[(&'a ChatEvent, i64)]) -> Self {
        let n = rows.len();
        let mut c = Self {
            ids: Vec::with_capacity(n),
            rooms: Vec::with_capacity(n),
            seqs: Vec::with_capacity(n),
            senders: Vec::with_capacity(n),
            client_ids: Vec::with_capacity(n),
            kinds: Vec::with_capacity(n),
            bodies: Vec::with_capacity(n),
            sent: Vec::with_capacity(n),
            ops: Vec::with_capacity(n),
            targets: Vec::with_capacity(n),
            reply_to: Vec::with_capacity(n),
            emoji: Vec::with_capacity(n),
            data: Vec::with_capacity(n),
            mention_room: Vec::with_capacity(n),
            mentions: Vec::with_capacity(n),
        };
        for (event, seq) in rows {
            let x = &event.ext;
            c.ids.push(event.id);
            c.rooms.push(event.room_id);
            c.seqs.push(*seq);
            c.senders.push(event.sender_id);
            c.client_ids.push(event.client_msg_id.as_str());
            c.kinds.push(event.kind.as_str());
            c.bodies.push(event.body.as_str());
            c.sent.push(event.sent_at);
            c.ops.push(x.op.as_str());
            c.targets.push(x.target);
            c.reply_to.push(x.reply_to);
            c.emoji.push(x.emoji.as_deref());
            c.data.push(
                x.moderation
                    .as_ref()
                    .and_then(|m| serde_json::to_string(m).ok()),
            );
            c.mention_room.push(x.mention_room);
            c.mentions.push(array_literal(&x.mentions));
        }
        c
    }
}

/// `{a,b}`: a Postgres array literal of uuids.
fn array_literal(ids: &[Uuid]) -> String {
    let mut text = String::with_capacity(2 + ids.len() * 37);
    text.push('{');
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&id.to_string());
    }
    text.push('}');
    text
}
