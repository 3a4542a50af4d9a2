//! Moderation: the topic, slow mode, roles, kicks and bans. Who may do what
//! is [`crate::moderation`]; the SQL runs under the room's lock
//! ([`db::moderation::lock`]); each action, once committed, is published as a
//! room event (`503` when that fails: the action stands, and the same call
//! again publishes the event again).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, post, put};
use axum::{Json, Router};
use chat_core::event::{MAX_TOPIC_CHARS, ModAction, Moderation};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::extract::{self, Path};
use crate::auth::AuthUser;
use crate::db;
use crate::db::moderation::{Ban, RoomLock, Target};
use crate::db::rooms::{Member, Room};
use crate::domain::MemberRole;
use crate::error::{ApiError, ErrorBody};
use crate::moderation::{self as rules, Needs};
use crate::room_changes::{self, Change};
use crate::state::AppState;
use crate::ws::protocol::{RemovedReason, UserRef};

/// Longest slow mode interval, in seconds (the database checks it too).
pub const SLOW_MODE_MAX_SECS: i32 = 3600;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/rooms/{id}/topic", put(set_topic))
        .route("/api/rooms/{id}/slow_mode", put(set_slow_mode))
        .route("/api/rooms/{id}/members/{user_id}/role", put(set_role))
        .route("/api/rooms/{id}/members/{user_id}/kick", post(kick))
        .route("/api/rooms/{id}/bans", post(ban).get(bans))
        .route("/api/rooms/{id}/bans/{user_id}", delete(unban))
}

/// The room's new topic.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TopicBody {
    /// At most 300 characters (Unicode scalar values); empty clears it; no NUL.
    #[schema(max_length = 300, pattern = r"^[^\x00]*$")]
    pub topic: String,
}

/// Slow mode's interval.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SlowModeBody {
    /// One message per member per this many seconds; 0 turns slow mode off.
    #[schema(minimum = 0, maximum = 3600)]
    #[serde(deserialize_with = "super::extract::integer")]
    pub seconds: i32,
}

/// A role the owner may give.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AssignableRole {
    Moderator,
    Member,
}

/// A member's new role.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RoleBody {
    pub role: AssignableRole,
}

/// The user to ban.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BanBody {
    pub user_id: Uuid,
}

/// Locks the room for an action by `user` that `needs` a role; `403` for a
/// non-member (or no such room), `409` for a direct room.
async fn lock_for(
    state: &AppState,
    room: Uuid,
    user: &AuthUser,
    needs: Needs,
) -> Result<RoomLock, ApiError> {
    let lock = db::moderation::lock(&state.pool, room, user.id)
        .await?
        .ok_or(ApiError::Forbidden)?;
    rules::check_actor(lock.kind, lock.role, needs)?;
    Ok(lock)
}

/// The user an action names, checked against the actor's role; `404` for no such user.
async fn target_of(lock: &mut RoomLock, actor: &AuthUser, user: Uuid) -> Result<Target, ApiError> {
    let target = lock.target(user).await?.ok_or(ApiError::NotFound)?;
    rules::check_target(actor.id, lock.role, target.id, target.role)?;
    Ok(target)
}

fn actor_ref(user: &AuthUser) -> UserRef {
    UserRef {
        id: user.id,
        username: user.username.clone(),
    }
}

fn user_ref(target: &Target) -> UserRef {
    UserRef {
        id: target.id,
        username: target.username.clone(),
    }
}

/// Sets the room's topic (owner or moderator) and tells the room (event `topic`).
#[utoipa::path(
    put, path = "/api/rooms/{id}/topic", tag = "moderation",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The room")),
    request_body = TopicBody,
    responses(
        (status = 200, description = "The room with its new topic", body = Room),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not the owner or a moderator, not a member, or no such room", body = ErrorBody),
        (status = 409, description = "A direct room", body = ErrorBody),
        (status = 422, description = "A topic over 300 characters or with a NUL, or the body is not `{topic}`", body = ErrorBody),
        (status = 503, description = "The topic is set but its event could not be published; the same call again publishes it", body = ErrorBody),
    )
)]
pub async fn set_topic(
    State(state): State<AppState>,
    user: AuthUser,
    Path(room): Path<Uuid>,
    extract::Json(body): extract::Json<TopicBody>,
) -> Result<Json<Room>, ApiError> {
    if body.topic.chars().count() > MAX_TOPIC_CHARS || body.topic.contains('\0') {
        return Err(ApiError::invalid(
            "a topic is at most 300 characters, without NUL",
        ));
    }
    let mut lock = lock_for(&state, room, &user, Needs::Moderator).await?;
    lock.set_topic(&body.topic).await?;
    let updated = lock.room(user.id).await?;
    lock.commit().await?;
    rules::publish_topic(&state, &actor_ref(&user), room, &body.topic).await?;
    Ok(Json(updated))
}

