//! `GET /api/rooms/{id}/online`: who is online in a room, paged by user id.
//! Members only. `subscribed` carries only the count; the client that shows
//! the list asks for it here.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::extract::{Path, Query};
use crate::auth::AuthUser;
use crate::db;
use crate::domain::Limit;
use crate::error::{ApiError, ErrorBody};
use crate::presence_page::OnlineUser;
use crate::state::AppState;

/// Users per page when the client does not say.
pub const ONLINE_PAGE_DEFAULT: i64 = 100;
/// Users per page at most.
pub const ONLINE_PAGE_MAX: i64 = 200;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/rooms/{id}/online", get(online))
}

/// Which page: the first without `after`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OnlineQuery {
    /// At least 1; 100 when absent; more than 200 counts as 200.
    #[param(minimum = 1)]
    pub limit: Option<i64>,
    /// The users after this one (by id): the `next` of the previous page.
    pub after: Option<Uuid>,
}

/// A page of who is online in the room, by user id.
#[derive(Debug, Serialize, ToSchema)]
pub struct OnlinePage {
    pub online: Vec<OnlineUser>,
    /// How many users are online in the room in all (you included).
    pub online_count: u64,
    /// The `after` of the next page; `null` on the last page.
    pub next: Option<Uuid>,
}

/// Who is online in a room, paged by user id.
#[utoipa::path(
    get, path = "/api/rooms/{id}/online", tag = "rooms",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The room"), OnlineQuery),
    responses(
        (status = 200, description = "A page of the users online in the room, by id, each active or away", body = OnlinePage),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "The caller is not a member (or no such room)", body = ErrorBody),
        (status = 422, description = "Invalid paging parameters (a `limit` below 1, an `after` that is not a uuid)", body = ErrorBody),
    )
)]
pub async fn online(
    State(state): State<AppState>,
    user: AuthUser,
    Path(room): Path<Uuid>,
    Query(query): Query<OnlineQuery>,
) -> Result<Json<OnlinePage>, ApiError> {
    let limit = Limit::parse(query.limit, ONLINE_PAGE_DEFAULT, ONLINE_PAGE_MAX)?;
    if !db::rooms::is_member(&state.pool, room, user.id).await? {
        return Err(ApiError::Forbidden);
    }
    let page = state.presence.page(room, query.after, limit.get()).await?;
    let next = page.next();
    Ok(Json(OnlinePage {
        online: page.online,
        online_count: page.count,
        next,
    }))
}
