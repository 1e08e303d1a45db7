//! `[admin]`: the admin HTTP listener (`/metrics`, `/healthz`, `/readyz` and the web
//! dashboard). Without the table there is no listener. It listens on loopback unless
//! `allow_public = true`: the metrics and readiness say a lot about the bot, and nothing
//! there asks for a password, so exposing them is a decision the operator makes in
//! writing. The dashboard's own pages always ask for a sign-in (a one-time link from
//! `/dashboard` in Telegram, or `password_hash`).

use std::net::SocketAddr;

use serde::Deserialize;

/// `[admin]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    /// Address to listen on (`127.0.0.1:9090` by default; port 0 picks a free one).
    #[serde(default = "default_listen")]
    pub listen: toml::Spanned<SocketAddr>,
    /// Allow a non-loopback `listen` address.
    #[serde(default)]
    pub allow_public: bool,
    /// The dashboard's password as an argon2 PHC string (`$argon2id$v=19$…`; see
    /// `docs/dashboard.md` for making one); without it only sign-in links from `/dashboard` work.
    #[serde(default)]
    pub password_hash: Option<toml::Spanned<String>>,
    /// A dashboard session ends after this many minutes without a request, and at the
    /// latest this many minutes after sign-in times eight.
    #[serde(default = "default_session_minutes")]
    pub session_minutes: u32,
    /// The dashboard's address as admins' browsers reach it, the base of sign-in links
    /// (behind a proxy: `https://bot.example.com/admin`); `http://{listen}` by default.
    #[serde(default)]
    pub public_url: Option<toml::Spanned<String>>,
}

fn default_listen() -> toml::Spanned<SocketAddr> {
    toml::Spanned::new(0..0, SocketAddr::from(([127, 0, 0, 1], 9090)))
}

fn default_session_minutes() -> u32 {
    60
}

impl AdminConfig {
    /// Loopback on `port` (0: any free port), for tests and embedding.
    pub fn loopback(port: u16) -> Self {
        Self {
            listen: toml::Spanned::new(0..0, SocketAddr::from(([127, 0, 0, 1], port))),
            allow_public: false,
            password_hash: None,
            session_minutes: default_session_minutes(),
            public_url: None,
        }
    }

    /// The same with a password hash (tests and embedding).
    pub fn with_password_hash(mut self, phc: &str) -> Self {
        self.password_hash = Some(toml::Spanned::new(0..0, phc.to_owned()));
        self
    }

    /// An argon2id PHC string for `password` (with a fresh salt), for `password_hash`.
    pub fn hash_password(password: &str) -> Result<String, String> {
        use argon2::password_hash::{PasswordHasher as _, SaltString};
        let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(|e| e.to_string())?;
        argon2::Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| e.to_string())
    }

    /// The address to listen on.
    pub fn addr(&self) -> SocketAddr {
        *self.listen.get_ref()
    }

    /// The password hash, if set.
    pub fn password(&self) -> Option<&str> {
        self.password_hash.as_ref().map(|p| p.get_ref().as_str())
    }

    /// The base of sign-in links without a trailing `/`; `bound` is the address the
    /// listener got (its port when `listen` said 0).
    pub fn base_url(&self, bound: SocketAddr) -> String {
        match &self.public_url {
            Some(u) => u.get_ref().trim_end_matches('/').to_owned(),
            None => format!("http://{bound}"),
        }
    }

    /// Refuse a public address unless allowed, a password hash that is not an argon2
    /// PHC string, a `public_url` that is not http(s), a session of 0 minutes;
    /// `position` turns a byte offset of the config text into its line and column.
    pub(super) fn check(&self, position: impl Fn(usize) -> (usize, usize)) -> Result<(), String> {
        let addr = self.addr();
        if !addr.ip().is_loopback() && !self.allow_public {
            let (line, column) = position(self.listen.span().start);
            return Err(format!(
                "line {line}, column {column}: [admin] listen = \"{addr}\" is not a loopback address; the admin \
                 listener has no authentication, so listen on 127.0.0.1 (or ::1), or set allow_public = true \
                 if a firewall or proxy guards it"
            ));
        }
        if let Some(hash) = &self.password_hash
            && let Err(why) = check_phc(hash.get_ref())
        {
            let (line, column) = position(hash.span().start);
            return Err(format!(
                "line {line}, column {column}: [admin] password_hash is not an argon2 hash ({why}); make one with \
                 `printf %s PASSWORD | argon2 $(openssl rand -hex 16) -id -e`"
            ));
        }
        if let Some(url) = &self.public_url {
            let u = url.get_ref();
            if !(u.starts_with("http://") || u.starts_with("https://")) || u.contains(['"', '<', '>', ' ']) {
                let (line, column) = position(url.span().start);
                return Err(format!(
                    "line {line}, column {column}: [admin] public_url must be an http:// or https:// address, got {u:?}"
                ));
            }
        }
        if self.session_minutes == 0 {
            return Err("[admin] session_minutes must be at least 1".into());
        }
        Ok(())
    }
}

/// Whether `s` is an argon2 PHC string with its parameters.
fn check_phc(s: &str) -> Result<(), String> {
    let hash = argon2::PasswordHash::new(s).map_err(|e| e.to_string())?;
    if !hash.algorithm.as_str().starts_with("argon2") {
        return Err(format!("the algorithm is {}", hash.algorithm));
    }
    argon2::Params::try_from(&hash).map_err(|e| e.to_string())?;
    if hash.hash.is_none() {
        return Err("it has no hash part".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_made_hash_passes_the_check_and_garbage_does_not() {
        let h = AdminConfig::hash_password("hunter2").unwrap();
        assert!(h.starts_with("$argon2id$"));
        check_phc(&h).unwrap();
        assert!(check_phc("hunter2").is_err());
        assert!(check_phc("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ").is_err());
    }
}
