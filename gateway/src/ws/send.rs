//! The send path: a message is durable in Kafka before anyone sees it (G3),
//! gets its seq from the shared sequencer (G4), and a resend with the same
//! client message id gets the same id and seq (G2).
//!
//! 1. Validate; read membership (with the room's slow mode) and the lookup of
//!    step 2 in one Postgres round trip, and for a plain message make step 2's
//!    claim meanwhile (taken back if the send is refused or found stored).
//! 2. Dedupe ([`super::dedupe`]): a resend of a stored message is answered from
//!    its row; otherwise a room event's own checks run ([`super::events`]:
//!    target, permission, mentions); a resend of one not stored yet goes on
//!    with the original event; a first send claims its client message id. A
//!    client message id already used in another room is refused (`invalid`).
//! 3. Produce the event to Kafka and wait for the delivery report (bounded).
//!    Producing a resend again is harmless: the writer stores an id once.
//! 4. Sequence it: assigns the seq and publishes it, or returns the seq it has.
//! 5. Ack.

use chat_core::event::EventOp;
use chat_core::{ChatEvent, event};
use rdkafka::producer::FutureRecord;
use uuid::Uuid;

use crate::crash::crash_point;
use crate::membership::Standing;
use crate::metrics::Stage;
use crate::state::AppState;
use crate::ws::dedupe::{Dedupe, DedupeError, Resolved, Stored};
use crate::ws::events::{self, Action};
use crate::ws::protocol::{ErrorCode, UserRef};

/// What the sender is told when the message is durable and sequenced.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The room of the original message (a resend names the same one).
    pub room: Uuid,
    pub id: Uuid,
    pub seq: i64,
    pub epoch: u64,
}

/// Why a send was refused; the message is not stored and not shown.
#[derive(Debug, Clone)]
pub struct Refused {
    pub code: ErrorCode,
    pub message: &'static str,
    /// With `rate_limited`: how long to wait, when known (slow mode).
    pub retry_after_ms: Option<u64>,
}

impl Refused {
    pub(crate) fn new(code: ErrorCode, message: &'static str) -> Self {
        Self {
            code,
            message,
            retry_after_ms: None,
        }
    }
}

/// Runs the whole send path for one message or room event.
pub async fn send_message(
    state: &AppState,
    sender: &UserRef,
    room: Uuid,
    client_msg_id: &str,
    action: Action,
) -> Result<Accepted, Refused> {
    let started = std::time::Instant::now();
    let result = send_inner(state, sender, room, client_msg_id, action).await;
    state.send_metrics.send(started, result.is_ok());
    result
}

