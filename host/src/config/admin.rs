//! `[admin]`: the admin HTTP listener (`/metrics`, `/healthz`, `/readyz`). Without the
//! table there is no listener. It listens on loopback unless `allow_public = true`:
//! the metrics and readiness say a lot about the bot, and nothing there asks for a
//! password, so exposing them is a decision the operator makes in writing.

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
}

fn default_listen() -> toml::Spanned<SocketAddr> {
    toml::Spanned::new(0..0, SocketAddr::from(([127, 0, 0, 1], 9090)))
}

impl AdminConfig {
    /// Loopback on `port` (0: any free port), for tests and embedding.
    pub fn loopback(port: u16) -> Self {
        Self { listen: toml::Spanned::new(0..0, SocketAddr::from(([127, 0, 0, 1], port))), allow_public: false }
    }

    /// The address to listen on.
    pub fn addr(&self) -> SocketAddr {
        *self.listen.get_ref()
    }

    /// Refuse a public address unless allowed; `position` turns a byte offset of the
    /// config text into its line and column.
    pub(super) fn check(&self, position: impl Fn(usize) -> (usize, usize)) -> Result<(), String> {
        let addr = self.addr();
        if addr.ip().is_loopback() || self.allow_public {
            return Ok(());
        }
        let (line, column) = position(self.listen.span().start);
        Err(format!(
            "line {line}, column {column}: [admin] listen = \"{addr}\" is not a loopback address; the admin \
             listener has no authentication, so listen on 127.0.0.1 (or ::1), or set allow_public = true \
             if a firewall or proxy guards it"
        ))
    }
}
