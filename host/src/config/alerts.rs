//! `[alerts]`: the built-in alert rules, their thresholds, and where alerts go besides
//! the admin log channel (or the admins).
//!
//! ```toml
//! [alerts]
//! check_seconds = 30            # how often the rules are evaluated (host clock)
//! repeat_minutes = 60           # a firing alert is sent again this often
//! webhook_url = "https://hooks.example.com/wharf"   # optional: each alert POSTed as JSON
//! plugin_disabled = true        # a plugin the circuit breaker disabled
//! dead_letters_per_hour = 10    # inbox and outbox dead letters in the last hour; false turns it off
//! inbox_lag_seconds = 60        # age of the oldest inbox entry
//! outbox_lag_seconds = 120      # age of the oldest outbox row
//! api_unreachable_minutes = 5   # the Bot API has not answered for this long
//! [[alerts.ratio]]              # failure ratio of an event family
//! name = "purchases"
//! failed = "purchase.failed"
//! total = "purchase.*"
//! window_minutes = 5
//! above_percent = 10
//! min_events = 10
//! ```

use serde::Deserialize;

use super::KindGlob;

/// `[alerts]`.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct AlertsConfig {
    /// How often the rules are evaluated, in seconds of the host clock.
    #[serde(default = "default_check_seconds")]
    pub check_seconds: u64,
    /// A firing alert is sent again this often, in minutes.
    #[serde(default = "default_repeat_minutes")]
    pub repeat_minutes: u64,
    /// Where each alert is also POSTed as JSON.
    pub webhook_url: Option<WebhookUrl>,
    /// Time one webhook request may take, in seconds.
    #[serde(default = "default_webhook_timeout_seconds")]
    pub webhook_timeout_seconds: u64,
    /// The bot's name in the webhook's `bot` field (an operator running several bots
    /// tells them apart by it).
    #[serde(default = "default_bot_name")]
    pub bot_name: String,
    /// Alert when the circuit breaker disables a plugin.
    #[serde(default = "yes")]
    pub plugin_disabled: bool,
    /// Dead letters (inbox and outbox) in the last hour.
    #[serde(default = "default_dead_letters")]
    pub dead_letters_per_hour: Threshold,
    /// Age of the oldest inbox entry, in seconds.
    #[serde(default = "default_inbox_lag")]
    pub inbox_lag_seconds: Threshold,
    /// Age of the oldest outbox row, in seconds.
    #[serde(default = "default_outbox_lag")]
    pub outbox_lag_seconds: Threshold,
    /// Minutes without an answer from the Bot API.
    #[serde(default = "default_api_unreachable")]
    pub api_unreachable_minutes: Threshold,
    /// Failure ratios of event families.
    #[serde(default)]
    pub ratio: Vec<toml::Spanned<RatioRule>>,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        Self {
            check_seconds: default_check_seconds(),
            repeat_minutes: default_repeat_minutes(),
            webhook_url: None,
            webhook_timeout_seconds: default_webhook_timeout_seconds(),
            bot_name: default_bot_name(),
            plugin_disabled: true,
            dead_letters_per_hour: default_dead_letters(),
            inbox_lag_seconds: default_inbox_lag(),
            outbox_lag_seconds: default_outbox_lag(),
            api_unreachable_minutes: default_api_unreachable(),
            ratio: Vec::new(),
        }
    }
}

fn default_check_seconds() -> u64 {
    30
}

fn default_repeat_minutes() -> u64 {
    60
}

fn default_webhook_timeout_seconds() -> u64 {
    10
}

fn default_bot_name() -> String {
    "wharf".into()
}

fn yes() -> bool {
    true
}

fn default_dead_letters() -> Threshold {
    Threshold::At(10)
}

fn default_inbox_lag() -> Threshold {
    Threshold::At(60)
}

fn default_outbox_lag() -> Threshold {
    Threshold::At(120)
}

fn default_api_unreachable() -> Threshold {
    Threshold::At(5)
}

impl AlertsConfig {
    /// The ratio rules, without their places in the file.
    pub fn ratios(&self) -> impl Iterator<Item = &RatioRule> {
        self.ratio.iter().map(toml::Spanned::get_ref)
    }

    /// Ranges and unique names; `line_of` turns a byte offset into a line number.
    pub(super) fn check(&self, line_of: impl Fn(usize) -> usize) -> Result<(), String> {
        for (key, v, lo, hi) in [
            ("check_seconds", self.check_seconds, 1, 3600),
            ("repeat_minutes", self.repeat_minutes, 1, 10_080),
            ("webhook_timeout_seconds", self.webhook_timeout_seconds, 1, 300),
        ] {
            if !(lo..=hi).contains(&v) {
                return Err(format!("[alerts] {key} = {v} must be between {lo} and {hi}"));
            }
        }
        if self.bot_name.is_empty() || self.bot_name.chars().count() > 64 {
            return Err("[alerts] bot_name must be 1-64 characters".into());
        }
        for (i, spanned) in self.ratio.iter().enumerate() {
            let r = spanned.get_ref();
            let line = line_of(spanned.span().start);
            if self.ratio[..i].iter().any(|o| o.get_ref().name == r.name) {
                return Err(format!("line {line}: [[alerts.ratio]] name {:?} is used twice", r.name.as_str()));
            }
            if !(1..=1440).contains(&r.window_minutes) {
                return Err(format!(
                    "line {line}: [[alerts.ratio]] {}: window_minutes = {} must be between 1 and 1440",
                    r.name.as_str(),
                    r.window_minutes
                ));
            }
            if !(0.0..100.0).contains(&r.above_percent) {
                return Err(format!(
                    "line {line}: [[alerts.ratio]] {}: above_percent = {} must be at least 0 and below 100",
                    r.name.as_str(),
                    r.above_percent
                ));
            }
        }
        Ok(())
    }
}

