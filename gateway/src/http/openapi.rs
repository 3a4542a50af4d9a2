//! The OpenAPI document of the HTTP API, served at `/api/openapi.json`.
//!
//! The handlers' `#[utoipa::path]` annotations give each operation; the
//! modifiers add what is common to all of them ([`responses`]) and the links
//! between them ([`links`]). `scripts/check-api.sh` (schemathesis, in `make
//! test`) checks that the server answers exactly what this document says.

mod links;
mod responses;

use links::Links;
use responses::CommonResponses;

use std::sync::LazyLock;

use axum::http::header;
use axum::response::IntoResponse;
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
        super::online::online,
        super::rooms::invite,
        super::rooms::direct,
        super::rooms::mark_read,
        super::blocks::block,
        super::blocks::unblock,
        super::blocks::list,
        super::history::messages,
        super::history::message,
        super::history::versions,
        super::moderation::set_topic,
        super::moderation::set_slow_mode,
        super::moderation::set_role,
        super::moderation::kick,
        super::moderation::ban,
        super::moderation::unban,
        super::moderation::bans,
        super::reports::report,
        super::reports::open,
        super::reports::resolve,
        super::search::search,
        super::tickets::issue,
        super::preview::preview,
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
        super::online::OnlinePage,
        crate::presence_page::OnlineUser,
        crate::domain::RoomKind,
        crate::domain::NewRoomKind,
        crate::domain::MemberRole,
        super::blocks::BlockBody,
        crate::db::blocks::BlockedUser,
        super::history::History,
        super::history::HistoryMessage,
        super::history_view::ModerationInfo,
        super::history_view::Reaction,
        super::history_view::ReplyPreview,
        super::history::Versions,
        super::history::Version,
        super::tickets::Ticket,
        super::moderation::TopicBody,
        super::moderation::SlowModeBody,
        super::moderation::AssignableRole,
        super::moderation::RoleBody,
        super::moderation::BanBody,
        crate::db::moderation::Ban,
        super::reports::ReportBody,
        crate::db::reports::Report,
        crate::db::reports::ReportedMessage,
        crate::db::reports::OpenReport,
        super::search::RoomRef,
        super::search::Segment,
        super::search::SearchResult,
        super::search::SearchResults,
        super::preview::Preview,
        super::preview::PreviewRoom,
        super::preview::PreviewMessage,
        crate::error::ErrorBody,
        crate::error::ErrorDetail,
    )),
    tags(
        (name = "accounts", description = "Sign-up, login, token refresh (the `chat_refresh` cookie), logout"),
        (name = "rooms", description = "Rooms, membership, direct rooms, read markers"),
        (name = "blocks", description = "Users the caller blocks: no direct rooms or invitations from them"),
        (name = "history", description = "Stored room events paged by seq, messages in their current state"),
        (name = "moderation", description = "Topic, slow mode, roles, kicks, bans and reports (owners and moderators; direct rooms have none)"),
        (name = "search", description = "Full-text search over the messages of the caller's rooms"),
        (name = "realtime", description = "Access to the WebSocket"),
    ),
    modifiers(&BearerAuth, &CommonResponses, &Links)
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

/// The document as served, built once.
static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    let mut document = match serde_json::to_value(ApiDoc::openapi()) {
        Ok(document) => document,
        Err(error) => {
            tracing::error!(%error, "the OpenAPI document does not serialise");
            serde_json::Value::Null
        }
    };
    links::respell(&mut document);
    document.to_string()
});

/// `GET /api/openapi.json`.
pub async fn document() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        DOCUMENT.as_str(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{RoomName, Username};

    /// The `pattern` of `schema.property` in the served document.
    fn pattern(schema: &str, property: &str) -> regex::Regex {
        let document = serde_json::to_value(ApiDoc::openapi()).expect("serialises");
        let pattern = document["components"]["schemas"][schema]["properties"][property]["pattern"]
            .as_str()
            .unwrap_or_else(|| panic!("{schema}.{property} has a pattern"))
            .to_owned();
        regex::Regex::new(&pattern).expect("the pattern compiles")
    }

    #[test]
    fn the_room_name_pattern_accepts_every_name_the_server_accepts() {
        let pattern = pattern("NewRoom", "name");
        let long = "é".repeat(80);
        let too_long = "é".repeat(81);
        let padded = format!("  {}\u{3000}\u{2028}", "é".repeat(76));
        // The server accepts these: the document must too.
        let accepted = [
            "general",
            "g",
            " g ",
            "a b",
            "a\u{a0}b",
            "\u{2003}x\u{2003}",
            "ｆｕｌｌ\u{3000}width",
            "café ☕ 東京",
            "שלום עולם",
            long.as_str(),
            padded.as_str(),
        ];
        for case in accepted {
            assert!(
                RoomName::parse(case).is_ok(),
                "{case:?}: the server refuses it"
            );
            assert!(pattern.is_match(case), "{case:?}: the document refuses it");
        }
        // Refused by both: what a pattern can state.
        let refused = [
            "",
            " ",
            "\u{3000}",
            "\tg\n",
            "a\nb",
            "a\u{7f}b",
            "a\u{85}b",
            "a\u{9f}",
            "\u{0}",
            "x\u{200b}",
            "\u{feff}",
            "\u{202e}gnp.exe",
            "a\u{2066}b\u{2069}",
            "\u{e000}",
            "\u{3164}",
        ];
        for case in refused {
            assert!(
                RoomName::parse(case).is_err(),
                "{case:?}: the server accepts it"
            );
            assert!(!pattern.is_match(case), "{case:?}: the document accepts it");
        }
        // Past the document's maxLength: the server refuses it too.
        assert!(RoomName::parse(&too_long).is_err());
        // What only the server refuses (the description says so).
        for case in ["admin", "Sys.tem", "\u{378}x"] {
            assert!(pattern.is_match(case), "{case:?}: the document refuses it");
            assert!(
                RoomName::parse(case).is_err(),
                "{case:?}: the server accepts it"
            );
        }
    }

    #[test]
    fn the_username_pattern_and_lengths_accept_exactly_what_the_server_accepts() {
        for (schema, property) in [
            ("CredentialsBody", "username"),
            ("UsernameBody", "username"),
        ] {
            let pattern = pattern(schema, property);
            for case in [
                "alice",
                "Al.i-c_e9",
                "al",
                "al ice",
                "alïce",
                "a\nb",
                "bob!",
                "a".repeat(32).as_str(),
                "a".repeat(33).as_str(),
            ] {
                let documented = pattern.is_match(case)
                    && (Username::MIN..=Username::MAX).contains(&case.chars().count());
                assert_eq!(
                    documented,
                    Username::parse(case).is_ok(),
                    "{schema}.{property} {case:?}: the document and the server disagree"
                );
            }
        }
    }
}
