//! The rate to use now: the fixed table, or the cached CoinGecko rate, fetched again
//! when older than the poll interval. A rate older than `rates.max_age_seconds` is never
//! handed out: `None` then, and crediting waits.

use wharf_sdk::http::{self, Request};
use wharf_sdk::kv;
use wharf_sdk::money::Currency;

use crate::keys::Coin;
use crate::rates::{self, Rate};
use crate::settings::{Chain, Settings};

fn rate_key(coin: Coin) -> String {
    format!("rate:{coin}")
}

/// The rate of `coin` at `now_ms` without any request (the fixed table, or a cached
/// rate that is still fresh).
pub fn cached(s: &Settings, coin: Coin, cur: &Currency, now_ms: i64) -> Option<Rate> {
    if s.rates.source == "fixed" {
        let minor = rates::parse_decimal(s.rates.fixed.get(coin.code())?, cur.decimals).ok()?;
        return Some(Rate { minor_per_coin: minor, source: "fixed".into(), at_ms: now_ms });
    }
    kv::get::<Rate>(&rate_key(coin)).ok().flatten().filter(|r| r.fresh(now_ms, s.rates.max_age_seconds))
}

/// Fetch the rates of every chain from the rate source when the cached ones are older
/// than `refresh_ms` (one request for all coins). A failure keeps the cached rates and
/// is returned for the caller to log.
pub fn refresh(s: &Settings, chains: &[Chain], cur: &Currency, now_ms: i64, refresh_ms: i64) -> Result<(), String> {
    if s.rates.source == "fixed" || chains.is_empty() {
        return Ok(());
    }
    let stale = chains.iter().any(|c| {
        kv::get::<Rate>(&rate_key(c.coin)).ok().flatten().is_none_or(|r| now_ms.saturating_sub(r.at_ms) >= refresh_ms)
    });
    if !stale {
        return Ok(());
    }
    let coins: Vec<Coin> = chains.iter().map(|c| c.coin).collect();
    let url = format!("{}{}", s.rates.url.trim_end_matches('/'), rates::coingecko_path(&coins, &cur.code));
    let resp = http::fetch(&Request::get(url).header("accept", "application/json").timeout_ms(4_000))
        .map_err(|e| format!("rate source: {e}"))?;
    if resp.status != 200 {
        return Err(format!("rate source: HTTP {}", resp.status));
    }
    let got = rates::parse_coingecko(&resp.body, &coins, &cur.code, cur.decimals)?;
    for (coin, minor) in &got {
        let rate = Rate { minor_per_coin: *minor, source: "coingecko".into(), at_ms: now_ms };
        kv::set(&rate_key(*coin), &rate).map_err(|e| e.to_string())?;
    }
    if got.len() < coins.len() {
        return Err(format!("rate source: no {} rate for some coins", cur.code));
    }
    Ok(())
}
