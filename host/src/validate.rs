//! Checks on what plugins hand to the host, turned into typed outbox calls when valid.
//! Every limit is Telegram's own (or stricter), so a message that passes here is not
//! rejected by Telegram for its shape.

mod markup;

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
    let visible = match msg.parse_mode {
        ParseMode::Plain => Ok(msg.text.clone()),
        ParseMode::Html => markup::html(&msg.text),
        ParseMode::MarkdownV2 => markup::markdown_v2(&msg.text),
    }?;
    if len > 0 && visible.trim().is_empty() {
        return Err(if allow_empty {
            "text shows nothing (only spaces or markup); leave it empty for none".into()
        } else {
            "text shows nothing (only spaces or markup); Telegram refuses an empty message".into()
        });
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
                    button_url(url)?;
                    Button { text: b.text.clone(), action: call::ButtonAction::Url(url.clone()) }
                }
            };
            buttons.push(action);
        }
        out.push(buttons);
    }
    Ok(Keyboard { inline_keyboard: out })
}

/// Whether `c` could break a line or reorder text when shown: C0 and C1 controls,
/// DEL, line and paragraph separators, and bidirectional overrides.
pub(crate) fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` as a terminal should show it: lines kept, every other control or bidirectional
/// character escaped (`\u{1b}`), so a bot's text cannot move the cursor, recolour or
/// clear the screen of whoever reads it (`wharf chat`).
pub fn escape_for_terminal(s: &str) -> String {
    s.split('\n').map(escape_controls).collect::<Vec<_>>().join("\n")
}

/// `s` on one line: newlines, tabs and every other control or bidirectional character
/// escaped (`\n`, `\r`, `\t`, `\u{7f}`), so text from a plugin cannot forge a log
/// line or disguise itself in a notice.
pub fn escape_controls(s: &str) -> String {
    if !s.chars().any(is_unsafe_char) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_unsafe_char(c) => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

/// Longest URL in a button or photo.
pub const MAX_URL: usize = 2048;

/// A well-formed absolute URL with one of `schemes` (and a host for http and https).
pub fn url(url: &str, schemes: &[&str]) -> Result<(), String> {
    let shown: String = url.chars().take(64).collect();
    if url.len() > MAX_URL {
        return Err(format!("URL is {} bytes; at most {MAX_URL}", url.len()));
    }
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("URL {shown:?} is not well-formed: {e}"))?;
    if !schemes.contains(&parsed.scheme()) {
        return Err(format!("URL {shown:?} must start with {}", schemes.join("://, ") + "://"));
    }
    let web = matches!(parsed.scheme(), "http" | "https");
    if web && parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!("URL {shown:?} has no host"));
    }
    if !web && parsed.host_str().is_none_or(str::is_empty) && parsed.path().is_empty() {
        return Err(format!("URL {shown:?} names nothing after the scheme"));
    }
    Ok(())
}

fn button_url(u: &str) -> Result<(), String> {
    url(u, &["https", "http", "tg"]).map_err(|e| format!("button {e}"))
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
    fn terminal_text_keeps_lines_and_escapes_escape_sequences() {
        let hostile = "line one\n\u{1b}[2J\u{1b}]0;owned\u{7}cleared\r\u{202e}gnp.exe";
        assert_eq!(escape_for_terminal(hostile), "line one\n\\u{1b}[2J\\u{1b}]0;owned\\u{7}cleared\\r\\u{202e}gnp.exe");
        assert_eq!(escape_for_terminal("plain\ntext"), "plain\ntext");
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

    #[test]
    fn controls_are_escaped() {
        for (raw, shown) in [
            ("plain ünïcode 😀", "plain ünïcode 😀"),
            ("a\nINFO forged line", "a\\nINFO forged line"),
            ("cr\rtab\t", "cr\\rtab\\t"),
            ("esc\u{1b}[31m", "esc\\u{1b}[31m"),
            ("c1\u{85}del\u{7f}", "c1\\u{85}del\\u{7f}"),
            ("bidi\u{202e}sep\u{2028}", "bidi\\u{202e}sep\\u{2028}"),
        ] {
            assert_eq!(escape_controls(raw), shown);
        }
    }

    fn check(text: &str, mode: ParseMode, allow_empty: bool) -> Result<(), String> {
        let m = Outgoing { text: text.into(), parse_mode: mode, keyboard: None, reply_to: None };
        outgoing(&m, None, MAX_TEXT, allow_empty).map(drop)
    }

    #[test]
    fn text_must_show_something_and_parse() {
        let cases: [(&str, ParseMode, bool, Option<&str>); 10] = [
            ("hi", ParseMode::Plain, false, None),
            ("   \n\t", ParseMode::Plain, false, Some("shows nothing")),
            ("\u{3000}", ParseMode::Plain, false, Some("shows nothing")),
            ("<b> </b>", ParseMode::Html, false, Some("shows nothing")),
            ("<b>x</b>", ParseMode::Html, false, None),
            ("<b>x", ParseMode::Html, false, Some("never closed")),
            ("* *", ParseMode::MarkdownV2, false, Some("shows nothing")),
            ("1.5", ParseMode::MarkdownV2, false, Some("reserved")),
            ("", ParseMode::Plain, true, None),
            ("  ", ParseMode::Plain, true, Some("leave it empty")),
        ];
        for (text, mode, allow_empty, err) in cases {
            let got = check(text, mode, allow_empty);
            match err {
                None => assert!(got.is_ok(), "{text:?}: {got:?}"),
                Some(why) => assert!(got.as_ref().is_err_and(|e| e.contains(why)), "{text:?}: {got:?}"),
            }
        }
    }

    #[test]
    fn urls_are_well_formed() {
        let web = ["https", "http", "tg"];
        for good in ["https://example.com/a?b=c", "http://example.com", "tg://user?id=42", "tg://resolve?domain=x"] {
            assert_eq!(url(good, &web), Ok(()), "{good}");
        }
        for (bad, why) in [
            ("https://", "not well-formed"),
            ("http://exa mple.com", "not well-formed"),
            ("javascript:alert(1)", "must start with"),
            ("ftp://example.com", "must start with"),
            ("example.com", "not well-formed"),
            ("tg:", "names nothing"),
        ] {
            assert!(url(bad, &web).is_err_and(|e| e.contains(why)), "{bad}: {:?}", url(bad, &web));
        }
        assert!(url(&format!("https://x.com/{}", "a".repeat(MAX_URL)), &web).is_err());
    }
}
