//! Mentions in a message's body: `@name` (a username, `[A-Za-z0-9_.-]{3,32}`,
//! any case) and `@room`. The gateway resolves the names among the room's
//! members; the body is never changed.

/// Most distinct names looked up for one body (a body of 4000 characters could
/// hold a thousand): the record carries at most `MAX_MENTIONS` anyway.
pub const MAX_NAMES: usize = 50;

/// What a body mentions, before the names are resolved.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    /// Lowercased names, first occurrence first, without duplicates, at most [`MAX_NAMES`].
    pub names: Vec<String>,
    /// `@room` appears.
    pub room: bool,
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// Finds the `@name` and `@room` mentions of `body`. A mention starts after a
/// character that cannot be part of a name (so `me@example.com` mentions
/// nobody) and takes the longest run of name characters; a run ending in
/// dots (`@alice.` at a sentence's end) also counts without them.
pub fn parse(body: &str) -> Parsed {
    let mut parsed = Parsed::default();
    let mut prev: Option<char> = None;
    for (at, c) in body.char_indices() {
        let starts = c == '@' && prev.is_none_or(|p| !is_name_char(p) && p != '@');
        prev = Some(c);
        if !starts {
            continue;
        }
        let rest = &body[at + 1..];
        let len = rest.find(|c: char| !is_name_char(c)).unwrap_or(rest.len());
        let run = &rest[..len];
        let name = run.trim_end_matches('.');
        if name.eq_ignore_ascii_case("room") {
            parsed.room = true;
            continue;
        }
        if !(3..=32).contains(&name.len()) {
            continue;
        }
        let name = name.to_ascii_lowercase();
        if parsed.names.len() < MAX_NAMES && !parsed.names.contains(&name) {
            parsed.names.push(name);
        }
    }
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_room_are_found_once_and_addresses_are_not() {
        let p = parse("hi @Alice and @bob_2, @alice again; mail me@example.com. @room!");
        assert_eq!(p.names, vec!["alice", "bob_2"]);
        assert!(p.room);
        let p = parse("ask @carol. or @@dave or @ab or @x.y.z");
        assert_eq!(p.names, vec!["carol", "x.y.z"]);
        assert!(!p.room);
        assert_eq!(parse("é@alice").names, vec!["alice"]);
        assert_eq!(parse(&format!("@{}", "a".repeat(33))).names.len(), 0);
    }

    #[test]
    fn the_names_looked_up_are_bounded() {
        let body: String = (0..200).map(|i| format!("@user{i:03} ")).collect();
        assert_eq!(parse(&body).names.len(), MAX_NAMES);
    }
}
