//! What the analytics store, under which keys, and how names are bounded. Nothing here
//! holds message text: counters, command names, start payloads and usage names only,
//! each checked against a short charset and length (anything else is counted as
//! [`OTHER`]), and every map capped in size.
//!
//! | key | value |
//! |---|---|
//! | `d:DATE:USER` | [`Counts`] from the user's updates that UTC day (its presence: the user was active) |
//! | `e:DATE:USER` | [`Counts`] from business events that day: deposits, purchases, usage |
//! | `n:DATE:USER` | `1`: the user was first seen that day (the cohort index) |
//! | `u:USER` | [`UserRecord`]: first and last day seen, campaign source, funnel steps |
//! | `r:DATE` | [`Rollup`] of a day, cached once the day can no longer change |
//! | `cur` | [`CurrencyInfo`] from the wallet's deposits, to show amounts |
//! | `prune:cursor` | where the pruning of old user records goes on |
//!
//! `DATE` is `YYYY-MM-DD` (UTC), so keys of one kind list oldest day first.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;
/// The name counted when a name is not acceptable or a map is full.
pub const OTHER: &str = "(other)";
/// The start source of a `/start` without a payload.
pub const NONE: &str = "(none)";
/// Distinct names one user's day may hold per map (commands, sources, usage).
pub const MAX_NAMES: usize = 24;
/// Distinct names a day's rollup keeps per map (the biggest; the rest go to [`OTHER`]).
pub const MAX_ROLLUP_NAMES: usize = 50;

/// The UTC day (days since 1970-01-01) of a time in Unix milliseconds.
pub fn day_of(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS)
}

/// `YYYY-MM-DD` of a day.
pub fn date(day: i64) -> String {
    wharf_sdk::time::date(day.saturating_mul(DAY_MS))
}

/// Key of a user's update counts for a day.
pub fn day_key(day: i64, user: i64) -> String {
    format!("d:{}:{user}", date(day))
}

/// Prefix of every user's update counts for a day.
pub fn day_prefix(day: i64) -> String {
    format!("d:{}:", date(day))
}

/// Key of a user's business-event counts for a day.
pub fn event_key(day: i64, user: i64) -> String {
    format!("e:{}:{user}", date(day))
}

/// Prefix of every user's business-event counts for a day.
pub fn event_prefix(day: i64) -> String {
    format!("e:{}:", date(day))
}

/// Key marking `user` as first seen on `day`.
pub fn new_key(day: i64, user: i64) -> String {
    format!("n:{}:{user}", date(day))
}

/// Prefix of the users first seen on `day`.
pub fn new_prefix(day: i64) -> String {
    format!("n:{}:", date(day))
}

/// Key of a user's record.
pub fn user_key(user: i64) -> String {
    format!("u:{user}")
}

/// Key of a day's cached rollup.
pub fn rollup_key(day: i64) -> String {
    format!("r:{}", date(day))
}

/// Key of the currency seen on deposits.
pub const CURRENCY_KEY: &str = "cur";

/// The user id at the end of a `PREFIX:…:USER` key.
pub fn user_of(key: &str) -> Option<i64> {
    key.rsplit(':').next()?.parse().ok()
}

/// The date in a `P:DATE:…` or `r:DATE` key.
pub fn date_of(key: &str) -> Option<&str> {
    key.split(':').nth(1)
}

/// Counters of one user and day (or, summed, of a day).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Messages (commands included).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub m: u64,
    /// Button presses.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub b: u64,
    /// Commands by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub c: BTreeMap<String, u64>,
    /// `/start` by payload (campaign source).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub s: BTreeMap<String, u64>,
    /// Deposits credited.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dep: u64,
    /// Their sum, minor units.
    #[serde(default, skip_serializing_if = "is_zero_i")]
    pub dep_amt: i64,
    /// Purchases paid.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub pur: u64,
    /// Their sum, minor units.
    #[serde(default, skip_serializing_if = "is_zero_i")]
    pub pur_amt: i64,
    /// Usage reported by plugins, by `PLUGIN/NAME`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub u: BTreeMap<String, u64>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn is_zero_i(n: &i64) -> bool {
    *n == 0
}

/// Add `n` to `map[name]`; a new name beyond `max` names is counted as [`OTHER`].
pub fn bump(map: &mut BTreeMap<String, u64>, name: &str, n: u64, max: usize) {
    let name = if map.contains_key(name) || map.len() < max.saturating_sub(1) { name } else { OTHER };
    let slot = map.entry(name.to_owned()).or_default();
    *slot = slot.saturating_add(n);
}

impl Counts {
    /// Add `other` to these counts (maps capped at `max` names).
    pub fn add(&mut self, other: &Counts, max: usize) {
        self.m = self.m.saturating_add(other.m);
        self.b = self.b.saturating_add(other.b);
        self.dep = self.dep.saturating_add(other.dep);
        self.dep_amt = self.dep_amt.saturating_add(other.dep_amt);
        self.pur = self.pur.saturating_add(other.pur);
        self.pur_amt = self.pur_amt.saturating_add(other.pur_amt);
        for (mine, theirs) in [(&mut self.c, &other.c), (&mut self.s, &other.s), (&mut self.u, &other.u)] {
            for (k, v) in theirs {
                bump(mine, k, *v, usize::MAX);
            }
            cap(mine, max);
        }
    }

    /// Commands in all.
    pub fn commands(&self) -> u64 {
        self.c.values().sum()
    }

    /// `/start` commands in all.
    pub fn starts(&self) -> u64 {
        self.s.values().sum()
    }
}

