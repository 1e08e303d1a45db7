//! How events look in the admin log channel: one HTML block per event, several blocks
//! per digest message up to Telegram's 4,096 characters, identical events collapsed with
//! a count, and what does not fit summed up as "and N more of KIND". Secret fields are
//! left out; partly revealed ones arrive masked from the event log.
//!
//! ```text
//! 🛒 <b>Purchase successful</b>
//! User: @alice (ID: <code>42</code>)
//! Product: Widget (#3)
//! Price: 12.50 PLN
//! Time: <code>01/12/2026 14:03:07</code>
//! ```

use std::collections::HashMap;

use indexmap::IndexMap;

use crate::config::{LogLevel, LogSinkConfig};
use crate::storage::EventLogRow;

/// Most UTF-16 units of one message (Telegram's limit for a text message; counting the
/// markup too keeps well inside it).
pub const MAX_MESSAGE: usize = 4096;

/// Room kept at the end of a digest for the "and N more" lines.
const RESERVE: usize = 700;

/// Kinds named one by one in the "and N more" lines; the rest are summed up together.
const MAX_REST_KINDS: usize = 10;

/// `text` escaped for Telegram's HTML parse mode.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            c if crate::validate::is_unsafe_char(c) => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// `order_id` → `Order id`.
fn label(key: &str) -> String {
    let spaced = key.replace(['_', '-', '.'], " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The emoji of events that bring none.
fn level_emoji(level: LogLevel) -> &'static str {
    match level {
        LogLevel::Trace | LogLevel::Debug => "🔹",
        LogLevel::Info => "ℹ️",
        LogLevel::Warn => "⚠️",
        LogLevel::Error => "🚨",
    }
}

/// What a block says apart from its time: events saying the same collapse into one.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Shape {
    kind: String,
    head: String,
    user: Option<i64>,
    fields: Vec<(String, String)>,
}

/// The title line of `row`, with the config's per-kind override applied.
fn head(row: &EventLogRow, config: &LogSinkConfig) -> String {
    let over = config.titles.get(&row.kind);
    let title = over.and_then(|o| o.title.as_deref()).or(row.title.as_deref()).unwrap_or(&row.kind);
    let emoji = over.and_then(|o| o.emoji.as_deref()).or(row.emoji.as_deref()).unwrap_or(level_emoji(row.level));
    format!("{} <b>{}</b>", escape(emoji), escape(title))
}

/// One event (or `count` identical ones, the last at `at_ms`) as a block.
fn block(shape: &Shape, count: usize, at_ms: i64, names: &HashMap<i64, String>, config: &LogSinkConfig) -> String {
    let mut out = shape.head.clone();
    if count > 1 {
        out.push_str(&format!(" ×{count}"));
    }
    if let Some(user) = shape.user {
        match names.get(&user) {
            Some(name) => out.push_str(&format!("\nUser: @{} (ID: <code>{user}</code>)", escape(name))),
            None => out.push_str(&format!("\nUser: ID <code>{user}</code>")),
        }
    }
    // A secret's field is left out: its value is never known here anyway.
    for (k, v) in shape.fields.iter().filter(|(_, v)| v != crate::secret::MASK) {
        out.push_str(&format!("\n{}: {}", escape(&label(k)), escape(v)));
    }
    let when = if count > 1 { "Last" } else { "Time" };
    out.push_str(&format!("\n{when}: <code>{}</code>", config.timezone.format_ms(at_ms)));
    out
}

/// A digest of events for one message.
#[derive(Debug, PartialEq, Eq)]
pub struct Digest {
    /// The message (HTML).
    pub text: String,
    /// Events shown in blocks (collapsed ones counted each).
    pub shown: usize,
    /// Events only counted in the "and N more" lines.
    pub summed: usize,
}