/// Sets slow mode (owner or moderator) and tells the room (event `moderation`, action `slow_mode`).
#[utoipa::path(
    put, path = "/api/rooms/{id}/slow_mode", tag = "moderation",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The room")),
    request_body = SlowModeBody,
    responses(
        (status = 200, description = "The room with its new slow mode", body = Room),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not the owner or a moderator, not a member, or no such room", body = ErrorBody),
        (status = 409, description = "A direct room", body = ErrorBody),
        (status = 422, description = "`seconds` outside 0..=3600, or the body is not `{seconds}`", body = ErrorBody),
        (status = 503, description = "Slow mode is set but its event could not be published; the same call again publishes it", body = ErrorBody),
    )
)]
pub async fn set_slow_mode(
    State(state): State<AppState>,
    user: AuthUser,
    Path(room): Path<Uuid>,
    extract::Json(body): extract::Json<SlowModeBody>,
) -> Result<Json<Room>, ApiError> {
    if !(0..=SLOW_MODE_MAX_SECS).contains(&body.seconds) {
        return Err(ApiError::invalid("seconds must be 0 to 3600"));
    }
    let mut lock = lock_for(&state, room, &user, Needs::Moderator).await?;
    lock.set_slow_mode(body.seconds).await?;
    let updated = lock.room(user.id).await?;
    lock.commit().await?;
    let moderation = Moderation {
        action: ModAction::SlowMode,
        user: None,
        username: None,
        seconds: u32::try_from(body.seconds).ok(),
        role: None,
    };
    rules::publish_moderation(&state, &actor_ref(&user), room, moderation).await?;
    Ok(Json(updated))
}

/// Makes a member a moderator or a plain member again (owner only); tells the room (action `role`).
#[utoipa::path(
    put, path = "/api/rooms/{id}/members/{user_id}/role", tag = "moderation",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The room"), ("user_id" = Uuid, Path, description = "The member")),
    request_body = RoleBody,
    responses(
        (status = 200, description = "The member with their new role", body = Member),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not the owner, not a member, no such room, or the member is the owner", body = ErrorBody),
        (status = 404, description = "That user is not a member of the room", body = ErrorBody),
        (status = 409, description = "A direct room", body = ErrorBody),
        (status = 422, description = "The caller themselves, or the body is not `{role}`", body = ErrorBody),
        (status = 503, description = "The role is set but its event could not be published; the same call again publishes it", body = ErrorBody),
    )
)]
pub async fn set_role(
    State(state): State<AppState>,
    user: AuthUser,
    Path((room, member)): Path<(Uuid, Uuid)>,
    extract::Json(body): extract::Json<RoleBody>,
) -> Result<Json<Member>, ApiError> {
    let mut lock = lock_for(&state, room, &user, Needs::Owner).await?;
    let target = target_of(&mut lock, &user, member).await?;
    if target.role.is_none() {
        return Err(ApiError::NotFound);
    }
    let (role, name) = match body.role {
        AssignableRole::Moderator => (MemberRole::Moderator, "moderator"),
        AssignableRole::Member => (MemberRole::Member, "member"),
    };
    lock.set_role(target.id, role).await?;
    lock.commit().await?;
    let mut moderation = rules::on_user(ModAction::Role, &user_ref(&target));
    moderation.role = Some(name.to_owned());
    rules::publish_moderation(&state, &actor_ref(&user), room, moderation).await?;
    Ok(Json(Member {
        id: target.id,
        username: target.username,
        role,
    }))
}