async fn send_inner(
    state: &AppState,
    sender: &UserRef,
    room: Uuid,
    client_msg_id: &str,
    action: Action,
) -> Result<Accepted, Refused> {
    let fresh = action.into_event(room, sender, client_msg_id);
    fresh.validate().map_err(|e| match e {
        event::InvalidEvent::BadClientMsgId => {
            Refused::new(ErrorCode::Invalid, "client_msg_id must be 1 to 64 bytes")
        }
        event::InvalidEvent::BodyTooLong => {
            Refused::new(ErrorCode::Invalid, "the message is too long")
        }
        event::InvalidEvent::BadEmoji => {
            Refused::new(ErrorCode::Invalid, "a reaction must be one emoji")
        }
        _ => Refused::new(
            ErrorCode::Invalid,
            "the message is empty or contains invalid characters",
        ),
    })?;
    // the reads a send needs do not depend on each other, so they wait
    // together: the sender's standing (membership, role, slow mode) and the
    // stored message this may be a resend of (one Postgres round trip), and,
    // for a plain message (no other check goes first), the claim. Nothing is
    // decided from the others before membership is.
    let stage = std::time::Instant::now();
    let dedupe = Dedupe::new(state);
    let early = (!needs_check(&fresh)).then(|| dedupe.claim(fresh.clone()));
    let ((standing, stored), claimed) = tokio::join!(
        dedupe.standing_and_stored(&state.membership, &fresh),
        futures::future::OptionFuture::from(early),
    );
    state.send_metrics.stage(Stage::Check, stage);
    let stage = std::time::Instant::now();
    let reads = Reads {
        standing,
        stored,
        claimed,
    };
    let resolved = resolve(state, &dedupe, sender, room, client_msg_id, fresh, reads).await?;
    state.send_metrics.stage(Stage::Dedupe, stage);
    if resolved.room() != room {
        // A client message id names one message of its sender. Reused in
        // another room it is not a resend: refused, never answered with the
        // other room's ack while the new message silently goes nowhere.
        // (Membership of the original's room first: a former member learns
        // nothing about it.)
        check_member(state, resolved.room(), sender.id).await?;
        return Err(Refused::new(
            ErrorCode::Invalid,
            "this client_msg_id was used in another room; use a new one for a new message",
        ));
    }
    let (event, resend) = match resolved {
        Resolved::New(event) => (event, false),
        Resolved::Pending(event) => (event, true),
        Resolved::Stored(stored) => return answer_stored(state, stored).await,
    };

    let delete_of = (event.ext.op == EventOp::Delete)
        .then_some(event.ext.target)
        .flatten();
    let accepted = publish(state, event, resend).await?;
    if let Some(target) = delete_of {
        // the deleted text leaves the room's tail at once (the writer does it
        // again when it stores the delete)
        if let Err(error) = state.sequencer.scrub_deleted(room, target).await {
            tracing::warn!(%error, room.id = %room, "deleted message not scrubbed from the tail");
        }
    }
    Ok(accepted)
}

/// What a send's first step read, all at once.
struct Reads {
    standing: Result<Option<Standing>, sqlx::Error>,
    stored: Result<Option<Stored>, DedupeError>,
    /// The early claim, when one was made.
    claimed: Option<Result<Resolved, DedupeError>>,
}

/// Decides a send from its reads: a member (held to slow mode for a new
/// message), then a stored resend, then the event's own checks and the claim
/// (the early one, when it was made). An early claim is taken back when the
/// send is refused here or found stored: nothing was produced under it.
async fn resolve(
    state: &AppState,
    dedupe: &Dedupe<'_>,
    sender: &UserRef,
    room: Uuid,
    client_msg_id: &str,
    mut fresh: ChatEvent,
    reads: Reads,
) -> Result<Resolved, Refused> {
    let Reads {
        standing,
        stored,
        claimed,
    } = reads;
    let admitted = admit(
        state,
        sender.id,
        room,
        client_msg_id,
        &fresh,
        standing,
        stored,
    )
    .await;
    if let (Err(_) | Ok(Some(_)), Some(Ok(Resolved::New(early)))) = (&admitted, &claimed) {
        dedupe.release(early).await;
    }
    // a resend of a stored message is answered from its row, whatever became
    // of its target since; then the event's own checks (its target, who may
    // act on it, its mentions); then the original of a resend not stored
    // yet, or a claim for this send
    if let Some(stored) = admitted? {
        return Ok(Resolved::Stored(stored));
    }
    match claimed {
        Some(claimed) => claimed.map_err(dedupe_refusal),
        None => {
            if needs_check(&fresh) {
                events::check(state, &mut fresh).await?;
            }
            dedupe.claim(fresh).await.map_err(dedupe_refusal)
        }
    }
}

/// A member (held to slow mode for a new message), and the stored message
/// this send is a resend of, if any.
async fn admit(
    state: &AppState,
    user: Uuid,
    room: Uuid,
    client_msg_id: &str,
    fresh: &ChatEvent,
    standing: Result<Option<Standing>, sqlx::Error>,
    stored: Result<Option<Stored>, DedupeError>,
) -> Result<Option<Stored>, Refused> {
    let standing = member(standing)?;
    // slow mode paces new messages; edits, deletes and reactions are not held back
    if fresh.op() == EventOp::Message {
        super::slow_mode::enforce(state, room, user, client_msg_id, standing).await?;
    }
    stored.map_err(dedupe_refusal)
}

