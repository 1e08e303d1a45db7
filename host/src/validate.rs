//! Checks on what plugins hand to the host, turned into typed outbox calls when valid.
//! Every limit is Telegram's own (or stricter), so a message that passes here is not
//! rejected by Telegram for its shape.

use crate::caps::bindings::wharf::bot::telegram::{ButtonAction, Outgoing, ParseMode};
use crate::telegram::outbox_call::{self as call, Button, Keyboard, ReplyTo};

/// Longest message text, in UTF-16 code units (Telegram's measure: most characters
/// count 1, emoji and other astral characters count 2).
pub const MAX_TEXT: usize = 4096;
/// Longest photo caption, in UTF-16 code units.
pub const MAX_CAPTION: usize = 1024;
/// Most buttons per keyboard row.
pub const MAX_ROW: usize = 8;
/// Most buttons per keyboard.
pub const MAX_BUTTONS: usize = 100;
/// Longest callback data, in bytes, including the host's prefix.
pub const MAX_CALLBACK_DATA: usize = 64;

/// Validate a chat id.
pub fn chat_id(id: i64) -> Result<(), String> {
    if id == 0 { Err("chat id 0 is not a chat".into()) } else { Ok(()) }
}

/// Validate a message id.
pub fn message_id(id: i32) -> Result<(), String> {
    if id <= 0 { Err(format!("message id {id} is not valid")) } else { Ok(()) }
}

/// A validated message: the parts of a send or edit the plugin chose.
#[derive(Clone, Debug, PartialEq)]
pub struct Rendered {
    /// Text or caption (may be empty only where `allow_empty` was given).
    pub text: String,
    /// Parse mode, if not plain.
    pub parse_mode: Option<call::ParseMode>,
    /// Inline keyboard, callback data prefixed.
    pub keyboard: Option<Keyboard>,
    /// Message replied to.
    pub reply_to: Option<ReplyTo>,
}

/// Check `msg` and render its text, parse mode, keyboard and reply target.
/// `max_len` is [`MAX_TEXT`] or [`MAX_CAPTION`]; `allow_empty` for captions.
pub fn outgoing(
    msg: &Outgoing,
    callback_prefix: Option<&str>,
    max_len: usize,
    allow_empty: bool,
) -> Result<Rendered, String> {
    let len = msg.text.encode_utf16().count();
    if len > max_len {
        return Err(format!("text is {len} UTF-16 code units; Telegram allows at most {max_len}"));
    }
    if len == 0 && !allow_empty {
        return Err("text is empty".into());
    }
    if msg.text.contains('\0') {
        return Err("text contains a NUL character".into());
    }
    let parse_mode = match msg.parse_mode {
        ParseMode::Plain => None,
        ParseMode::Html => Some(call::ParseMode::Html),
        ParseMode::MarkdownV2 => Some(call::ParseMode::MarkdownV2),
    };
    let keyboard = msg.keyboard.as_deref().map(|rows| keyboard(rows, callback_prefix)).transpose()?;
    let reply_to = match msg.reply_to {
        Some(id) => {
            message_id(id)?;
            Some(ReplyTo { message_id: id })
        }
        None => None,
    };
    Ok(Rendered { text: msg.text.clone(), parse_mode, keyboard, reply_to })
}

