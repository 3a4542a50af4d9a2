//! SQL of the writer: the bulk insert.

use chat_core::ChatEvent;
use sqlx::PgConnection;

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
