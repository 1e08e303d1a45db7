//! `[plugins.crypto.settings]`: the chains watched, the rate source, how often and how
//! much the watcher polls. Checked in `describe()`, so a mistake stops the plugin from
//! loading and names the key; an account key is never echoed, only what is wrong with it.

use serde::Deserialize;

use crate::keys::{AccountKey, Coin};
use crate::rates::parse_decimal;

/// One watched chain.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainSettings {
    /// `BTC` or `LTC`.
    pub coin: String,
    /// The account-level extended public key (m/84'/coin'/account').
    pub xpub: String,
    /// An Esplora-compatible REST API base URL, e.g. `https://blockstream.info/api`.
    pub explorer: String,
    /// Confirmations before a payment is credited (1-100).
    #[serde(default = "two")]
    pub confirmations: u32,
    /// Smallest payment credited, in base units (satoshi / litoshi); smaller ones are
    /// recorded, reported to admins and not credited.
    #[serde(default = "min_amount")]
    pub min_amount: u64,
}

// The key must not reach logs through a derived Debug.
impl std::fmt::Debug for ChainSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainSettings")
            .field("coin", &self.coin)
            .field("xpub", &"•••")
            .field("explorer", &self.explorer)
            .field("confirmations", &self.confirmations)
            .field("min_amount", &self.min_amount)
            .finish()
    }
}

fn two() -> u32 {
    2
}

fn min_amount() -> u64 {
    10_000
}

/// Where exchange rates come from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateSettings {
    /// `fixed` (the table below) or `coingecko` (CoinGecko's simple price endpoint).
    #[serde(default = "fixed")]
    pub source: String,
    /// Wallet currency per coin for `fixed`, as decimal strings: `{ BTC = "400000.00" }`.
    #[serde(default)]
    pub fixed: std::collections::BTreeMap<String, String>,
    /// Base URL of a CoinGecko-compatible API (default `https://api.coingecko.com/api/v3`).
    #[serde(default = "coingecko")]
    pub url: String,
    /// A fetched rate older than this is not used: crediting waits for a fresh one.
    #[serde(default = "max_age")]
    pub max_age_seconds: u64,
}

impl Default for RateSettings {
    fn default() -> Self {
        Self { source: fixed(), fixed: Default::default(), url: coingecko(), max_age_seconds: max_age() }
    }
}

fn fixed() -> String {
    "fixed".into()
}

fn coingecko() -> String {
    "https://api.coingecko.com/api/v3".into()
}

fn max_age() -> u64 {
    600
}

/// The settings table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Seconds between watcher runs (10-3600).
    #[serde(default = "poll")]
    pub poll_seconds: u64,
    /// Chains watched.
    #[serde(default)]
    pub chains: Vec<ChainSettings>,
    /// Exchange rates.
    #[serde(default)]
    pub rates: RateSettings,
    /// An address shown to its user is watched closely this long (1-720 hours).
    #[serde(default = "watch_hours")]
    pub watch_hours: u64,
    /// Explorer requests one run may make per chain (5-1000); more work waits for the
    /// next run, which comes at once when a run used its budget.
    #[serde(default = "requests_per_run")]
    pub requests_per_run: u32,
    /// Old addresses (no longer watched closely) checked per run and chain, so a payment
    /// to any address ever handed out is found eventually (0-100).
    #[serde(default = "sweep_per_run")]
    pub sweep_per_run: u32,
    /// An explorer failing this long is reported to the admins (1-1440 minutes).
    #[serde(default = "alert_after")]
    pub alert_after_minutes: u64,
}

fn poll() -> u64 {
    30
}
fn watch_hours() -> u64 {
    24
}
fn requests_per_run() -> u32 {
    40
}
fn sweep_per_run() -> u32 {
    5
}
fn alert_after() -> u64 {
    10
}

/// A chain ready to watch.
#[derive(Debug, Clone)]
pub struct Chain {
    /// The coin.
    pub coin: Coin,
    /// Its account key.
    pub key: AccountKey,
    /// Esplora base URL without a trailing slash.
    pub explorer: String,
    /// Confirmations needed.
    pub confirmations: u32,
    /// Smallest credited payment, base units.
    pub min_amount: u64,
}

impl Settings {
    /// Read and check the settings.
    pub fn load() -> Result<(Self, Vec<Chain>), String> {
        let s: Self = wharf_sdk::settings::all().map_err(|e| e.to_string())?;
        let chains = s.check()?;
        Ok((s, chains))
    }

