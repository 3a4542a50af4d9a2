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
/// number of rows inserted.
pub async fn insert_messages(
    conn: &mut PgConnection,
    rows: &[(&ChatEvent, i64)],
) -> Result<u64, sqlx::Error> {
    if rows.is_empty() {
        return Ok(0);
    }
    let n = rows.len();
    let (mut ids, mut rooms, mut seqs, mut senders) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut client_ids, mut kinds, mut bodies, mut sent) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for (event, seq) in rows {
        ids.push(event.id);
        rooms.push(event.room_id);
        seqs.push(*seq);
        senders.push(event.sender_id);
        client_ids.push(event.client_msg_id.as_str());
        kinds.push(event.kind.as_str());
        bodies.push(event.body.as_str());
        sent.push(event.sent_at);
    }
    let result = sqlx::query(
        "INSERT INTO messages (id, room_id, seq, sender_id, client_msg_id, kind, body, sent_at)
         SELECT id, room_id, seq, sender_id, client_msg_id, kind::message_kind, body, sent_at
         FROM UNNEST($1::uuid[], $2::uuid[], $3::bigint[], $4::uuid[], $5::text[], $6::text[],
                     $7::text[], $8::timestamptz[])
              AS t(id, room_id, seq, sender_id, client_msg_id, kind, body, sent_at)
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(&ids)
    .bind(&rooms)
    .bind(&seqs)
    .bind(&senders)
    .bind(&client_ids)
    .bind(&kinds)
    .bind(&bodies)
    .bind(&sent)
    .execute(conn)
    .await?;
    Ok(result.rows_affected())
}
