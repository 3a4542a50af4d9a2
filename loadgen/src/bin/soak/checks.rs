//! The checks after a run: what was acknowledged against what was stored,
//! duplicates, each client's view (collected live) and live against history.

use std::collections::{HashMap, HashSet};

use loadgen::ClientRecord;
use sqlx::PgPool;
use uuid::Uuid;

/// A stored message.
#[derive(Debug, sqlx::FromRow)]
struct Row {
    id: Uuid,
    room_id: Uuid,
    seq: i64,
    client_msg_id: String,
}

/// What the checks found.
#[derive(Debug, Default)]
pub struct Findings {
    pub stored: i64,
    pub violations: Vec<String>,
    pub notes: Vec<String>,
}

/// Runs every check over the run's rooms.
pub async fn check(
    pool: &PgPool,
    redis_url: &str,
    rooms: &[Uuid],
    records: &[ClientRecord],
) -> anyhow::Result<Findings> {
    let mut f = Findings::default();
    let (count, distinct, distinct_client): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*), count(DISTINCT id), count(DISTINCT (sender_id, client_msg_id)) \
         FROM messages WHERE room_id = ANY($1)",
    )
    .bind(rooms)
    .fetch_one(pool)
    .await?;
    f.stored = count;
    if count != distinct {
        f.violations.push(format!(
            "duplicates: count(*) = {count}, count(DISTINCT id) = {distinct}"
        ));
    }
    if count != distinct_client {
        f.violations.push(format!(
            "one client message stored twice: count(*) = {count}, count(DISTINCT (sender, client_msg_id)) = {distinct_client} (G2)"
        ));
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, room_id, seq, client_msg_id FROM messages WHERE room_id = ANY($1)",
    )
    .bind(rooms)
    .fetch_all(pool)
    .await?;
    let by_id: HashMap<Uuid, &Row> = rows.iter().map(|r| (r.id, r)).collect();
    let by_seq: HashMap<(Uuid, i64), &Row> = rows.iter().map(|r| ((r.room_id, r.seq), r)).collect();
    let epochs = final_epochs(redis_url, rooms).await?;

    // acknowledged = stored
    let mut acked: HashSet<Uuid> = HashSet::new();
    let mut unacked_cmids: HashSet<&str> = HashSet::new();
    for record in records {
        unacked_cmids.extend(record.unacked.iter().map(String::as_str));
        for ack in record.acks.values() {
            acked.insert(ack.id);
            match by_id.get(&ack.id) {
                None => f.violations.push(format!(
                    "acknowledged, not stored: {} id {} room {} seq {} epoch {} (G1)",
                    ack.client_msg_id, ack.id, ack.room, ack.seq, ack.epoch
                )),
                Some(row) if row.room_id != ack.room => f.violations.push(format!(
                    "{} id {} acked in room {}, stored in room {}",
                    ack.client_msg_id, ack.id, ack.room, row.room_id
                )),
                Some(row) if row.seq != ack.seq => {
                    let what = format!(
                        "{} id {} acked with seq {} (epoch {}), stored with seq {}",
                        ack.client_msg_id, ack.id, ack.seq, ack.epoch, row.seq
                    );
                    if epochs.get(&ack.room) == Some(&ack.epoch) {
                        f.violations
                            .push(format!("{what}, the room's epoch unchanged (G2/G4)"));
                    } else {
                        f.notes.push(format!("{what}, after an epoch change"));
                    }
                }
                Some(_) => {}
            }
        }
    }
    for row in &rows {
        if !acked.contains(&row.id) {
            let what = format!(
                "stored, never acknowledged: {} id {} room {} seq {}",
                row.client_msg_id, row.id, row.room_id, row.seq
            );
            if unacked_cmids.contains(row.client_msg_id.as_str()) {
                f.notes.push(format!(
                    "{what} (its sender was still resending at the end)"
                ));
            } else {
                f.violations.push(what);
            }
        }
    }
    for cmid in &unacked_cmids {
        f.notes.push(format!(
            "never acknowledged by the end of the drain: {cmid}"
        ));
    }

    // each client's view, checked live
    for record in records {
        f.violations.extend(record.violations.iter().cloned());
        f.notes.extend(record.notes.iter().cloned());
    }

    // live = history (in each room's final epoch; earlier epochs were reset)
    let mut superseded = 0u64;
    for record in records {
        for seen in &record.seen {
            let stored = by_seq.get(&(seen.room, seen.seq));
            if stored.is_some_and(|r| r.id == seen.id) {
                continue;
            }
            let what = format!(
                "{} saw id {} at seq {} (epoch {}) in room {}; history has {} there",
                record.username,
                seen.id,
                seen.seq,
                seen.epoch,
                seen.room,
                stored.map_or("nothing".to_owned(), |r| format!("id {}", r.id))
            );
            if epochs.get(&seen.room) == Some(&seen.epoch) {
                f.violations.push(format!("live != history: {what} (G4)"));
            } else {
                superseded += 1;
                if superseded <= 20 {
                    f.notes
                        .push(format!("live != history in an earlier epoch: {what}"));
                }
            }
        }
    }
    if superseded > 0 {
        f.notes.push(format!(
            "{superseded} live messages of earlier epochs differ from history"
        ));
    }

    // holes in a room's stored seqs
    let mut per_room: HashMap<Uuid, Vec<i64>> = HashMap::new();
    for row in &rows {
        per_room.entry(row.room_id).or_default().push(row.seq);
    }
    for (room, mut seqs) in per_room {
        seqs.sort_unstable();
        let holes = seqs.windows(2).filter(|w| w[1] != w[0] + 1).count();
        if holes > 0 || seqs.first().is_some_and(|s| *s != 1) {
            f.notes.push(format!(
                "room {room}: stored seqs {}..{} ({} rows) have {holes} holes",
                seqs.first().unwrap_or(&0),
                seqs.last().unwrap_or(&0),
                seqs.len()
            ));
        }
    }
    Ok(f)
}

/// Each room's epoch in Redis now.
async fn final_epochs(redis_url: &str, rooms: &[Uuid]) -> anyhow::Result<HashMap<Uuid, i64>> {
    let client = redis::Client::open(redis_url)?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    let mut epochs = HashMap::new();
    for room in rooms {
        let epoch: Option<i64> = redis::cmd("HGET")
            .arg(format!("chat:{{{room}}}:state"))
            .arg("epoch")
            .query_async(&mut conn)
            .await?;
        if let Some(epoch) = epoch {
            epochs.insert(*room, epoch);
        }
    }
    Ok(epochs)
}