    /// Whether the settings make sense; the chains they describe.
    pub fn check(&self) -> Result<Vec<Chain>, String> {
        let range = |key: &str, v: u64, lo: u64, hi: u64| {
            if (lo..=hi).contains(&v) { Ok(()) } else { Err(format!("setting `{key}`: must be {lo}-{hi}, got {v}")) }
        };
        range("poll_seconds", self.poll_seconds, 10, 3600)?;
        range("watch_hours", self.watch_hours, 1, 720)?;
        range("requests_per_run", u64::from(self.requests_per_run), 5, 1000)?;
        range("sweep_per_run", u64::from(self.sweep_per_run), 0, 100)?;
        range("alert_after_minutes", self.alert_after_minutes, 1, 1440)?;
        range("rates.max_age_seconds", self.rates.max_age_seconds, 10, 86_400)?;
        let mut chains: Vec<Chain> = Vec::new();
        for (i, c) in self.chains.iter().enumerate() {
            let at = |key: &str| format!("setting `chains[{i}].{key}`");
            let coin = Coin::parse(&c.coin).map_err(|e| format!("{}: {e}", at("coin")))?;
            if chains.iter().any(|other| other.coin == coin) {
                return Err(format!("{}: {coin} is listed twice", at("coin")));
            }
            let key = AccountKey::parse(coin, &c.xpub).map_err(|e| format!("{}: {e}", at("xpub")))?;
            let explorer = c.explorer.trim_end_matches('/').to_owned();
            if !(explorer.starts_with("https://") || explorer.starts_with("http://")) {
                return Err(format!("{}: must be an http:// or https:// URL", at("explorer")));
            }
            if key.is_public_test_key() && !is_loopback(&explorer) {
                return Err(format!(
                    "{}: this is the account key of BIP84's published test mnemonic; anyone can spend what is paid \
                     to its addresses. Put your own account's public key here (it is only accepted with a local test explorer)",
                    at("xpub")
                ));
            }
            range(&format!("chains[{i}].confirmations"), u64::from(c.confirmations), 1, 100)?;
            if c.min_amount == 0 || c.min_amount > 21_000_000 * 100_000_000 {
                return Err(format!("{}: must be 1 or more base units (satoshi / litoshi)", at("min_amount")));
            }
            chains.push(Chain { coin, key, explorer, confirmations: c.confirmations, min_amount: c.min_amount });
        }
        match self.rates.source.as_str() {
            "fixed" => {
                for c in &chains {
                    let Some(v) = self.rates.fixed.get(c.coin.code()) else {
                        return Err(format!(
                            "setting `rates.fixed`: no rate for {} (e.g. {} = \"400000.00\")",
                            c.coin, c.coin
                        ));
                    };
                    // The precision is checked against the wallet's currency when used.
                    parse_decimal(v, 6).map_err(|e| format!("setting `rates.fixed.{}`: {e}", c.coin))?;
                }
                if let Some(k) = self.rates.fixed.keys().find(|k| Coin::parse(k).is_err()) {
                    return Err(format!("setting `rates.fixed.{k}`: not a coin (BTC or LTC)"));
                }
            }
            "coingecko" => {
                if !(self.rates.url.starts_with("https://") || self.rates.url.starts_with("http://")) {
                    return Err("setting `rates.url`: must be an http:// or https:// URL".into());
                }
            }
            other => return Err(format!("setting `rates.source`: {other:?} is not \"fixed\" or \"coingecko\"")),
        }
        Ok(chains)
    }

    /// The chain of `coin`, if watched.
    pub fn chain(chains: &[Chain], coin: Coin) -> Option<&Chain> {
        chains.iter().find(|c| c.coin == coin)
    }
}

/// Whether a URL points at this machine (a local test explorer).
fn is_loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', ':']).next().unwrap_or_default();
    matches!(host, "127.0.0.1" | "localhost") || rest.starts_with("[::1]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_urls_are_recognised() {
        assert!(is_loopback("http://127.0.0.1:3002/api"));
        assert!(is_loopback("http://localhost/api"));
        assert!(is_loopback("http://[::1]:80/api"));
        assert!(!is_loopback("https://blockstream.info/api"));
        assert!(!is_loopback("https://127.0.0.1.evil.example/api"));
    }
}
