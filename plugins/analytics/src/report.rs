//! What admins read: the compact `/stats` dashboard, the CSV export (two files: one row
//! per day; and the named counters: commands, start sources, usage) and one user's
//! history. Counts and names only.

use std::fmt::Write as _;

use wharf_sdk::money::Currency;

use crate::model::{self, Counts, CurrencyInfo, UserRecord, date};
use crate::views::{History, RETENTION, Report};

/// Most names listed per line of the dashboard.
const TOP: usize = 8;

/// An amount in the wallet's currency; in minor units until a deposit told the currency.
fn money(cur: Option<&CurrencyInfo>, minor: i64) -> String {
    match cur {
        Some(c) => Currency::new(&c.code, c.decimals).format(minor),
        None => minor.to_string(),
    }
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "–".into();
    }
    // Integer percent, rounded down: no floats in counts people compare.
    format!("{}%", part.saturating_mul(100) / whole)
}

fn top(map: &std::collections::BTreeMap<String, u64>, prefix: &str) -> String {
    let mut entries: Vec<(&String, &u64)> = map.iter().collect();
    entries.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    let shown: Vec<String> = entries.iter().take(TOP).map(|(k, v)| format!("{prefix}{k} {v}")).collect();
    if shown.is_empty() { "–".into() } else { shown.join(" · ") }
}

/// The `/stats` dashboard (plain text).
pub fn dashboard(r: &Report) -> String {
    let mut out = String::new();
    let (Some(first), Some(last)) = (r.days.first(), r.days.last()) else { return "No days to show.".into() };
    let n = r.days.len();
    let t = &r.totals;
    let active_days: u64 = r.days.iter().map(|d| d.rollup.active).sum();
    let new: u64 = r.days.iter().map(|d| d.rollup.new).sum();
    let cur = r.currency.as_ref();
    let _ = writeln!(
        out,
        "📊 Last {n} day{} ({} – {}, UTC)",
        if n == 1 { "" } else { "s" },
        date(first.day),
        date(last.day)
    );
    let _ = writeln!(out, "Today so far: {} active, {} new", r.today_active, r.today_new);
    let _ = writeln!(
        out,
        "DAU {} (yesterday), {} a day on average · WAU {} · MAU {}",
        last.rollup.active,
        active_days / n as u64,
        r.wau,
        r.mau
    );
    let _ = writeln!(out, "New users {new} · messages {} · commands {} · buttons {}", t.m, t.commands(), t.b);
    let _ = writeln!(
        out,
        "Deposits {} ({}) · purchases {} ({})",
        t.dep,
        money(cur, t.dep_amt),
        t.pur,
        money(cur, t.pur_amt)
    );
    let retention: Vec<String> = RETENTION
        .iter()
        .zip(r.retention)
        .map(|(d, (kept, of))| format!("D{d} {} ({kept}/{of})", percent(kept, of)))
        .collect();
    let _ = writeln!(out, "Retention: {}", retention.join(" · "));
    let [started, wallet, deposited, bought] = r.funnel;
    let _ = writeln!(
        out,
        "Funnel of the new users: /start {started} → /wallet {wallet} ({}) → deposit {deposited} ({}) → purchase {bought} ({})",
        percent(wallet, started),
        percent(deposited, started),
        percent(bought, started)
    );
    let _ = writeln!(out, "Top commands: {}", top(&t.c, "/"));
    let sources: Vec<String> = r.sources.iter().take(TOP).map(|(k, v)| format!("{k} {v}")).collect();
    let _ = writeln!(
        out,
        "Sources of the new users: {}",
        if sources.is_empty() { "–".into() } else { sources.join(" · ") }
    );
    let _ = writeln!(out, "/start by payload: {}", top(&t.s, ""));
    let _ = write!(out, "Reported usage: {}", top(&t.u, ""));
    out
}

/// A CSV field: quoted when it holds a comma, quote or line break.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_owned() }
}

/// Column names of [`days_csv`].
pub const DAYS_HEADER: &str = "date,active_users,new_users,messages,commands,buttons,starts,deposits,deposit_amount,purchases,purchase_amount,retained_d1,retained_d7,retained_d30";

