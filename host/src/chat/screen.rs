//! The output side of `wharf chat`: prints everything the bot does, in every chat, and
//! remembers what each local user has seen and which number names which button.
//!
//! - A message to the current user prints as `bot: …` (`bot (edited): …`, `bot
//!   (deleted): …`), its buttons numbered below it; a message to anyone else as `bot →
//!   user 2: …` or `bot → group -100…: …`, its buttons listed without numbers.
//! - Each user has their own "seen" state: switching to them prints what they missed
//!   (messages they have not seen in their current state), numbered for them.
//! - Numbers name buttons that were printed for the current user: each keyboard takes
//!   the lowest numbers no other live keyboard holds, so two keyboards on screen never
//!   share a number. A message edited or deleted gives its numbers up, and a message the
//!   user types (not a press) retires them all: the next keyboard starts again at 1.

use std::collections::HashMap;
use std::io::{self, Write};

use crate::telegram::emulator::{Activity, Emulator, Sent};
use crate::validate::{escape_controls, escape_for_terminal};

/// A message's state as printed: (edits, deleted).
type Version = (u32, bool);

/// A numbered button.
#[derive(Clone, Debug)]
struct Key {
    n: usize,
    message_id: i32,
    data: String,
}

/// What has been printed, and for whom.
#[derive(Default)]
pub(super) struct Screen {
    /// Position in the emulator's activity journal.
    cursor: usize,
    /// The version of each message (chat, id) last printed, for anyone.
    shown: HashMap<(i64, i32), Version>,
    /// The version of each message of a user's private chat printed while they were
    /// the current user.
    seen: HashMap<i64, HashMap<i32, Version>>,
    /// Numbered buttons per user.
    keys: HashMap<i64, Vec<Key>>,
}

impl Screen {
    /// Print what the bot did since the last call: the current `user`'s chat, their
    /// popups, then the other chats by id. Within a chat, messages print in order.
    pub(super) fn catch_up(&mut self, emu: &Emulator, user: i64, out: &mut impl Write) -> io::Result<()> {
        let (activity, cursor) = emu.activity(self.cursor);
        self.cursor = cursor;
        let mut latest: HashMap<(i64, i32), Sent> = HashMap::new();
        let mut popups = Vec::new();
        for a in activity {
            match a {
                Activity::Message { chat, message } => {
                    latest.insert((chat, message.message_id), message);
                }
                Activity::Answer { user: presser, text: Some(text) } => popups.push((presser, text)),
                Activity::Answer { text: None, .. } => {}
            }
        }
        let mut fresh: Vec<((i64, i32), Sent)> = latest
            .into_iter()
            .filter(|(key, m)| {
                let printed = self.shown.get(key).copied();
                // A message deleted before it was ever printed is not news.
                printed != Some(version(m)) && (printed.is_some() || !m.deleted)
            })
            .collect();
        fresh.sort_by_key(|((chat, id), _)| (*chat != user, *chat, *id));
        let mut popups_printed = false;
        for ((chat, _), m) in fresh {
            if chat != user && !popups_printed {
                self.popups(&popups, user, out)?;
                popups_printed = true;
            }
            self.print(chat, &m, user, out)?;
        }
        if !popups_printed {
            self.popups(&popups, user, out)?;
        }
        Ok(())
    }

    /// Messages in `user`'s chat they have not seen as they are now, oldest first.
    pub(super) fn missed(&self, emu: &Emulator, user: i64) -> Vec<Sent> {
        let seen = self.seen.get(&user);
        emu.sent(user)
            .into_iter()
            .filter(|m| !m.deleted && seen.and_then(|s| s.get(&m.message_id)) != Some(&version(m)))
            .collect()
    }