/// Removes a member from the room (owner or moderator; they may join again).
/// Their sockets get `member_left` and stop receiving the room; the room gets
/// a `moderation` event (action `kick`). Kicking a user who is not a member
/// changes nothing and publishes the event again.
#[utoipa::path(
    post, path = "/api/rooms/{id}/members/{user_id}/kick", tag = "moderation",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The room"), ("user_id" = Uuid, Path, description = "The member")),
    responses(
        (status = 204, description = "The user is not a member any more"),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not the owner or a moderator, not a member, no such room, or a moderator acting on the owner or another moderator", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "A direct room", body = ErrorBody),
        (status = 422, description = "The caller themselves", body = ErrorBody),
        (status = 503, description = "The user is removed but the event could not be published; the same call again publishes it", body = ErrorBody),
    )
)]
pub async fn kick(
    State(state): State<AppState>,
    user: AuthUser,
    Path((room, member)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    let mut lock = lock_for(&state, room, &user, Needs::Moderator).await?;
    let target = target_of(&mut lock, &user, member).await?;
    lock.remove_member(target.id).await?;
    lock.commit().await?;
    removed(&state, room, &user, &target, ModAction::Kick).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Bans a user (owner or moderator): their membership ends as for a kick,
/// and they cannot join, be invited or send until unbanned. A user who is
/// not a member may be banned too.
#[utoipa::path(
    post, path = "/api/rooms/{id}/bans", tag = "moderation",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The room")),
    request_body = BanBody,
    responses(
        (status = 204, description = "The user is banned"),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not the owner or a moderator, not a member, no such room, or a moderator acting on the owner or another moderator", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "A direct room", body = ErrorBody),
        (status = 422, description = "The caller themselves, or the body is not `{user_id}`", body = ErrorBody),
        (status = 503, description = "The user is banned but the event could not be published; the same call again publishes it", body = ErrorBody),
    )
)]
pub async fn ban(
    State(state): State<AppState>,
    user: AuthUser,
    Path(room): Path<Uuid>,
    extract::Json(body): extract::Json<BanBody>,
) -> Result<StatusCode, ApiError> {
    let mut lock = lock_for(&state, room, &user, Needs::Moderator).await?;
    let target = target_of(&mut lock, &user, body.user_id).await?;
    lock.ban(target.id, user.id).await?;
    lock.commit().await?;
    removed(&state, room, &user, &target, ModAction::Ban).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Lifts a ban (owner or moderator); the user may join or be invited again.
#[utoipa::path(
    delete, path = "/api/rooms/{id}/bans/{user_id}", tag = "moderation",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The room"), ("user_id" = Uuid, Path, description = "The banned user")),
    responses(
        (status = 204, description = "The user is not banned"),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not the owner or a moderator, not a member, or no such room", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "A direct room", body = ErrorBody),
        (status = 422, description = "The caller themselves", body = ErrorBody),
        (status = 503, description = "The ban is lifted but the event could not be published; the same call again publishes it", body = ErrorBody),
    )
)]
pub async fn unban(
    State(state): State<AppState>,
    user: AuthUser,
    Path((room, banned)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    let mut lock = lock_for(&state, room, &user, Needs::Moderator).await?;
    let target = lock.target(banned).await?.ok_or(ApiError::NotFound)?;
    if target.id == user.id {
        return Err(ApiError::invalid("you cannot act on yourself"));
    }
    lock.unban(target.id).await?;
    lock.commit().await?;
    let moderation = rules::on_user(ModAction::Unban, &user_ref(&target));
    rules::publish_moderation(&state, &actor_ref(&user), room, moderation).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The users banned from the room (owner or moderator), newest first, at most 1000.
#[utoipa::path(
    get, path = "/api/rooms/{id}/bans", tag = "moderation",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The room")),
    responses(
        (status = 200, description = "The banned users", body = Vec<Ban>),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not the owner or a moderator, not a member, or no such room", body = ErrorBody),
        (status = 409, description = "A direct room", body = ErrorBody),
    )
)]
pub async fn bans(
    State(state): State<AppState>,
    user: AuthUser,
    Path(room): Path<Uuid>,
) -> Result<Json<Vec<Ban>>, ApiError> {
    let (kind, role) = db::moderation::standing(&state.pool, room, user.id)
        .await?
        .ok_or(ApiError::Forbidden)?;
    rules::check_actor(kind, role, Needs::Moderator)?;
    Ok(Json(db::moderation::bans(&state.pool, room).await?))
}

/// After a kick or a ban is committed: every gateway forgets the membership
/// it remembered, ends the user's feeds of the room (`member_left`), and the
/// room gets the moderation event.
async fn removed(
    state: &AppState,
    room: Uuid,
    actor: &AuthUser,
    target: &Target,
    action: ModAction,
) -> Result<(), ApiError> {
    let change = Change {
        room,
        removed: target.id,
    };
    room_changes::announce(state, change).await;
    let reason = match action {
        ModAction::Ban => RemovedReason::Banned,
        _ => RemovedReason::Kicked,
    };
    crate::user_feed::room_removed(state, target.id, room, reason).await;
    let who = user_ref(target);
    super::rooms::announce_departure(state, room, who.clone()).await;
    rules::publish_moderation(state, &actor_ref(actor), room, rules::on_user(action, &who)).await
}
