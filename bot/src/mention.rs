//! What counts as a mention of the bot, and the id its reply gets.

use uuid::Uuid;

/// Namespace of reply ids: `reply_id(m)` is the UUIDv5 of the mention's id in it.
const REPLY_NAMESPACE: Uuid = Uuid::from_u128(0x6d0f_2a4e_1c39_4f8e_9b1d_c0a5_7e21_b0a7);

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'
}

/// True when `body` mentions `@username` (case-insensitive) as a whole word:
/// `@bot,` and `@bot.` at a sentence's end count, `@bots` and `me@bot` do not.
pub fn mentions(body: &str, username: &str) -> bool {
    let needle = format!("@{username}");
    let bytes = body.as_bytes();
    let mut from = 0;
    while let Some(found) = find_ignore_ascii_case(&body[from..], &needle) {
        let start = from + found;
        let end = start + needle.len();
        let before_ok = body[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !is_name_char(c) && c != '@');
        let rest = &body[end..];
        let after_ok = match rest.chars().next() {
            None => true,
            // a full stop ends the mention when what follows is not part of a name
            Some('.') => rest[1..].chars().next().is_none_or(|c| !is_name_char(c)),
            Some(c) => !is_name_char(c),
        };
        if before_ok && after_ok {
            return true;
        }
        from = start + 1;
        while from < bytes.len() && !body.is_char_boundary(from) {
            from += 1;
        }
    }
    false
}

/// Byte offset of `needle` (ASCII) in `haystack`, ignoring ASCII case.
fn find_ignore_ascii_case(haystack: &str, needle: &str) -> Option<usize> {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    if n.is_empty() || h.len() < n.len() {
        return None;
    }
    (0..=h.len() - n.len()).find(|&i| h[i..i + n.len()].eq_ignore_ascii_case(n))
}

/// The id of the reply to `mention`: the same every time, so that a reply
/// written twice (a restart, a rebalance) is one message.
pub fn reply_id(mention: Uuid) -> Uuid {
    Uuid::new_v5(&REPLY_NAMESPACE, mention.as_bytes())
}

/// The reply's client message id (the `(sender, client_msg_id)` key of the store).
pub fn reply_client_msg_id(mention: Uuid) -> String {
    format!("bot:{mention}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_word_mentions_count_in_any_case() {
        for body in [
            "@bot hi",
            "hi @bot",
            "hey @BOT, what's up",
            "ask @bot.",
            "(@bot)",
            "é@bot",
        ] {
            assert!(mentions(body, "bot"), "{body:?} mentions @bot");
        }
        for body in [
            "bot hi", "@bots hi", "me@bot", "@bot_2", "@bot.x", "@@bot", "",
        ] {
            assert!(!mentions(body, "bot"), "{body:?} does not mention @bot");
        }
    }

    #[test]
    fn names_with_dots_and_dashes_are_matched_whole() {
        assert!(mentions("hello @ai.bot-1!", "ai.bot-1"));
        assert!(!mentions("hello @ai.bot-12", "ai.bot-1"));
    }

    #[test]
    fn the_reply_id_is_derived_from_the_mention_alone() {
        let m = Uuid::now_v7();
        assert_eq!(reply_id(m), reply_id(m));
        assert_ne!(reply_id(m), reply_id(Uuid::now_v7()));
        assert_ne!(reply_id(m), m);
        assert!(reply_client_msg_id(m).len() <= chat_core::event::MAX_CLIENT_MSG_ID_LEN);
    }
}
