//! The plugin's records and where they live in its KV namespace.
//!
//! | key | value | written |
//! |---|---|---|
//! | `u:{user}` | [`Profile`]: code, name, achievements, name choice | on /referral, binding, unlocks |
//! | `code:{code}` | the user id | once, with the code |
//! | `n:code` | how many codes were given (a counter for the next one) | with each code |
//! | `at:{username}` | the user id (lower-case username; for `/referrals @name`) | with the profile |
//! | `by:{referee}` | [`Binding`]: the referrer, when | once: bindings never change |
//! | `refs:{referrer}:{referee}` | when they were bound | with the binding |
//! | `sum:{referrer}` | [`Summary`]: referees, earnings, commissions | with each binding and commission |
//! | `pair:{referrer}:{referee}` | [`Pair`]: what that referee brought | with each commission |
//! | `com:{referrer}:{referee}:{deposit key}` | [`Commission`] | once per deposit, with its ledger entry |
//! | `top:{rank}:{referrer}` | nothing: the leaderboard's order | with each commission |
//! | `ok:{referrer}` | when their own deposits reached `min_referrer_deposit` | once |
//!
//! A commission's record, the referrer's summary and the ledger entry (written through
//! the wallet in the same turn) commit together or not at all, so the totals are the sums
//! of the records; `/referrals USER` adds the records up again and shows any difference.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What the plugin keeps about a user.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// Their referral code, once they asked for it.
    #[serde(default)]
    pub code: Option<String>,
    /// First name, as Telegram last showed it.
    #[serde(default)]
    pub name: String,
    /// Username without `@`, if any.
    #[serde(default)]
    pub username: Option<String>,
    /// Achievements unlocked: id → when (Unix ms).
    #[serde(default)]
    pub achievements: BTreeMap<String, i64>,
    /// Their choice about `/top`: `Some(true)` show my name, `Some(false)` mask it,
    /// `None` the bot's default (`show_usernames`).
    #[serde(default)]
    pub show_name: Option<bool>,
}

/// A referee's referrer. Never changes once written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    /// Who invited them.
    pub referrer: i64,
    /// When they started the bot with the link (Unix ms).
    pub at_ms: i64,
}

/// A referrer's totals, kept in the same commits as the records they add up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Users bound to them.
    pub referees: u64,
    /// Commissions earned, minor units.
    pub earned: i64,
    /// How many commissions.
    pub commissions: u64,
}

/// What one referee brought their referrer (for `cap_per_referee`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pair {
    /// Commissions from this referee's deposits, minor units.
    pub earned: i64,
    /// How many of their deposits paid one.
    pub deposits: u64,
}

/// One commission: a referee's deposit and what it paid the referrer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commission {
    /// The deposit's amount, minor units.
    pub deposit: i64,
    /// The deposit's entry in the referee's ledger.
    pub deposit_seq: u64,
    /// What the referrer got, minor units.
    pub amount: i64,
    /// The rate applied, basis points.
    pub rate_bp: u32,
    /// The ledger key of the referrer's bonus entry.
    pub ledger_key: String,
    /// The bonus entry in the referrer's ledger.
    pub bonus_seq: u64,
    /// When (Unix ms).
    pub at_ms: i64,
}

/// `u:{user}`.
pub fn profile_key(user: i64) -> String {
    format!("u:{user}")
}

/// `code:{code}`.
pub fn code_key(code: &str) -> String {
    format!("code:{code}")
}

/// The counter of codes given.
pub const CODE_COUNTER: &str = "n:code";

/// `at:{username}`, lower case.
pub fn username_key(username: &str) -> String {
    format!("at:{}", username.to_lowercase())
}

/// `by:{referee}`.
pub fn binding_key(referee: i64) -> String {
    format!("by:{referee}")
}

/// `refs:{referrer}:` (all of a referrer's referees).
pub fn referees_prefix(referrer: i64) -> String {
    format!("refs:{referrer}:")
}

/// `refs:{referrer}:{referee}`.
pub fn referee_key(referrer: i64, referee: i64) -> String {
    format!("refs:{referrer}:{referee}")
}

/// `sum:{referrer}`.
pub fn summary_key(referrer: i64) -> String {
    format!("sum:{referrer}")
}

/// `pair:{referrer}:{referee}`.
pub fn pair_key(referrer: i64, referee: i64) -> String {
    format!("pair:{referrer}:{referee}")
}

/// `com:{referrer}:` (all of a referrer's commissions).
pub fn commissions_prefix(referrer: i64) -> String {
    format!("com:{referrer}:")
}

/// `com:{referrer}:{referee}:{deposit key}`.
pub fn commission_key(referrer: i64, referee: i64, deposit_key: &str) -> String {
    format!("com:{referrer}:{referee}:{deposit_key}")
}

/// The leaderboard's prefix.
pub const TOP_PREFIX: &str = "top:";

/// `top:{rank}:{referrer}`: keys sort by earnings, highest first (then by user id).
pub fn top_key(earned: i64, referrer: i64) -> String {
    format!("{TOP_PREFIX}{:019}:{referrer}", i64::MAX - earned.max(0))
}

/// The referrer in a leaderboard key.
pub fn top_user(key: &str) -> Option<i64> {
    key.rsplit(':').next()?.parse().ok()
}

/// `ok:{referrer}`.
pub fn qualified_key(referrer: i64) -> String {
    format!("ok:{referrer}")
}

/// The id of a user id or `@username` typed by an admin, if it is one of those shapes.
pub enum UserRef {
    /// A numeric id.
    Id(i64),
    /// A username, without `@`.
    Name(String),
}

impl UserRef {
    /// `7`, `@bob` (or `bob`, when it is not a number).
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim();
        if let Ok(id) = t.parse::<i64>() {
            return Some(Self::Id(id));
        }
        let name = t.strip_prefix('@').unwrap_or(t);
        let ok = (3..=32).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        ok.then(|| Self::Name(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaderboard_keys_sort_by_earnings_highest_first() {
        let mut keys = [top_key(300, 5), top_key(12_000, 6), top_key(300, 4), top_key(0, 9)];
        keys.sort();
        let order: Vec<i64> = keys.iter().map(|k| top_user(k).unwrap()).collect();
        assert_eq!(order, [6, 4, 5, 9]);
    }

    #[test]
    fn admins_name_users_by_id_or_username() {
        assert!(matches!(UserRef::parse("42"), Some(UserRef::Id(42))));
        assert!(matches!(UserRef::parse("@Bob_1"), Some(UserRef::Name(n)) if n == "Bob_1"));
        assert!(UserRef::parse("@x").is_none());
        assert!(UserRef::parse("not a name").is_none());
    }
}
