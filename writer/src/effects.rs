//! What a stored event does to the message it targets, in the batch's
//! transaction: edits, deletes, reactions and mentions (issue 13, "Writer
//! effects"). Every statement is set-based (a fixed number per batch, not one
//! per row), idempotent, and independent of the order the events are stored
//! in: a message's state is folded from its stored events by seq, so an edit
//! stored after a later one, or before its message, ends the same.
//!
//! - delete: the message's row keeps its place as a tombstone (body '',
//!   original text and mentions gone, `deleted_at`, `deleted_by`); its edit
//!   rows lose their text too, including an edit stored after the delete.
//! - edit: the edit with the highest seq gives the body, mentions and
//!   `edited_at`; the first text is kept in `original_body`. Only the
//!   message's sender's edits count.
//! - react/unreact: `message_reactions` keeps, per (message, user, emoji), the
//!   event with the highest seq.
//! - mentions: `message_mentions` holds the current mentions of every message
//!   that is not deleted.
//! - `state_seq`: the highest seq of an event targeting the message.

use std::collections::HashSet;

use chat_core::ChatEvent;
use chat_core::event::EventOp;
use sqlx::PgConnection;
use uuid::Uuid;

/// Applies the effects of `rows` (events just stored, with their seq).
pub async fn apply(conn: &mut PgConnection, rows: &[(&ChatEvent, i64)]) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut targets: HashSet<Uuid> = HashSet::new();
    let mut new_messages: Vec<Uuid> = Vec::new();
    let mut mentioning: Vec<Uuid> = Vec::new();
    for (event, _) in rows {
        match (event.ext.op, event.ext.target) {
            (EventOp::Message, _) => {
                new_messages.push(event.id);
                if !event.ext.mentions.is_empty() {
                    mentioning.push(event.id);
                }
            }
            (_, Some(target)) => {
                targets.insert(target);
            }
            _ => {}
        }
    }
    // a message stored after events that target it (out of order) folds them in too
    if !new_messages.is_empty() {
        let early: Vec<Uuid> =
            sqlx::query_scalar("SELECT DISTINCT target_id FROM messages WHERE target_id = ANY($1)")
                .bind(&new_messages)
                .fetch_all(&mut *conn)
                .await?;
        targets.extend(early);
    }
    let targets: Vec<Uuid> = targets.into_iter().collect();
    if !targets.is_empty() {
        fold_deletes(conn, &targets).await?;
        fold_edits(conn, &targets).await?;
        fold_state_seq(conn, &targets).await?;
        // their mentions are the current ones (an edit's, or none once deleted)
        sqlx::query("DELETE FROM message_mentions WHERE message_id = ANY($1)")
            .bind(&targets)
            .execute(&mut *conn)
            .await?;
    }
    mentioning.extend(&targets);
    insert_mentions(conn, &mentioning).await?;
    apply_reactions(conn, rows).await
}

/// Tombstones the targets that have a delete (the first one by seq wins) and
/// removes the text of their edits.
async fn fold_deletes(conn: &mut PgConnection, targets: &[Uuid]) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE messages m
         SET body = '', original_body = NULL, mentions = '{}', mention_room = false,
             deleted_at = d.sent_at, deleted_by = d.sender_id
         FROM (SELECT DISTINCT ON (target_id) target_id, room_id, sender_id, sent_at
               FROM messages WHERE op = 'delete' AND target_id = ANY($1)
               ORDER BY target_id, seq) d
         WHERE m.id = d.target_id AND m.room_id = d.room_id AND m.op = 'message'
           AND m.deleted_at IS NULL",
    )
    .bind(targets)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE messages e SET body = '', mentions = '{}', mention_room = false
         WHERE e.op = 'edit' AND e.target_id = ANY($1) AND e.body <> ''
           AND EXISTS (SELECT 1 FROM messages m
                       WHERE m.id = e.target_id AND m.room_id = e.room_id
                         AND m.deleted_at IS NOT NULL)",
    )
    .bind(targets)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Gives each target that is not deleted the text of its sender's edit with
