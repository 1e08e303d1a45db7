//! Webhook mode: Telegram posts updates to us. The secret token header is checked in
//! constant time, and 200 is answered only after the update is committed to the inbox,
//! so an update we failed to store is delivered again by Telegram.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use teloxide_core::types::Update;

use super::Front;
use super::poller::{mark, to_entry};
use crate::metrics::{UpdateOutcome, WebhookRefusal};

const SECRET_HEADER: &str = "X-Telegram-Bot-Api-Secret-Token";

struct Hook {
    front: Arc<Front>,
    secret: String,
}

/// `a == b`, taking the same time wherever they differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A random secret token (Telegram allows 1-256 of `A-Z a-z 0-9 _ -`).
pub(super) fn random_secret() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..48).map(|_| char::from(CHARS[rng.random_range(0..CHARS.len())])).collect()
}

pub(super) fn router(front: Arc<Front>, path: &str, secret: String) -> Router {
    let path = if path.is_empty() { "/" } else { path };
    Router::new().route(path, post(receive)).with_state(Arc::new(Hook { front, secret }))
}

async fn receive(State(hook): State<Arc<Hook>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let front = &hook.front;
    let given = headers.get(SECRET_HEADER).map(|v| v.as_bytes()).unwrap_or_default();
    if !constant_time_eq(given, hook.secret.as_bytes()) {
        front.metrics.webhook_refused(WebhookRefusal::Unauthorized);
        return StatusCode::UNAUTHORIZED;
    }
    let update: Update = match std::str::from_utf8(&body)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(t).map_err(|e| e.to_string()))
    {
        Ok(u) => u,
        Err(e) => {
            // Telegram would send it again and again; skip it instead.
            tracing::warn!(target: "wharf.telegram", error = %e, "malformed webhook update skipped");
            front.metrics.telegram_updates(UpdateOutcome::Malformed, 1);
            return StatusCode::OK;
        }
    };
    let entry = to_entry(front, &update);
    let stored =
        front.storage.accept_webhook_update(i64::from(update.id.0), entry, mark(&update), front.clock.now_ms());
    match stored.await {
        Ok(true) => {
            front.metrics.telegram_updates(UpdateOutcome::Received, 1);
            (front.wake)();
            StatusCode::OK
        }
        Ok(false) => {
            front.metrics.telegram_updates(UpdateOutcome::Duplicate, 1);
            StatusCode::OK
        }
        Err(e) => {
            tracing::warn!(target: "wharf.telegram", error = %e, "cannot store a webhook update; Telegram will retry");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets() {
        assert!(super::constant_time_eq(b"abc", b"abc"));
        assert!(!super::constant_time_eq(b"abc", b"abd"));
        assert!(!super::constant_time_eq(b"abc", b"ab"));
        let s = super::random_secret();
        assert_eq!(s.len(), 48);
        assert_ne!(s, super::random_secret());
    }
}
