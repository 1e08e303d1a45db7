//! The host's checks on what a plugin hands it, as far as the fake host repeats them:
//! lengths, keyboard shape, callback data with the prefix, URLs, names. (HTML and
//! MarkdownV2 are not parsed here; the host refuses broken markup.)

use crate::Manifest;
use crate::bindings::wharf::bot::telegram::{ButtonAction, Outgoing, ParseMode, Photo};

/// Longest message text, in UTF-16 code units.
pub(crate) const MAX_TEXT: usize = 4096;
/// Longest photo caption, in UTF-16 code units.
pub(crate) const MAX_CAPTION: usize = 1024;
/// Longest key, in bytes.
pub(crate) const MAX_KEY: usize = 512;
/// Largest value, in bytes.
pub(crate) const MAX_VALUE: usize = 1 << 20;
/// Largest timer or event payload, in bytes.
pub(crate) const MAX_PAYLOAD: usize = 64 << 10;
/// Most Telegram calls, timer changes or emitted events in one turn.
pub(crate) const MAX_PER_TURN: usize = 100;
/// Shortest repeat interval.
pub(crate) const MIN_INTERVAL_MS: u64 = 1_000;
/// Shortest delay of a timer set while handling one of the plugin's own timers.
pub(crate) const REARM_DELAY_MS: i64 = 1_000;
/// Deepest chain of events.
pub(crate) const MAX_HOPS: u32 = 8;
/// Largest file download.
pub(crate) const MAX_DOWNLOAD: u32 = 1 << 20;
/// Largest document sent.
pub(crate) const MAX_DOCUMENT: usize = 1 << 20;
/// Most document bytes one turn may send.
pub(crate) const MAX_TURN_DOCUMENTS: usize = 4 << 20;

/// 1-`max` characters of `a-z`, `0-9`, `_` and `extra`.
pub(crate) fn name_like(kind: &str, s: &str, max: usize, extra: &[char]) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= max
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || extra.contains(&c));
    if ok {
        Ok(())
    } else {
        let extra: String = extra.iter().map(|c| format!(", '{c}'")).collect();
        Err(format!("{kind} {s:?} must be 1-{max} characters of a-z, 0-9, '_'{extra}"))
    }
}

/// A KV key: 1-512 bytes.
pub(crate) fn key(key: &str) -> Result<(), String> {
    if key.is_empty() || key.len() > MAX_KEY {
        return Err(format!("key must be 1-{MAX_KEY} bytes, got {}", key.len()));
    }
    Ok(())
}

/// A chat id: anything but 0.
pub(crate) fn chat_id(id: i64) -> Result<(), String> {
    if id == 0 { Err("chat id 0 is not a chat".into()) } else { Ok(()) }
}

/// An absolute URL with one of `schemes` and something after `scheme://`.
pub(crate) fn url(url: &str, schemes: &[&str]) -> Result<(), String> {
    let shown: String = url.chars().take(64).collect();
    if url.len() > 2048 {
        return Err(format!("URL is {} bytes; at most 2048", url.len()));
    }
    let Some((scheme, rest)) = url.split_once(':') else {
        return Err(format!("URL {shown:?} is not well-formed"));
    };
    if !schemes.contains(&scheme) {
        return Err(format!("URL {shown:?} must start with {}", schemes.join("://, ") + "://"));
    }
    let host = rest.strip_prefix("//").unwrap_or(rest).split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(format!("URL {shown:?} has no host"));
    }
    Ok(())
}

/// A message or caption: length, emptiness, keyboard, reply target.
pub(crate) fn outgoing(msg: &Outgoing, prefix: Option<&str>, max: usize, allow_empty: bool) -> Result<(), String> {
    let len = msg.text.encode_utf16().count();
    if len > max {
        return Err(format!("text is {len} UTF-16 code units; Telegram allows at most {max}"));
    }
    if len == 0 && !allow_empty {
        return Err("text is empty".into());
    }
    if msg.text.contains('\0') {
        return Err("text contains a NUL character".into());
    }
    if len > 0 && msg.parse_mode == ParseMode::Plain && msg.text.trim().is_empty() {
        return Err("text shows nothing (only spaces)".into());
    }
    if let Some(rows) = &msg.keyboard {
        keyboard(rows, prefix)?;
    }
    if msg.reply_to.is_some_and(|id| id <= 0) {
        return Err(format!("message id {} is not valid", msg.reply_to.unwrap_or_default()));
    }
    Ok(())
}