/// the highest seq, unless an edit with a higher seq was applied already.
async fn fold_edits(conn: &mut PgConnection, targets: &[Uuid]) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE messages m
         SET original_body = coalesce(m.original_body, m.body), body = x.body,
             mentions = x.mentions, mention_room = x.mention_room,
             edited_at = x.sent_at, edit_seq = x.seq
         FROM (SELECT DISTINCT ON (e.target_id) e.target_id, e.body, e.mentions,
                      e.mention_room, e.sent_at, e.seq
               FROM messages e JOIN messages t ON t.id = e.target_id
               WHERE e.op = 'edit' AND e.target_id = ANY($1) AND e.body <> ''
                 AND e.room_id = t.room_id AND e.sender_id = t.sender_id
               ORDER BY e.target_id, e.seq DESC) x
         WHERE m.id = x.target_id AND m.op = 'message' AND m.deleted_at IS NULL
           AND coalesce(m.edit_seq, 0) < x.seq",
    )
    .bind(targets)
    .execute(conn)
    .await?;
    Ok(())
}

/// Raises each target's `state_seq` to the highest seq of an event targeting it.
async fn fold_state_seq(conn: &mut PgConnection, targets: &[Uuid]) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE messages m SET state_seq = s.seq
         FROM unnest($1::uuid[]) AS t(id)
              CROSS JOIN LATERAL (SELECT e.seq FROM messages e WHERE e.target_id = t.id
                                  ORDER BY e.seq DESC LIMIT 1) s
         WHERE m.id = t.id AND m.op = 'message' AND coalesce(m.state_seq, m.seq) < s.seq",
    )
    .bind(targets)
    .execute(conn)
    .await?;
    Ok(())
}

/// Rows of `message_mentions` for the current mentions of `messages` (those not
/// deleted; users that no longer exist are left out).
async fn insert_mentions(conn: &mut PgConnection, messages: &[Uuid]) -> Result<(), sqlx::Error> {
    if messages.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO message_mentions (message_id, room_id, user_id, seq)
         SELECT m.id, m.room_id, u.id, m.seq
         FROM messages m CROSS JOIN LATERAL unnest(m.mentions) AS mu(id)
              JOIN users u ON u.id = mu.id
         WHERE m.id = ANY($1) AND m.op = 'message' AND m.deleted_at IS NULL
         ON CONFLICT (message_id, user_id) DO NOTHING",
    )
    .bind(messages)
    .execute(conn)
    .await?;
    Ok(())
}

/// Upserts the reactions of the batch: per (message, user, emoji) the event
/// with the highest seq wins, stored or in the batch.
async fn apply_reactions(
    conn: &mut PgConnection,
    rows: &[(&ChatEvent, i64)],
) -> Result<(), sqlx::Error> {
    let (mut targets, mut users, mut emoji, mut seqs, mut present) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (event, seq) in rows {
        let op = event.ext.op;
        if !matches!(op, EventOp::React | EventOp::Unreact) {
            continue;
        }
        let (Some(target), Some(e)) = (event.ext.target, event.ext.emoji.as_deref()) else {
            continue;
        };
        targets.push(target);
        users.push(event.sender_id);
        emoji.push(e);
        seqs.push(*seq);
        present.push(op == EventOp::React);
    }
    if targets.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO message_reactions (message_id, user_id, emoji, seq, present)
         SELECT DISTINCT ON (t.target, t.sender, t.emoji) t.target, t.sender, t.emoji, t.seq, t.present
         FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::bigint[], $5::bool[])
              AS t(target, sender, emoji, seq, present)
         WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = t.sender)
         ORDER BY t.target, t.sender, t.emoji, t.seq DESC
         ON CONFLICT (message_id, user_id, emoji) DO UPDATE
         SET seq = excluded.seq, present = excluded.present
         WHERE message_reactions.seq < excluded.seq",
    )
    .bind(&targets)
    .bind(&users)
    .bind(&emoji)
    .bind(&seqs)
    .bind(&present)
    .execute(conn)
    .await?;
    Ok(())
}
