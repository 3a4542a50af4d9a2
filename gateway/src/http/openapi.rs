//! The OpenAPI document of the HTTP API, served at `/api/openapi.json`.

use axum::Json;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "Chat gateway API", version = "1", description = "Accounts, rooms and history. Live chat is the WebSocket protocol in docs/protocol.md."),
    paths(
        super::accounts::sign_up,
        super::accounts::log_in,
        super::accounts::refresh,
        super::accounts::log_out,
        super::accounts::me,
        super::rooms::create,
        super::rooms::search,
        super::rooms::mine,
        super::rooms::join,
        super::rooms::leave,
        super::rooms::members,
        super::rooms::invite,
        super::rooms::direct,
        super::rooms::mark_read,
        super::blocks::block,
        super::blocks::unblock,
        super::blocks::list,
        super::history::messages,
        super::tickets::issue,
    ),
    components(schemas(
        super::accounts::CredentialsBody,
        super::accounts::Session,
        crate::db::users::User,
        super::rooms::NewRoom,
        super::rooms::UsernameBody,
        super::rooms::ReadMarker,
        super::rooms::DirectRoom,
        crate::db::rooms::Room,
        crate::db::rooms::MyRoom,
        crate::db::rooms::Member,
        crate::domain::RoomKind,
        crate::domain::NewRoomKind,
        crate::domain::MemberRole,
        super::blocks::BlockBody,
        crate::db::blocks::BlockedUser,
        super::history::History,
        super::history::HistoryMessage,
        super::tickets::Ticket,
        crate::error::ErrorBody,
        crate::error::ErrorDetail,
    )),
    tags(
        (name = "accounts", description = "Sign-up, login, token refresh (the `chat_refresh` cookie), logout"),
        (name = "rooms", description = "Rooms, membership, direct rooms, read markers"),
        (name = "blocks", description = "Users the caller blocks: no direct rooms or invitations from them"),
        (name = "history", description = "Stored messages paged by seq"),
        (name = "realtime", description = "Access to the WebSocket"),
    ),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// `GET /api/openapi.json`.
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
