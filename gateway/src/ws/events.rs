//! Room events a client sends besides a plain message (issue 13): replies,
//! edits, deletes, reactions, and the mentions of a message or an edit.
//!
//! Each becomes a [`ChatEvent`] with an extension and goes the send path
//! ([`super::send`]): validated, membership checked, deduplicated, then
//! [`check`]ed here (the target message, who may act on it, the mentions),
//! produced and sequenced like a message, so it gets the room's next seq.
//!
//! A target is found in Postgres, or, when the writer has not stored it yet,
//! in the room's Redis tail (capped: a bounded read). It is deleted if its row
//! says so (the writer tombstones it in the transaction that stores the
//! delete) or a delete of it is in the tail (sequenced, not stored yet).

use chat_core::event::{EventExt, EventOp, MAX_MENTIONS, PLAIN_SCHEMA_VERSION, SCHEMA_VERSION};
use chat_core::{ChatEvent, MessageKind};
use uuid::Uuid;

use crate::db;
use crate::db::events::TargetRow;
use crate::state::AppState;
use crate::ws::mentions;
use crate::ws::protocol::{ClientFrame, ErrorCode, UserRef};
use crate::ws::send::Refused;

/// What a client asked for, as the send worker queues it.
#[derive(Debug)]
pub enum Action {
    Message {
        body: String,
        reply_to: Option<Uuid>,
    },
    Edit {
        target: Uuid,
        body: String,
    },
    Delete {
        target: Uuid,
    },
    React {
        target: Uuid,
        emoji: String,
    },
    Unreact {
        target: Uuid,
        emoji: String,
    },
}

impl Action {
    /// The room, client message id and action of a frame that sends
    /// something (a message or a room event); any other frame back.
    pub fn of_frame(frame: ClientFrame) -> Result<(Uuid, String, Self), ClientFrame> {
        Ok(match frame {
            ClientFrame::Send {
                room,
                client_msg_id,
                body,
                reply_to,
            } => (room, client_msg_id, Self::Message { body, reply_to }),
            ClientFrame::Edit {
                room,
                client_msg_id,
                message,
                body,
            } => (
                room,
                client_msg_id,
                Self::Edit {
                    target: message,
                    body,
                },
            ),
            ClientFrame::Delete {
                room,
                client_msg_id,
                message,
            } => (room, client_msg_id, Self::Delete { target: message }),
            ClientFrame::React {
                room,
                client_msg_id,
                message,
                emoji,
            } => (
                room,
                client_msg_id,
                Self::React {
                    target: message,
                    emoji,
                },
            ),
            ClientFrame::Unreact {
                room,
                client_msg_id,
                message,
                emoji,
            } => (
                room,
                client_msg_id,
                Self::Unreact {
                    target: message,
                    emoji,
                },
            ),
            other => return Err(other),
        })
    }

    /// The event of this action, not validated yet (a fresh id, stamped now).
    pub fn into_event(self, room: Uuid, sender: &UserRef, client_msg_id: &str) -> ChatEvent {
        let (body, ext) = match self {
            Self::Message { body, reply_to } => (
                body,
                EventExt {
                    reply_to,
                    ..EventExt::default()
                },
            ),
            Self::Edit { target, body } => (body, targeted(EventOp::Edit, target, None)),
            Self::Delete { target } => (String::new(), targeted(EventOp::Delete, target, None)),
            Self::React { target, emoji } => {
                (String::new(), targeted(EventOp::React, target, Some(emoji)))
            }
            Self::Unreact { target, emoji } => (
                String::new(),
                targeted(EventOp::Unreact, target, Some(emoji)),
            ),
        };
        let mut event =
            ChatEvent::new(room, sender.id, client_msg_id, MessageKind::User, body).with_ext(ext);
        event.sender_name = sender.username.clone();
        event
    }
}

fn targeted(op: EventOp, target: Uuid, emoji: Option<String>) -> EventExt {
    EventExt {
        op,
        target: Some(target),
        emoji,
        ..EventExt::default()
    }
}

fn refused(code: ErrorCode, message: &'static str) -> Refused {
    Refused::new(code, message)
}

fn unavailable<E: std::fmt::Display>(error: E) -> Refused {
    tracing::warn!(%error, "room event check failed");
    refused(
        ErrorCode::Unavailable,
        "the message could not be checked; resend it with the same client_msg_id",
    )
}