/// One row per complete day (amounts in minor units; retention empty until measurable).
pub fn days_csv(r: &Report) -> String {
    let mut out = format!("{DAYS_HEADER}\n");
    for d in &r.days {
        let c = &d.rollup.counts;
        let kept: Vec<String> = d.retained.iter().map(|k| k.map(|n| n.to_string()).unwrap_or_default()).collect();
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{}",
            date(d.day),
            d.rollup.active,
            d.rollup.new,
            c.m,
            c.commands(),
            c.b,
            c.starts(),
            c.dep,
            c.dep_amt,
            c.pur,
            c.pur_amt,
            kept.join(",")
        );
    }
    out
}

/// Column names of [`counters_csv`].
pub const COUNTERS_HEADER: &str = "date,kind,name,count";

/// The named counters of each complete day: `command`, `start` (payload) and `usage`.
pub fn counters_csv(r: &Report) -> String {
    let mut out = format!("{COUNTERS_HEADER}\n");
    for d in &r.days {
        let c = &d.rollup.counts;
        for (kind, map) in [("command", &c.c), ("start", &c.s), ("usage", &c.u)] {
            for (name, n) in map {
                let _ = writeln!(out, "{},{kind},{},{n}", date(d.day), field(name));
            }
        }
    }
    out
}

/// `csv` cut into parts of at most `max` bytes at line ends, each part starting with the
/// header line (a document may hold 1 MiB).
pub fn split_csv(csv: &str, max: usize) -> Vec<String> {
    let mut lines = csv.lines();
    let header = lines.next().unwrap_or_default();
    let mut parts = vec![format!("{header}\n")];
    for line in lines {
        let last = parts.last().map_or(0, String::len);
        if last + line.len() + 1 > max && last > header.len() + 1 {
            parts.push(format!("{header}\n"));
        }
        if let Some(part) = parts.last_mut() {
            part.push_str(line);
            part.push('\n');
        }
    }
    parts
}

fn counts_line(c: &Counts, cur: Option<&CurrencyInfo>) -> String {
    let mut parts = vec![format!("{} msg", c.m)];
    if c.b > 0 {
        parts.push(format!("{} btn", c.b));
    }
    if !c.c.is_empty() {
        parts.push(top(&c.c, "/"));
    }
    if c.dep > 0 {
        parts.push(format!("{} deposit(s) {}", c.dep, money(cur, c.dep_amt)));
    }
    if c.pur > 0 {
        parts.push(format!("{} purchase(s) {}", c.pur, money(cur, c.pur_amt)));
    }
    if !c.u.is_empty() {
        parts.push(top(&c.u, ""));
    }
    parts.join(" · ")
}

fn when(ms: Option<i64>) -> String {
    ms.map_or_else(|| "–".into(), wharf_sdk::time::date_time)
}

/// One user's history (counts only).
pub fn history(user: i64, h: &History, cur: Option<&CurrencyInfo>) -> String {
    let Some(rec) = &h.record else { return format!("No statistics for user {user}.") };
    let UserRecord { first, last, src, start, wallet, deposit, purchase } = rec;
    let mut out = format!(
        "👤 User {user}: first seen {}, last seen {}, source {}\nFunnel: /start {} · /wallet {} · deposit {} · purchase {}\n",
        date(*first),
        date(*last),
        src.as_deref().unwrap_or(model::NONE),
        when(*start),
        when(*wallet),
        when(*deposit),
        when(*purchase)
    );
    if h.days.is_empty() {
        out.push_str("No activity in the period.");
    }
    for (day, c) in &h.days {
        let _ = writeln!(out, "{}: {}", date(*day), counts_line(c, cur));
    }
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(percent(1, 3), "33%");
        assert_eq!(percent(0, 0), "–");
    }

    #[test]
    fn a_big_csv_is_split_at_line_ends_with_the_header_in_each_part() {
        let csv = "h1,h2\naaaa,1\nbbbb,2\ncccc,3\n";
        let parts = split_csv(csv, 20);
        assert_eq!(parts, ["h1,h2\naaaa,1\nbbbb,2\n", "h1,h2\ncccc,3\n"]);
        assert!(parts.iter().all(|p| p.len() <= 20));
        assert_eq!(split_csv("h\n", 20), ["h\n"]);
    }
}
