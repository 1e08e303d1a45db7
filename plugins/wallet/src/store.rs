//! The wallet's glue to the host: the KV-backed [`Store`], its settings, and posting
//! ledger entries with their business events.

use serde::Deserialize;
use wharf_sdk::kv;
use wharf_sdk::log::Event as BusinessEvent;
use wharf_sdk::money::Currency;

use crate::book::{Book, BookError, Category, Entry, Posting, Store};
use crate::topics;

/// The plugin's KV namespace as a [`Store`].
#[derive(Debug, Default, Clone, Copy)]
pub struct KvStore;

impl Store for KvStore {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        kv::get_bytes(key).map_err(|e| e.to_string())
    }

    fn set(&mut self, key: &str, value: Vec<u8>) -> Result<(), String> {
        kv::set_bytes(key, &value).map_err(|e| e.to_string())
    }

    fn list(&self, prefix: &str, after: Option<&str>, limit: u32) -> Result<Vec<String>, String> {
        kv::page(prefix, after, limit).map(|p| p.keys).map_err(|e| e.to_string())
    }
}

/// The ledger in this plugin's KV.
pub fn book() -> Book<KvStore> {
    Book::new(KvStore)
}

/// A deposit method shown to users: a manual one (`instructions`: the user pays, an admin
/// approves) or one another plugin serves (`plugin`: choosing it emits
/// `wallet.deposit_method` and that plugin answers). Exactly one of the two.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Method {
    /// Short id used in buttons (`blik`, `bank`, `btc`): 1-16 of `a-z0-9_`.
    pub id: String,
    /// Button label.
    pub name: String,
    /// What the user must do (account number, BLIK phone…), for a manual method.
    #[serde(default)]
    pub instructions: Option<String>,
    /// The plugin that serves this method (its name in `config.toml`, e.g. `crypto`).
    #[serde(default)]
    pub plugin: Option<String>,
}

impl Method {
    /// A manual method.
    pub fn manual(id: &str, name: &str, instructions: &str) -> Self {
        Self { id: id.into(), name: name.into(), instructions: Some(instructions.into()), plugin: None }
    }

    /// Why the method is not usable, if it is not.
    fn check(&self) -> Result<(), String> {
        let id_ok = (1..=16).contains(&self.id.len())
            && self.id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !id_ok || self.name.trim().is_empty() {
            return Err(format!("deposit method {:?}: id must be 1-16 of a-z 0-9 _, and name non-empty", self.id));
        }
        match (&self.instructions, &self.plugin) {
            (Some(i), None) if !i.trim().is_empty() => Ok(()),
            (None, Some(p))
                if (1..=32).contains(&p.len())
                    && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-') =>
            {
                Ok(())
            }
            (None, Some(p)) => {
                Err(format!("deposit method {:?}: plugin {p:?} is not a plugin name (1-32 of a-z 0-9 _ -)", self.id))
            }
            (Some(_), None) => Err(format!("deposit method {:?}: instructions must not be empty", self.id)),
            _ => Err(format!(
                "deposit method {:?} needs either instructions (a manual method) or plugin (a method another plugin serves), not both",
                self.id
            )),
        }
    }
}

/// `[plugins.wallet.settings]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Currency code, e.g. `PLN`.
    pub currency: String,
    /// Digits of the minor unit (2: amounts are in grosze).
    pub decimals: u8,
    /// Deposit methods: manual ones and ones other plugins serve.
    pub methods: Vec<Method>,
    /// Smallest deposit, in minor units.
    pub min_deposit: i64,
    /// Largest deposit, in minor units.
    pub max_deposit: i64,
    /// Entries shown by `/wallet`.
    pub entries_shown: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            currency: "PLN".into(),
            decimals: 2,
            methods: vec![
                Method::manual("blik", "BLIK", "Send the amount by BLIK to the shop's phone number."),
                Method::manual("bank", "Bank transfer", "Transfer the amount to the shop's account."),
            ],
            min_deposit: 100,
            max_deposit: 1_000_000,
            entries_shown: 5,
        }
    }
}

impl Settings {
    /// Read and check the settings.
    pub fn load() -> Result<Self, String> {
        let s: Self = wharf_sdk::settings::all().map_err(|e| e.to_string())?;
        s.check()?;
        Ok(s)
    }

