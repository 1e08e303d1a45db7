//! How `wharf logs` shows events and counts: a readable table, or JSON lines of typed
//! records. Text from plugins is escaped, so no title or field can forge a line.

use std::fmt::Write as _;

use indexmap::IndexMap;
use serde::Serialize;

use crate::config::TimeZoneName;
use crate::storage::EventLogRow;

/// One event as a JSON line.
#[derive(Debug, Serialize)]
pub struct JsonEvent<'a> {
    /// Row id (increasing; `--follow` continues after the last one).
    pub id: i64,
    /// When it was recorded (Unix ms).
    pub at_ms: i64,
    /// The same time in RFC 3339 with the configured zone's offset.
    pub time: String,
    /// `trace` … `error`.
    pub level: &'static str,
    /// Plugin (`wharf` for the host).
    pub plugin: &'a str,
    /// Kind.
    pub kind: &'a str,
    /// User concerned.
    pub user_id: Option<i64>,
    /// Title, if the event gave one.
    pub title: Option<&'a str>,
    /// Emoji, if the event gave one.
    pub emoji: Option<&'a str>,
    /// Fields in order (secrets masked).
    pub fields: &'a IndexMap<String, String>,
}

impl<'a> JsonEvent<'a> {
    /// `row` with its time in `tz`.
    pub fn new(row: &'a EventLogRow, tz: &jiff::tz::TimeZone) -> Self {
        let time = jiff::Timestamp::from_millisecond(row.at_ms)
            .map(|ts| ts.to_zoned(tz.clone()).strftime("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string())
            .unwrap_or_default();
        Self {
            id: row.id,
            at_ms: row.at_ms,
            time,
            level: row.level.name(),
            plugin: &row.plugin,
            kind: &row.kind,
            user_id: row.user_id,
            title: row.title.as_deref(),
            emoji: row.emoji.as_deref(),
            fields: &row.fields,
        }
    }
}

/// Column widths of the table: at least the headings', grown to fit the first batch,
/// then kept (rows printed by `--follow` that are wider push their line out).
#[derive(Clone, Debug)]
pub struct Table {
    plugin: usize,
    kind: usize,
    user: usize,
    title: usize,
}

/// Titles wider than this do not widen the column.
const MAX_TITLE_WIDTH: usize = 40;

impl Table {
    /// Widths for `rows`.
    pub fn fit(rows: &[EventLogRow]) -> Self {
        let width = |f: &dyn Fn(&EventLogRow) -> usize, min: usize| rows.iter().map(f).fold(min, usize::max);
        Self {
            plugin: width(&|r| r.plugin.chars().count(), 6),
            kind: width(&|r| r.kind.chars().count(), 4),
            user: width(&|r| r.user_id.map_or(1, |u| u.to_string().len()), 4),
            title: width(&|r| r.title.as_deref().map_or(0, |t| escape(t).chars().count()), 5).min(MAX_TITLE_WIDTH),
        }
    }

    /// The heading line.
    pub fn heading(&self) -> String {
        format!(
            "{:<19}  {:<5}  {:<pw$}  {:<kw$}  {:<uw$}  {:<tw$}  FIELDS",
            "TIME",
            "LEVEL",
            "PLUGIN",
            "KIND",
            "USER",
            "TITLE",
            pw = self.plugin,
            kw = self.kind,
            uw = self.user,
            tw = self.title
        )
    }

    /// One row, times in `zone`.
    pub fn line(&self, row: &EventLogRow, zone: &TimeZoneName) -> String {
        let user = row.user_id.map_or_else(|| "-".to_owned(), |u| u.to_string());
        let title = row.title.as_deref().map(escape).unwrap_or_default();
        let mut line = format!(
            "{:<19}  {:<5}  {:<pw$}  {:<kw$}  {:<uw$}  {:<tw$}",
            zone.format_ms(row.at_ms),
            row.level.name(),
            escape(&row.plugin),
            escape(&row.kind),
            user,
            title,
            pw = self.plugin,
            kw = self.kind,
            uw = self.user,
            tw = self.title
        );
        for (k, v) in &row.fields {
            let _ = write!(line, "  {}={}", escape(k), quote(v));
        }
        line.truncate(line.trim_end().len());
        line
    }
}

/// `s` with control characters (line breaks among them) escaped.
fn escape(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_owned();
    }
    s.chars().map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() }).collect()
}

