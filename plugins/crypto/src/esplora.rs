//! A typed client of an Esplora-compatible REST API (blockstream.info, mempool.space,
//! litecoinspace.org, the project's explorer emulator) over the `http` capability.
//!
//! Every answer is checked before it is believed: txids and block hashes are 64 hex
//! characters, heights are numbers, amounts fit; anything else is [`ExplorerError::Garbage`].
//! Each client counts its requests against the run's budget and stops with
//! [`ExplorerError::Budget`] when it is used up or the run's time is over.

use std::time::{Duration, Instant};

use serde::Deserialize;
use wharf_sdk::http::{self, Request};

/// Longest wait for one answer.
pub const REQUEST_TIMEOUT_MS: u32 = 4_000;
/// Confirmed transactions per page of `/address/:a/txs/chain`.
pub const CHAIN_PAGE: usize = 25;

/// Why a request gave nothing usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExplorerError {
    /// The run's request or time budget is used up (not a failure of the explorer).
    #[error("the run's request budget is used up")]
    Budget,
    /// No answer in time.
    #[error("timed out")]
    Timeout,
    /// 429 Too Many Requests.
    #[error("rate limited (HTTP 429)")]
    RateLimited,
    /// Any other unexpected status.
    #[error("HTTP {0}")]
    Status(u16),
    /// An answer that is not what the API returns.
    #[error("unreadable answer: {0}")]
    Garbage(String),
    /// Connection or protocol failure, or the host refused the request.
    #[error("request failed: {0}")]
    Transport(String),
}

/// One output of a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// Its index in the transaction.
    pub vout: u32,
    /// The address it pays, if it is a standard script.
    pub address: Option<String>,
    /// Base units.
    pub value: u64,
}

/// Where a transaction is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// In the mempool.
    Mempool,
    /// In block `hash` at `height`.
    Block {
        /// Height.
        height: u64,
        /// Hash.
        hash: String,
    },
}

/// A transaction as the address listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tx {
    /// Its id.
    pub txid: String,
    /// Its outputs.
    pub outputs: Vec<Output>,
    /// Mempool or block.
    pub place: Place,
}

#[derive(Deserialize)]
struct RawStatus {
    confirmed: bool,
    block_height: Option<u64>,
    block_hash: Option<String>,
}

#[derive(Deserialize)]
struct RawOut {
    scriptpubkey_address: Option<String>,
    value: u64,
}

#[derive(Deserialize)]
struct RawTx {
    txid: String,
    vout: Vec<RawOut>,
    status: RawStatus,
}

#[derive(Deserialize)]
struct RawBlockStatus {
    in_best_chain: bool,
}

fn is_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn place(s: RawStatus) -> Result<Place, ExplorerError> {
    if !s.confirmed {
        return Ok(Place::Mempool);
    }
    match (s.block_height, s.block_hash) {
        (Some(height), Some(hash)) if is_hash(&hash) => Ok(Place::Block { height, hash: hash.to_ascii_lowercase() }),
        _ => Err(ExplorerError::Garbage("a confirmed status without a block height and hash".into())),
    }
}

fn tx(raw: RawTx) -> Result<Tx, ExplorerError> {
    if !is_hash(&raw.txid) {
        return Err(ExplorerError::Garbage("a txid that is not 64 hex characters".into()));
    }
    let outputs = raw
        .vout
        .into_iter()
        .enumerate()
        .map(|(i, o)| Output {
            vout: u32::try_from(i).unwrap_or(u32::MAX),
            address: o.scriptpubkey_address,
            value: o.value,
        })
        .collect();
    Ok(Tx { txid: raw.txid.to_ascii_lowercase(), outputs, place: place(raw.status)? })
}

/// A client for one explorer within one run.
#[derive(Debug)]
pub struct Explorer {
    base: String,
    budget: u32,
    used: u32,
    deadline: Instant,
}

impl Explorer {
    /// A client of `base` that may make `budget` requests until `run_time` has passed.
    pub fn new(base: &str, budget: u32, run_time: Duration) -> Self {
        Self { base: base.trim_end_matches('/').to_owned(), budget, used: 0, deadline: Instant::now() + run_time }
    }

    /// Requests made so far.
    pub fn used(&self) -> u32 {
        self.used
    }

    /// Whether another request may be made.
    pub fn has_budget(&self) -> bool {
        self.used < self.budget && Instant::now() < self.deadline
    }

