//! Validated names used in `config.toml`: plugin names and capability grants.
//! Invalid values fail at parse time, so the error points at their line and column.

use std::fmt;

use serde::{Deserialize, Deserializer, de::Error as _};

/// A plugin's name: the key of its `[plugins.NAME]` table and its KV namespace.
/// 1-32 characters of `a-z`, `0-9`, `_`, `-`, starting with a letter.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PluginName(String);

impl PluginName {
    /// Validate `s` as a plugin name.
    pub fn parse(s: &str) -> Result<Self, String> {
        let ok_chars = s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        let starts = s.chars().next().is_some_and(|c| c.is_ascii_lowercase());
        if s.is_empty() || s.len() > 32 || !ok_chars || !starts {
            return Err(format!(
                "invalid plugin name {s:?}: use 1-32 characters of a-z, 0-9, '_' or '-', starting with a letter"
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The name as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PluginName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for PluginName {
    fn deserialize<D>(d: D) -> Result<Self, D::Error>
    where
        D: Deserializer<'de>,
    {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(D::Error::custom)
    }
}

/// A capability granted to a plugin in its `grants` list.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Grant {
    /// `kv`: its own key-value namespace.
    Kv,
    /// `telegram`: every Telegram call.
    Telegram,
    /// `telegram.send`: send, edit, delete, answer callbacks.
    TelegramSend,
    /// `telegram.members`: look up chat members.
    TelegramMembers,
    /// `telegram.files`: download files users sent (documents).
    TelegramFiles,
    /// `telegram.buttons`: also see other plugins' button presses, in chain order, and
    /// be able to stop them (a subscription gate). Not part of `telegram`.
    TelegramButtons,
    /// `events`: emit custom events.
    Events,
    /// `scheduler`: timers and repeating jobs.
    Scheduler,
    /// `call:NAME`: call the interfaces plugin NAME exports.
    Call(PluginName),
}

impl Grant {
    const KNOWN: &'static str = "kv, telegram, telegram.send, telegram.members, telegram.files, telegram.buttons, events, scheduler, call:PLUGIN \
         (outbound HTTP is granted with `http = [\"host\"]`)";

    /// Parse one entry of `grants`.
    pub fn parse(s: &str) -> Result<Self, String> {
        Ok(match s {
            "kv" => Self::Kv,
            "telegram" => Self::Telegram,
            "telegram.send" => Self::TelegramSend,
            "telegram.members" => Self::TelegramMembers,
            "telegram.files" => Self::TelegramFiles,
            "telegram.buttons" => Self::TelegramButtons,
            "events" => Self::Events,
            "scheduler" => Self::Scheduler,
            other => match other.strip_prefix("call:") {
                Some(name) => Self::Call(PluginName::parse(name)?),
                None => return Err(format!("unknown grant {other:?}; known grants: {}", Self::KNOWN)),
            },
        })
    }
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Kv => f.write_str("kv"),
            Self::Telegram => f.write_str("telegram"),
            Self::TelegramSend => f.write_str("telegram.send"),
            Self::TelegramMembers => f.write_str("telegram.members"),
            Self::TelegramFiles => f.write_str("telegram.files"),
            Self::TelegramButtons => f.write_str("telegram.buttons"),
            Self::Events => f.write_str("events"),
            Self::Scheduler => f.write_str("scheduler"),
            Self::Call(p) => write!(f, "call:{p}"),
        }
    }
}

impl<'de> Deserialize<'de> for Grant {
    fn deserialize<D>(d: D) -> Result<Self, D::Error>
    where
        D: Deserializer<'de>,
    {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(D::Error::custom)
    }
}

/// A host name a plugin may reach over HTTP (`api.example.com`, or `127.0.0.1:8080`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HttpHost(String);

impl HttpHost {
    /// Validate a host (optionally with a port), lower-cased.
    pub fn parse(s: &str) -> Result<Self, String> {
        let ok = !s.is_empty()
            && s.len() <= 253
            && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
        if !ok || s.contains("://") || s.contains('/') {
            return Err(format!(
                "invalid HTTP host {s:?}: give a bare host like \"api.example.com\" or \"127.0.0.1:8080\""
            ));
        }
        Ok(Self(s.to_ascii_lowercase()))
    }

    /// Whether a request to `host` with `port` (the URL's effective port) is covered:
    /// a grant with a port covers that port only, one without covers 80 and 443.
    pub fn allows(&self, host: &str, port: u16) -> bool {
        let host = host.to_ascii_lowercase();
        (self.0 == host && matches!(port, 80 | 443)) || self.0 == format!("{host}:{port}")
    }

    /// The host as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for HttpHost {
    fn deserialize<D>(d: D) -> Result<Self, D::Error>
    where
        D: Deserializer<'de>,
    {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_grants() {
        assert!(PluginName::parse("shop-2").is_ok());
        assert!(PluginName::parse("Shop").is_err());
        assert!(PluginName::parse("").is_err());
        assert_eq!(Grant::parse("call:wallet").unwrap(), Grant::Call(PluginName::parse("wallet").unwrap()));
        assert!(Grant::parse("kvv").unwrap_err().contains("known grants"));
        assert_eq!(Grant::parse("telegram.files").unwrap().to_string(), "telegram.files");
        assert!(HttpHost::parse("https://x.com").is_err());
        assert!(HttpHost::parse("127.0.0.1:8080").unwrap().allows("127.0.0.1", 8080));
        assert!(!HttpHost::parse("127.0.0.1:8080").unwrap().allows("127.0.0.1", 8081));
        let bare = HttpHost::parse("api.example.com").unwrap();
        assert!(bare.allows("api.example.com", 443) && bare.allows("API.example.com", 80));
        assert!(!bare.allows("api.example.com", 8080) && !bare.allows("api.example.com", 22));
        assert!(!HttpHost::parse("a.com").unwrap().allows("b.com", 443));
    }
}