/// Keep the `max - 1` biggest entries of `map` and fold the rest into [`OTHER`].
pub fn cap(map: &mut BTreeMap<String, u64>, max: usize) {
    if map.len() <= max {
        return;
    }
    let mut entries: Vec<(String, u64)> = std::mem::take(map).into_iter().collect();
    entries.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let keep = max.saturating_sub(1);
    let rest: u64 = entries[keep..].iter().map(|(_, v)| *v).sum();
    map.extend(entries.into_iter().take(keep).filter(|(k, _)| k != OTHER));
    let other = map.entry(OTHER.to_owned()).or_default();
    *other = other.saturating_add(rest);
}

/// What is kept about a user: days and funnel steps, never content.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    /// The day first seen (the retention cohort).
    pub first: i64,
    /// The last day seen.
    pub last: i64,
    /// The payload of the user's first `/start` ([`NONE`] without one): the campaign.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src: Option<String>,
    /// Funnel: first `/start`, Unix ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<i64>,
    /// Funnel: first `/wallet`, Unix ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wallet: Option<i64>,
    /// Funnel: first deposit, Unix ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deposit: Option<i64>,
    /// Funnel: first purchase, Unix ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchase: Option<i64>,
}

impl UserRecord {
    /// How far through the funnel /start → /wallet → deposit → purchase the user went,
    /// each step counted only after the ones before it (0-4).
    pub fn funnel_depth(&self) -> usize {
        let steps = [self.start, self.wallet, self.deposit, self.purchase];
        let mut at = i64::MIN;
        for (i, step) in steps.iter().enumerate() {
            match step {
                Some(t) if *t >= at => at = *t,
                _ => return i,
            }
        }
        steps.len()
    }
}

/// A day summed over its users, cached under `r:DATE` once the day is complete.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rollup {
    /// Users active that day (sent an update).
    pub active: u64,
    /// Users first seen that day.
    pub new: u64,
    /// Their counts, summed (updates and business events).
    pub counts: Counts,
}

/// The wallet's currency, as its deposit events say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrencyInfo {
    /// e.g. `PLN`.
    pub code: String,
    /// Digits of the minor unit.
    pub decimals: u8,
}

/// A command name as counted: 1-32 characters of `a-z 0-9 _` (Telegram's own rule),
/// else [`OTHER`].
pub fn command_name(name: &str) -> &str {
    let ok = !name.is_empty()
        && name.len() <= 32
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok { name } else { OTHER }
}

/// The campaign of a `/start` from its arguments: the deep-link payload (1-64
/// characters of `A-Z a-z 0-9 _ -`, as Telegram allows), [`NONE`] without one, else
/// [`OTHER`] (never free text).
pub fn start_source(args: &str) -> &str {
    let payload = args.trim();
    if payload.is_empty() {
        return NONE;
    }
    let ok = payload.len() <= 64 && payload.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok { payload } else { OTHER }
}

/// The usage counter `PLUGIN/NAME`, if both parts are acceptable.
pub fn usage_name(source: &str, name: &str) -> Option<String> {
    let plugin_ok = !source.is_empty()
        && source.len() <= 32
        && source.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    (plugin_ok && wharf_sdk::usage::valid_name(name)).then(|| format!("{source}/{name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_list_by_day_and_name_the_user() {
        let day = day_of(1_700_000_000_000);
        assert_eq!(day_key(day, 42), "d:2023-11-14:42");
        assert_eq!(user_of(&day_key(day, 42)), Some(42));
        assert_eq!(date_of("r:2023-11-14"), Some("2023-11-14"));
        assert!(day_key(day, 1) < day_key(day + 1, 0), "an earlier day lists first");
        assert_eq!(day_of(-1), -1, "before 1970 is still a day");
    }

    #[test]
    fn names_are_bounded_and_never_free_text() {
        assert_eq!(command_name("shop"), "shop");
        assert_eq!(command_name("my_password_is_hunter2_and_more_text"), OTHER);
        assert_eq!(command_name("Ünïcode"), OTHER);
        assert_eq!(start_source(""), NONE);
        assert_eq!(start_source("ref_ABC-1"), "ref_ABC-1");
        assert_eq!(start_source("hello there"), OTHER, "a space is not a payload");
        assert_eq!(start_source(&"x".repeat(65)), OTHER);
        assert_eq!(usage_name("gpt", "tokens").as_deref(), Some("gpt/tokens"));
        assert_eq!(usage_name("gpt", "Tokens!"), None);
    }

    #[test]
    fn maps_are_capped() {
        let mut m = BTreeMap::new();
        for i in 0..10 {
            bump(&mut m, &format!("c{i}"), 1, 4);
        }
        assert_eq!(m.len(), 4);
        assert_eq!(m[OTHER], 7, "names beyond the cap are other");
        let mut big: BTreeMap<String, u64> = (0..10).map(|i| (format!("k{i}"), i)).collect();
        cap(&mut big, 3);
        assert_eq!(big.len(), 3);
        assert_eq!((big["k9"], big["k8"], big[OTHER]), (9, 8, 28));
    }

    #[test]
    fn the_funnel_counts_steps_in_order() {
        let mut r = UserRecord { start: Some(10), ..UserRecord::default() };
        assert_eq!(r.funnel_depth(), 1);
        r.deposit = Some(30);
        assert_eq!(r.funnel_depth(), 1, "a deposit without /wallet is not the third step");
        r.wallet = Some(20);
        assert_eq!(r.funnel_depth(), 3);
        r.purchase = Some(25);
        assert_eq!(r.funnel_depth(), 3, "a purchase before the deposit is not the fourth step");
        r.purchase = Some(40);
        assert_eq!(r.funnel_depth(), 4);
        assert_eq!(UserRecord { wallet: Some(1), ..UserRecord::default() }.funnel_depth(), 0);
    }
}
