//! Small helpers for sentences people read: quoting what they typed, counted nouns, and
//! an SDK error's message without its kind (`invalid input: …` is a label for logs, not
//! for users).

use crate::Error;

/// `text` in quotes, clipped to 40 characters (it may be a pasted novel).
pub fn quote(text: &str) -> String {
    let clipped: String = text.chars().take(40).collect();
    let more = if clipped.len() < text.len() { "…" } else { "" };
    format!("\"{clipped}{more}\"")
}

/// `n` and the noun in the right number: `1 item`, `2 items`, `0 items`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// What an SDK error says, without its kind: `"x" is not an amount like 12`, not
/// `invalid input: "x" is not an amount like 12`.
pub fn plain(e: &Error) -> String {
    match e {
        Error::AccessDenied(m)
        | Error::InvalidInput(m)
        | Error::Unavailable(m)
        | Error::QuotaExceeded(m)
        | Error::Other(m) => m.clone(),
        #[allow(unreachable_patterns)]
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_clipped_and_nouns_counted() {
        assert_eq!(quote("hi"), "\"hi\"");
        assert_eq!(quote(&"x".repeat(50)), format!("\"{}…\"", "x".repeat(40)));
        assert_eq!(count(1, "item", "items"), "1 item");
        assert_eq!(count(0, "item", "items"), "0 items");
        assert_eq!(count(2, "entry", "entries"), "2 entries");
        assert_eq!(plain(&Error::InvalidInput("bad".into())), "bad");
    }
}
