//! `[log_sink]`: where business events go besides the database event log.
//!
//! ```toml
//! [log_sink]
//! chat_id = -1001234567890     # a channel or group the bot can post to (optional)
//! kinds = ["purchase.*", "wallet.*", "wharf.*"]   # globs over event kinds; default ["*"]
//! min_level = "info"           # trace, debug, info, warn, error
//! timezone = "Europe/Warsaw"   # IANA name for the times shown; default UTC
//! keep_days = 90               # the event log keeps this many days
//! [log_sink.titles]            # per-kind overrides of what the event says about itself
//! "purchase.succeeded" = { title = "Sale", emoji = "💸" }
//! ```

use indexmap::IndexMap;
use serde::Deserialize;

/// `[log_sink]`.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct LogSinkConfig {
    /// The admin log channel (or group); without it events stay in the event log.
    pub chat_id: Option<i64>,
    /// Which event kinds reach the channel.
    #[serde(default = "all_kinds")]
    pub kinds: Vec<KindGlob>,
    /// Events below this level do not reach the channel.
    #[serde(default)]
    pub min_level: LogLevel,
    /// Time zone of the times shown in the channel.
    #[serde(default)]
    pub timezone: TimeZoneName,
    /// Days the event log keeps (older rows are pruned in small batches).
    #[serde(default = "default_keep_days")]
    pub keep_days: u32,
    /// Per-kind title and emoji overrides.
    #[serde(default)]
    pub titles: IndexMap<String, TitleOverride>,
}

impl Default for LogSinkConfig {
    fn default() -> Self {
        Self {
            chat_id: None,
            kinds: all_kinds(),
            min_level: LogLevel::default(),
            timezone: TimeZoneName::default(),
            keep_days: default_keep_days(),
            titles: IndexMap::new(),
        }
    }
}

fn all_kinds() -> Vec<KindGlob> {
    vec![KindGlob("*".into())]
}

fn default_keep_days() -> u32 {
    90
}

impl LogSinkConfig {
    /// Whether an event of `kind` at `level` goes to the channel.
    pub fn wants(&self, kind: &str, level: LogLevel) -> bool {
        level >= self.min_level && self.kinds.iter().any(|g| g.matches(kind))
    }

    /// Values Telegram and the sink accept.
    pub(super) fn check(&self) -> Result<(), String> {
        if self.keep_days == 0 {
            return Err("[log_sink] keep_days must be at least 1".into());
        }
        for (kind, o) in &self.titles {
            if o.title.as_deref().is_some_and(|t| t.chars().count() > 128) {
                return Err(format!("[log_sink.titles] \"{kind}\": a title has at most 128 characters"));
            }
            if o.emoji.as_deref().is_some_and(|e| e.chars().count() > 8) {
                return Err(format!("[log_sink.titles] \"{kind}\": an emoji has at most 8 characters"));
            }
        }
        Ok(())
    }
}

/// One per-kind override in `[log_sink.titles]`.
#[derive(Debug, Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct TitleOverride {
    /// Replaces the event's title.
    pub title: Option<String>,
    /// Replaces the event's emoji.
    pub emoji: Option<String>,
}

/// Severity of a business or host event; stored as 0 (trace) … 4 (error).
#[derive(Debug, Deserialize, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Very verbose.
    Trace,
    /// Debugging detail.
    Debug,
    /// Normal operation.
    #[default]
    Info,
    /// Something odd that was handled.
    Warn,
    /// Something failed.
    Error,
}

impl LogLevel {
    /// The stored number.
    pub fn as_i64(self) -> i64 {
        self as i64
    }

    /// From the stored number (unknown numbers read as `info`).
    pub fn from_i64(n: i64) -> Self {
        match n {
            0 => Self::Trace,
            1 => Self::Debug,
            3 => Self::Warn,
            4 => Self::Error,
            _ => Self::Info,
        }
    }

    /// The lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Trace => "trace",
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Error => "error",
        }
    }
}

/// A glob over event kinds: `*` matches any run of characters (dots included).
#[derive(Debug, Deserialize, Clone, PartialEq, Eq)]
#[serde(try_from = "String")]
pub struct KindGlob(String);

impl TryFrom<String> for KindGlob {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '*'));
        if ok { Ok(Self(s)) } else { Err(format!("{s:?} is not a kind glob (letters, digits, . _ - and *)")) }
    }
}

impl KindGlob {
    /// Whether `kind` matches.
    pub fn matches(&self, kind: &str) -> bool {
        glob_match(self.0.as_bytes(), kind.as_bytes())
    }

    /// The glob as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `*`-only glob matching, iterative with one backtrack point.
fn glob_match(pat: &[u8], s: &[u8]) -> bool {
    let (mut p, mut i) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while i < s.len() {
        if p < pat.len() && pat[p] == b'*' {
            star = Some((p, i));
            p += 1;
        } else if p < pat.len() && pat[p] == s[i] {
            p += 1;
            i += 1;
        } else if let Some((sp, si)) = star {
            p = sp + 1;
            i = si + 1;
            star = Some((sp, si + 1));
        } else {
            return false;
        }
    }
    pat[p..].iter().all(|&c| c == b'*')
}

/// An IANA time zone name, checked against the bundled time zone database on parse.
#[derive(Debug, Deserialize, Clone)]
#[serde(try_from = "String")]
pub struct TimeZoneName {
    name: String,
    tz: jiff::tz::TimeZone,
}

impl Default for TimeZoneName {
    fn default() -> Self {
        Self { name: "UTC".into(), tz: jiff::tz::TimeZone::UTC }
    }
}

impl TryFrom<String> for TimeZoneName {
    type Error = String;

    fn try_from(name: String) -> Result<Self, String> {
        match jiff::tz::TimeZone::get(&name) {
            Ok(tz) => Ok(Self { name, tz }),
            Err(_) => Err(format!("unknown time zone {name:?} (an IANA name such as \"Europe/Warsaw\" or \"UTC\")")),
        }
    }
}

impl TimeZoneName {
    /// The name as written.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `at_ms` (Unix milliseconds) as `DD/MM/YYYY HH:MM:SS` in this zone.
    pub fn format_ms(&self, at_ms: i64) -> String {
        match jiff::Timestamp::from_millisecond(at_ms) {
            Ok(ts) => ts.to_zoned(self.tz.clone()).strftime("%d/%m/%Y %H:%M:%S").to_string(),
            Err(_) => at_ms.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        let g = |s: &str| KindGlob::try_from(s.to_owned()).unwrap();
        assert!(g("*").matches("purchase.succeeded"));
        assert!(g("purchase.*").matches("purchase.failed"));
        assert!(!g("purchase.*").matches("wallet.deposit"));
        assert!(g("*.failed").matches("crypto.credit.failed"));
        assert!(g("a*b*c").matches("axxbyyc"));
        assert!(!g("a*b*c").matches("axxbyy"));
        assert!(KindGlob::try_from("a b".to_owned()).is_err());
    }

    #[test]
    fn times_in_a_zone() {
        let tz = TimeZoneName::try_from("Europe/Warsaw".to_owned()).unwrap();
        // 2026-12-01 00:00:00 UTC is 01:00 in Warsaw (CET).
        assert_eq!(tz.format_ms(1_796_083_200_000), "01/12/2026 01:00:00");
        assert_eq!(TimeZoneName::default().format_ms(1_796_083_200_000), "01/12/2026 00:00:00");
        assert!(TimeZoneName::try_from("Mars/Olympus".to_owned()).is_err());
    }
}
