//! `[plugins.gate.settings]`: the channels users must join, how many of them, how long
//! answers are trusted, what a failed lookup means, and the commands anyone may use.
//! Checked in `describe()`, so a mistake stops the plugin from loading and names the key.

use serde::Deserialize;

/// How many of the channels a user must be in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Require {
    /// Every channel.
    #[default]
    All,
    /// At least one.
    Any,
}

/// What a lookup Telegram could not answer counts as.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fail {
    /// Let the user through (the bot keeps working while Telegram has trouble).
    #[default]
    Open,
    /// Stop the user with "cannot check right now".
    Closed,
}

impl Fail {
    /// As written in the config.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Closed => "closed",
        }
    }
}

/// The settings table as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Channels as `@username` or a numeric id written as a string (`"-1001234567890"`).
    pub channels: Vec<String>,
    /// `all` (default) or `any`.
    #[serde(default)]
    pub require: Require,
    /// How long a lookup saying "in the channel" is trusted, in minutes (0: never).
    #[serde(default = "ten")]
    pub cache_minutes: u32,
    /// How long a lookup saying "not in the channel" is trusted, in seconds (0: never).
    #[serde(default = "sixty")]
    pub negative_cache_seconds: u32,
    /// `open` (default) or `closed`.
    #[serde(default)]
    pub fail: Fail,
    /// Commands anyone may use without joining (without the slash).
    #[serde(default = "exempt")]
    pub exempt_commands: Vec<String>,
    /// The text above the channel buttons (plain text); a default when not set.
    #[serde(default)]
    pub message: Option<String>,
}

fn ten() -> u32 {
    10
}

fn sixty() -> u32 {
    60
}

fn exempt() -> Vec<String> {
    vec!["start".into(), "help".into()]
}

/// A channel as configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Channel {
    /// As written: `@name` or the id as a string (also its cache key).
    pub spec: String,
    /// The id, when written as one.
    pub id: Option<i64>,
    /// The username without `@`, when written as one.
    pub username: Option<String>,
}

impl Channel {
    /// Parse `@username` (4-32 of A-Z, a-z, 0-9, _) or a negative chat id.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let spec = spec.trim();
        if let Some(name) = spec.strip_prefix('@') {
            let ok = (4..=32).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !ok {
                return Err(format!("{spec:?} is not a channel username (@ then 4-32 of A-Z, a-z, 0-9, _)"));
            }
            return Ok(Self { spec: spec.to_owned(), id: None, username: Some(name.to_owned()) });
        }
        match spec.parse::<i64>() {
            Ok(id) if id < 0 => Ok(Self { spec: id.to_string(), id: Some(id), username: None }),
            _ => Err(format!(
                "{spec:?} is neither @username nor a channel id (a negative number such as \"-1001234567890\")"
            )),
        }
    }
}

/// The settings, checked.
#[derive(Clone, Debug)]
pub struct Gate {
    /// The channels, in the order written.
    pub channels: Vec<Channel>,
    /// All or any.
    pub require: Require,
    /// Positive answers are trusted this long.
    pub cache_ms: i64,
    /// Negative answers are trusted this long.
    pub negative_ms: i64,
    /// Open or closed.
    pub fail: Fail,
    /// Commands anyone may use.
    pub exempt_commands: Vec<String>,
    /// The prompt's text, if set.
    pub message: Option<String>,
}

impl Gate {
    /// Read and check the settings.
    pub fn load() -> Result<Self, String> {
        let s: Settings = wharf_sdk::settings::all().map_err(|e| e.to_string())?;
        s.check()
    }
}

impl Settings {
    /// Whether the settings make sense; the gate they describe.
    pub fn check(&self) -> Result<Gate, String> {
        if self.channels.is_empty() || self.channels.len() > 10 {
            return Err(format!("setting `channels`: list 1-10 channels, got {}", self.channels.len()));
        }
        let mut channels: Vec<Channel> = Vec::new();
        for (i, spec) in self.channels.iter().enumerate() {
            let c = Channel::parse(spec).map_err(|e| format!("setting `channels[{i}]`: {e}"))?;
            if channels.iter().any(|o| o.spec.eq_ignore_ascii_case(&c.spec)) {
                return Err(format!("setting `channels[{i}]`: {} is listed twice", c.spec));
            }
            channels.push(c);
        }
        if self.cache_minutes > 1440 {
            return Err(format!("setting `cache_minutes`: must be 0-1440, got {}", self.cache_minutes));
        }
        if self.negative_cache_seconds > 3600 {
            return Err(format!(
                "setting `negative_cache_seconds`: must be 0-3600, got {}",
                self.negative_cache_seconds
            ));
        }
        let mut exempt = Vec::new();
        for (i, c) in self.exempt_commands.iter().enumerate() {
            let name = c.trim().trim_start_matches('/').to_ascii_lowercase();
            let ok = !name.is_empty()
                && name.len() <= 32
                && name.chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_');
            if !ok {
                return Err(format!("setting `exempt_commands[{i}]`: {c:?} is not a command name"));
            }
            exempt.push(name);
        }
        if let Some(m) = &self.message
            && (m.trim().is_empty() || m.chars().count() > 1000)
        {
            return Err("setting `message`: must be 1-1000 characters".into());
        }
        Ok(Gate {
            channels,
            require: self.require,
            cache_ms: i64::from(self.cache_minutes) * 60_000,
            negative_ms: i64::from(self.negative_cache_seconds) * 1000,
            fail: self.fail,
            exempt_commands: exempt,
            message: self.message.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(json: serde_json::Value) -> Result<Gate, String> {
        serde_json::from_value::<Settings>(json).map_err(|e| e.to_string())?.check()
    }

    #[test]
    fn defaults_and_both_kinds_of_channel() {
        let g = settings(serde_json::json!({"channels": ["@wharf_news", "-1001234567890"]})).unwrap();
        assert_eq!(g.channels[0].username.as_deref(), Some("wharf_news"));
        assert_eq!(g.channels[1].id, Some(-1_001_234_567_890));
        assert_eq!((g.require, g.fail), (Require::All, Fail::Open));
        assert_eq!((g.cache_ms, g.negative_ms), (600_000, 60_000));
        assert_eq!(g.exempt_commands, ["start", "help"]);
    }

    #[test]
    fn mistakes_name_the_key() {
        let bad = [
            (serde_json::json!({"channels": []}), "setting `channels`"),
            (serde_json::json!({"channels": ["news"]}), "setting `channels[0]`"),
            (serde_json::json!({"channels": ["@ab"]}), "setting `channels[0]`"),
            (serde_json::json!({"channels": ["123"]}), "setting `channels[0]`"),
            (serde_json::json!({"channels": ["@news_x", "@NEWS_X"]}), "listed twice"),
            (serde_json::json!({"channels": ["@news_x"], "cache_minutes": 5000}), "setting `cache_minutes`"),
            (serde_json::json!({"channels": ["@news_x"], "exempt_commands": ["bad cmd"]}), "exempt_commands[0]"),
            (serde_json::json!({"channels": ["@news_x"], "require": "most"}), "unknown variant"),
            (serde_json::json!({"channels": ["@news_x"], "fial": "open"}), "unknown field"),
        ];
        for (json, want) in bad {
            let e = settings(json.clone()).unwrap_err();
            assert!(e.contains(want), "{json}: {e}");
        }
        let g = settings(serde_json::json!({"channels": ["@news_x"], "exempt_commands": ["/Start"]})).unwrap();
        assert_eq!(g.exempt_commands, ["start"], "a slash and capitals are forgiven");
    }
}
