//! Exchange rates as CoinGecko's `GET /api/v3/simple/price?ids=…&vs_currencies=…` gives
//! them (served under `/coingecko/api/v3`): `{"bitcoin":{"pln":400000.00}}`, numbers, only
//! the ids and currencies asked for that have a rate. A rate is kept as the decimal text
//! it was set with and written out as that very number, so nothing is lost to floats.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::Shared;

/// Rates by coin id, then by currency.
#[derive(Default)]
pub(super) struct Rates {
    by_coin: BTreeMap<String, BTreeMap<String, String>>,
}

/// Why a rate was refused.
#[derive(Debug, thiserror::Error)]
pub enum RateError {
    /// Ids are CoinGecko's (`bitcoin`, `litecoin`): lowercase letters, digits and `-`.
    #[error("coin id {0:?} is not a CoinGecko id (lowercase letters, digits, '-')")]
    Coin(String),
    /// Currencies are codes such as `pln`, `usd`, `eur`.
    #[error("currency {0:?} is not a currency code (2 to 10 letters)")]
    Currency(String),
    /// A rate is a non-negative decimal number.
    #[error("rate {0:?} is not a non-negative decimal number such as 400000.00")]
    Value(String),
}

impl Rates {
    /// Set `coin`'s rate in `currency` to `value` (decimal text).
    pub fn set(&mut self, coin: &str, currency: &str, value: &str) -> Result<(), RateError> {
        let coin = coin.trim().to_ascii_lowercase();
        if coin.is_empty() || !coin.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            return Err(RateError::Coin(coin));
        }
        let currency = currency.trim().to_ascii_lowercase();
        if !(2..=10).contains(&currency.len()) || !currency.bytes().all(|b| b.is_ascii_lowercase()) {
            return Err(RateError::Currency(currency));
        }
        let value = value.trim();
        let (int, frac) = value.split_once('.').unwrap_or((value, "0"));
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let canonical_int = int == "0" || !int.starts_with('0');
        if !digits(int) || !digits(frac) || !canonical_int {
            return Err(RateError::Value(value.to_owned()));
        }
        self.by_coin.entry(coin).or_default().insert(currency, value.to_owned());
        Ok(())
    }

    /// The answer's JSON for these ids and currencies.
    fn answer(&self, ids: &[String], currencies: &[String]) -> String {
        let mut out = String::from("{");
        for id in ids {
            let Some(rates) = self.by_coin.get(id) else { continue };
            let known: Vec<(&String, &String)> = currencies.iter().filter_map(|c| rates.get_key_value(c)).collect();
            if out.len() > 1 {
                out.push(',');
            }
            let _ = write!(out, "{}:{{", json_string(id));
            for (i, (currency, value)) in known.into_iter().enumerate() {
                let _ = write!(out, "{}{}:{value}", if i > 0 { "," } else { "" }, json_string(currency));
            }
            out.push('}');
        }
        out.push('}');
        out
    }
}

fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

/// The routes, for the explorer's router.
pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new().route("/coingecko/api/v3/simple/price", get(simple_price))
}

/// A comma-separated query parameter, trimmed, lowercase, without blanks and repeats.
fn list(pairs: &[(String, String)], key: &str) -> Option<Vec<String>> {
    let (_, value) = pairs.iter().find(|(k, _)| k == key)?;
    let mut out: Vec<String> = Vec::new();
    for item in value.split(',').map(|s| s.trim().to_ascii_lowercase()).filter(|s| !s.is_empty()) {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    Some(out)
}

async fn simple_price(State(s): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    let pairs: Vec<(String, String)> = reqwest::Url::parse(&format!("http://x/?{}", query.unwrap_or_default()))
        .map(|u| u.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
        .unwrap_or_default();
    let Some(currencies) = list(&pairs, "vs_currencies") else {
        let body = r#"{"error":"Missing parameter vs_currencies"}"#;
        return (StatusCode::BAD_REQUEST, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    };
    let ids = list(&pairs, "ids").unwrap_or_default();
    let body = s.rates().answer(&ids, &currencies);
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}