/// `rows` (oldest first, at least one) as one message of at most [`MAX_MESSAGE`]
/// characters; `names` are the users' usernames.
pub fn digest(rows: &[EventLogRow], names: &HashMap<i64, String>, config: &LogSinkConfig) -> Digest {
    // Collapse identical events, keeping the order of first appearance.
    let mut groups: IndexMap<Shape, (usize, i64)> = IndexMap::new();
    for row in rows {
        let shape = Shape {
            kind: row.kind.clone(),
            head: head(row, config),
            user: row.user_id,
            fields: row.fields.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        };
        let entry = groups.entry(shape).or_insert((0, row.at_ms));
        entry.0 += 1;
        entry.1 = entry.1.max(row.at_ms);
    }
    let mut text = String::new();
    let mut used = 0;
    let mut shown = 0;
    let mut rest: IndexMap<&str, usize> = IndexMap::new();
    for (shape, (count, at_ms)) in &groups {
        let b = block(shape, *count, *at_ms, names, config);
        let len = b.encode_utf16().count() + 2;
        if rest.is_empty() && used + len <= MAX_MESSAGE - RESERVE {
            if !text.is_empty() {
                text.push_str("\n\n");
            }
            text.push_str(&b);
            used += len;
            shown += count;
        } else {
            *rest.entry(&shape.kind).or_default() += count;
        }
    }
    let summed: usize = rest.values().sum();
    let mut lines = Vec::new();
    let mut other = 0;
    for (i, (kind, n)) in rest.iter().enumerate() {
        if i < MAX_REST_KINDS {
            lines.push(format!("…and {n} more of {}", escape(kind)));
        } else {
            other += n;
        }
    }
    if other > 0 {
        lines.push(format!("…and {other} more of other kinds"));
    }
    if !lines.is_empty() {
        text.push_str("\n\n");
        text.push_str(&lines.join("\n"));
    }
    Digest { text, shown, summed }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TitleOverride;

    fn row(id: i64, kind: &str, title: Option<&str>, user: Option<i64>, fields: &[(&str, &str)]) -> EventLogRow {
        EventLogRow {
            id,
            at_ms: 1_796_083_200_000 + id * 1000,
            plugin: "shop".into(),
            kind: kind.into(),
            level: LogLevel::Info,
            title: title.map(Into::into),
            emoji: Some("🛒".into()),
            user_id: user,
            fields: fields.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        }
    }

    #[test]
    fn one_event_in_the_documented_format() {
        let names = HashMap::from([(42, "alice".to_owned())]);
        let r = row(1, "purchase.succeeded", Some("Purchase successful"), Some(42), &[("final_price", "12.50 PLN")]);
        let d = digest(&[r], &names, &LogSinkConfig::default());
        assert_eq!(
            d.text,
            "🛒 <b>Purchase successful</b>\nUser: @alice (ID: <code>42</code>)\nFinal price: 12.50 PLN\nTime: <code>01/12/2026 00:00:01</code>"
        );
        assert_eq!((d.shown, d.summed), (1, 0));
    }

    #[test]
    fn markup_in_values_is_escaped_and_overrides_win() {
        let mut config = LogSinkConfig::default();
        config.titles.insert("x.y".into(), TitleOverride { title: Some("Mine".into()), emoji: Some("✨".into()) });
        let r = row(1, "x.y", Some("<b>theirs</b>"), None, &[("note", "<a href='x'>&</a>")]);
        let d = digest(&[r], &HashMap::new(), &config);
        assert!(d.text.starts_with("✨ <b>Mine</b>\nNote: &lt;a href='x'&gt;&amp;&lt;/a&gt;\n"), "{}", d.text);
    }

    #[test]
    fn identical_events_collapse_with_a_count() {
        let rows: Vec<_> = (1..=5).map(|i| row(i, "e", Some("Boom"), None, &[("why", "disk")])).collect();
        let d = digest(&rows, &HashMap::new(), &LogSinkConfig::default());
        assert_eq!(d.text, "🛒 <b>Boom</b> ×5\nWhy: disk\nLast: <code>01/12/2026 00:00:05</code>");
        assert_eq!((d.shown, d.summed), (5, 0));
    }

    #[test]
    fn what_does_not_fit_is_counted_by_kind() {
        let rows: Vec<_> = (1..=300)
            .map(|i| {
                let kind = if i % 3 == 0 { "purchase.failed" } else { "purchase.succeeded" };
                row(i, kind, None, Some(i), &[("order", &format!("#{i}"))])
            })
            .collect();
        let d = digest(&rows, &HashMap::new(), &LogSinkConfig::default());
        assert!(d.text.encode_utf16().count() <= MAX_MESSAGE);
        assert_eq!(d.shown + d.summed, 300, "every event is accounted for");
        assert!(d.summed > 0);
        let counted: usize =
            d.text.lines().filter_map(|l| l.strip_prefix("…and ")?.split(' ').next()?.parse::<usize>().ok()).sum();
        assert_eq!(counted, d.summed);
        assert!(d.text.contains("more of purchase.succeeded") && d.text.contains("more of purchase.failed"));
    }
}
