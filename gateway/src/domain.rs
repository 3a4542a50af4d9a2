//! Validated values: what the API accepts, parsed once at the edge so that inner
//! code takes the newtype and never checks again.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::names::{self, NameError};

fn name_error(error: NameError) -> ApiError {
    ApiError::invalid(error.to_string())
}

/// A username: 3 to 32 of `A-Z a-z 0-9 _ . -` (the database checks the same shape).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub const MIN: usize = 3;
    pub const MAX: usize = 32;

    /// A name as typed at login or to find someone: NFKC, trimmed.
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let name = names::normalise(raw).map_err(name_error)?;
        let ok_len = (Self::MIN..=Self::MAX).contains(&name.len());
        let ok_chars = name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        if ok_len && ok_chars {
            Ok(Self(name))
        } else {
            Err(ApiError::invalid(
                "a username is 3 to 32 letters, digits, dots, dashes or underscores",
            ))
        }
    }

    /// A name chosen at sign-up: as [`Username::parse`], and not a reserved
    /// name (`admin`, `system`, `bot`, ... in any disguise, see [`names::RESERVED`]).
    pub fn parse_new(raw: &str) -> Result<Self, ApiError> {
        let name = Self::parse(raw)?;
        if names::is_reserved(name.as_str()) {
            return Err(name_error(NameError::Reserved));
        }
        Ok(name)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-insensitive form: one account per lowercase name.
    pub fn folded(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

/// A new password: 10 to 128 characters, not the username.
///
/// `Debug` never shows it.
#[derive(Clone)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

impl Password {
    pub const MIN_CHARS: usize = 10;
    pub const MAX_CHARS: usize = 128;

    /// A password chosen at sign-up for `username`.
    pub fn parse(raw: String, username: &Username) -> Result<Self, ApiError> {
        let chars = raw.chars().count();
        if !(Self::MIN_CHARS..=Self::MAX_CHARS).contains(&chars) {
            return Err(ApiError::invalid("a password is 10 to 128 characters"));
        }
        if raw.eq_ignore_ascii_case(username.as_str()) {
            return Err(ApiError::invalid("the password must not be the username"));
        }
        Ok(Self(raw))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A room name: at most 80 characters as sent; NFKC, trimmed, whitespace
/// runs made one space; then 1 to 80 characters, none of them invisible or
/// bidi controls, not a reserved name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomName(String);

impl RoomName {
    pub const MAX_CHARS: usize = 80;

    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        // as sent, too (the API document's bound): normalising only shortens padding
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(ApiError::invalid("a room name is 1 to 80 characters"));
        }
        let name = names::normalise(raw).map_err(name_error)?;
        let chars = name.chars().count();
        if chars == 0 || chars > Self::MAX_CHARS {
            return Err(ApiError::invalid("a room name is 1 to 80 characters"));
        }
        if names::is_reserved(&name) {
            return Err(name_error(NameError::Reserved));
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a room search looks for: any text without a NUL character (which
/// Postgres cannot hold), trimmed; empty matches every public room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchText(String);

impl SearchText {
    pub fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        let text = raw.unwrap_or_default();
        if text.contains('\0') {
            return Err(ApiError::invalid("the search text must not contain NUL"));
        }
        Ok(Self(text.trim().to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How many rows a listing returns: at least 1, `default` when not given,
/// silently capped at `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit(i64);

impl Limit {
    pub fn parse(raw: Option<i64>, default: i64, max: i64) -> Result<Self, ApiError> {
        match raw {
            None => Ok(Self(default.min(max))),
            Some(n) if n >= 1 => Ok(Self(n.min(max))),
            Some(_) => Err(ApiError::invalid("limit must be at least 1")),
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// Who can find and enter a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, ToSchema)]
#[serde(rename_all = "lowercase")]
#[sqlx(type_name = "room_kind", rename_all = "lowercase")]
pub enum RoomKind {
    /// Listed in search; anyone may join.
    Public,
    /// Unlisted; members invite others.
    Private,
    /// The conversation of two users.
    Direct,
}

/// The kinds of room a user may create with `POST /api/rooms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum NewRoomKind {
    Public,
    Private,
}

impl From<NewRoomKind> for RoomKind {
    fn from(kind: NewRoomKind) -> Self {
        match kind {
            NewRoomKind::Public => Self::Public,
            NewRoomKind::Private => Self::Private,
        }
    }
}

/// A member's standing in a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, ToSchema)]
#[serde(rename_all = "lowercase")]
#[sqlx(type_name = "member_role", rename_all = "lowercase")]
pub enum MemberRole {
    Owner,
    /// Sets the topic and slow mode, kicks and bans members (not the owner
    /// or another moderator), deletes any message, sees reports.
    Moderator,
    Member,
}

impl MemberRole {
    /// Owners and moderators moderate the room.
    pub fn moderates(self) -> bool {
        matches!(self, Self::Owner | Self::Moderator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_outside_the_shape_are_refused() {
        assert!(Username::parse("al").is_err());
        assert!(Username::parse(&"a".repeat(33)).is_err());
        assert!(Username::parse("al ice").is_err());
        assert!(Username::parse("alïce").is_err());
        assert!(Username::parse("Alice_1.x-y").is_ok());
    }

    #[test]
    fn a_password_must_be_long_enough_and_not_the_username() {
        let name = Username::parse("Alice.Smith").expect("valid");
        assert!(Password::parse("short".into(), &name).is_err());
        assert!(Password::parse("alice.smith".into(), &name).is_err());
        assert!(Password::parse("x".repeat(129), &name).is_err());
        assert!(Password::parse("é".repeat(10), &name).is_ok());
        assert!(
            !format!("{:?}", Password::parse("secret-secret".into(), &name)).contains("secret-")
        );
    }

    #[test]
    fn room_names_are_trimmed_and_bounded() {
        assert_eq!(
            RoomName::parse("  general ").expect("valid").as_str(),
            "general"
        );
        assert!(RoomName::parse("   ").is_err());
        assert!(RoomName::parse("a\nb").is_err());
        assert!(RoomName::parse(&"é".repeat(81)).is_err());
        assert!(RoomName::parse(&format!(" {} ", "a".repeat(79))).is_err());
        assert!(RoomName::parse("\u{202E}gnp.exe").is_err());
        assert!(RoomName::parse("System").is_err());
        assert_eq!(
            RoomName::parse("a \u{3000} b").expect("valid").as_str(),
            "a b"
        );
    }

    #[test]
    fn reserved_usernames_are_refused_only_to_new_accounts() {
        assert!(Username::parse_new("Adm1n").is_err());
        assert!(Username::parse_new("admiral").is_ok());
        assert_eq!(Username::parse("bot").expect("a lookup").as_str(), "bot");
        assert_eq!(
            Username::parse("ａｌｉｃｅ").expect("nfkc").as_str(),
            "alice"
        );
    }

    #[test]
    fn search_text_is_trimmed_and_refuses_nul() {
        assert_eq!(SearchText::parse(None).expect("valid").as_str(), "");
        assert_eq!(
            SearchText::parse(Some(" gen ")).expect("valid").as_str(),
            "gen"
        );
        assert!(SearchText::parse(Some("a\0b")).is_err());
    }

    #[test]
    fn limits_default_and_cap() {
        assert_eq!(Limit::parse(None, 50, 100).expect("ok").get(), 50);
        assert_eq!(Limit::parse(Some(500), 50, 100).expect("ok").get(), 100);
        assert!(Limit::parse(Some(0), 50, 100).is_err());
    }
}
