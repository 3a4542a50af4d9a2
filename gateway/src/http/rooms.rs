//! Rooms: create, search, the caller's rooms, join, leave, members, invite,
//! direct rooms and read markers. Who may do what is decided in `db::rooms`
//! and `db::direct`; a room the caller may not see answers 403 whether or not
//! it exists.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::extract::{self, Path, Query};
use crate::auth::AuthUser;
use crate::db;
use crate::db::direct::Opened;
use crate::db::rooms::{Created, Invite, Joined, Marked, Member, MyRoom, Room};
use crate::domain::{Limit, NewRoomKind, RoomName, SearchText, Username};
use crate::error::{ApiError, ErrorBody};
use crate::relay::live_channel;
use crate::state::AppState;
use crate::user_feed;
use crate::ws::protocol::{RemovedReason, ServerFrame, UserRef, encode};

/// Longest wait for the sequencer's head of a room before a read marker is
/// held to the stored head alone.
const HEAD_WAIT: Duration = Duration::from_secs(1);

/// Most rooms one search returns.
pub const SEARCH_MAX: i64 = 50;
const SEARCH_DEFAULT: i64 = 20;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/rooms", post(create).get(search))
        .route("/api/rooms/mine", get(mine))
        .route("/api/rooms/{id}/join", post(join))
        .route("/api/rooms/{id}/leave", post(leave))
        .route("/api/rooms/{id}/members", get(members))
        .route("/api/rooms/{id}/invite", post(invite))
        .route("/api/rooms/{id}/read", post(mark_read))
        .route("/api/dm", post(direct))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewRoom {
    /// 1 to 80 characters as sent and once normalised (Unicode NFKC, trimmed,
    /// each run of white space one space). The pattern states what a schema
    /// can: no control, bidi, zero-width or other format character, no
    /// private-use character, and something besides white space. The server
    /// also refuses what a pattern cannot state: reserved names (`admin`,
    /// `system`, `bot`, ... in any case or look-alike spelling, see
    /// docs/protocol.md), unassigned code points and invisible characters
    /// outside the Basic Multilingual Plane (`422 invalid`, which says why).
    #[schema(
        example = "general",
        min_length = 1,
        max_length = 80,
        pattern = r"^[ \xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\x00-\x20\x7F-\xA0\xAD\u0600-\u0605\u061C\u06DD\u070F\u115F\u1160\u1680\u180E\u2000-\u200F\u2028-\u202F\u205F-\u206F\u3000\u3164\uE000-\uF8FF\uFEFF\uFFA0\uFFF9-\uFFFB][^\x00-\x1F\x7F-\x9F\xAD\u0600-\u0605\u061C\u06DD\u070F\u115F\u1160\u180E\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uE000-\uF8FF\uFEFF\uFFA0\uFFF9-\uFFFB]*$"
    )]
    pub name: String,
    pub kind: NewRoomKind,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Part of the name, in any case (empty or absent: every public room); no NUL character.
    #[param(pattern = r"^[^\x00]*$")]
    pub q: Option<String>,
    /// At least 1; 20 when absent; more than 50 counts as 50.
    #[param(minimum = 1)]
    pub limit: Option<i64>,
}

/// Someone to invite or to talk to directly.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UsernameBody {
    /// A name outside this shape names nobody: `404`.
    #[schema(
        example = "bob",
        min_length = 3,
        max_length = 32,
        pattern = r"^[A-Za-z0-9_.-]*$"
    )]
    pub username: String,
}

/// The caller has read the room up to `seq`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReadMarker {
    /// A seq of the room's current epoch; one beyond the room's head counts as the head.
    #[schema(minimum = 0)]
    #[serde(deserialize_with = "super::extract::integer")]
    pub seq: i64,
}

/// The direct room between the caller and another user.
#[derive(Debug, Serialize, ToSchema)]
pub struct DirectRoom {
    pub room: Room,
}

/// Creates a public or private room; the caller is its owner. A user creates
/// at most `ROOMS_CREATED_PER_HOUR` rooms per rolling hour and owns at most
/// `ROOMS_OWNED_MAX`.
#[utoipa::path(
    post, path = "/api/rooms", tag = "rooms",
    security(("bearer" = [])),
    request_body = NewRoom,
    responses(
        (status = 201, description = "The new room", body = Room),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 422, description = "Invalid or reserved name, or invalid kind", body = ErrorBody),
        (status = 429, description = "The caller created too many rooms in the last hour, or owns too many; see `Retry-After`", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until a room may be created"))),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    extract::Json(body): extract::Json<NewRoom>,
) -> Result<(StatusCode, Json<Room>), ApiError> {
    let name = RoomName::parse(&body.name)?;
    let quotas = &state.config.rooms;
    match db::rooms::create(&state.pool, &name, body.kind.into(), user.id, quotas).await? {
        Created::Room(room) => {
            user_feed::room_added(&state, user.id, room.id).await;
            Ok((StatusCode::CREATED, Json(room)))
        }
        Created::TooMany { retry_after_secs } => {
            Err(ApiError::TooManyRequests { retry_after_secs })
        }
        // frees when the caller leaves a room they own: no time says when
        Created::OwnsTooMany => Err(ApiError::TooManyRequests {
            retry_after_secs: 3600,
        }),
    }
}