fn keyboard(rows: &[Vec<crate::bindings::wharf::bot::telegram::Button>], prefix: Option<&str>) -> Result<(), String> {
    let total: usize = rows.iter().map(Vec::len).sum();
    if total > 100 {
        return Err(format!("keyboard has {total} buttons; at most 100"));
    }
    for (r, row) in rows.iter().enumerate() {
        if row.is_empty() || row.len() > 8 {
            return Err(format!("keyboard row {} has {} buttons; use 1-8", r + 1, row.len()));
        }
        for b in row {
            let n = b.text.chars().count();
            if n == 0 || n > 64 {
                return Err(format!("button text must be 1-64 characters, got {n}"));
            }
            match &b.action {
                ButtonAction::Callback(data) => {
                    let Some(prefix) = prefix else {
                        return Err("callback buttons need a callback-prefix in the plugin's manifest".into());
                    };
                    if prefix.len() + 1 + data.len() > 64 {
                        return Err(format!(
                            "callback data {data:?} is {} bytes; with the prefix {prefix:?} at most {} fit",
                            data.len(),
                            64 - prefix.len() - 1
                        ));
                    }
                }
                ButtonAction::Url(u) => url(u, &["https", "http", "tg"]).map_err(|e| format!("button {e}"))?,
            }
        }
    }
    Ok(())
}

/// A document's file name: 1-128 characters, no path separators or control characters,
/// not only dots.
pub(crate) fn file_name(name: &str) -> Result<(), String> {
    let n = name.chars().count();
    if n == 0 || n > 128 {
        return Err(format!("file name must be 1-128 characters, got {n}"));
    }
    if name.chars().any(|c| c.is_control() || c == '/' || c == '\\') || name.trim_matches('.').is_empty() {
        return Err("file name may not contain '/', '\\' or control characters, nor be only dots".into());
    }
    Ok(())
}

/// A photo: a file id (1-256 bytes) or an http(s) URL.
pub(crate) fn photo(photo: &Photo) -> Result<(), String> {
    match photo {
        Photo::FileId(id) if !id.is_empty() && id.len() <= 256 => Ok(()),
        Photo::Url(u) => url(u, &["https", "http"]).map_err(|e| format!("photo {e}")),
        Photo::FileId(_) => Err("photo must be a file id or an http(s) URL".into()),
    }
}

/// The checks the host makes when it loads a plugin.
pub(crate) fn manifest(m: &Manifest) -> Result<(), String> {
    if m.name.is_empty() || m.name.len() > 64 {
        return Err(format!("name must be 1-64 bytes, got {}", m.name.len()));
    }
    if m.version.is_empty() || m.version.len() > 32 {
        return Err(format!("version must be 1-32 bytes, got {}", m.version.len()));
    }
    if m.commands.len() > 100 || m.topics.len() > 64 || m.settings.len() > 100 {
        return Err("declares too many commands (100), topics (64) or settings (100)".into());
    }
    for c in &m.commands {
        name_like("command", &c.name, 32, &[])?;
        let n = c.description.chars().count();
        if n == 0 || n > 256 {
            return Err(format!("description of /{} must be 1-256 characters", c.name));
        }
    }
    if let Some(prefix) = &m.callback_prefix {
        name_like("callback prefix", prefix, 16, &['-'])?;
    }
    for t in &m.topics {
        name_like("topic", t, 64, &['.', '-'])?;
    }
    for s in &m.settings {
        if s.name.is_empty() || s.name.len() > 64 || s.description.len() > 1024 {
            return Err("has a setting with an empty or overlong name or description".into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        for good in ["https://example.com/a?b", "http://x", "tg://user?id=1"] {
            assert_eq!(url(good, &["https", "http", "tg"]), Ok(()), "{good}");
        }
        for bad in ["javascript:alert(1)", "https://", "example.com", "ftp://x", "https://a b"] {
            assert!(url(bad, &["https", "http", "tg"]).is_err(), "{bad}");
        }
    }
}
