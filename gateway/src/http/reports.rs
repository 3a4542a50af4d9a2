//! Reports: a member reports a message of their room (once; again answers
//! the same report), the owner and moderators list the open reports and
//! resolve them. Direct rooms have no moderation (`409`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::extract::{self, Path};
use crate::auth::AuthUser;
use crate::db;
use crate::db::reports::{Filed, OpenReport, Report};
use crate::domain::RoomKind;
use crate::error::{ApiError, ErrorBody};
use crate::moderation::{self as rules, Needs};
use crate::state::AppState;

/// Longest reason, in characters (the database checks it too).
pub const MAX_REASON_CHARS: usize = 500;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/rooms/{id}/messages/{message_id}/reports",
            post(report),
        )
        .route("/api/rooms/{id}/reports", get(open))
        .route("/api/rooms/{id}/reports/{report_id}/resolve", post(resolve))
}

/// Why the message is reported.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReportBody {
    /// At most 500 characters (Unicode scalar values); may be empty; no NUL.
    #[schema(max_length = 500, pattern = r"^[^\x00]*$")]
    pub reason: String,
}

/// Reports a message of the room (members). A second report of the same
/// message by the same member answers the first one with `200`.
#[utoipa::path(
    post, path = "/api/rooms/{id}/messages/{message_id}/reports", tag = "moderation",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The room"), ("message_id" = Uuid, Path, description = "A stored message of the room")),
    request_body = ReportBody,
    responses(
        (status = 201, description = "Reported", body = Report),
        (status = 200, description = "The caller had reported this message already: that report", body = Report),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not a member, or no such room", body = ErrorBody),
        (status = 404, description = "No such message in the room (or not stored yet)", body = ErrorBody),
        (status = 409, description = "A direct room", body = ErrorBody),
        (status = 422, description = "A reason over 500 characters or with a NUL, or the body is not `{reason}`", body = ErrorBody),
    )
)]
pub async fn report(
    State(state): State<AppState>,
    user: AuthUser,
    Path((room, message)): Path<(Uuid, Uuid)>,
    extract::Json(body): extract::Json<ReportBody>,
) -> Result<(StatusCode, Json<Report>), ApiError> {
    if body.reason.chars().count() > MAX_REASON_CHARS || body.reason.contains('\0') {
        return Err(ApiError::invalid(
            "a reason is at most 500 characters, without NUL",
        ));
    }
    let (kind, _) = db::moderation::standing(&state.pool, room, user.id)
        .await?
        .ok_or(ApiError::Forbidden)?;
    if kind == RoomKind::Direct {
        return Err(ApiError::Conflict("a direct room has no moderation".into()));
    }
    match db::reports::file(&state.pool, room, message, user.id, &body.reason).await? {
        Filed::New(report) => Ok((StatusCode::CREATED, Json(report))),
        Filed::Again(report) => Ok((StatusCode::OK, Json(report))),
        Filed::NoMessage => Err(ApiError::NotFound),
    }
}

/// The room's open reports, oldest first, at most 200 (owner or moderator).
#[utoipa::path(
    get, path = "/api/rooms/{id}/reports", tag = "moderation",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The room")),
    responses(
        (status = 200, description = "Open reports", body = Vec<OpenReport>),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not the owner or a moderator, not a member, or no such room", body = ErrorBody),
        (status = 409, description = "A direct room", body = ErrorBody),
    )
)]
pub async fn open(
    State(state): State<AppState>,
    user: AuthUser,
    Path(room): Path<Uuid>,
) -> Result<Json<Vec<OpenReport>>, ApiError> {
    moderator_of(&state, room, &user).await?;
    Ok(Json(db::reports::open(&state.pool, room).await?))
}

/// Resolves a report (owner or moderator); resolving it again is harmless.
#[utoipa::path(
    post, path = "/api/rooms/{id}/reports/{report_id}/resolve", tag = "moderation",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The room"), ("report_id" = Uuid, Path, description = "The report")),
    responses(
        (status = 204, description = "Resolved"),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not the owner or a moderator, not a member, or no such room", body = ErrorBody),
        (status = 404, description = "No such report in the room", body = ErrorBody),
        (status = 409, description = "A direct room", body = ErrorBody),
    )
)]
pub async fn resolve(
    State(state): State<AppState>,
    user: AuthUser,
    Path((room, report)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    moderator_of(&state, room, &user).await?;
    if db::reports::resolve(&state.pool, room, report, user.id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}

async fn moderator_of(state: &AppState, room: Uuid, user: &AuthUser) -> Result<(), ApiError> {
    let (kind, role) = db::moderation::standing(&state.pool, room, user.id)
        .await?
        .ok_or(ApiError::Forbidden)?;
    rules::check_actor(kind, role, Needs::Moderator)
}