/// Checks what `event` (validated, its sender a member) acts on and who may
/// do it, and resolves the mentions of a message or an edit into its extension.
pub async fn check(state: &AppState, event: &mut ChatEvent) -> Result<(), Refused> {
    let op = event.ext.op;
    if let Some(reply_to) = event.ext.reply_to {
        live_message(state, event.room_id, reply_to)
            .await
            .map_err(|r| {
                if r.code == ErrorCode::Invalid {
                    refused(
                        ErrorCode::Invalid,
                        "the message replied to is not a message of this room",
                    )
                } else {
                    r
                }
            })?;
    }
    if let Some(target) = event.ext.target {
        let found = live_message(state, event.room_id, target).await?;
        match op {
            EventOp::Edit if found.sender_id != event.sender_id => {
                return Err(refused(
                    ErrorCode::Forbidden,
                    "only the sender can edit a message",
                ));
            }
            EventOp::Delete if found.sender_id != event.sender_id => {
                let allowed = db::events::is_moderator(&state.pool, event.room_id, event.sender_id)
                    .await
                    .map_err(unavailable)?;
                if !allowed {
                    return Err(refused(
                        ErrorCode::Forbidden,
                        "only the sender or a moderator can delete a message",
                    ));
                }
            }
            _ => {}
        }
    }
    if matches!(op, EventOp::Message | EventOp::Edit) {
        resolve_mentions(state, event).await?;
    }
    Ok(())
}

/// The message `id` of `room`: op message, not deleted; else `invalid`.
async fn live_message(state: &AppState, room: Uuid, id: Uuid) -> Result<TargetRow, Refused> {
    let stored = db::events::target(&state.pool, id)
        .await
        .map_err(unavailable)?;
    let found = match stored {
        Some(row) => Some(row),
        None => in_tail(state, room, id).await?,
    };
    let Some(mut found) = found else {
        return Err(refused(ErrorCode::Invalid, "no such message in this room"));
    };
    if found.room_id != room || found.op != EventOp::Message {
        return Err(refused(ErrorCode::Invalid, "no such message in this room"));
    }
    if !found.deleted {
        // a stored delete tombstoned the row in its own transaction; one the
        // writer has not stored yet is in the tail
        found.deleted = deleted_in_tail(state, room, id, found.seq).await?;
    }
    if found.deleted {
        return Err(refused(ErrorCode::Invalid, "that message was deleted"));
    }
    Ok(found)
}

/// The message `id` as the room's tail has it (sequenced, not stored yet).
async fn in_tail(state: &AppState, room: Uuid, id: Uuid) -> Result<Option<TargetRow>, Refused> {
    let tail = state
        .sequencer
        .tail_after(room, 0)
        .await
        .map_err(unavailable)?;
    Ok(tail
        .into_iter()
        .find(|r| r.event.id == id)
        .map(|r| TargetRow {
            room_id: r.event.room_id,
            sender_id: r.event.sender_id,
            op: r.event.ext.op,
            seq: r.seq,
            deleted: false,
        }))
}

/// True when the tail holds a delete of `id` (sequenced after it, at `seq`).
async fn deleted_in_tail(
    state: &AppState,
    room: Uuid,
    id: Uuid,
    seq: i64,
) -> Result<bool, Refused> {
    let tail = state
        .sequencer
        .tail_after(room, seq)
        .await
        .map_err(unavailable)?;
    Ok(tail
        .iter()
        .any(|r| r.event.ext.op == EventOp::Delete && r.event.ext.target == Some(id)))
}

/// Fills `mentions` (members named in the body, the sender excluded, at most
/// `MAX_MENTIONS`) and `mention_room` (`@room` by an owner or moderator).
async fn resolve_mentions(state: &AppState, event: &mut ChatEvent) -> Result<(), Refused> {
    let parsed = mentions::parse(&event.body);
    if !parsed.names.is_empty() {
        let ids =
            db::events::members_named(&state.pool, event.room_id, &parsed.names, MAX_MENTIONS + 1)
                .await
                .map_err(unavailable)?;
        event.ext.mentions = ids
            .into_iter()
            .filter(|id| *id != event.sender_id)
            .take(MAX_MENTIONS)
            .collect();
    }
    if parsed.room {
        event.ext.mention_room =
            db::events::is_moderator(&state.pool, event.room_id, event.sender_id)
                .await
                .map_err(unavailable)?;
    }
    // the version follows the extension (a plain message stays version 1)
    event.v = if event.ext.is_plain() {
        PLAIN_SCHEMA_VERSION
    } else {
        SCHEMA_VERSION
    };
    Ok(())
}