    /// GET `path`: `Ok(None)` on 404, the body on 200.
    fn get(&mut self, path: &str) -> Result<Option<Vec<u8>>, ExplorerError> {
        if !self.has_budget() {
            return Err(ExplorerError::Budget);
        }
        self.used += 1;
        let left = self.deadline.saturating_duration_since(Instant::now()).as_millis();
        let timeout = u32::try_from(left).unwrap_or(u32::MAX).clamp(1, REQUEST_TIMEOUT_MS);
        let req = Request::get(format!("{}{path}", self.base)).header("accept", "application/json").timeout_ms(timeout);
        let resp = http::fetch(&req).map_err(|e| match e {
            wharf_sdk::Error::Other(m) if m.contains("timed out") => ExplorerError::Timeout,
            other => ExplorerError::Transport(other.to_string()),
        })?;
        match resp.status {
            200 => Ok(Some(resp.body)),
            404 => Ok(None),
            429 => Err(ExplorerError::RateLimited),
            s => Err(ExplorerError::Status(s)),
        }
    }

    fn json<T: serde::de::DeserializeOwned>(&mut self, path: &str) -> Result<Option<T>, ExplorerError> {
        let Some(body) = self.get(path)? else { return Ok(None) };
        serde_json::from_slice(&body).map(Some).map_err(|e| ExplorerError::Garbage(e.to_string()))
    }

    /// The best chain's height.
    pub fn tip_height(&mut self) -> Result<u64, ExplorerError> {
        let body = self.get("/blocks/tip/height")?.ok_or(ExplorerError::Status(404))?;
        let text = String::from_utf8_lossy(&body);
        text.trim().parse().map_err(|_| ExplorerError::Garbage("the tip height is not a number".into()))
    }

    /// The newest transactions of `address`: its mempool ones, then its confirmed ones
    /// newest first, following pages while `wants_more(confirmed page)` says so.
    pub fn address_txs(
        &mut self,
        address: &str,
        mut wants_more: impl FnMut(&[Tx]) -> bool,
    ) -> Result<Vec<Tx>, ExplorerError> {
        let first: Vec<RawTx> = self.json(&format!("/address/{address}/txs"))?.unwrap_or_default();
        let mut txs = first.into_iter().map(tx).collect::<Result<Vec<_>, _>>()?;
        loop {
            let confirmed: Vec<Tx> = txs.iter().filter(|t| t.place != Place::Mempool).cloned().collect();
            let last_page = &confirmed[confirmed.len().saturating_sub(CHAIN_PAGE)..];
            if last_page.len() < CHAIN_PAGE || !wants_more(last_page) || !self.has_budget() {
                return Ok(txs);
            }
            let last = &last_page[last_page.len() - 1].txid;
            let page: Vec<RawTx> = self.json(&format!("/address/{address}/txs/chain/{last}"))?.unwrap_or_default();
            let page = page.into_iter().map(tx).collect::<Result<Vec<_>, _>>()?;
            if page.is_empty() {
                return Ok(txs);
            }
            txs.extend(page);
        }
    }

    /// Where transaction `txid` is; `None` when the explorer does not know it (dropped,
    /// replaced, or reorged away and double-spent). Asks `/tx/:txid`: Esplora's
    /// `/tx/:txid/status` answers "unconfirmed" for a txid it does not know.
    pub fn tx_place(&mut self, txid: &str) -> Result<Option<Place>, ExplorerError> {
        let Some(raw) = self.json::<RawTx>(&format!("/tx/{txid}"))? else { return Ok(None) };
        Ok(Some(tx(raw)?.place))
    }

    /// Whether block `hash` is in the best chain (`false` for an unknown block).
    pub fn in_best_chain(&mut self, hash: &str) -> Result<bool, ExplorerError> {
        Ok(self.json::<RawBlockStatus>(&format!("/block/{hash}/status"))?.is_some_and(|s| s.in_best_chain))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listings_are_checked_before_they_are_believed() {
        let good = r#"{"txid":"AB00000000000000000000000000000000000000000000000000000000000001","vout":[
            {"scriptpubkey_address":"bc1qx","value":5},{"value":7}],
            "status":{"confirmed":true,"block_height":101,"block_hash":"00000000000000000000000000000000000000000000000000000000000000ff"}}"#;
        let t = tx(serde_json::from_str(good).unwrap()).unwrap();
        assert_eq!(t.txid, "ab00000000000000000000000000000000000000000000000000000000000001");
        assert_eq!(t.outputs[1], Output { vout: 1, address: None, value: 7 });
        assert!(matches!(t.place, Place::Block { height: 101, .. }));
        let bad_id = r#"{"txid":"xyz","vout":[],"status":{"confirmed":false}}"#;
        assert!(matches!(tx(serde_json::from_str(bad_id).unwrap()), Err(ExplorerError::Garbage(_))));
        let half = r#"{"txid":"ab00000000000000000000000000000000000000000000000000000000000001","vout":[],
            "status":{"confirmed":true}}"#;
        assert!(matches!(tx(serde_json::from_str(half).unwrap()), Err(ExplorerError::Garbage(_))));
    }
}
