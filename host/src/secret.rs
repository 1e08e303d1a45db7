//! Masking of secrets (tokens, passwords in URLs, secret fields) before anything is
//! logged or stored in the event log.

/// What a masked value is replaced with.
pub const MASK: &str = "•••";

/// Hide the password of a `scheme://user:password@host/…` URL.
pub fn mask_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:{MASK}@{host}"),
        None => url.to_owned(),
    }
}

/// Replace every occurrence of `secret` in `text` (e.g. a bot token in an error).
pub fn redact(text: &str, secret: &str) -> String {
    if secret.is_empty() { text.to_owned() } else { text.replace(secret, MASK) }
}

/// A config error as admins are shown it in Telegram and the event log: without the
/// TOML parser's quote of the offending line (`3 | key = "…"` and its `^^^` marker),
/// and with every quoted value of 16 characters or more masked in the middle, since a
/// config line may hold a token (a webhook URL, an API key). The line and column stay.
pub fn mask_config_error(text: &str) -> String {
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| {
            let t = l.trim_start();
            let digits = t.trim_start_matches(|c: char| c.is_ascii_digit());
            !(t.starts_with('|') || (digits.len() < t.len() && digits.trim_start().starts_with('|')))
        })
        .collect();
    let joined = kept.join("\n");
    let mut out = String::with_capacity(joined.len());
    let mut rest = joined.as_str();
    while let Some(start) = rest.find('"') {
        out.push_str(&rest[..=start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find('"') else {
            out.push_str(after);
            return out;
        };
        let value = &after[..end];
        if value.chars().count() >= 16 {
            out.push_str(&mask_middle(value, 4, 2));
        } else {
            out.push_str(value);
        }
        out.push('"');
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Most characters [`mask_middle`] keeps at each end.
pub const MAX_REVEAL: usize = 8;

/// `value` with only its first `head` and last `tail` characters shown (each at most
/// [`MAX_REVEAL`]), e.g. `ABCD•••WXYZ`; wholly masked when that would show half of it or more.
pub fn mask_middle(value: &str, head: usize, tail: usize) -> String {
    let (head, tail) = (head.min(MAX_REVEAL), tail.min(MAX_REVEAL));
    let chars: Vec<char> = value.chars().collect();
    if (head + tail) * 2 > chars.len() {
        return MASK.to_owned();
    }
    let start: String = chars[..head].iter().collect();
    let end: String = chars[chars.len() - tail..].iter().collect();
    format!("{start}{MASK}{end}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        assert_eq!(mask_url("postgres://u:pw@h/db"), "postgres://u:•••@h/db");
        assert_eq!(mask_url("sqlite:x.db"), "sqlite:x.db");
        assert_eq!(redact("GET /bot123:ABC/getMe", "123:ABC"), "GET /bot•••/getMe");
    }

    #[test]
    fn config_errors_lose_the_quoted_line_and_long_values() {
        let toml = "TOML parse error at line 4, column 15\n  |\n4 | webhook_url = \"https://hooks.example.com/T0KEN-SECRET-99\"\n  |               ^^^^^\n\"https://hooks.example.com/T0KEN-SECRET-99\" must be an http:// or https:// URL";
        let shown = mask_config_error(toml);
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.starts_with("TOML parse error at line 4, column 15\n\"http•••99\" must be"), "{shown}");
        assert_eq!(mask_config_error("unknown grant \"telepathy\" (line 3)"), "unknown grant \"telepathy\" (line 3)");
        assert_eq!(mask_config_error("an \"unclosed quote"), "an \"unclosed quote");
    }

    #[test]
    fn middles() {
        assert_eq!(mask_middle("PAYREF-0000-1234-ABCD", 4, 4), "PAYR•••ABCD");
        assert_eq!(mask_middle("12345678", 4, 4), "•••", "showing half or more masks it all");
        assert_eq!(mask_middle("ab", 0, 0), "•••");
        assert_eq!(mask_middle(&"x".repeat(100), 50, 50), format!("xxxxxxxx{MASK}xxxxxxxx"), "at most 8 each end");
        assert_eq!(mask_middle("żółw-żółw-żółw-żółw", 2, 2), "żó•••łw");
    }
}
