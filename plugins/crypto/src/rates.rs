//! Exchange rates and the arithmetic of a credit, all in integers.
//!
//! Rules:
//! - a rate is stored as minor units of the wallet's currency per whole coin (10^8 base
//!   units): `400000.00` PLN per BTC is `40_000_000` grosze; a rate given with more
//!   digits than the currency has is cut (rounded down) to the minor unit;
//! - a payment of `sats` base units is worth `floor(sats × rate / 10^8)` minor units:
//!   the fraction of a minor unit is not credited;
//! - a payment keeps the rate recorded when it was first seen (with its source and
//!   time); a rate older than `max_age_seconds` is never used, so a failing rate source
//!   delays crediting instead of crediting at a stale or zero rate.

use serde::{Deserialize, Serialize};

use crate::keys::Coin;

/// Base units per coin.
pub const COIN: i128 = 100_000_000;

/// A rate and where and when it was taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rate {
    /// Minor units of the wallet's currency per whole coin.
    pub minor_per_coin: i64,
    /// `fixed` or the source's name (`coingecko`).
    pub source: String,
    /// When it was taken (Unix milliseconds, host clock).
    pub at_ms: i64,
}

impl Rate {
    /// Whether it may still be used at `now_ms`.
    pub fn fresh(&self, now_ms: i64, max_age_seconds: u64) -> bool {
        let age = now_ms.saturating_sub(self.at_ms);
        age >= 0 && age <= i64::try_from(max_age_seconds.saturating_mul(1000)).unwrap_or(i64::MAX)
    }
}

/// What a payment of `sats` is worth at `rate`, rounded down to the minor unit.
pub fn value(sats: u64, minor_per_coin: i64) -> i64 {
    let v = i128::from(sats) * i128::from(minor_per_coin.max(0)) / COIN;
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A decimal string (`"400000.00"`, `"0.5"`) in units with `decimals` digits, rounded
/// down; negative, empty, exponent or overflowing values are refused.
pub fn parse_decimal(text: &str, decimals: u8) -> Result<i64, String> {
    let t = text.trim();
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(frac) || whole.len() > 15 {
        return Err(format!("{:?} is not a positive decimal number like 400000.00", short(t)));
    }
    let mut v: i64 = whole.parse().map_err(|_| format!("{:?} is too large", short(t)))?;
    let mut frac = frac.bytes();
    for _ in 0..decimals {
        let d = frac.next().map_or(0, |b| i64::from(b - b'0'));
        v = v.checked_mul(10).and_then(|v| v.checked_add(d)).ok_or_else(|| format!("{:?} is too large", short(t)))?;
    }
    if v <= 0 {
        return Err(format!("{:?} must be more than 0", short(t)));
    }
    Ok(v)
}

fn short(t: &str) -> String {
    t.chars().take(24).collect()
}

/// A base-unit amount as coins: `100000` → `0.001 BTC`.
pub fn coins(sats: u64, coin: Coin) -> String {
    let whole = sats / 100_000_000;
    let frac = sats % 100_000_000;
    if frac == 0 {
        return format!("{whole} {coin}");
    }
    let frac = format!("{frac:08}");
    format!("{whole}.{} {coin}", frac.trim_end_matches('0'))
}

/// CoinGecko's id of a coin (`bitcoin`, `litecoin`).
pub fn coingecko_id(coin: Coin) -> &'static str {
    match coin {
        Coin::Btc => "bitcoin",
        Coin::Ltc => "litecoin",
    }
}

/// The path and query of CoinGecko's simple price request for `coins` in `currency`.
pub fn coingecko_path(coins: &[Coin], currency: &str) -> String {
    let ids: Vec<&str> = coins.iter().map(|c| coingecko_id(*c)).collect();
    format!("/simple/price?ids={}&vs_currencies={}", ids.join(","), currency.to_ascii_lowercase())
}

