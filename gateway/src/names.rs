//! Name hygiene shared by usernames and room names: Unicode normalisation,
//! refusal of invisible and direction-changing characters, and reserved names
//! matched through case and look-alike characters.

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// Names nobody may take: they would pass for the service, its staff or a
/// mention of everyone. Matched after [`fold`], so `Adm1n`, `ＡＤＭＩＮ`,
/// `sys.tem` and a Cyrillic `ѕуѕtеm` are all `admin` or `system`.
pub const RESERVED: &[&str] = &[
    "abuse",
    "admin",
    "administrator",
    "admins",
    "anonymous",
    "api",
    "bot",
    "bots",
    "channel",
    "chatbot",
    "deleted",
    "everyone",
    "gateway",
    "help",
    "helpdesk",
    "here",
    "hostmaster",
    "mod",
    "moderator",
    "moderators",
    "mods",
    "nil",
    "nobody",
    "none",
    "null",
    "official",
    "owner",
    "postmaster",
    "root",
    "security",
    "server",
    "staff",
    "superuser",
    "support",
    "sysadmin",
    "system",
    "undefined",
    "webmaster",
];

/// Why a name was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error(
        "a name must not contain control, format (bidi, zero-width) or other invisible characters"
    )]
    Invisible,
    #[error("that name is reserved")]
    Reserved,
}

/// `raw` in Unicode NFKC, trimmed, with every run of whitespace made one
/// space; refused if it holds a character that is invisible or changes how
/// the text around it is shown.
pub fn normalise(raw: &str) -> Result<String, NameError> {
    let composed: String = raw.nfkc().collect();
    if composed.chars().any(is_invisible) {
        return Err(NameError::Invisible);
    }
    Ok(composed.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Control (`Cc`: tabs, newlines), format (`Cf`: bidi overrides and
/// isolates, zero-width spaces and joiners, soft hyphens, byte order marks),
/// private-use, surrogate and unassigned characters, and the letters that
/// render as nothing (Hangul fillers, the combining grapheme joiner).
fn is_invisible(c: char) -> bool {
    matches!(
        c.general_category(),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::PrivateUse
            | GeneralCategory::Surrogate
            | GeneralCategory::Unassigned
    ) || matches!(
        c,
        '\u{034F}' | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' | '\u{2800}'
    )
}

/// True when `name` (already normalised) is a reserved name in disguise.
pub fn is_reserved(name: &str) -> bool {
    let folded = fold(name);
    RESERVED.iter().any(|reserved| fold(reserved) == folded)
}

/// The form two names share when a reader could take one for the other:
/// lowercase, Unicode's confusable skeleton (UTS #39), without separators,
/// with the digits and signs that stand in for letters replaced by them.
fn fold(name: &str) -> String {
    let lower: String = name.nfkc().flat_map(char::to_lowercase).collect();
    let skeleton: String = unicode_security::skeleton(&lower)
        .flat_map(char::to_lowercase)
        .filter(|c| !(c.is_whitespace() || matches!(c, '_' | '.' | '-' | '\'' | '·')))
        .map(|c| match c {
            '0' => 'o',
            '1' | 'l' | '|' | '!' => 'i',
            '3' => 'e',
            '4' | '@' => 'a',
            '5' | '$' => 's',
            '7' => 't',
            '8' => 'b',
            other => other,
        })
        .collect();
    skeleton.replace("rn", "m").replace("vv", "w")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_composed_trimmed_and_single_spaced() {
        assert_eq!(
            normalise("  ｆｕｌｌ\u{3000}width \u{00A0} name ").as_deref(),
            Ok("full width name")
        );
        assert_eq!(normalise("e\u{0301}").as_deref(), Ok("\u{00E9}"));
    }

    #[test]
    fn invisible_and_bidi_characters_are_refused() {
        for raw in [
            "\u{202E}gnp.exe",
            "\u{2066}x\u{2069}",
            "a\u{200B}b",
            "a\u{200D}b",
            "a\u{FEFF}",
            "a\u{00AD}b",
            "a\nb",
            "a\u{0000}",
            "\u{3164}",
            "a\u{E000}",
        ] {
            assert_eq!(normalise(raw), Err(NameError::Invisible), "{raw:?}");
        }
        assert!(normalise("café ☕ 東京").is_ok());
    }

    #[test]
    fn reserved_names_are_found_through_case_look_alikes_and_separators() {
        for name in [
            "admin",
            "ADMIN",
            "Adm1n",
            "adrnin",
            "sys.tem",
            "S Y S T E M",
            "\u{0455}\u{0443}\u{0455}t\u{0435}m",
            "r00t",
            "B0T",
            "supp0rt",
            "Ｅｖｅｒｙｏｎｅ",
        ] {
            let normalised = normalise(name).expect("visible");
            assert!(is_reserved(&normalised), "{name:?}");
        }
        for name in ["admiral", "admin team", "robot", "bottle", "alice"] {
            assert!(!is_reserved(name), "{name:?}");
        }
    }
}
