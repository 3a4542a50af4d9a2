//! Who may moderate whom, and the room events that tell the room about it.
//!
//! - Owners and moderators set the topic and slow mode, kick and ban; only
//!   the owner sets roles. A moderator acts on plain members only (never on
//!   the owner or another moderator); nobody acts on themselves. Direct rooms
//!   have no moderation.
//! - Each action, once committed, is published as a room event (op `topic` or
//!   `moderation`) through [`crate::ws::send::publish`]: durable in Kafka,
//!   sequenced, live for every member, stored by the writer. Its client
//!   message id is `srv-<uuidv7>`, its id derived from actor and that id.
//!   When the publish fails the action stands and the caller gets `503`; the
//!   same call again is harmless and publishes the event again.

use chat_core::event::{EventExt, EventOp, ModAction, Moderation};
use chat_core::{ChatEvent, MessageKind};
use uuid::Uuid;

use crate::domain::{MemberRole, RoomKind};
use crate::error::ApiError;
use crate::state::AppState;
use crate::ws::protocol::UserRef;

/// What an action needs of the acting member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Owner or moderator.
    Moderator,
    /// The owner.
    Owner,
}

/// Refuses an action in a direct room, or by a member without the role it needs.
pub fn check_actor(kind: RoomKind, role: MemberRole, needs: Needs) -> Result<(), ApiError> {
    if kind == RoomKind::Direct {
        return Err(ApiError::Conflict("a direct room has no moderation".into()));
    }
    let allowed = match needs {
        Needs::Moderator => role.moderates(),
        Needs::Owner => role == MemberRole::Owner,
    };
    if allowed {
        Ok(())
    } else if needs == Needs::Owner {
        Err(ApiError::Refused("only the room's owner can do that"))
    } else {
        Err(ApiError::Refused(
            "only the room's owner or a moderator can do that",
        ))
    }
}

/// Refuses an action on `target` (their role here, if a member) by a member with `actor_role`.
pub fn check_target(
    actor: Uuid,
    actor_role: MemberRole,
    target: Uuid,
    target_role: Option<MemberRole>,
) -> Result<(), ApiError> {
    if actor == target {
        return Err(ApiError::invalid("you cannot act on yourself"));
    }
    let allowed = match (actor_role, target_role) {
        (_, Some(MemberRole::Owner)) => false,
        (MemberRole::Owner, _) => true,
        (MemberRole::Moderator, Some(MemberRole::Moderator)) => false,
        (MemberRole::Moderator, _) => true,
        (MemberRole::Member, _) => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(ApiError::Refused(
            "a moderator cannot act on the owner or another moderator",
        ))
    }
}

/// The `moderation` details of an action on a user.
pub fn on_user(action: ModAction, user: &UserRef) -> Moderation {
    Moderation {
        action,
        user: Some(user.id),
        username: Some(user.username.clone()),
        seconds: None,
        role: None,
    }
}

/// Publishes a moderation event by `actor` in `room`.
pub async fn publish_moderation(
    state: &AppState,
    actor: &UserRef,
    room: Uuid,
    moderation: Moderation,
) -> Result<(), ApiError> {
    let ext = EventExt {
        op: EventOp::Moderation,
        moderation: Some(moderation),
        ..EventExt::default()
    };
    publish(state, actor, room, String::new(), ext).await
}

/// Publishes the room's new topic, set by `actor`.
pub async fn publish_topic(
    state: &AppState,
    actor: &UserRef,
    room: Uuid,
    topic: &str,
) -> Result<(), ApiError> {
    let ext = EventExt {
        op: EventOp::Topic,
        ..EventExt::default()
    };
    publish(state, actor, room, topic.to_owned(), ext).await
}

/// A server-made event: client message id `srv-<uuidv7>`, id derived from
/// the actor and it, kind `system`, produced and sequenced like a send.
async fn publish(
    state: &AppState,
    actor: &UserRef,
    room: Uuid,
    body: String,
    ext: EventExt,
) -> Result<(), ApiError> {
    let client_msg_id = format!("srv-{}", Uuid::now_v7());
    let mut event =
        ChatEvent::new(room, actor.id, &client_msg_id, MessageKind::System, body).with_ext(ext);
    event.id = chat_core::event::message_id(actor.id, &client_msg_id);
    event.sender_name = actor.username.clone();
    if let Err(error) = event.validate() {
        return Err(ApiError::Internal(format!(
            "a server event is invalid: {error}"
        )));
    }
    crate::ws::send::publish(state, event, false)
        .await
        .map(|_| ())
        .map_err(|refused| {
            tracing::warn!(room.id = %room, code = ?refused.code, "a moderation event was not published");
            ApiError::Unavailable
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use MemberRole::{Member, Moderator, Owner};

    #[test]
    fn a_moderator_acts_on_members_only_and_nobody_on_themselves() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        assert!(check_target(a, Owner, b, Some(Moderator)).is_ok());
        assert!(check_target(a, Owner, b, Some(Member)).is_ok());
        assert!(check_target(a, Owner, b, None).is_ok());
        assert!(check_target(a, Moderator, b, Some(Member)).is_ok());
        assert!(check_target(a, Moderator, b, None).is_ok());
        assert!(check_target(a, Moderator, b, Some(Owner)).is_err());
        assert!(check_target(a, Moderator, b, Some(Moderator)).is_err());
        assert!(check_target(a, Member, b, Some(Member)).is_err());
        assert!(check_target(a, Owner, a, Some(Owner)).is_err());
    }

    #[test]
    fn direct_rooms_have_no_moderation_and_roles_are_the_owners() {
        assert!(check_actor(RoomKind::Direct, Owner, Needs::Moderator).is_err());
        assert!(check_actor(RoomKind::Public, Moderator, Needs::Moderator).is_ok());
        assert!(check_actor(RoomKind::Public, Moderator, Needs::Owner).is_err());
        assert!(check_actor(RoomKind::Private, Member, Needs::Moderator).is_err());
        assert!(check_actor(RoomKind::Private, Owner, Needs::Owner).is_ok());
    }
}
