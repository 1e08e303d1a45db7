//! The control routes (`/control/…`, JSON in and out) through which `wharf chat`, the
//! CLI and scripts drive the chain: pay, mine, reorg, replace, drop, faults, rates,
//! stats. Bad input is answered `400 {"error": "…"}` saying what is wrong.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::Shared;
use super::chain::is_hash;
use super::faults::Fault;

/// The most sats one output may carry (Litecoin's supply, so any coin fits).
const MAX_VALUE: u64 = 84_000_000 * 100_000_000;
/// The most blocks one `mine` may make.
const MAX_BLOCKS: u32 = 10_000;
/// The longest delay a fault may ask for.
const MAX_DELAY_MS: u64 = 600_000;

/// The routes, for the explorer's router.
pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/control/pay", post(pay))
        .route("/control/mine", post(mine))
        .route("/control/reorg", post(reorg))
        .route("/control/replace", post(replace))
        .route("/control/drop", post(drop_tx))
        .route("/control/fault", post(add_fault).delete(clear_faults))
        .route("/control/rate", post(rate))
        .route("/control/stats", get(stats))
}

/// A refusal: 400 with the reason.
struct Bad(String);

impl IntoResponse for Bad {
    fn into_response(self) -> Response {
        (StatusCode::BAD_REQUEST, axum::Json(json!({ "error": self.0 }))).into_response()
    }
}

type Answer = Result<axum::Json<Value>, Bad>;

/// The body as JSON of type `T` (whatever the content type says).
fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, Bad> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}" } else { bytes };
    serde_json::from_slice(bytes).map_err(|e| Bad(format!("invalid JSON body: {e}")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OutputReq {
    address: String,
    value: u64,
}

/// The outputs, checked: at least one; an address is 1 to 128 characters a URL path
/// segment carries as it is; a value is 1 sat up to [`MAX_VALUE`].
fn outputs(list: &[OutputReq]) -> Result<Vec<(&str, u64)>, Bad> {
    if list.is_empty() {
        return Err(Bad("outputs: give at least one {\"address\", \"value\"}".into()));
    }
    list.iter()
        .enumerate()
        .map(|(i, o)| {
            let a = o.address.as_str();
            let plain = a.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
            if a.is_empty() || a.len() > 128 || !plain {
                return Err(Bad(format!("outputs[{i}].address {a:?}: 1 to 128 letters, digits or '-', '_', '.', ':'")));
            }
            if !(1..=MAX_VALUE).contains(&o.value) {
                return Err(Bad(format!("outputs[{i}].value {}: from 1 to {MAX_VALUE} sats", o.value)));
            }
            Ok((a, o.value))
        })
        .collect()
}

fn txid(t: &str) -> Result<String, Bad> {
    if is_hash(t) { Ok(t.to_ascii_lowercase()) } else { Err(Bad(format!("txid {t:?}: 64 hex digits"))) }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PayReq {
    outputs: Vec<OutputReq>,
}

async fn pay(State(s): State<Arc<Shared>>, bytes: Bytes) -> Answer {
    let req: PayReq = body(&bytes)?;
    let outputs = outputs(&req.outputs)?;
    Ok(axum::Json(json!({ "txid": s.chain().pay(&outputs) })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MineReq {
    #[serde(default = "one")]
    blocks: u32,
}

fn one() -> u32 {
    1
}

async fn mine(State(s): State<Arc<Shared>>, bytes: Bytes) -> Answer {
    let req: MineReq = body(&bytes)?;
    if !(1..=MAX_BLOCKS).contains(&req.blocks) {
        return Err(Bad(format!("blocks {}: from 1 to {MAX_BLOCKS}", req.blocks)));
    }
    let mut chain = s.chain();
    let hashes = chain.mine(req.blocks);
    Ok(axum::Json(json!({ "hashes": hashes, "tip": chain.tip() })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReorgReq {
    depth: u32,
    #[serde(default)]
    drop: bool,
}

async fn reorg(State(s): State<Arc<Shared>>, bytes: Bytes) -> Answer {
    let req: ReorgReq = body(&bytes)?;
    let mut chain = s.chain();
    if req.depth == 0 || u64::from(req.depth) > chain.tip() {
        return Err(Bad(format!("depth {}: from 1 to the tip height {} (the genesis stays)", req.depth, chain.tip())));
    }
    let hashes = chain.reorg(req.depth, req.drop);
    Ok(axum::Json(json!({ "hashes": hashes, "tip": chain.tip() })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplaceReq {
    txid: String,
    outputs: Vec<OutputReq>,
}

async fn replace(State(s): State<Arc<Shared>>, bytes: Bytes) -> Answer {
    let req: ReplaceReq = body(&bytes)?;
    let old = txid(&req.txid)?;
    let outputs = outputs(&req.outputs)?;
    let new = s.chain().replace(&old, &outputs).map_err(|e| Bad(e.to_string()))?;
    Ok(axum::Json(json!({ "txid": new })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DropReq {
    txid: String,
}

async fn drop_tx(State(s): State<Arc<Shared>>, bytes: Bytes) -> Answer {
    let req: DropReq = body(&bytes)?;
    let id = txid(&req.txid)?;
    Ok(axum::Json(json!({ "dropped": s.chain().drop_tx(&id) })))
}

async fn add_fault(State(s): State<Arc<Shared>>, bytes: Bytes) -> Answer {
    let fault: Fault = body(&bytes)?;
    if let Some(code) = fault.status
        && !(100..=599).contains(&code)
    {
        return Err(Bad(format!("status {code}: an HTTP status from 100 to 599")));
    }
    if fault.delay_ms > MAX_DELAY_MS {
        return Err(Bad(format!("delay_ms {}: at most {MAX_DELAY_MS}", fault.delay_ms)));
    }
    if fault.times == Some(0) {
        return Err(Bad("times 0: at least 1, or leave it out for until cleared".into()));
    }
    if fault.status.is_none() && fault.delay_ms == 0 && !fault.malformed {
        return Err(Bad("a fault needs status, delay_ms or malformed".into()));
    }
    s.traffic().faults.push(fault);
    Ok(axum::Json(json!({ "ok": true })))
}

async fn clear_faults(State(s): State<Arc<Shared>>) -> axum::Json<Value> {
    s.traffic().faults.clear();
    axum::Json(json!({ "ok": true }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RateReq {
    coin: String,
    currency: String,
    value: RateValue,
}

/// A rate given as text (`"400000.00"`, exact) or as a JSON number.
#[derive(Deserialize)]
#[serde(untagged)]
enum RateValue {
    Text(String),
    Number(serde_json::Number),
}

async fn rate(State(s): State<Arc<Shared>>, bytes: Bytes) -> Answer {
    let req: RateReq = body(&bytes)?;
    let value = match req.value {
        RateValue::Text(t) => t,
        RateValue::Number(n) => n.to_string(),
    };
    s.rates().set(&req.coin, &req.currency, &value).map_err(|e| Bad(e.to_string()))?;
    Ok(axum::Json(json!({ "ok": true })))
}

async fn stats(State(s): State<Arc<Shared>>) -> axum::Json<Value> {
    let (tip, tip_hash, mempool) = {
        let chain = s.chain();
        (chain.tip(), chain.tip_hash().to_owned(), chain.mempool_len())
    };
    let (requests, faults) = {
        let t = s.traffic();
        (t.total, t.faults.len())
    };
    axum::Json(json!({ "tip": tip, "tip_hash": tip_hash, "mempool": mempool, "requests": requests, "faults": faults }))
}
