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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        assert_eq!(mask_url("postgres://u:pw@h/db"), "postgres://u:•••@h/db");
        assert_eq!(mask_url("sqlite:x.db"), "sqlite:x.db");
        assert_eq!(redact("GET /bot123:ABC/getMe", "123:ABC"), "GET /bot•••/getMe");
    }
}
