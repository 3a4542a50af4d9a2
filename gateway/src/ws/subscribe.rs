//! Subscribing a connection to a room, with gap-free resume (G5).
//!
//! Order matters: join the room's fan-out first (the receiver then holds
//! everything published from now on), read the room's head seq, replay what
//! the client lacks up to the head from Postgres and the Redis tail, and only
//! then hand the receiver to the writer, which drops anything at or below the
//! last replayed seq. Every message after `last_seq` arrives once, in order.
//!
//! A replay costs the gateway reads and the socket bytes, so it is bounded: at
//! most `WS_REPLAY_MAX` messages (a client further behind gets `resync behind`
//! and pages history over HTTP), and replaying subscribes per connection are
//! rate-limited (`WS_REPLAYS_PER_MIN`, bursts of `WS_MAX_ROOMS`; past it
//! `rate_limited`, refused before anything is sent).

use axum::extract::ws::Utf8Bytes;
use uuid::Uuid;

use chat_core::sequencer::Head;

use crate::db;
use crate::state::AppState;
use crate::ws::protocol::{ErrorCode, ServerFrame, Status, UserRef, encode, message_frame};
use crate::ws::send::Refused;
use crate::ws::session::{Attach, Outbound, Outbox};

/// Messages read from Postgres per query while replaying.
const REPLAY_PAGE: i64 = 500;

fn refused(code: ErrorCode, message: &'static str) -> Refused {
    Refused {
        code,
        message,
        retry_after_ms: None,
    }
}

/// Where the client stands in a room: its last seq and that seq's epoch.
#[derive(Debug, Clone, Copy)]
pub struct Resume {
    pub last_seq: Option<i64>,
    pub epoch: Option<u64>,
}

/// The connection that subscribes: its user, its id and its person's status.
#[derive(Debug, Clone, Copy)]
pub struct Subscriber<'a> {
    pub user: &'a UserRef,
    pub connection: &'a str,
    pub status: Status,
}

/// Subscribes the connection to `room`, replaying everything after `last_seq`
/// (within the bounds above); `replays` is the connection's replay limiter.
pub async fn subscribe(
    state: &AppState,
    subscriber: Subscriber<'_>,
    room: Uuid,
    resume: Resume,
    replays: &governor::DefaultDirectRateLimiter,
    out: &Outbox,
) -> Result<(), Refused> {
    let Subscriber {
        user,
        connection,
        status,
    } = subscriber;
    let Resume {
        last_seq,
        epoch: client_epoch,
    } = resume;
    let unavailable = || refused(ErrorCode::Unavailable, "the room is unavailable; try again");
    match db::rooms::is_member(&state.pool, room, user.id).await {
        Ok(true) => {}
        Ok(false) => return Err(refused(ErrorCode::Forbidden, "not a member of this room")),
        Err(_) => return Err(unavailable()),
    }
    let (receiver, lease) = state.relay.join(room).await.map_err(|_| unavailable())?;
    let mut at = state
        .sequencer
        .head(room)
        .await
        .map_err(|_| unavailable())?;
    if last_seq.is_some_and(|n| n > at.seq)
        && client_epoch == Some(at.epoch)
        && first_ahead_repair(state, room)
            .await
            .map_err(|_| unavailable())?
    {
        // The client holds seqs of this epoch that the room's state no longer
        // has: Redis rolled back. Those seqs would be handed out again, so the
        // room gets a new epoch and everyone reloads.
        tracing::warn!(room.id = %room, head = at.seq, "a client is ahead of the room's head: repairing");
        state
            .sequencer
            .repair_room(room, Some(at.epoch))
            .await
            .map_err(|_| unavailable())?;
        at = state
            .sequencer
            .head(room)
            .await
            .map_err(|_| unavailable())?;
    }
    let (head, epoch) = (at.seq, at.epoch);
    let same_epoch = client_epoch.is_none_or(|e| e == epoch);
    let behind = last_seq
        .filter(|&n| same_epoch && n < head)
        .map(|n| head - n);
    let too_far = behind.is_some_and(|b| b > state.config.ws_replay_max);
    if behind.is_some() && !too_far && replays.check().is_err() {
        return Err(refused(
            ErrorCode::RateLimited,
            "too many resuming subscribes; try again in a moment",
        ));
    }
    let online_count = state
        .presence
        .join(room, user, connection, status)
        .await
        .map_err(|_| unavailable())?;
    send(
        out,
        encode(&ServerFrame::Subscribed {
            room,
            epoch,
            head_seq: head,
            base_seq: at.base,
            online_count,
        }),
    )
    .await?;

    let mut last = head;
    let mut stale = false;
    if client_epoch.is_some_and(|e| e != epoch) || last_seq.is_some_and(|n| n > head) {
        // the client's seqs belong to a room state Redis has lost: it reloads
        send(
            out,
            encode(&ServerFrame::Resync {
                room,
                reason: "epoch",
            }),
        )
        .await?;
        stale = true;
    } else if too_far {
        // more than a replay may hold: the client pages history over HTTP
        // and subscribes again from nearer the head
        send(
            out,
            encode(&ServerFrame::Resync {
                room,
                reason: "behind",
            }),
        )
        .await?;
        stale = true;
    } else if let Some(after) = last_seq.filter(|&after| after < head) {
        let replayed = replay(state, room, after, at, out).await?;
        if replayed < head {
            tracing::warn!(room.id = %room, replayed, head, "replay could not reach the head");
            send(
                out,
                encode(&ServerFrame::Resync {
                    room,
                    reason: "gap",
                }),
            )
            .await?;
            stale = true;
        }
        last = replayed.max(after);
    }
    out.send(Outbound::Attach(Box::new(Attach {
        room,
        receiver,
        lease,
        last_seq: last,
        epoch,
        stale,
    })))
    .await
    .map_err(|_| unavailable())
}

