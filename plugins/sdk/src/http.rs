//! Outbound HTTP to the hosts granted in `config.toml` (`http = ["api.example.com"]`).
//! A request is a live call during the turn, repeated if the turn re-runs after a
//! conflict: keep it idempotent. Redirects are not followed; the response body is capped
//! by the host (`[runtime] http_max_body`).
//!
//! ```
//! use serde::Deserialize;
//! use wharf_sdk::http::{self, Request};
//!
//! #[derive(Deserialize)]
//! struct Rate { pln: f64 }
//!
//! fn rate() -> Result<Rate, wharf_sdk::Error> {
//!     let response = http::fetch(&Request::get("https://api.example.com/rate").header("accept", "application/json"))?;
//!     if !response.is_success() {
//!         return Err(wharf_sdk::Error::Other(format!("rate: HTTP {}", response.status)));
//!     }
//!     response.json()
//! }
//! ```

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use crate::bindings::wharf::bot::http::{Method, Request, Response};

use crate::Error;
use crate::host::http as raw;

/// Perform `request`.
pub fn fetch(request: &Request) -> Result<Response, Error> {
    Ok(raw::fetch(request)?)
}

/// `GET url`.
pub fn get(url: &str) -> Result<Response, Error> {
    fetch(&Request::get(url))
}

impl Request {
    /// A request with `method` to `url`, no headers, no body, the host's timeout.
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        Self { method, url: url.into(), headers: Vec::new(), body: None, timeout_ms: None }
    }

    /// `GET url`.
    pub fn get(url: impl Into<String>) -> Self {
        Self::new(Method::Get, url)
    }

    /// `POST url`.
    pub fn post(url: impl Into<String>) -> Self {
        Self::new(Method::Post, url)
    }

    /// Add a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Set the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Set the body to `value` as JSON, with `content-type: application/json`.
    pub fn json<T: Serialize + ?Sized>(self, value: &T) -> Result<Self, Error> {
        Ok(self.header("content-type", "application/json").body(serde_json::to_vec(value)?))
    }

    /// Give up after `ms` (clamped by the host to its maximum and the turn's budget).
    pub fn timeout_ms(mut self, ms: u32) -> Self {
        self.timeout_ms = Some(ms);
        self
    }
}

impl Response {
    /// A response with `status` and `body`, no headers (e.g. for a test's fake server).
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self { status, headers: Vec::new(), body: body.into() }
    }

    /// Status 200-299.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body decoded from JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|e| Error::InvalidInput(format!("HTTP response body: {e}")))
    }
}
