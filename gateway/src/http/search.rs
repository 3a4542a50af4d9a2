//! `GET /api/search`: full-text search over the messages of the caller's
//! rooms (members now), ranked, with snippets as plain-text segments (never HTML).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::extract::Query;
use crate::auth::AuthUser;
use crate::db;
use crate::db::search::{HIT_END, HIT_START, Hit, SEARCH_TIMEOUT_MS, SearchError};
use crate::db::users::User;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

/// Longest query, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// Most results per page.
pub const MAX_LIMIT: i64 = 50;
const DEFAULT_LIMIT: i64 = 20;
/// Furthest a page may start.
pub const MAX_OFFSET: i64 = 1000;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/search", get(search))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Web-search syntax (`"a phrase"`, `or`, `-word`), 1 to 200 characters
    /// once trimmed, no NUL; words are matched whole, without stemming.
    #[param(min_length = 1, max_length = 200, pattern = r"^[^\x00]*\S[^\x00]*$")]
    pub q: String,
    /// Only this room (nothing if the caller is not a member).
    pub room: Option<Uuid>,
    /// 1 to 50; 20 when absent.
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<i64>,
    /// 0 to 1000; 0 when absent.
    #[param(minimum = 0, maximum = 1000)]
    pub offset: Option<i64>,
}

/// A room as a search result names it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoomRef {
    pub id: Uuid,
    /// For a direct room: the other member's username.
    pub name: String,
}

/// A piece of a snippet: text, and whether it matched the query.
#[derive(Debug, Serialize, ToSchema, PartialEq, Eq)]
pub struct Segment {
    pub text: String,
    pub hit: bool,
}

/// One matching message.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResult {
    pub room: RoomRef,
    pub id: Uuid,
    pub seq: i64,
    pub sender: User,
    pub sent_at: DateTime<Utc>,
    /// The message's text around its best match (all of a short one), as plain text.
    pub snippet: Vec<Segment>,
}

/// A page of results.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResults {
    pub results: Vec<SearchResult>,
    /// More results follow (at `offset + limit`).
    pub has_more: bool,
}

/// Searches the messages of the rooms the caller is a member of now (never
/// deleted ones), best match first (`ts_rank`, then newest).
#[utoipa::path(
    get, path = "/api/search", tag = "search",
    security(("bearer" = [])),
    params(SearchParams),
    responses(
        (status = 200, description = "A page of matching messages", body = SearchResults),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 422, description = "`q` empty, over 200 characters or with a NUL; `limit` outside 1..=50; `offset` outside 0..=1000; or a query so broad that ranking its matches ran past 3 s (add words)", body = ErrorBody),
    )
)]
pub async fn search(
    State(state): State<AppState>,
    user: AuthUser,
    Query(params): Query<SearchParams>,
) -> Result<Json<SearchResults>, ApiError> {
    let q = params.q.trim();
    if q.is_empty() || q.chars().count() > MAX_QUERY_CHARS || q.contains('\0') {
        return Err(ApiError::invalid(
            "q must be 1 to 200 characters, without NUL",
        ));
    }
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid("limit must be 1 to 50"));
    }
    let offset = params.offset.unwrap_or(0);
    if !(0..=MAX_OFFSET).contains(&offset) {
        return Err(ApiError::invalid("offset must be 0 to 1000"));
    }
    let page = (limit + 1, offset);
    let mut hits = db::search::messages(
        &state.pool,
        user.id,
        q,
        params.room,
        page,
        SEARCH_TIMEOUT_MS,
    )
    .await
    .map_err(|error| match error {
        SearchError::TooBroad => ApiError::invalid(
            "the search matches too many messages to rank in time: add words to narrow it",
        ),
        SearchError::Postgres(error) => error.into(),
    })?;
    let has_more = hits.len() > usize::try_from(limit).unwrap_or(0);
    hits.truncate(usize::try_from(limit).unwrap_or(0));
    Ok(Json(SearchResults {
        results: hits.into_iter().map(result).collect(),
        has_more,
    }))
}

fn result(hit: Hit) -> SearchResult {
    SearchResult {
        room: RoomRef {
            id: hit.room_id,
            name: hit.room_name,
        },
        id: hit.id,
        seq: hit.seq,
        sender: User {
            id: hit.sender_id,
            username: hit.sender_name,
        },
        sent_at: hit.sent_at,
        snippet: segments(&hit.headline),
    }
}

/// Splits a headline marked with [`HIT_START`] and [`HIT_END`] into
/// segments; empty pieces are dropped, a stray marker is taken as a boundary.
pub fn segments(headline: &str) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    let mut hit = false;
    let mut text = String::new();
    let flush = |text: &mut String, hit: bool, out: &mut Vec<Segment>| {
        if text.is_empty() {
            return;
        }
        match out.last_mut() {
            Some(last) if last.hit == hit => last.text.push_str(text),
            _ => out.push(Segment {
                text: std::mem::take(text),
                hit,
            }),
        }
        text.clear();
    };
    for c in headline.chars() {
        match c {
            HIT_START => {
                flush(&mut text, hit, &mut out);
                hit = true;
            }
            HIT_END => {
                flush(&mut text, hit, &mut out);
                hit = false;
            }
            c => text.push(c),
        }
    }
    flush(&mut text, hit, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(text: &str, hit: bool) -> Segment {
        Segment {
            text: text.into(),
            hit,
        }
    }

    #[test]
    fn a_headline_becomes_plain_segments() {
        assert_eq!(
            segments("the \u{2}quick\u{3} brown \u{2}fox\u{3}"),
            vec![
                seg("the ", false),
                seg("quick", true),
                seg(" brown ", false),
                seg("fox", true)
            ]
        );
        // adjacent hits merge; HTML stays text
        assert_eq!(
            segments("\u{2}a\u{3}\u{2}b\u{3} <b>x</b>"),
            vec![seg("ab", true), seg(" <b>x</b>", false)]
        );
        assert_eq!(segments(""), vec![]);
        assert_eq!(segments("\u{3}x\u{2}"), vec![seg("x", false)]);
    }
}
