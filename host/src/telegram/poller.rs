//! Long polling: each batch of updates is written to the inbox together with the next
//! offset, and only then acknowledged by the next `getUpdates`. A restart resumes from
//! the stored offset, so an acknowledged update is never lost and never queued twice.
//! Each call names the update kinds the bot handles (`allowed_updates`), `chat_member`
//! included, which Telegram sends only when asked.

use std::sync::Arc;
use std::time::Duration;

use teloxide_core::RequestError;
use teloxide_core::payloads::GetUpdatesSetters;
use teloxide_core::requests::{Request, Requester};

use super::Front;
use super::convert::{Converted, convert};
use teloxide_core::types::Update;

use crate::inbox::Entry;
use crate::metrics::UpdateOutcome;
use crate::storage::NewInbox;

/// Seconds a `getUpdates` call waits for updates.
pub(super) const LONG_POLL_SECS: u32 = 25;

pub(super) async fn run(front: Arc<Front>) {
    let mut offset = loop {
        match front.storage.telegram_state("offset").await {
            Ok(v) => break v.unwrap_or(0),
            Err(e) => {
                tracing::warn!(target: "wharf.telegram", error = %e, "cannot read the update offset");
                front.backoff.lock().await.wait().await;
            }
        }
    };
    // The trouble last recorded as a host event, so a streak is recorded once.
    let mut reported: Option<&'static str> = None;
    loop {
        let req = front
            .bot
            .get_updates()
            .offset(i32::try_from(offset).unwrap_or(i32::MAX))
            .timeout(LONG_POLL_SECS)
            .limit(100)
            .allowed_updates(super::convert::ALLOWED_UPDATES);
        match req.send().await {
            Ok(updates) => {
                front.api.ok(front.clock.now_ms());
                reported = None;
                front.backoff.lock().await.reset();
                if updates.is_empty() {
                    continue;
                }
                let mut entries = Vec::with_capacity(updates.len());
                let mut next = offset;
                for u in &updates {
                    next = next.max(i64::from(u.id.0) + 1);
                    entries.extend(to_entry(&front, u));
                }
                let marks: Vec<(i64, bool)> = updates.iter().filter_map(mark).collect();
                // Until this commits, the batch stays unacknowledged and comes again.
                if let Err(e) = front.storage.accept_updates(&entries, &marks, next, front.clock.now_ms()).await {
                    tracing::warn!(target: "wharf.telegram", error = %e, "cannot store updates; they will be fetched again");
                    front.backoff.lock().await.wait().await;
                    continue;
                }
                front.metrics.telegram_updates(UpdateOutcome::Received, entries.len() as u64);
                offset = next;
                (front.wake)();
            }
            Err(RequestError::RetryAfter(s)) => {
                front.api.ok(front.clock.now_ms());
                tracing::warn!(target: "wharf.telegram", seconds = s.seconds(), "getUpdates rate-limited");
                tokio::time::sleep(s.duration()).await;
            }
            Err(e) => {
                let text = front.redact(&e.to_string());
                if matches!(e, RequestError::Network(_) | RequestError::Io(_)) {
                    front.api.failed(front.clock.now_ms());
                } else {
                    front.api.ok(front.clock.now_ms());
                }
                front.metrics.telegram_poll_error();
                let trouble = if text.contains("Conflict") || text.contains("terminated by other getUpdates") {
                    Some(("telegram.conflict", "Another instance polls this bot"))
                } else if text.contains("Unauthorized") || text.contains("Not Found") {
                    Some(("telegram.unauthorized", "Telegram refuses the bot token"))
                } else {
                    None
                };
                if let Some((kind, title)) = trouble
                    && reported != Some(kind)
                {
                    reported = Some(kind);
                    let event = crate::storage::NewLogEvent::host(kind, title, "🔑")
                        .level(crate::config::LogLevel::Error)
                        .field("error", crate::validate::escape_controls(&text));
                    if let Err(e) = front.storage.record_events(&[event], front.clock.now_ms()).await {
                        tracing::warn!(target: "wharf.telegram", error = %e, "cannot record a Telegram error event");
                    }
                }
                if text.contains("Conflict") || text.contains("terminated by other getUpdates") {
                    tracing::error!(
                        target: "wharf.telegram",
                        error = %text,
                        "another poller or a webhook is active for this bot; delete the webhook or stop the other instance"
                    );
                    front.backoff.lock().await.wait_at_least(Duration::from_secs(5)).await;
                } else {
                    tracing::warn!(target: "wharf.telegram", error = %text, "getUpdates failed; backing off");
                    front.backoff.lock().await.wait().await;
                }
            }
        }
    }
}

/// The inbox entry for an update, or `None` (counted) when it is skipped.
pub(super) fn to_entry(front: &Front, u: &Update) -> Option<NewInbox> {
    match convert(u, &front.bot_username) {
        Converted::Event { lane, event } => {
            match NewInbox::entry(lane, None, &Entry::new(*event), Some(format!("tg:{}", u.id.0))) {
                Ok(entry) => Some(entry),
                Err(e) => {
                    tracing::error!(target: "wharf.telegram", error = %e, "cannot encode an update");
                    None
                }
            }
        }
        Converted::Unsupported(what) => {
            tracing::debug!(target: "wharf.telegram", update_id = u.id.0, what, "unsupported update skipped");
            front.metrics.telegram_updates(UpdateOutcome::Unsupported, 1);
            None
        }
        Converted::Malformed => {
            tracing::warn!(target: "wharf.telegram", update_id = u.id.0, "malformed update skipped");
            front.metrics.telegram_updates(UpdateOutcome::Malformed, 1);
            None
        }
    }
}

/// What `u` says about its user having blocked the bot, as (user, blocked); the sender
/// stops (or resumes) sending to them. See [`super::convert::block_mark`].
pub(super) fn mark(u: &Update) -> Option<(i64, bool)> {
    super::convert::block_mark(u).map(|m| (m.user, m.blocked))
}
