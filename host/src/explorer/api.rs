//! The Esplora routes under `/api`, with Esplora's JSON field names, plain-text answers
//! and status codes (as Blockstream's electrs gives them): `400` with `Invalid hex
//! string` / `Invalid number` for a malformed txid, hash or height, `404` with
//! `Transaction not found` / `Block not found`, `404 endpoint does not exist` elsewhere.
//!
//! As the real API does, `/tx/:txid/status` answers `{"confirmed":false}` for a txid it
//! does not know (only `/tx/:txid` says 404), and `/block/:hash/status` answers
//! `{"in_best_chain":false}` for a stale block and for a hash it never saw.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::Shared;
use super::chain::{Block, Chain, Tx, hex, is_hash};

/// Confirmed transactions per page of an address's history.
const CHAIN_PAGE: usize = 25;
/// Mempool transactions listed for an address.
const MEMPOOL_MAX: usize = 50;

/// The routes, for the explorer's router.
pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/api/blocks/tip/height", get(tip_height))
        .route("/api/blocks/tip/hash", get(tip_hash))
        .route("/api/block-height/{height}", get(block_at))
        .route("/api/block/{hash}", get(block))
        .route("/api/block/{hash}/status", get(block_status))
        .route("/api/block/{hash}/txids", get(block_txids))
        .route("/api/tx/{txid}", get(tx))
        .route("/api/tx/{txid}/status", get(tx_status))
        .route("/api/address/{address}", get(address))
        .route("/api/address/{address}/txs", get(address_txs))
        .route("/api/address/{address}/txs/chain", get(address_chain))
        .route("/api/address/{address}/txs/chain/{last_seen}", get(address_chain_after))
        .route("/api/address/{address}/txs/mempool", get(address_mempool))
        .route("/api/{*rest}", any(no_endpoint))
}

fn text(status: StatusCode, body: impl Into<String>) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain")], body.into()).into_response()
}

fn ok_text(body: impl Into<String>) -> Response {
    text(StatusCode::OK, body)
}

fn not_found(what: &str) -> Response {
    text(StatusCode::NOT_FOUND, what)
}

fn invalid_hex() -> Response {
    text(StatusCode::BAD_REQUEST, "Invalid hex string")
}

fn ok_json(v: Value) -> Response {
    axum::Json(v).into_response()
}

async fn tip_height(State(s): State<Arc<Shared>>) -> Response {
    ok_text(s.chain().tip().to_string())
}

async fn tip_hash(State(s): State<Arc<Shared>>) -> Response {
    ok_text(s.chain().tip_hash())
}

async fn block_at(State(s): State<Arc<Shared>>, Path(height): Path<String>) -> Response {
    let Ok(height) = height.parse::<usize>() else { return text(StatusCode::BAD_REQUEST, "Invalid number") };
    match s.chain().best.get(height) {
        Some(hash) => ok_text(hash.clone()),
        None => not_found("Block not found"),
    }
}

async fn block(State(s): State<Arc<Shared>>, Path(hash): Path<String>) -> Response {
    if !is_hash(&hash) {
        return invalid_hex();
    }
    let chain = s.chain();
    match chain.blocks.get(&hash.to_ascii_lowercase()) {
        Some(b) => ok_json(block_json(&chain, b)),
        None => not_found("Block not found"),
    }
}

async fn block_status(State(s): State<Arc<Shared>>, Path(hash): Path<String>) -> Response {
    if !is_hash(&hash) {
        return invalid_hex();
    }
    let chain = s.chain();
    let block = chain.blocks.get(&hash.to_ascii_lowercase()).filter(|b| b.in_best_chain);
    let Some(b) = block else { return ok_json(json!({ "in_best_chain": false })) };
    let mut status = json!({ "in_best_chain": true, "height": b.height });
    let next = usize::try_from(b.height + 1).ok().and_then(|h| chain.best.get(h));
    if let Some(next) = next {
        status["next_best"] = json!(next);
    }
    ok_json(status)
}

async fn block_txids(State(s): State<Arc<Shared>>, Path(hash): Path<String>) -> Response {
    if !is_hash(&hash) {
        return invalid_hex();
    }
    let chain = s.chain();
    match chain.blocks.get(&hash.to_ascii_lowercase()) {
        Some(b) => ok_json(json!(b.txids)),
        None => not_found("Block not found"),
    }
}

async fn tx(State(s): State<Arc<Shared>>, Path(txid): Path<String>) -> Response {
    if !is_hash(&txid) {
        return invalid_hex();
    }
    let chain = s.chain();
    match chain.txs.get(&txid.to_ascii_lowercase()) {
        Some(t) => ok_json(tx_json(&chain, t)),
        None => not_found("Transaction not found"),
    }
}

async fn tx_status(State(s): State<Arc<Shared>>, Path(txid): Path<String>) -> Response {
    if !is_hash(&txid) {
        return invalid_hex();
    }
    let chain = s.chain();
    let status =
        chain.txs.get(&txid.to_ascii_lowercase()).map_or(json!({ "confirmed": false }), |t| status_json(&chain, t));
    ok_json(status)
}