/// A field value as it is when it has no spaces, quotes, `=` or control characters,
/// otherwise in double quotes with `"`, `\` and control characters escaped.
fn quote(v: &str) -> String {
    let plain =
        !v.is_empty() && !v.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '=' | '\\'));
    if plain {
        return v.to_owned();
    }
    let mut out = String::with_capacity(v.len() + 2);
    out.push('"');
    for c in v.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push_str(&c.escape_default().to_string()),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// One group of `wharf logs stats` as a JSON line: `{"kind": "purchase.failed", "count": 3}`.
#[derive(Debug, Serialize)]
pub struct JsonCount {
    /// The group, named by what was counted.
    #[serde(flatten)]
    pub key: StatKey,
    /// Events in the group.
    pub count: i64,
}

/// A group of `wharf logs stats`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StatKey {
    /// An event kind.
    Kind(String),
    /// A plugin.
    Plugin(String),
    /// A user (`null`: events about nobody).
    User(Option<i64>),
    /// A day in the configured zone, `YYYY-MM-DD`.
    Day(String),
}

impl StatKey {
    /// The heading of the key column.
    pub fn heading(&self) -> &'static str {
        match self {
            StatKey::Kind(_) => "KIND",
            StatKey::Plugin(_) => "PLUGIN",
            StatKey::User(_) => "USER",
            StatKey::Day(_) => "DAY",
        }
    }

    /// The key as shown in the table.
    pub fn text(&self) -> String {
        match self {
            StatKey::Kind(s) | StatKey::Plugin(s) | StatKey::Day(s) => escape(s),
            StatKey::User(u) => u.map_or_else(|| "-".to_owned(), |u| u.to_string()),
        }
    }
}

/// The counts as a table with a total line.
pub fn count_table(counts: &[JsonCount], heading: &str) -> String {
    let keys: Vec<String> = counts.iter().map(|c| c.key.text()).collect();
    let kw = keys.iter().map(|k| k.chars().count()).fold(heading.len().max(5), usize::max);
    let total: i64 = counts.iter().map(|c| c.count).sum();
    let nw = total.to_string().len().max(5);
    let mut out = format!("{heading:<kw$}  {:>nw$}\n", "COUNT");
    for (k, c) in keys.iter().zip(counts) {
        let _ = writeln!(out, "{k:<kw$}  {:>nw$}", c.count);
    }
    let _ = writeln!(out, "{:<kw$}  {total:>nw$}", "total");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_only_when_needed_and_never_break_a_line() {
        assert_eq!(quote("40"), "40");
        assert_eq!(quote("40 PLN"), "\"40 PLN\"");
        assert_eq!(quote("a\nb"), "\"a\\nb\"");
        assert_eq!(quote("say \"hi\""), "\"say \\\"hi\\\"\"");
        assert_eq!(quote(""), "\"\"");
        assert_eq!(escape("Sale\r\nforged"), "Sale\\r\\nforged");
    }

    #[test]
    fn counts_serialize_named_by_their_group() {
        let c = JsonCount { key: StatKey::Kind("purchase.failed".into()), count: 3 };
        assert_eq!(serde_json::to_string(&c).unwrap(), r#"{"kind":"purchase.failed","count":3}"#);
        let c = JsonCount { key: StatKey::User(None), count: 1 };
        assert_eq!(serde_json::to_string(&c).unwrap(), r#"{"user":null,"count":1}"#);
    }
}