/// Whether `event` needs [`events::check`]: a plain message without a reply
/// and without an `@` mentions nothing and targets nothing (no query).
fn needs_check(event: &ChatEvent) -> bool {
    event.ext.op != EventOp::Message || event.ext.reply_to.is_some() || event.body.contains('@')
}

fn dedupe_refusal(error: DedupeError) -> Refused {
    match error {
        DedupeError::OtherBody => Refused::new(
            ErrorCode::Invalid,
            "this client_msg_id was used for another message or event; use a new one",
        ),
        error => {
            tracing::warn!(%error, "dedupe failed");
            unavailable()
        }
    }
}

/// Steps 3 to 5 for an event that is validated, allowed and deduplicated (or
/// made by the server under a fresh client message id): produce it, wait for
/// Kafka, sequence it. `resend`: the event may have been stored already.
pub async fn publish(
    state: &AppState,
    event: ChatEvent,
    resend: bool,
) -> Result<Accepted, Refused> {
    let room = event.room_id;
    // 3. durable in Kafka before anything else
    let payload = event.encode();
    let key_bytes = event.room_id.to_string();
    let record = FutureRecord::to(&state.config.kafka.topic)
        .key(&key_bytes)
        .payload(&payload);
    let stage = std::time::Instant::now();
    let delivered = tokio::time::timeout(
        state.config.send_timeout(),
        state.producer.send(record, state.config.send_timeout()),
    )
    .await;
    state.send_metrics.stage(Stage::Produce, stage);
    if !matches!(delivered, Ok(Ok(_))) {
        // The claim stays: a timed-out record may still be persisted, so a resend
        // must produce this same event (same id) again, never a second one.
        tracing::warn!(room.id = %room, "message not made durable in time");
        return Err(unavailable());
    }

    crash_point!("gateway::after_produce");

    // 4. seq and publish (or the seq it already has); a resend may be stored
    // already, with a seq Redis may have forgotten: Postgres has the last word
    let events = std::slice::from_ref(&event);
    let stage = std::time::Instant::now();
    let assigned = if resend {
        state.sequencer.sequence_maybe_stored(events).await
    } else {
        state.sequencer.sequence_new(events).await
    };
    state.send_metrics.stage(Stage::Sequence, stage);
    let assigned = assigned.map_err(|error| {
        // durable but not yet sequenced: the writer will publish it; a resend gets its seq
        tracing::warn!(%error, "sequencer unavailable after produce");
        unavailable()
    })?;
    let a = assigned.first().ok_or_else(unavailable)?;
    crash_point!("gateway::before_ack");
    Ok(Accepted {
        room: event.room_id,
        id: event.id,
        seq: a.seq,
        epoch: a.epoch,
    })
}

pub(crate) fn unavailable() -> Refused {
    Refused::new(
        ErrorCode::Unavailable,
        "the message could not be stored; resend it with the same client_msg_id",
    )
}

/// Refuses a sender who is not a member of `room`.
async fn check_member(state: &AppState, room: Uuid, user: Uuid) -> Result<(), Refused> {
    member(state.membership.standing(room, user).await).map(drop)
}

/// A member's standing from the membership read, or the refusal.
fn member(standing: Result<Option<Standing>, sqlx::Error>) -> Result<Standing, Refused> {
    match standing {
        Ok(Some(standing)) => Ok(standing),
        Ok(None) => Err(Refused::new(
            ErrorCode::Forbidden,
            "not a member of this room",
        )),
        Err(error) => {
            tracing::warn!(%error, "membership check failed");
            Err(unavailable())
        }
    }
}

/// A resend of a stored message: its row's place, in the room's current epoch.
async fn answer_stored(state: &AppState, stored: Stored) -> Result<Accepted, Refused> {
    let epoch = state
        .sequencer
        .head(stored.room)
        .await
        .map_err(|error| {
            tracing::warn!(%error, "sequencer unavailable for a stored resend");
            unavailable()
        })?
        .epoch;
    Ok(Accepted {
        room: stored.room,
        id: stored.id,
        seq: stored.seq,
        epoch,
    })
}