fn keyboard(
    rows: &[Vec<crate::caps::bindings::wharf::bot::telegram::Button>],
    callback_prefix: Option<&str>,
) -> Result<Keyboard, String> {
    let total: usize = rows.iter().map(Vec::len).sum();
    if total > MAX_BUTTONS {
        return Err(format!("keyboard has {total} buttons; at most {MAX_BUTTONS}"));
    }
    let mut out = Vec::with_capacity(rows.len());
    for (r, row) in rows.iter().enumerate() {
        if row.is_empty() || row.len() > MAX_ROW {
            return Err(format!("keyboard row {} has {} buttons; use 1-{MAX_ROW}", r + 1, row.len()));
        }
        let mut buttons = Vec::with_capacity(row.len());
        for b in row {
            let n = b.text.chars().count();
            if n == 0 || n > 64 {
                return Err(format!("button text must be 1-64 characters, got {n}"));
            }
            let action = match &b.action {
                ButtonAction::Callback(data) => {
                    let Some(prefix) = callback_prefix else {
                        return Err("callback buttons need a callback-prefix in the plugin's manifest".into());
                    };
                    let full = format!("{prefix}:{data}");
                    if full.len() > MAX_CALLBACK_DATA {
                        return Err(format!(
                            "callback data {data:?} is {} bytes; with the prefix {prefix:?} at most {} fit",
                            data.len(),
                            MAX_CALLBACK_DATA - prefix.len() - 1
                        ));
                    }
                    Button { text: b.text.clone(), action: call::ButtonAction::Callback(full) }
                }
                ButtonAction::Url(url) => {
                    let ok = ["https://", "http://", "tg://"].iter().any(|s| url.starts_with(s)) && url.len() <= 2048;
                    if !ok {
                        return Err(format!(
                            "button URL must start with https://, http:// or tg:// (got {} bytes)",
                            url.len()
                        ));
                    }
                    Button { text: b.text.clone(), action: call::ButtonAction::Url(url.clone()) }
                }
            };
            buttons.push(action);
        }
        out.push(buttons);
    }
    Ok(Keyboard { inline_keyboard: out })
}

/// Validate a manifest's callback prefix, command names and topic names.
pub fn name_like(kind: &str, s: &str, max: usize, extra: &[char]) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= max
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || extra.contains(&c));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{kind} {s:?} must be 1-{max} characters of a-z, 0-9, '_'{}",
            extra.iter().map(|c| format!(", '{c}'")).collect::<String>()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::caps::bindings::wharf::bot::telegram::Button;

    fn msg(text: &str, keyboard: Option<Vec<Vec<Button>>>) -> Outgoing {
        Outgoing { text: text.into(), parse_mode: ParseMode::Html, keyboard, reply_to: None }
    }

    fn cb(text: &str, data: &str) -> Button {
        Button { text: text.into(), action: ButtonAction::Callback(data.into()) }
    }

    #[test]
    fn renders_typed_calls() {
        let r =
            outgoing(&msg("<b>hi</b>", Some(vec![vec![cb("Buy", "buy:1")]])), Some("shop"), MAX_TEXT, false).unwrap();
        assert_eq!(r.parse_mode, Some(call::ParseMode::Html));
        let kb = r.keyboard.unwrap();
        assert_eq!(kb.inline_keyboard[0][0].action, call::ButtonAction::Callback("shop:buy:1".into()));
    }

    #[test]
    fn rejects_what_telegram_would() {
        let long = "x".repeat(MAX_TEXT + 1);
        assert!(outgoing(&msg(&long, None), None, MAX_TEXT, false).unwrap_err().contains("4096"));
        // Emoji count twice, as Telegram counts them.
        let emoji = "😀".repeat(MAX_TEXT / 2 + 1);
        assert!(outgoing(&msg(&emoji, None), None, MAX_TEXT, false).is_err());
        assert!(outgoing(&msg(&"😀".repeat(MAX_TEXT / 2), None), None, MAX_TEXT, false).is_ok());
        assert!(outgoing(&msg("", None), None, MAX_TEXT, false).is_err());
        let nine = vec![(0..9).map(|i| cb("b", &i.to_string())).collect()];
        assert!(outgoing(&msg("k", Some(nine)), Some("p"), MAX_TEXT, false).unwrap_err().contains("row 1"));
        let fat = vec![vec![cb("b", &"d".repeat(62))]];
        assert!(outgoing(&msg("k", Some(fat)), Some("shop"), MAX_TEXT, false).unwrap_err().contains("at most 59"));
        let no_prefix = vec![vec![cb("b", "x")]];
        assert!(outgoing(&msg("k", Some(no_prefix)), None, MAX_TEXT, false).unwrap_err().contains("callback-prefix"));
        let url = vec![vec![Button { text: "u".into(), action: ButtonAction::Url("javascript:x".into()) }]];
        assert!(outgoing(&msg("k", Some(url)), None, MAX_TEXT, false).is_err());
        assert!(chat_id(0).is_err() && message_id(0).is_err());
    }
}