    /// Print `m` of `chat`; numbered for `user` if it is their chat.
    pub(super) fn print(&mut self, chat: i64, m: &Sent, user: i64, out: &mut impl Write) -> io::Result<()> {
        let v = version(m);
        self.shown.insert((chat, m.message_id), v);
        if let Some(keys) = self.keys.get_mut(&chat) {
            keys.retain(|k| k.message_id != m.message_id);
        }
        let to = match chat {
            c if c == user => String::new(),
            c if c > 0 => format!(" → user {c}"),
            c => format!(" → group {c}"),
        };
        let state = if m.deleted {
            " (deleted)"
        } else if m.edits > 0 {
            " (edited)"
        } else {
            ""
        };
        let text = if m.parse_mode.as_deref() == Some("HTML") { plain(&m.text) } else { m.text.clone() };
        let text = escape_for_terminal(&text);
        let mut photo = m.photo.as_ref().map_or(String::new(), |p| format!("[photo {}] ", escape_controls(p)));
        if let Some(d) = &m.document {
            photo = format!("[document {}, {} bytes] ", escape_controls(&d.file_name), d.bytes.len());
        }
        writeln!(out, "bot{to}{state}: {photo}{text}")?;
        if chat == user {
            self.seen.entry(user).or_default().insert(m.message_id, v);
        }
        if m.deleted {
            return Ok(());
        }
        let buttons: Vec<_> = m.buttons().into_iter().flatten().collect();
        if buttons.is_empty() {
            return Ok(());
        }
        if chat != user {
            let labels: Vec<String> = buttons.iter().map(|b| escape_controls(&b.text)).collect();
            let how = if chat > 0 { format!(" (/as {chat} to press them)") } else { String::new() };
            return writeln!(out, "     buttons: {}{how}", labels.join(" | "));
        }
        let keys = self.keys.entry(user).or_default();
        let wanted = buttons.iter().filter(|b| b.callback_data.is_some()).count();
        let mut n = lowest_free_block(keys, wanted);
        let mut labels = Vec::new();
        for b in buttons {
            match (b.callback_data, b.url) {
                (Some(data), _) => {
                    labels.push(format!("[{n}] {}", escape_controls(&b.text)));
                    keys.push(Key { n, message_id: m.message_id, data });
                    n += 1;
                }
                (None, Some(url)) => {
                    labels.push(format!("[link] {} <{}>", escape_controls(&b.text), escape_controls(&url)))
                }
                (None, None) => labels.push(format!("[-] {}", escape_controls(&b.text))),
            }
        }
        writeln!(out, "     {}", labels.join("  "))
    }

    /// The button numbered `n` for `user`: (message id, callback data).
    pub(super) fn button(&self, user: i64, n: usize) -> Option<(i32, String)> {
        let key = self.keys.get(&user)?.iter().find(|k| k.n == n)?;
        Some((key.message_id, key.data.clone()))
    }

    /// Whether any numbered button is live for `user`.
    pub(super) fn has_buttons(&self, user: i64) -> bool {
        self.keys.get(&user).is_some_and(|k| !k.is_empty())
    }

    /// `user` sent a message: their numbers start again at 1.
    pub(super) fn retire(&mut self, user: i64) {
        self.keys.remove(&user);
    }

    fn popups(&self, popups: &[(Option<i64>, String)], user: i64, out: &mut impl Write) -> io::Result<()> {
        for (presser, text) in popups {
            let text = escape_for_terminal(text);
            match presser {
                Some(p) if *p != user => writeln!(out, "bot → user {p} (popup): {text}")?,
                _ => writeln!(out, "bot (popup): {text}")?,
            }
        }
        Ok(())
    }
}

fn version(m: &Sent) -> Version {
    (m.edits, m.deleted)
}

/// The first of `len` consecutive numbers (from 1) that no key in `keys` holds.
fn lowest_free_block(keys: &[Key], len: usize) -> usize {
    let mut start = 1;
    while let Some(taken) = keys.iter().filter(|k| k.n >= start && k.n < start + len).map(|k| k.n).max() {
        start = taken + 1;
    }
    start
}

/// Telegram HTML as a terminal shows it: strike-through as `~text~`, other tags
/// dropped, entities decoded.
fn plain(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('>') else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let tag = &rest[start + 1..start + end];
        if matches!(tag, "s" | "/s" | "del" | "/del" | "strike" | "/strike") {
            out.push('~');
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::{Key, lowest_free_block, plain};

    #[test]
    fn html_reads_as_plain_text() {
        assert_eq!(
            plain("<b>Price</b>: <s>100 PLN</s> 80 PLN −20% &lt;3 &amp; co"),
            "Price: ~100 PLN~ 80 PLN −20% <3 & co"
        );
        assert_eq!(plain("a < b"), "a < b");
    }

    #[test]
    fn a_keyboard_takes_the_lowest_numbers_free_for_all_its_buttons() {
        let keys =
            |ns: &[usize]| -> Vec<Key> { ns.iter().map(|&n| Key { n, message_id: 1, data: String::new() }).collect() };
        assert_eq!(lowest_free_block(&keys(&[]), 3), 1);
        assert_eq!(lowest_free_block(&keys(&[1, 2]), 2), 3);
        assert_eq!(lowest_free_block(&keys(&[3, 4]), 2), 1);
        assert_eq!(lowest_free_block(&keys(&[3, 4]), 3), 5, "1..=3 would clash with 3");
        assert_eq!(lowest_free_block(&keys(&[1, 5]), 3), 2);
    }
}
