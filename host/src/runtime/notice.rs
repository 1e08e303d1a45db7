//! Notices to the bot's admins in Telegram: a plugin disabled by the circuit breaker, a
//! module rejected by a reload. They go as plain text (no parse mode, so markup in them
//! is shown, not rendered), and any text that came from a plugin (its error or panic
//! message, a load error quoting it) is clipped, put on one line with control and
//! bidirectional characters escaped, and quoted as the plugin's, so a plugin cannot
//! make its words pass for the host's.

use super::Shared;
use super::turn::clip;
use crate::storage::{NewLogEvent, NewOutbox, TurnCommit};

/// Most characters of a plugin's text quoted in a notice.
pub(crate) const MAX_QUOTE: usize = 200;

/// Text that came from `plugin`, made safe to show inside a notice.
pub(crate) fn quote(plugin: &str, text: &str) -> String {
    let text = clip(&crate::validate::escape_controls(text.trim()), MAX_QUOTE);
    format!("[text from plugin {plugin}, not from Wharf] «{text}»")
}

/// Queue `text` to every admin (in one transaction) and wake the sender.
pub(crate) async fn tell_admins(shared: &Shared, text: &str) {
    let admins = shared.admins.snapshot();
    let outbox = admins.iter().filter(|admin| **admin != 0).map(|admin| NewOutbox::host_text(*admin, text)).collect();
    let commit = TurnCommit { outbox, now_ms: shared.host.clock.now_ms(), ..TurnCommit::default() };
    match shared.host.storage.commit(commit).await {
        Ok(_) => shared.outbox_ready.chats(admins.iter().copied()),
        Err(e) => tracing::error!(target: "wharf.notice", error = %e, "cannot queue the admin notice"),
    }
}

/// Commits that failed since the last one that worked, reported as one `storage.error`
/// event once the database takes writes again (while it fails, nothing can be recorded).
#[derive(Debug, Default)]
pub(crate) struct StorageTrouble {
    failing: std::sync::Mutex<Option<(i64, u64, String)>>,
}

impl StorageTrouble {
    /// A commit failed at `now_ms` with `error`.
    pub(crate) fn failed(&self, now_ms: i64, error: &str) {
        let mut f = self.failing.lock().unwrap_or_else(|e| e.into_inner());
        let (_since, n, last) = f.get_or_insert((now_ms, 0, String::new()));
        *n += 1;
        *last = clip(&crate::validate::escape_controls(error), 300);
    }

    /// A commit worked: the event describing the failures before it, if there were any.
    pub(crate) fn recovered(&self, now_ms: i64) -> Option<NewLogEvent> {
        let (since, n, last) = self.failing.lock().unwrap_or_else(|e| e.into_inner()).take()?;
        Some(
            NewLogEvent::host("storage.error", "Database errors", "💾")
                .level(crate::config::LogLevel::Error)
                .field("failed_commits", n.to_string())
                .field("for_seconds", ((now_ms - since).max(0) / 1000).to_string())
                .field("last_error", last),
        )
    }
}

/// Record a host event outside any turn; the log sink takes it from the event log.
pub(crate) async fn record(shared: &Shared, event: NewLogEvent) {
    match shared.host.storage.record_events(&[event], shared.host.clock.now_ms()).await {
        Ok(()) => shared.sink_wake.notify_one(),
        Err(e) => tracing::warn!(target: "wharf.notice", error = %e, "cannot record a host event"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_text_is_quoted_on_one_line_and_clipped() {
        let q = quote("probe", "boom\n⚠️ Wharf: all good <b>ok</b>\u{202e}");
        assert_eq!(q, "[text from plugin probe, not from Wharf] «boom\\n⚠️ Wharf: all good <b>ok</b>\\u{202e}»");
        let long = quote("probe", &"x".repeat(1000));
        assert!(long.chars().count() < MAX_QUOTE + 60 && long.ends_with("…»"), "{long}");
    }
}