/// Searches public rooms by name, newest first.
#[utoipa::path(
    get, path = "/api/rooms", tag = "rooms",
    security(("bearer" = [])),
    params(SearchQuery),
    responses(
        (status = 200, description = "Matching public rooms", body = Vec<Room>),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 422, description = "`limit` below 1 or not a number", body = ErrorBody),
    )
)]
pub async fn search(
    State(state): State<AppState>,
    user: AuthUser,
    Query(query): Query<SearchQuery>,
) -> Result<Json<Vec<Room>>, ApiError> {
    let limit = Limit::parse(query.limit, SEARCH_DEFAULT, SEARCH_MAX)?;
    let text = SearchText::parse(query.q.as_deref())?;
    Ok(Json(
        db::rooms::search_public(&state.pool, text.as_str(), limit, user.id).await?,
    ))
}

/// The caller's rooms (public, private and direct) with unread counts.
#[utoipa::path(
    get, path = "/api/rooms/mine", tag = "rooms",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's rooms", body = Vec<MyRoom>),
        (status = 401, description = "Not authenticated", body = ErrorBody),
    )
)]
pub async fn mine(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<Vec<MyRoom>>, ApiError> {
    Ok(Json(db::rooms::of_member(&state.pool, user.id).await?))
}

/// Joins a public room (or accepts an invitation to a private one); joining twice is harmless.
#[utoipa::path(
    post, path = "/api/rooms/{id}/join", tag = "rooms",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The room")),
    responses(
        (status = 200, description = "The caller is a member", body = Room),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "A private room without an invitation, a direct room, or no such room (`forbidden`); the caller is banned from the room (`banned`)", body = ErrorBody),
        (status = 422, description = "The id is not a UUID", body = ErrorBody),
    )
)]
pub async fn join(
    State(state): State<AppState>,
    user: AuthUser,
    Path(room): Path<Uuid>,
) -> Result<Json<Room>, ApiError> {
    match db::rooms::join(&state.pool, room, user.id).await? {
        Joined::Room(room) => {
            user_feed::room_added(&state, user.id, room.id).await;
            Ok(Json(room))
        }
        Joined::Banned => Err(ApiError::Banned),
        Joined::NotAllowed => Err(ApiError::Forbidden),
    }
}

/// Leaves a room (harmless if the caller was not a member). An owner hands
/// the room to the longest-standing member; who leaves a direct room is not
/// added back by the other member.
#[utoipa::path(
    post, path = "/api/rooms/{id}/leave", tag = "rooms",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The room")),
    responses(
        (status = 204, description = "The caller is not a member any more"),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 422, description = "The id is not a UUID", body = ErrorBody),
    )
)]
pub async fn leave(
    State(state): State<AppState>,
    user: AuthUser,
    Path(room): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    db::rooms::leave(&state.pool, room, user.id).await?;
    user_feed::room_removed(&state, user.id, room, RemovedReason::Left).await;
    announce_departure(
        &state,
        room,
        UserRef {
            id: user.id,
            username: user.username,
        },
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// The members of a room the caller belongs to.
#[utoipa::path(
    get, path = "/api/rooms/{id}/members", tag = "rooms",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The room")),
    responses(
        (status = 200, description = "The members", body = Vec<Member>),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "The caller is not a member (or no such room)", body = ErrorBody),
        (status = 422, description = "The id is not a UUID", body = ErrorBody),
    )
)]
pub async fn members(
    State(state): State<AppState>,
    user: AuthUser,
    Path(room): Path<Uuid>,
) -> Result<Json<Vec<Member>>, ApiError> {
    let members = db::rooms::members(&state.pool, room, user.id).await?;
    if members.is_empty() {
        return Err(ApiError::Forbidden);
    }
    Ok(Json(members))
}

/// Adds a user to a private room the caller owns.
#[utoipa::path(
    post, path = "/api/rooms/{id}/invite", tag = "rooms",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The room")),
    request_body = UsernameBody,
    responses(
        (status = 200, description = "The invited user is a member", body = Member),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not a private room the caller owns (or no such room), or the user does not accept invitations from the caller (`forbidden`); the user is banned from the room (`banned`)", body = ErrorBody),
        (status = 404, description = "No user has that name", body = ErrorBody),
        (status = 422, description = "The id is not a UUID, or the body is not `{username}`", body = ErrorBody),
    )
)]
pub async fn invite(
    State(state): State<AppState>,
    user: AuthUser,
    Path(room): Path<Uuid>,
    extract::Json(body): extract::Json<UsernameBody>,
) -> Result<Json<Member>, ApiError> {
    let invitee = Username::parse(&body.username).map_err(|_| ApiError::NotFound)?;
    match db::rooms::invite(&state.pool, room, user.id, &invitee).await? {
        Invite::Added(member) => {
            user_feed::room_added(&state, member.id, room).await;
            Ok(Json(member))
        }
        Invite::NotAllowed => Err(ApiError::Forbidden),
        Invite::UnknownUser => Err(ApiError::NotFound),
        Invite::Refused => Err(ApiError::Refused("that user cannot be invited by you")),
        Invite::Banned => Err(ApiError::Banned),
    }
}