/// The rates in a CoinGecko simple price answer (`{"bitcoin":{"pln":400000.12}}`), in
/// minor units with `decimals` digits. A coin missing, zero or not a number is left out.
pub fn parse_coingecko(body: &[u8], coins: &[Coin], currency: &str, decimals: u8) -> Result<Vec<(Coin, i64)>, String> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("rate source answered garbage: {e}"))?;
    let cur = currency.to_ascii_lowercase();
    let mut out = Vec::new();
    for coin in coins {
        // The number's own text, so no float rounding enters the rate.
        let Some(n) = v.get(coingecko_id(*coin)).and_then(|c| c.get(&cur)).and_then(|n| n.as_number()) else {
            continue;
        };
        let text = n.to_string();
        if text.contains(['e', 'E']) {
            // An exponent: go through f64, rounded down to the minor unit.
            let f = n.as_f64().unwrap_or(0.0) * 10f64.powi(i32::from(decimals));
            if f.is_finite() && (1.0..9.0e15).contains(&f) {
                #[allow(clippy::cast_possible_truncation)]
                out.push((*coin, f.floor() as i64));
            }
            continue;
        }
        if let Ok(minor) = parse_decimal(&text, decimals) {
            out.push((*coin, minor));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credits_round_down_to_the_minor_unit() {
        // 0.001 BTC at 400000.00 PLN = 400 PLN exactly.
        assert_eq!(value(100_000, 40_000_000), 40_000);
        // 0.00012345 BTC at 400000.00 PLN = 49.38 PLN (49.38 exactly is 4938 grosze).
        assert_eq!(value(12_345, 40_000_000), 4_938);
        // 1 satoshi at 350.00 PLN/LTC is 0.0000035 PLN: nothing.
        assert_eq!(value(1, 35_000), 0);
        // 21M BTC at a silly rate does not overflow.
        assert_eq!(value(21_000_000 * 100_000_000, i64::MAX), i64::MAX);
    }

    #[test]
    fn decimals_are_parsed_exactly_and_cut_not_rounded() {
        assert_eq!(parse_decimal("400000.00", 2).unwrap(), 40_000_000);
        assert_eq!(parse_decimal("350", 2).unwrap(), 35_000);
        assert_eq!(parse_decimal("0.999", 2).unwrap(), 99);
        assert_eq!(parse_decimal("1.5", 0).unwrap(), 1);
        for bad in ["", "-1", "1e5", "abc", "0", "0.001", "1.2.3", "9999999999999999"] {
            assert!(parse_decimal(bad, 2).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn coin_amounts_show_without_useless_zeros() {
        assert_eq!(coins(100_000, Coin::Btc), "0.001 BTC");
        assert_eq!(coins(100_000_000, Coin::Ltc), "1 LTC");
        assert_eq!(coins(1, Coin::Btc), "0.00000001 BTC");
        assert_eq!(coins(150_000_000, Coin::Btc), "1.5 BTC");
    }

    #[test]
    fn coingecko_answers_become_minor_units() {
        let body = br#"{"bitcoin":{"pln":400000.129},"litecoin":{"pln":350},"dogecoin":{"pln":1}}"#;
        let got = parse_coingecko(body, &[Coin::Btc, Coin::Ltc], "PLN", 2).unwrap();
        assert_eq!(got, [(Coin::Btc, 40_000_012), (Coin::Ltc, 35_000)]);
        let missing = parse_coingecko(br#"{"bitcoin":{"usd":1}}"#, &[Coin::Btc], "PLN", 2).unwrap();
        assert!(missing.is_empty());
        assert!(parse_coingecko(b"<html>", &[Coin::Btc], "PLN", 2).is_err());
        let zero = parse_coingecko(br#"{"bitcoin":{"pln":0}}"#, &[Coin::Btc], "PLN", 2).unwrap();
        assert!(zero.is_empty(), "a zero rate is never used");
        assert_eq!(
            coingecko_path(&[Coin::Btc, Coin::Ltc], "PLN"),
            "/simple/price?ids=bitcoin,litecoin&vs_currencies=pln"
        );
    }

    #[test]
    fn rates_go_stale() {
        let r = Rate { minor_per_coin: 1, source: "coingecko".into(), at_ms: 1_000 };
        assert!(r.fresh(1_000 + 600_000, 600));
        assert!(!r.fresh(1_000 + 600_001, 600));
        assert!(!r.fresh(0, 600), "a rate from the future is not trusted");
    }
}