    /// Whether the settings make sense.
    pub fn check(&self) -> Result<(), String> {
        if self.currency.trim().is_empty() || self.currency.len() > 8 {
            return Err("currency must be 1-8 characters".into());
        }
        if self.decimals > 6 {
            return Err("decimals must be 0-6".into());
        }
        if self.min_deposit < 1 || self.max_deposit < self.min_deposit || self.max_deposit > crate::book::MAX_AMOUNT {
            return Err("need 1 <= min_deposit <= max_deposit <= 10^15 (minor units)".into());
        }
        for (i, m) in self.methods.iter().enumerate() {
            m.check()?;
            if self.methods[..i].iter().any(|o| o.id == m.id) {
                return Err(format!("deposit method {:?} is listed twice", m.id));
            }
        }
        if !(1..=20).contains(&self.entries_shown) {
            return Err("entries_shown must be 1-20".into());
        }
        Ok(())
    }

    /// The currency.
    pub fn currency(&self) -> Currency {
        Currency::new(&self.currency, self.decimals)
    }
}

/// `text` cut to `max` characters (with `…`), for lists that must fit one message.
pub fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Host time (the host's clock, through WASI), Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Post an entry and, when it is new, record `wallet.credit` / `wallet.debit`; a new
/// `deposit` entry is also announced on `wallet.deposit` (see [`crate::topics`]).
pub fn post(p: &Posting<'_>) -> Result<(Entry, bool), BookError> {
    let (entry, new) = book().post_announced(p, now_ms(), |entry| {
        if entry.category != Category::Deposit {
            return Ok(());
        }
        topics::announce_deposit(entry, &Settings::load().map_err(BookError::Other)?)
    })?;
    if new {
        let (kind, title, emoji) = if entry.amount > 0 {
            ("wallet.credit", "Balance credited", "➕")
        } else {
            ("wallet.debit", "Balance debited", "➖")
        };
        let cur = Settings::load().unwrap_or_default().currency();
        let mut ev = BusinessEvent::new(kind)
            .title(title)
            .emoji(emoji)
            .user(entry.user)
            .field("amount", cur.format(entry.amount.abs()))
            .field("balance", cur.format(entry.balance_after))
            .field("reason", &entry.reason)
            .field("entry", entry.seq);
        if let Some(actor) = entry.actor {
            ev = ev.field("admin", actor);
        }
        ev.record().map_err(|e| BookError::Other(e.to_string()))?;
    }
    Ok((entry, new))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_cuts_by_characters() {
        assert_eq!(short("żółw", 4), "żółw");
        assert_eq!(short("żółwie", 4), "żół…");
    }

    #[test]
    fn default_settings_are_valid_and_bad_ones_say_why() {
        Settings::default().check().unwrap();
        let bad = Settings { entries_shown: 21, ..Settings::default() };
        assert_eq!(bad.check().unwrap_err(), "entries_shown must be 1-20");
    }

    #[test]
    fn a_method_has_instructions_or_a_plugin() {
        let parse = |toml: &str| -> Result<Settings, String> {
            let s: Settings = serde_json::from_str(toml).map_err(|e| e.to_string())?;
            s.check().map(|()| s)
        };
        let ok = parse(
            r#"{"methods":[{"id":"blik","name":"BLIK","instructions":"Pay."},{"id":"btc","name":"Bitcoin","plugin":"crypto"}]}"#,
        )
        .unwrap();
        assert_eq!(ok.methods[1].plugin.as_deref(), Some("crypto"));
        for (json, why) in [
            (r#"{"id":"x","name":"X"}"#, "needs either instructions"),
            (r#"{"id":"x","name":"X","instructions":"Pay.","plugin":"crypto"}"#, "not both"),
            (r#"{"id":"x","name":"X","plugin":"Crypto Plugin"}"#, "is not a plugin name"),
            (r#"{"id":"x","name":"X","instructions":" "}"#, "instructions must not be empty"),
            (r#"{"id":"x","name":"X","plugins":"crypto"}"#, "unknown field `plugins`"),
        ] {
            let err = parse(&format!(r#"{{"methods":[{json}]}}"#)).unwrap_err();
            assert!(err.contains(why), "{json}: {err}");
        }
        let twice = r#"{"methods":[{"id":"x","name":"X","plugin":"a"},{"id":"x","name":"Y","plugin":"b"}]}"#;
        assert_eq!(parse(twice).unwrap_err(), "deposit method \"x\" is listed twice");
    }
}
