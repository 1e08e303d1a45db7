//! Injected faults and request counting for the Esplora and rates routes (never the
//! control routes): every request is counted by path, then the first fault matching its
//! path (in the order they were added) applies: a delay, then a status or a malformed
//! body. A fault with `times` is gone after that many requests.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::Shared;

/// A fault to inject into matching Esplora and rates requests.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// Only requests whose path contains this (`None`: all).
    #[serde(default)]
    pub path_contains: Option<String>,
    /// Answer this status (429, 500, 503…) with a short plain-text body.
    #[serde(default)]
    pub status: Option<u16>,
    /// Wait this long before answering (for client timeouts).
    #[serde(default)]
    pub delay_ms: u64,
    /// Answer 200 with a body that is not what the route returns: JSON cut in half, or
    /// an HTML page where text is expected.
    #[serde(default)]
    pub malformed: bool,
    /// Apply to this many matching requests, then be gone (`None`: until cleared).
    #[serde(default)]
    pub times: Option<u32>,
}

impl Fault {
    fn matches(&self, path: &str) -> bool {
        self.path_contains.as_deref().is_none_or(|p| path.contains(p))
    }
}

/// Faults waiting, and requests counted per path.
#[derive(Default)]
pub(super) struct Traffic {
    pub faults: Vec<Fault>,
    pub by_path: BTreeMap<String, u64>,
    pub total: u64,
}

impl Traffic {
    /// Count a request to `path` and take the fault that applies to it, if any.
    fn hit(&mut self, path: &str) -> Option<Fault> {
        self.total += 1;
        match self.by_path.get_mut(path) {
            Some(n) => *n += 1,
            None => {
                self.by_path.insert(path.to_owned(), 1);
            }
        }
        let i = self.faults.iter().position(|f| f.matches(path))?;
        let fault = self.faults[i].clone();
        if let Some(times) = &mut self.faults[i].times {
            *times = times.saturating_sub(1);
            if *times == 0 {
                self.faults.remove(i);
            }
        }
        Some(fault)
    }

    /// Requests to paths starting with `prefix`.
    pub fn to_prefix(&self, prefix: &str) -> u64 {
        self.by_path.range(prefix.to_owned()..).take_while(|(p, _)| p.starts_with(prefix)).map(|(_, n)| n).sum()
    }
}

/// The middleware: count, then apply the fault that matches, if any.
pub(super) async fn apply(State(s): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let fault = s.traffic().hit(req.uri().path());
    let Some(fault) = fault else { return next.run(req).await };
    if fault.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(fault.delay_ms)).await;
    }
    if let Some(code) = fault.status {
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = status.canonical_reason().unwrap_or("Injected fault");
        return (status, [(header::CONTENT_TYPE, "text/plain")], body).into_response();
    }
    let response = next.run(req).await;
    if fault.malformed { malformed(response).await } else { response }
}

/// A 200 answer that will not parse as what `response` was: its JSON cut in half (an
/// unclosed array or object), or an HTML error page instead of text.
async fn malformed(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let is_json =
        parts.headers.get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
    let body = if is_json {
        bytes.slice(..bytes.len() / 2)
    } else {
        parts.headers.insert(header::CONTENT_TYPE, header::HeaderValue::from_static("text/plain"));
        axum::body::Bytes::from_static(b"<html><body><h1>502 Bad Gateway</h1></body></html>")
    };
    parts.status = StatusCode::OK;
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(body))
}