/// A threshold that can be turned off with `false`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Threshold {
    /// The rule is off.
    Off,
    /// The rule fires when the value reaches this.
    At(u64),
}

impl Threshold {
    /// The threshold, if the rule is on.
    pub fn get(self) -> Option<u64> {
        match self {
            Self::Off => None,
            Self::At(n) => Some(n),
        }
    }
}

impl<'de> Deserialize<'de> for Threshold {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Threshold;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a positive number, or false to turn the rule off")
            }

            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Threshold, E> {
                if v { Err(E::custom("give a number, or false to turn the rule off")) } else { Ok(Threshold::Off) }
            }

            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Threshold, E> {
                match u64::try_from(v) {
                    Ok(n) if n > 0 => Ok(Threshold::At(n)),
                    _ => Err(E::custom(format!("{v} is not a positive number (false turns the rule off)"))),
                }
            }

            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Threshold, E> {
                self.visit_i64(i64::try_from(v).unwrap_or(i64::MAX))
            }
        }
        d.deserialize_any(V)
    }
}

/// `[[alerts.ratio]]`: alert when `failed` events are more than `above_percent` of
/// `total` events within the last `window_minutes` (once at least `min_events` happened).
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RatioRule {
    /// The alert's name (`ratio.NAME`).
    pub name: RuleName,
    /// Kinds that count as failures.
    pub failed: KindGlob,
    /// Kinds that count towards the total.
    pub total: KindGlob,
    /// The window, in minutes.
    #[serde(default = "default_window")]
    pub window_minutes: u64,
    /// The failure percentage above which it fires.
    pub above_percent: f64,
    /// Fewest events in the window before the ratio means anything.
    #[serde(default = "default_min_events")]
    pub min_events: u64,
}

fn default_window() -> u64 {
    5
}

fn default_min_events() -> u64 {
    10
}

/// A ratio rule's name: 1-32 characters of `a-z 0-9 _ -`.
#[derive(Debug, Deserialize, Clone, PartialEq, Eq)]
#[serde(try_from = "String")]
pub struct RuleName(String);

impl TryFrom<String> for RuleName {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        let ok = !s.is_empty()
            && s.len() <= 32
            && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if ok { Ok(Self(s)) } else { Err(format!("{s:?} is not a rule name (1-32 characters of a-z 0-9 _ -)")) }
    }
}

impl RuleName {
    /// The name as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An `http://` or `https://` URL with a host.
#[derive(Debug, Deserialize, Clone, PartialEq, Eq)]
#[serde(try_from = "String")]
pub struct WebhookUrl(String);

impl TryFrom<String> for WebhookUrl {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        let masked = crate::secret::mask_url(&s);
        let url = reqwest::Url::parse(&s).map_err(|e| format!("{masked:?} is not a URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(format!("{masked:?} must be an http:// or https:// URL with a host"));
        }
        Ok(Self(s))
    }
}

impl WebhookUrl {
    /// The URL (may hold a token in its path or query: never log it).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Doc {
        alerts: AlertsConfig,
    }

    fn parse(text: &str) -> Result<AlertsConfig, String> {
        toml::from_str::<Doc>(text).map(|d| d.alerts).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_and_switches() {
        let a = parse("[alerts]\n").unwrap();
        assert_eq!((a.check_seconds, a.repeat_minutes), (30, 60));
        assert_eq!(a.dead_letters_per_hour, Threshold::At(10));
        assert!(a.plugin_disabled && a.webhook_url.is_none());
        let a = parse("[alerts]\ninbox_lag_seconds = false\nplugin_disabled = false\n").unwrap();
        assert_eq!(a.inbox_lag_seconds.get(), None);
        assert!(!a.plugin_disabled);
        let e = parse("[alerts]\noutbox_lag_seconds = true\n").unwrap_err();
        assert!(e.contains("line 2") && e.contains("false to turn the rule off"), "{e}");
        let e = parse("[alerts]\ndead_letters_per_hour = 0\n").unwrap_err();
        assert!(e.contains("not a positive number"), "{e}");
    }

    #[test]
    fn ratios_and_urls() {
        let a = parse(
            "[alerts]\nwebhook_url = \"https://h.example/x\"\n[[alerts.ratio]]\nname = \"buy\"\n\
             failed = \"purchase.failed\"\ntotal = \"purchase.*\"\nabove_percent = 10\n",
        )
        .unwrap();
        let r = a.ratios().next().unwrap();
        assert_eq!((r.window_minutes, r.min_events, r.above_percent), (5, 10, 10.0));
        assert!(r.total.matches("purchase.succeeded"));
        let e = parse("[alerts]\nwebhook_url = \"ftp://h.example/x\"\n").unwrap_err();
        assert!(e.contains("line 2") && e.contains("http:// or https://"), "{e}");
    }
}
