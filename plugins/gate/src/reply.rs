//! What users see: the prompt with a button per channel to join and "I've joined", the
//! "cannot check right now" answer, `/subscribe`'s status per channel. Plain text, so
//! channel titles need no escaping.

use wharf_sdk::prelude::*;

use crate::check::{Checked, Look};
use crate::rules::{Answer, Verdict};
use crate::settings::{Gate, Require};

/// Callback data of "I've joined" (own presses never contain `:`; other plugins'
/// presses, seen with the grant `telegram.buttons`, always do).
pub const RECHECK: &str = "recheck";

/// The label of the button that re-checks.
pub const JOINED: &str = "✅ I've joined";

/// The popup of a refused button press (at most 200 characters).
pub const PRESS_REFUSED: &str = "Please join the channel first: the bot's message below has the link.";

/// Told when the check is impossible and `fail = "closed"`.
pub const CANNOT_CHECK: &str = "⚠️ I can't check your subscription right now. Please try again in a minute.";

/// Shown after "I've joined" when the user passes.
pub const THANKS: &str = "✅ Thank you for joining! You can use the bot now.";

/// The lines naming `looks`, one per channel.
fn list(looks: &[&Look]) -> String {
    looks.iter().map(|l| format!("• {}", l.name)).collect::<Vec<_>>().join("\n")
}

/// A URL button per channel that has a link, then "I've joined".
fn keyboard(looks: &[&Look]) -> Keyboard {
    let mut kb = Keyboard::new();
    for l in looks {
        if let Some(link) = &l.link {
            kb = kb.url(format!("📢 {}", clip_label(&l.name)), link.clone()).row();
        }
    }
    kb.button(JOINED, RECHECK)
}

/// A button label within Telegram's 64 characters (with the emoji in front).
fn clip_label(name: &str) -> String {
    let mut s: String = name.chars().take(56).collect();
    if name.chars().count() > 56 {
        s.push('…');
    }
    s
}

/// The prompt for a user who is not subscribed.
pub fn prompt(gate: &Gate, checked: &Checked) -> Outgoing {
    let missing = checked.missing();
    let head = gate.message.clone().unwrap_or_else(|| match (gate.require, missing.len()) {
        (Require::All, 1) | (Require::Any, 1) => "🔒 To use this bot, please join our channel:".to_owned(),
        (Require::All, _) => "🔒 To use this bot, please join our channels:".to_owned(),
        (Require::Any, _) => "🔒 To use this bot, please join at least one of our channels:".to_owned(),
    });
    let text = format!("{head}\n{}\n\nThen tap “{JOINED}”.", list(&missing));
    Outgoing::text(text).keyboard(keyboard(&missing))
}

/// The popup after "I've joined" when the user is still not subscribed.
pub fn still_missing(checked: &Checked) -> String {
    let names: Vec<&str> = checked.missing().iter().map(|l| l.name.as_str()).collect();
    let text = format!("You haven't joined {} yet. Join, then tap the button again.", names.join(", "));
    crate::check::clip(&text, 200)
}

/// `/subscribe`: the user's status in each channel.
pub fn status(gate: &Gate, checked: &Checked, admin: bool) -> Outgoing {
    let mut text = String::from("Your subscriptions:");
    for l in &checked.looks {
        let line = match (l.answer, &l.status) {
            (Answer::In, Some(s)) => format!("✅ {} — {s}", l.name),
            (Answer::Out, Some(s)) => format!("❌ {} — not joined ({s})", l.name),
            (Answer::Failed, _) => format!("⚠️ {} — can't check right now", l.name),
            _ => format!("➖ {} — not needed", l.name),
        };
        text.push('\n');
        text.push_str(&line);
    }
    let rule = match gate.require {
        Require::All => "You need to be in every channel.",
        Require::Any => "You need to be in at least one channel.",
    };
    text.push_str("\n\n");
    text.push_str(rule);
    if admin {
        text.push_str(" (You are an admin: the gate never stops you.)");
    }
    let msg = Outgoing::text(text);
    match checked.verdict {
        Verdict::Pass => msg,
        _ => msg.keyboard(keyboard(&checked.missing())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn look(name: &str, answer: Answer, link: Option<&str>) -> Look {
        Look {
            name: name.into(),
            link: link.map(str::to_owned),
            answer,
            status: Some(if answer == Answer::In { "member" } else { "left" }.into()),
            cached: false,
            failure: None,
        }
    }

    #[test]
    fn the_prompt_lists_what_is_missing_with_links_and_the_recheck_button() {
        let gate = crate::settings::Settings {
            channels: vec!["@news_x".into(), "-1001".into()],
            require: Require::All,
            cache_minutes: 10,
            negative_cache_seconds: 60,
            fail: crate::settings::Fail::Open,
            exempt_commands: Vec::new(),
            message: None,
        }
        .check()
        .unwrap();
        let checked = Checked {
            looks: vec![look("News", Answer::In, Some("https://t.me/news_x")), look("Private", Answer::Out, None)],
            verdict: Verdict::Refuse,
        };
        let p = prompt(&gate, &checked);
        assert_eq!(p.text, "🔒 To use this bot, please join our channel:\n• Private\n\nThen tap “✅ I've joined”.");
        let rows = p.keyboard.unwrap();
        assert_eq!(rows.len(), 1, "no link, no URL button: {rows:?}");
        assert_eq!(rows[0][0].text, JOINED);
        let s = status(&gate, &checked, false);
        assert!(s.text.contains("✅ News — member\n❌ Private — not joined (left)"), "{}", s.text);
    }
}