async fn address(State(s): State<Arc<Shared>>, Path(address): Path<String>) -> Response {
    let chain = s.chain();
    let stats = |txs: &[&Tx]| {
        let funded = txs.iter().flat_map(|t| &t.outputs).filter(|o| o.address == address);
        let (funded_count, funded_sum) = funded.fold((0u64, 0u64), |(n, s), o| (n + 1, s.saturating_add(o.value)));
        let spent: Vec<&&Tx> = txs.iter().filter(|t| t.prev.2 == address).collect();
        json!({
            "funded_txo_count": funded_count,
            "funded_txo_sum": funded_sum,
            "spent_txo_count": spent.len(),
            "spent_txo_sum": spent.iter().fold(0u64, |s, t| s.saturating_add(t.input_value())),
            "tx_count": txs.len(),
        })
    };
    let confirmed = chain.address_chain(&address, None, usize::MAX);
    let mempool = chain.address_mempool(&address, usize::MAX);
    ok_json(json!({ "address": address, "chain_stats": stats(&confirmed), "mempool_stats": stats(&mempool) }))
}

async fn address_txs(State(s): State<Arc<Shared>>, Path(address): Path<String>) -> Response {
    let chain = s.chain();
    let mempool = chain.address_mempool(&address, MEMPOOL_MAX);
    let confirmed = chain.address_chain(&address, None, CHAIN_PAGE);
    ok_json(Value::Array(mempool.into_iter().chain(confirmed).map(|t| tx_json(&chain, t)).collect()))
}

async fn address_chain(State(s): State<Arc<Shared>>, Path(address): Path<String>) -> Response {
    chain_page(&s, &address, None)
}

async fn address_chain_after(State(s): State<Arc<Shared>>, Path((address, seen)): Path<(String, String)>) -> Response {
    // As electrs: a last-seen txid that is not one reads as none (the first page).
    let seen = is_hash(&seen).then(|| seen.to_ascii_lowercase());
    chain_page(&s, &address, seen.as_deref())
}

fn chain_page(s: &Shared, address: &str, seen: Option<&str>) -> Response {
    let chain = s.chain();
    let txs = chain.address_chain(address, seen, CHAIN_PAGE);
    ok_json(Value::Array(txs.into_iter().map(|t| tx_json(&chain, t)).collect()))
}

async fn address_mempool(State(s): State<Arc<Shared>>, Path(address): Path<String>) -> Response {
    let chain = s.chain();
    let txs = chain.address_mempool(&address, MEMPOOL_MAX);
    ok_json(Value::Array(txs.into_iter().map(|t| tx_json(&chain, t)).collect()))
}

async fn no_endpoint(uri: Uri) -> Response {
    let path = uri.path().strip_prefix("/api").unwrap_or(uri.path());
    not_found(&format!("endpoint does not exist {path:?}"))
}

fn sha(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    hex(&h.finalize())
}

/// A P2WPKH output to `address` (its key hash made up from the address).
fn output_json(address: &str, value: u64) -> Value {
    let key_hash = &sha(&["p2wpkh", address])[..40];
    json!({
        "scriptpubkey": format!("0014{key_hash}"),
        "scriptpubkey_asm": format!("OP_0 OP_PUSHBYTES_20 {key_hash}"),
        "scriptpubkey_type": "v0_p2wpkh",
        "scriptpubkey_address": address,
        "value": value,
    })
}

fn status_json(chain: &Chain, tx: &Tx) -> Value {
    match &tx.place {
        None => json!({ "confirmed": false }),
        Some(p) => json!({
            "confirmed": true,
            "block_height": p.height,
            "block_hash": p.hash,
            "block_time": chain.blocks.get(&p.hash).map_or(0, |b| b.time),
        }),
    }
}

/// A transaction as `/tx/:txid` gives it.
pub(super) fn tx_json(chain: &Chain, tx: &Tx) -> Value {
    let (stripped, weight) = Tx::stripped_size_and_weight(tx.outputs.len());
    let (prev_txid, prev_vout, prev_address) = &tx.prev;
    let signature = format!("30440220{}0220{}01", sha(&["r", &tx.txid]), sha(&["s", &tx.txid]));
    let pubkey = format!("02{}", sha(&["key", prev_address]));
    json!({
        "txid": tx.txid,
        "version": 2,
        "locktime": tx.locktime,
        "vin": [{
            "txid": prev_txid,
            "vout": prev_vout,
            "prevout": output_json(prev_address, tx.input_value()),
            "scriptsig": "",
            "scriptsig_asm": "",
            "witness": [signature, pubkey],
            "is_coinbase": false,
            "sequence": 4_294_967_293u32,
        }],
        "vout": tx.outputs.iter().map(|o| output_json(&o.address, o.value)).collect::<Vec<_>>(),
        "size": stripped + 110,
        "weight": weight,
        "fee": tx.fee,
        "status": status_json(chain, tx),
    })
}

/// A block as `/block/:hash` gives it (with a coinbase it does not list).
fn block_json(chain: &Chain, b: &Block) -> Value {
    const COINBASE: u64 = 200;
    let txs = b.txids.iter().filter_map(|id| chain.txs.get(id));
    let (size, weight) = txs.fold((81 + COINBASE, 4 * (81 + COINBASE)), |(size, weight), t| {
        let (stripped, w) = Tx::stripped_size_and_weight(t.outputs.len());
        (size + stripped + 110, weight + w)
    });
    let nonce = u32::from_str_radix(&b.hash[56..], 16).unwrap_or(0);
    json!({
        "id": b.hash,
        "height": b.height,
        "version": 536_870_912,
        "timestamp": b.time,
        "tx_count": b.txids.len() + 1,
        "size": size,
        "weight": weight,
        "merkle_root": b.merkle_root,
        "previousblockhash": b.prev,
        "mediantime": chain.median_time(&b.hash),
        "nonce": nonce,
        "bits": 545_259_519,
        "difficulty": 1.0,
    })
}