/// The direct room between the caller and another user, created on first
/// use. The caller is (again) a member; the other user is added back only if
/// they did not leave it themselves.
#[utoipa::path(
    post, path = "/api/dm", tag = "rooms",
    security(("bearer" = [])),
    request_body = UsernameBody,
    responses(
        (status = 200, description = "The direct room, named after the other user", body = DirectRoom),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "The other user left this direct room, or does not accept one with the caller", body = ErrorBody),
        (status = 404, description = "No user has that name", body = ErrorBody),
        (status = 409, description = "The caller blocks that user", body = ErrorBody),
        (status = 422, description = "That is the caller, or the body is not `{username}`", body = ErrorBody),
    )
)]
pub async fn direct(
    State(state): State<AppState>,
    user: AuthUser,
    extract::Json(body): extract::Json<UsernameBody>,
) -> Result<Json<DirectRoom>, ApiError> {
    let name = Username::parse(&body.username).map_err(|_| ApiError::NotFound)?;
    let other = db::users::by_username(&state.pool, &name)
        .await?
        .ok_or(ApiError::NotFound)?;
    if other.id == user.id {
        return Err(ApiError::invalid("a direct room is with someone else"));
    }
    match db::direct::open(&state.pool, user.id, &other).await? {
        Opened::Room(room) => {
            // both ends: the other user if they are a member (again), the caller's other connections
            user_feed::room_added(&state, other.id, room.id).await;
            user_feed::room_added(&state, user.id, room.id).await;
            Ok(Json(DirectRoom { room }))
        }
        Opened::Refused => Err(ApiError::Refused(
            "that user is not accepting a direct conversation with you",
        )),
        Opened::CallerBlocks => Err(ApiError::Conflict(
            "you block that user: unblock them first".into(),
        )),
    }
}

/// Moves the caller's read marker forward to `seq` (never back, and never
/// past the room's head: a higher `seq` marks the room read up to its head).
#[utoipa::path(
    post, path = "/api/rooms/{id}/read", tag = "rooms",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The room")),
    request_body = ReadMarker,
    responses(
        (status = 204, description = "Marked"),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "The caller is not a member (or no such room)", body = ErrorBody),
        (status = 422, description = "A negative seq, the id is not a UUID, or the body is not `{seq}`", body = ErrorBody),
    )
)]
pub async fn mark_read(
    State(state): State<AppState>,
    user: AuthUser,
    Path(room): Path<Uuid>,
    extract::Json(body): extract::Json<ReadMarker>,
) -> Result<StatusCode, ApiError> {
    if body.seq < 0 {
        return Err(ApiError::invalid("seq must not be negative"));
    }
    // asked only for a member's room: the sequencer keeps state for every room it is asked about
    if !db::rooms::is_member(&state.pool, room, user.id).await? {
        return Err(ApiError::Forbidden);
    }
    let live_head = live_head(&state, room).await;
    match db::rooms::mark_read(&state.pool, room, user.id, body.seq, live_head).await? {
        Marked::NotMember => return Err(ApiError::Forbidden),
        Marked::Moved(seq) => user_feed::read(&state, user.id, room, seq).await,
        Marked::Unchanged => {}
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The room's head as the sequencer knows it (messages not stored yet
/// included); 0 when it cannot say in time, and the stored head decides.
async fn live_head(state: &AppState, room: Uuid) -> i64 {
    match tokio::time::timeout(HEAD_WAIT, state.sequencer.head(room)).await {
        Ok(Ok(head)) => head.seq,
        Ok(Err(error)) => {
            tracing::warn!(%error, room.id = %room, "room head unavailable; the read marker stops at the stored head");
            0
        }
        Err(_) => {
            tracing::warn!(room.id = %room, "room head timed out; the read marker stops at the stored head");
            0
        }
    }
}

/// Tells every gateway that `user` left `room`: their open feeds of the room end
/// at once, and the other members hear of it. Best effort: the per-action
/// membership checks refuse the user's sends and subscriptions regardless.
pub(crate) async fn announce_departure(state: &AppState, room: Uuid, user: UserRef) {
    let frame = encode(&ServerFrame::MemberLeft { room, user });
    let published: Result<i64, _> = redis::cmd("PUBLISH")
        .arg(live_channel(room))
        .arg(frame.as_str())
        .query_async(&mut state.redis.clone())
        .await;
    if let Err(error) = published {
        tracing::warn!(%error, room.id = %room, "could not announce a departure");
    }
}