/// Sends the messages `after < seq <= head` in order: the older ones from
/// Postgres, the newest from the Redis tail (which also holds what the writer
/// has not stored yet). A seq at or below the epoch's base that Postgres does
/// not hold will never exist and is passed over. Returns the last seq sent or
/// passed over (or `after`).
async fn replay(
    state: &AppState,
    room: Uuid,
    after: i64,
    at: Head,
    out: &Outbox,
) -> Result<i64, Refused> {
    let unavailable = || refused(ErrorCode::Unavailable, "the room is unavailable; try again");
    let tail = state
        .sequencer
        .tail_after(room, after)
        .await
        .map_err(|_| unavailable())?;
    let tail_start = tail.first().map_or(at.seq + 1, |r| r.seq);
    let mut log = Log {
        cursor: after,
        base: at.base,
    };
    while log.cursor + 1 < tail_start {
        let page = db::messages::after(
            &state.pool,
            room,
            log.cursor,
            Some(tail_start),
            REPLAY_PAGE,
            at.epoch,
        )
        .await
        .map_err(|_| unavailable())?;
        if page.is_empty() {
            break;
        }
        for record in &page {
            if !log.reaches(record.seq) {
                return Ok(log.cursor); // not stored yet and no longer in the tail
            }
            send(out, message_frame(record)).await?;
            log.cursor = record.seq;
        }
    }
    // nothing more is stored below the tail: what is missing up to the base never existed
    log.cursor = log.cursor.max(at.base.min(tail_start - 1));
    for record in tail.iter().filter(|r| r.seq <= at.seq) {
        if record.seq <= log.cursor {
            continue;
        }
        if !log.reaches(record.seq) {
            break;
        }
        send(out, message_frame(record)).await?;
        log.cursor = record.seq;
    }
    Ok(log.cursor)
}

/// Where a replay stands in the room's log.
#[derive(Debug, Clone, Copy)]
struct Log {
    /// The last seq sent (or passed over).
    cursor: i64,
    /// The epoch's base: seqs at or below it are final.
    base: i64,
}

impl Log {
    /// True when `seq` may follow the cursor: it is the next seq, or every seq
    /// between them is at or below the base (never to exist).
    fn reaches(self, seq: i64) -> bool {
        seq == self.cursor + 1 || (seq > self.cursor && seq - 1 <= self.base)
    }
}

async fn send(out: &Outbox, text: Utf8Bytes) -> Result<(), Refused> {
    out.send(Outbound::Text(text))
        .await
        .map_err(|_| refused(ErrorCode::Unavailable, "connection closing"))
}

/// A client may force a room's repair (everyone in it reloads) at most once
/// per this many seconds; a claim within it only resyncs that client.
const AHEAD_REPAIR_EVERY_SECS: u64 = 60;

/// True for the first "ahead of the head" claim on `room` in its window: a
/// hostile or broken client cannot make a room reload again and again.
async fn first_ahead_repair(state: &AppState, room: Uuid) -> Result<bool, redis::RedisError> {
    let set: Option<String> = redis::cmd("SET")
        .arg(format!("chat:{{{room}}}:ahead-repair"))
        .arg(1)
        .arg("NX")
        .arg("EX")
        .arg(AHEAD_REPAIR_EVERY_SECS)
        .query_async(&mut state.redis.clone())
        .await?;
    Ok(set.is_some())
}

#[cfg(test)]
mod tests {
    use super::Log;

    #[test]
    fn a_replay_passes_over_missing_seqs_at_or_below_the_base_only() {
        let log = Log { cursor: 4, base: 7 };
        assert!(log.reaches(5), "the next seq");
        assert!(log.reaches(8), "5..=7 never existed");
        assert!(!log.reaches(9), "8 is above the base: not stored yet");
        assert!(!log.reaches(4), "not backwards");
        let above = Log { cursor: 9, base: 7 };
        assert!(above.reaches(10));
        assert!(!above.reaches(11), "above the base every seq must come");
    }
}
