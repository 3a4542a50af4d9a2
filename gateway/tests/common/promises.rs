//! The checks every fault test ends with (G1, G3, G4, G5): what was
//! acknowledged is what Postgres stores, once each; every client's live view
//! is gap-free and in `seq` order; and what clients saw live is what history
//! returns for those seqs.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use super::User;
use super::load::{Ack, Report, Seen};

/// The room's stored messages, `seq` → id.
pub async fn stored(pool: &PgPool, room: Uuid) -> BTreeMap<i64, Uuid> {
    let rows: Vec<(i64, Uuid)> =
        sqlx::query_as("SELECT seq, id FROM messages WHERE room_id = $1 ORDER BY seq")
            .bind(room)
            .fetch_all(pool)
            .await
            .expect("read the room's messages");
    rows.into_iter().collect()
}

/// Asserts every promise over `reports` (the room's every sender):
/// - acknowledged ids = stored ids, each stored once (`count(*) = count(distinct id)`);
/// - an acknowledged `seq` is the stored one, unless the room's epoch changed since
///   (G4: a seq changes meaning only with a new epoch);
/// - the stored seqs are 1..n, but for seqs at or below the final epoch's base
///   that never existed (handed out, then lost from Redis before they were stored);
/// - each client's live view, per epoch, is gap-free and in `seq` order (it
///   passes over seqs at or below the epoch's base only);
/// - the view of the room's final epoch is the whole stored room, message for
///   message, and so is the history API's answer to `reader`.
pub async fn assert_promises_kept(pool: &PgPool, room: Uuid, reports: &[Report], reader: &User) {
    let (rows, distinct): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(DISTINCT id) FROM messages WHERE room_id = $1")
            .bind(room)
            .fetch_one(pool)
            .await
            .expect("count the room's messages");
    assert_eq!(rows, distinct, "no message is stored twice");
    let stored = stored(pool, room).await;

    let acks: Vec<&Ack> = reports.iter().flat_map(|r| &r.acks).collect();
    let mut acked: HashMap<Uuid, &Ack> = HashMap::new();
    for ack in &acks {
        if let Some(other) = acked.insert(ack.id, ack) {
            panic!("id {} acknowledged twice: {other:?} and {ack:?}", ack.id);
        }
    }
    let stored_ids: HashSet<Uuid> = stored.values().copied().collect();
    let acked_ids: HashSet<Uuid> = acked.keys().copied().collect();
    let lost: Vec<_> = acked_ids
        .difference(&stored_ids)
        .map(|id| acked[id])
        .collect();
    let unacked: Vec<Uuid> = stored_ids.difference(&acked_ids).copied().collect();
    if !lost.is_empty() || !unacked.is_empty() {
        let unacked_rows: Vec<(Uuid, i64, String)> = sqlx::query_as(
            "SELECT id, seq, client_msg_id FROM messages WHERE id = ANY($1) ORDER BY seq",
        )
        .bind(&unacked)
        .fetch_all(pool)
        .await
        .expect("read the unacknowledged rows");
        panic!(
            "acknowledged = stored: {} acknowledged but not stored {lost:?}; {} stored but never acknowledged (id, seq, client_msg_id) {unacked_rows:?}",
            lost.len(),
            unacked.len()
        );
    }
    let final_epoch = reports
        .iter()
        .flat_map(|r| r.view.iter().map(|s| s.epoch))
        .chain(acks.iter().map(|a| a.epoch))
        .max()
        .expect("something was seen");
    let base_of = |epoch: u64| {
        reports
            .iter()
            .filter_map(|r| r.bases.get(&epoch).copied())
            .max()
            .unwrap_or(0)
    };
    let base = base_of(final_epoch);
    let above: Vec<i64> = stored.keys().copied().filter(|&s| s > base).collect();
    assert_eq!(
        above,
        (base + 1..=base + above.len() as i64).collect::<Vec<_>>(),
        "the stored seqs above the final epoch's base ({base}) are base+1..n"
    );
    let by_id: HashMap<Uuid, i64> = stored.iter().map(|(s, i)| (*i, *s)).collect();
    for ack in &acks {
        if ack.epoch == final_epoch {
            assert_eq!(
                by_id[&ack.id], ack.seq,
                "{ack:?} is stored at another seq within the same epoch"
            );
        }
    }

    for report in reports {
        for seen in &report.view {
            assert!(
                acked_ids.contains(&seen.id),
                "{} saw {seen:?} live, which was never acknowledged (G3)",
                report.name
            );
        }
    }

    let whole: Vec<(i64, Uuid)> = stored.iter().map(|(s, i)| (*s, *i)).collect();
    for report in reports {
        for run in runs(&report.view) {
            let base = base_of(run[0].epoch);
            for pair in run.windows(2) {
                let (last, seq) = (pair[0].seq, pair[1].seq);
                // the next seq, or one past seqs at or below the base, which never existed
                assert!(
                    seq == last + 1 || (seq > last && seq - 1 <= base),
                    "{}'s live view skips or repeats in epoch {}: {:?} then {:?} (resyncs {:?})",
                    report.name,
                    pair[0].epoch,
                    pair[0],
                    pair[1],
                    report.resyncs
                );
            }
        }
        let last = runs(&report.view).pop().expect("a view");
        assert_eq!(
            last[0].epoch, final_epoch,
            "{} ends in the final epoch",
            report.name
        );
        let seen: Vec<(i64, Uuid)> = last.iter().map(|s| (s.seq, s.id)).collect();
        assert!(
            seen == whole,
            "{}'s live view of the final epoch ({} messages, seqs {:?}..{:?}) is the stored room ({} messages); first difference at {:?}",
            report.name,
            seen.len(),
            seen.first().map(|s| s.0),
            seen.last().map(|s| s.0),
            whole.len(),
            seen.iter().zip(&whole).position(|(a, b)| a != b)
        );
    }

    assert_eq!(history(reader, room).await, whole, "history = Postgres");
}

/// The view cut where the epoch changes (a `resync epoch` reloads the room).
fn runs(view: &[Seen]) -> Vec<&[Seen]> {
    view.chunk_by(|a, b| a.epoch == b.epoch).collect()
}

/// The whole room through the history API, oldest first.
pub async fn history(reader: &User, room: Uuid) -> Vec<(i64, Uuid)> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let response = reader
            .get(&format!(
                "/api/rooms/{room}/messages?after={after}&limit=100"
            ))
            .await;
        assert_eq!(response.status(), 200, "history answers");
        let page: Value = response.json().await.expect("history json");
        let messages = page["messages"].as_array().expect("messages");
        for m in messages {
            out.push((
                m["seq"].as_i64().expect("seq"),
                m["id"].as_str().expect("id").parse().expect("uuid"),
            ));
        }
        match out.last() {
            Some(&(seq, _)) if page["has_more"] == true => after = seq,
            _ => return out,
        }
    }
}
