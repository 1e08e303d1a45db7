//! Checks on what plugins hand to the host, turned into Bot API JSON when valid.
//! Every limit is Telegram's own (or stricter), so a message that passes here is not
//! rejected by Telegram for its shape.

use serde_json::{Map, Value, json};

use crate::caps::bindings::wharf::bot::telegram::{ButtonAction, Outgoing, ParseMode};

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

/// Check `msg` and render its text, parse mode, keyboard and reply target into `out`.
/// `max_len` is [`MAX_TEXT`] or [`MAX_CAPTION`]; `allow_empty` for captions.
pub fn outgoing(
    msg: &Outgoing,
    callback_prefix: Option<&str>,
    text_key: &str,
    max_len: usize,
    allow_empty: bool,
    out: &mut Map<String, Value>,
) -> Result<(), String> {
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
    if len > 0 {
        out.insert(text_key.into(), Value::String(msg.text.clone()));
    }
    match msg.parse_mode {
        ParseMode::Plain => {}
        ParseMode::Html => {
            out.insert("parse_mode".into(), json!("HTML"));
        }
        ParseMode::MarkdownV2 => {
            out.insert("parse_mode".into(), json!("MarkdownV2"));
        }
    }
    if let Some(rows) = &msg.keyboard {
        out.insert("reply_markup".into(), keyboard(rows, callback_prefix)?);
    }
    if let Some(id) = msg.reply_to {
        message_id(id)?;
        out.insert("reply_parameters".into(), json!({ "message_id": id, "allow_sending_without_reply": true }));
    }
    Ok(())
}

fn keyboard(
    rows: &[Vec<crate::caps::bindings::wharf::bot::telegram::Button>],
    callback_prefix: Option<&str>,
) -> Result<Value, String> {
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
                    json!({ "text": b.text, "callback_data": full })
                }
                ButtonAction::Url(url) => {
                    let ok = ["https://", "http://", "tg://"].iter().any(|s| url.starts_with(s)) && url.len() <= 2048;
                    if !ok {
                        return Err(format!(
                            "button URL must start with https://, http:// or tg:// (got {} bytes)",
                            url.len()
                        ));
                    }
                    json!({ "text": b.text, "url": url })
                }
            };
            buttons.push(action);
        }
        out.push(Value::Array(buttons));
    }
    Ok(json!({ "inline_keyboard": out }))
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
    fn renders_bot_api_json() {
        let mut out = Map::new();
        outgoing(
            &msg("<b>hi</b>", Some(vec![vec![cb("Buy", "buy:1")]])),
            Some("shop"),
            "text",
            MAX_TEXT,
            false,
            &mut out,
        )
        .unwrap();
        assert_eq!(
            Value::Object(out),
            json!({"text": "<b>hi</b>", "parse_mode": "HTML",
                   "reply_markup": {"inline_keyboard": [[{"text": "Buy", "callback_data": "shop:buy:1"}]]}})
        );
    }

    #[test]
    fn rejects_what_telegram_would() {
        let mut out = Map::new();
        let long = "x".repeat(MAX_TEXT + 1);
        assert!(outgoing(&msg(&long, None), None, "text", MAX_TEXT, false, &mut out).unwrap_err().contains("4096"));
        // Emoji count twice, as Telegram counts them.
        let emoji = "😀".repeat(MAX_TEXT / 2 + 1);
        assert!(outgoing(&msg(&emoji, None), None, "text", MAX_TEXT, false, &mut out).is_err());
        assert!(outgoing(&msg(&"😀".repeat(MAX_TEXT / 2), None), None, "text", MAX_TEXT, false, &mut out).is_ok());
        assert!(outgoing(&msg("", None), None, "text", MAX_TEXT, false, &mut out).is_err());
        let nine = vec![(0..9).map(|i| cb("b", &i.to_string())).collect()];
        assert!(
            outgoing(&msg("k", Some(nine)), Some("p"), "text", MAX_TEXT, false, &mut out)
                .unwrap_err()
                .contains("row 1")
        );
        let fat = vec![vec![cb("b", &"d".repeat(62))]];
        assert!(
            outgoing(&msg("k", Some(fat)), Some("shop"), "text", MAX_TEXT, false, &mut out)
                .unwrap_err()
                .contains("at most 59")
        );
        let no_prefix = vec![vec![cb("b", "x")]];
        assert!(
            outgoing(&msg("k", Some(no_prefix)), None, "text", MAX_TEXT, false, &mut out)
                .unwrap_err()
                .contains("callback-prefix")
        );
        let url = vec![vec![Button { text: "u".into(), action: ButtonAction::Url("javascript:x".into()) }]];
        assert!(outgoing(&msg("k", Some(url)), None, "text", MAX_TEXT, false, &mut out).is_err());
        assert!(chat_id(0).is_err() && message_id(0).is_err());
    }
}
