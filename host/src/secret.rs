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
    fn middles() {
        assert_eq!(mask_middle("PAYREF-0000-1234-ABCD", 4, 4), "PAYR•••ABCD");
        assert_eq!(mask_middle("12345678", 4, 4), "•••", "showing half or more masks it all");
        assert_eq!(mask_middle("ab", 0, 0), "•••");
        assert_eq!(mask_middle(&"x".repeat(100), 50, 50), format!("xxxxxxxx{MASK}xxxxxxxx"), "at most 8 each end");
        assert_eq!(mask_middle("żółw-żółw-żółw-żółw", 2, 2), "żó•••łw");
    }
}
