//! Notices to the bot's admins in Telegram: a plugin disabled by the circuit breaker, a
//! module rejected by a reload. They go as plain text (no parse mode, so markup in them
//! is shown, not rendered), and any text that came from a plugin (its error or panic
//! message, a load error quoting it) is clipped, put on one line with control and
//! bidirectional characters escaped, and quoted as the plugin's, so a plugin cannot
//! make its words pass for the host's.

use super::Shared;
use super::turn::clip;
use crate::storage::{NewOutbox, TurnCommit};
use crate::telegram::outbox_call::{OutboxCall, SendMessage};

/// Most characters of a plugin's text quoted in a notice.
pub(crate) const MAX_QUOTE: usize = 200;

/// Text that came from `plugin`, made safe to show inside a notice.
pub(crate) fn quote(plugin: &str, text: &str) -> String {
    let text = clip(&crate::validate::escape_controls(text.trim()), MAX_QUOTE);
    format!("[text from plugin {plugin}, not from Wharf] «{text}»")
}

/// Queue `text` to every admin (in one transaction) and wake the sender.
pub(crate) async fn tell_admins(shared: &Shared, text: &str) {
    let outbox = shared
        .admins
        .iter()
        .filter(|admin| **admin != 0)
        .map(|admin| NewOutbox {
            chat_id: *admin,
            plugin: "wharf".into(),
            call: OutboxCall::SendMessage(SendMessage {
                chat_id: *admin,
                text: text.to_owned(),
                ..SendMessage::default()
            }),
        })
        .collect();
    let commit = TurnCommit { outbox, now_ms: shared.host.clock.now_ms(), ..TurnCommit::default() };
    match shared.host.storage.commit(commit).await {
        Ok(_) => shared.outbox_ready.chats(shared.admins.iter().copied()),
        Err(e) => tracing::error!(target: "wharf.notice", error = %e, "cannot queue the admin notice"),
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
