//! The explorer emulator over real HTTP: the Esplora routes as the crypto plugin reads
//! them (mempool, confirmations, reorgs, replacements, paging), rates, each kind of
//! fault, request counting, the control API and `wharf explorer`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wharf::explorer::{Explorer, Fault};

const ALICE: &str = "bc1qalice0000000000000000000000000000000";
const BOB: &str = "bc1qbob00000000000000000000000000000000000";

/// An explorer and a client for it.
struct Ex {
    ex: Explorer,
    http: reqwest::Client,
}

async fn explorer() -> Ex {
    let ex = Explorer::start(([127, 0, 0, 1], 0).into()).await.unwrap();
    Ex { ex, http: reqwest::Client::new() }
}

impl Ex {
    /// `GET {base}{path}`: status and body.
    async fn get_from(&self, base: &str, path: &str) -> (u16, String) {
        let r = self.http.get(format!("{base}{path}")).send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// `GET /api{path}`: status and body.
    async fn get(&self, path: &str) -> (u16, String) {
        self.get_from(&self.ex.url(), path).await
    }

    /// `GET /api{path}` answered 200 with JSON.
    async fn json(&self, path: &str) -> Value {
        let (status, body) = self.get(path).await;
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
    }

    /// `GET /api{path}` answered 200 with text.
    async fn text(&self, path: &str) -> String {
        let (status, body) = self.get(path).await;
        assert_eq!(status, 200, "{path}: {body}");
        body
    }

    /// A control request: status and JSON answer.
    async fn control(&self, method: &str, route: &str, body: &str) -> (u16, Value) {
        let url = format!("http://{}/control/{route}", self.ex.addr());
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let r = self
            .http
            .request(method, url)
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("{route}: {e}: {text}")))
    }

    async fn tip(&self) -> u64 {
        self.text("/blocks/tip/height").await.parse().unwrap()
    }
}

fn txids(list: &Value) -> Vec<String> {
    list.as_array().unwrap().iter().map(|t| t["txid"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn a_payment_waits_unconfirmed_in_the_mempool() {
    let e = explorer().await;
    assert_eq!(e.tip().await, 100, "a genesis and 100 blocks");
    let txid = e.ex.pay(&[(ALICE, 150_000)]);
    assert_eq!(txid.len(), 64);
    assert!(txid.bytes().all(|b| b.is_ascii_hexdigit()));

    let listed = e.json(&format!("/address/{ALICE}/txs")).await;
    assert_eq!(txids(&listed), [txid.as_str()]);
    let tx = &listed[0];
    assert_eq!(tx["status"], json!({ "confirmed": false }));
    assert_eq!(tx["vout"][0]["scriptpubkey_address"], ALICE);
    assert_eq!(tx["vout"][0]["value"], 150_000);
    assert_eq!(tx["vout"][0]["scriptpubkey_type"], "v0_p2wpkh");
    let vout = tx["vout"].as_array().unwrap();
    assert_eq!(vout.len(), 2, "and change: {vout:?}");
    assert_ne!(vout[1]["scriptpubkey_address"], ALICE);
    assert!(vout[1]["scriptpubkey_address"].as_str().unwrap().starts_with("bc1q"), "change looks like the coin's");
    let input = tx["vin"][0]["prevout"]["value"].as_u64().unwrap();
    let paid: u64 = vout.iter().map(|o| o["value"].as_u64().unwrap()).sum();
    assert_eq!(input - paid, tx["fee"].as_u64().unwrap(), "the input pays the outputs and the fee");
    for field in ["version", "locktime", "size", "weight"] {
        assert!(tx[field].is_u64(), "{field}: {tx}");
    }

    assert_eq!(txids(&e.json(&format!("/address/{ALICE}/txs/mempool")).await), [txid.as_str()]);
    assert_eq!(e.json(&format!("/address/{ALICE}/txs/chain")).await, json!([]));
    assert_eq!(e.json(&format!("/tx/{txid}")).await, *tx);
    assert_eq!(e.json(&format!("/tx/{txid}/status")).await, json!({ "confirmed": false }));
    assert_eq!(e.json(&format!("/address/{BOB}/txs")).await, json!([]), "others are not paid");
    let stats = e.json(&format!("/address/{ALICE}")).await;
    assert_eq!(stats["mempool_stats"]["funded_txo_sum"], 150_000);
    assert_eq!(stats["chain_stats"]["tx_count"], 0);
}

#[tokio::test]
async fn mining_confirms_with_height_hash_and_counting_confirmations() {
    let e = explorer().await;
    let txid = e.ex.pay(&[(ALICE, 70_000)]);
    let first = e.ex.mine(1);
    assert_eq!(first.len(), 1);
    assert_eq!(e.ex.tip_height(), 101);
    assert_eq!(e.text("/blocks/tip/hash").await, first[0]);
    assert_eq!(e.text("/block-height/101").await, first[0]);
    assert_eq!(e.get("/block-height/102").await, (404, "Block not found".into()));

    let status = e.json(&format!("/tx/{txid}/status")).await;
    assert_eq!(status["confirmed"], true);
    assert_eq!(status["block_height"], 101);
    assert_eq!(status["block_hash"], first[0].as_str());
    assert!(status["block_time"].as_u64().unwrap() > 1_600_000_000);
    let listed = e.json(&format!("/address/{ALICE}/txs")).await;
    assert_eq!(txids(&listed), [txid.as_str()]);
    assert_eq!(listed[0]["status"], status);
    assert_eq!(e.json(&format!("/address/{ALICE}/txs/mempool")).await, json!([]));

    let more = e.ex.mine(5);
    assert_eq!(more.len(), 5);
    let tip = e.tip().await;
    let height = e.json(&format!("/tx/{txid}")).await["status"]["block_height"].as_u64().unwrap();
    assert_eq!(tip - height + 1, 6, "confirmations: its block and the 5 after it");

    let block = e.json(&format!("/block/{}/status", first[0])).await;
    assert_eq!(block, json!({ "in_best_chain": true, "height": 101, "next_best": more[0] }));
    let at_tip = e.json(&format!("/block/{}/status", more[4])).await;
    assert_eq!(at_tip, json!({ "in_best_chain": true, "height": 106 }), "the tip has no next");
    let b = e.json(&format!("/block/{}", first[0])).await;
    assert_eq!(
        (b["id"].as_str(), b["height"].as_u64(), b["tx_count"].as_u64()),
        (Some(first[0].as_str()), Some(101), Some(2))
    );
    assert_eq!(b["previousblockhash"], e.text("/block-height/100").await.as_str());
    assert_eq!(e.json(&format!("/block/{}/txids", first[0])).await, json!([txid]));
}

#[tokio::test]
async fn a_reorg_puts_transactions_back_and_leaves_stale_blocks() {
    let e = explorer().await;
    let txid = e.ex.pay(&[(ALICE, 10_000)]);
    let old = [e.ex.mine(1), e.ex.mine(1)].concat();
    let new = e.ex.reorg(2);
    assert_eq!(new.len(), 2);
    assert!(new.iter().all(|h| !old.contains(h)), "new blocks");
    assert_eq!(e.tip().await, 102, "as long as before");
    assert_eq!(e.text("/block-height/101").await, new[0]);

    assert_eq!(e.json(&format!("/tx/{txid}/status")).await, json!({ "confirmed": false }));
    assert_eq!(txids(&e.json(&format!("/address/{ALICE}/txs/mempool")).await), [txid.as_str()]);
    assert_eq!(e.json(&format!("/address/{ALICE}/txs/chain")).await, json!([]), "not mined again");
    for stale in &old {
        assert_eq!(e.json(&format!("/block/{stale}/status")).await, json!({ "in_best_chain": false }));
        assert_eq!(e.json(&format!("/block/{stale}")).await["id"], stale.as_str(), "still known");
    }
    assert_eq!(e.json(&format!("/block/{}/status", new[0])).await["in_best_chain"], true);

    let again = e.ex.mine(1);
    let status = e.json(&format!("/tx/{txid}/status")).await;
    assert_eq!((status["block_height"].as_u64(), status["block_hash"].as_str()), (Some(103), Some(again[0].as_str())));
    assert_eq!(e.ex.reorg(1000).len(), 103, "a reorg never replaces the genesis");
}

#[tokio::test]
async fn a_dropping_reorg_makes_the_transaction_vanish() {
    let e = explorer().await;
    let kept = e.ex.pay(&[(BOB, 5_000)]);
    e.ex.mine(1);
    let gone = e.ex.pay(&[(ALICE, 20_000)]);
    e.ex.mine(2);
    e.ex.reorg_dropping(2);
    assert_eq!(e.get(&format!("/tx/{gone}")).await, (404, "Transaction not found".into()));
    assert_eq!(e.json(&format!("/tx/{gone}/status")).await, json!({ "confirmed": false }), "as Esplora answers");
    assert_eq!(e.json(&format!("/address/{ALICE}/txs")).await, json!([]));
    assert_eq!(e.json(&format!("/tx/{kept}/status")).await["block_height"], 101, "the block below stays");
    e.ex.mine(3);
    assert_eq!(e.get(&format!("/tx/{gone}")).await.0, 404, "never seen again");
}

#[tokio::test]
async fn replace_and_drop_take_mempool_transactions_away() {
    let e = explorer().await;
    let old = e.ex.pay(&[(ALICE, 50_000)]);
    let before = e.json(&format!("/tx/{old}")).await;
    let new = e.ex.replace(&old, &[(ALICE, 45_000), (BOB, 4_000)]).unwrap();
    assert_ne!(new, old);
    assert_eq!(e.get(&format!("/tx/{old}")).await, (404, "Transaction not found".into()));
    let after = e.json(&format!("/tx/{new}")).await;
    assert_eq!(after["vin"][0]["txid"], before["vin"][0]["txid"], "spends the same input");
    assert_eq!(after["vout"][1]["value"], 4_000);
    assert!(after["fee"].as_u64() > before["fee"].as_u64(), "a replacement pays more");
    assert_eq!(txids(&e.json(&format!("/address/{ALICE}/txs")).await), [new.as_str()]);

    assert!(e.ex.replace(&old, &[(ALICE, 1)]).is_err(), "the replaced one is gone");
    e.ex.mine(1);
    let err = e.ex.replace(&new, &[(ALICE, 1)]).unwrap_err();
    assert!(err.to_string().contains("not in the mempool"), "{err}");

    let doomed = e.ex.pay(&[(BOB, 9_000)]);
    assert!(e.ex.drop_tx(&doomed));
    assert!(!e.ex.drop_tx(&doomed), "already gone");
    assert!(!e.ex.drop_tx(&new), "confirmed ones are not evicted");
    assert_eq!(e.get(&format!("/tx/{doomed}")).await.0, 404);
    assert_eq!(e.json(&format!("/address/{BOB}/txs/mempool")).await, json!([]));
}

#[tokio::test]
async fn two_outputs_to_one_address_are_one_transaction_with_two_vouts() {
    let e = explorer().await;
    let txid = e.ex.pay(&[(ALICE, 1_000), (BOB, 5), (ALICE, 2_000)]);
    let listed = e.json(&format!("/address/{ALICE}/txs")).await;
    assert_eq!(txids(&listed), [txid]);
    let to_alice: Vec<(usize, u64)> = listed[0]["vout"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .filter(|(_, o)| o["scriptpubkey_address"] == ALICE)
        .map(|(i, o)| (i, o["value"].as_u64().unwrap()))
        .collect();
    assert_eq!(to_alice, [(0, 1_000), (2, 2_000)]);
    assert_eq!(listed[0]["vout"].as_array().unwrap().len(), 4, "and change");
}

#[tokio::test]
async fn confirmed_history_pages_25_at_a_time_after_the_last_seen() {
    let e = explorer().await;
    for i in 0..60 {
        e.ex.pay(&[(ALICE, 1_000 + i)]);
        if i % 7 == 6 {
            e.ex.mine(1);
        }
    }
    e.ex.mine(1);
    let waiting: Vec<String> = (0..3).map(|i| e.ex.pay(&[(ALICE, 5_000 + i)])).collect();

    let value = |t: &Value| t["vout"][0]["value"].as_u64().unwrap();
    let all = e.json(&format!("/address/{ALICE}/txs")).await;
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 3 + 25, "the mempool, then 25 confirmed");
    let newest_first: Vec<String> = waiting.iter().rev().cloned().collect();
    assert_eq!(txids(&json!(all[..3])), newest_first);
    assert_eq!(value(&all[3]), 1_059, "newest confirmed first");

    let mut seen: Vec<u64> = Vec::new();
    let mut path = format!("/address/{ALICE}/txs/chain");
    loop {
        let page = e.json(&path).await;
        let page = page.as_array().unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 25);
        assert!(page.iter().all(|t| t["status"]["confirmed"] == true));
        seen.extend(page.iter().map(value));
        let last = page.last().unwrap()["txid"].as_str().unwrap();
        path = format!("/address/{ALICE}/txs/chain/{last}");
    }
    assert_eq!(seen, (1_000..1_060).rev().collect::<Vec<u64>>(), "every one once, newest first");

    let unknown = "ab".repeat(32);
    assert_eq!(e.json(&format!("/address/{ALICE}/txs/chain/{unknown}")).await, json!([]), "not in this history");
    let first = e.json(&format!("/address/{ALICE}/txs/chain/not-a-txid")).await;
    assert_eq!(value(&first[0]), 1_059, "a malformed one reads as none, as electrs does");
}

#[tokio::test]
async fn rates_answer_what_was_asked_and_set_as_numbers() {
    let e = explorer().await;
    e.ex.set_rate("bitcoin", "pln", "400000.00");
    e.ex.set_rate("litecoin", "PLN", "350.5");
    e.ex.set_rate("bitcoin", "eur", "90000");
    let base = e.ex.rates_url();
    let (status, body) = e.get_from(&base, "/simple/price?ids=bitcoin,litecoin,dogecoin&vs_currencies=pln,usd").await;
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v, json!({ "bitcoin": { "pln": 400000.0 }, "litecoin": { "pln": 350.5 } }), "{body}");
    assert!(v["bitcoin"]["pln"].is_number(), "numbers, as CoinGecko answers");
    assert!(body.contains("400000.00"), "the decimal as it was set: {body}");
    assert_eq!(e.get_from(&base, "/simple/price?ids=litecoin&vs_currencies=eur").await.1, r#"{"litecoin":{}}"#);
    assert_eq!(e.get_from(&base, "/simple/price?ids=bitcoin").await.0, 400, "no vs_currencies");
}

#[tokio::test]
async fn a_status_fault_applies_to_matching_paths_and_expires() {
    let e = explorer().await;
    e.ex.fault(Fault {
        status: Some(429),
        path_contains: Some("/blocks/tip".into()),
        times: Some(2),
        ..Fault::default()
    });
    let addr = format!("/address/{ALICE}/txs");
    assert_eq!(e.get(&addr).await.0, 200, "another path is not touched");
    assert_eq!(e.get("/blocks/tip/height").await.0, 429);
    assert_eq!(e.get("/blocks/tip/hash").await.0, 429);
    assert_eq!(e.get("/blocks/tip/height").await, (200, "100".into()), "gone after twice");

    e.ex.fault(Fault { status: Some(503), path_contains: Some("/address/".into()), ..Fault::default() });
    e.ex.fault(Fault { status: Some(500), ..Fault::default() });
    for _ in 0..3 {
        assert_eq!(e.get(&addr).await.0, 503, "until cleared; the first match wins");
    }
    assert_eq!(e.get("/blocks/tip/height").await.0, 500);
    let rates = e.get_from(&e.ex.rates_url(), "/simple/price?ids=bitcoin&vs_currencies=pln").await;
    assert_eq!(rates.0, 500, "rates too");
    let (status, stats) = e.control("GET", "stats", "").await;
    assert_eq!((status, &stats["tip"]), (200, &json!(100)), "never the control routes");
    e.ex.clear_faults();
    assert_eq!(e.get(&addr).await.0, 200);
}

#[tokio::test]
async fn a_delay_fault_outlasts_a_client_timeout() {
    let e = explorer().await;
    e.ex.fault(Fault { delay_ms: 5_000, times: Some(1), ..Fault::default() });
    let quick = reqwest::Client::builder().timeout(Duration::from_millis(300)).build().unwrap();
    let err = quick.get(format!("{}/blocks/tip/height", e.ex.url())).send().await.unwrap_err();
    assert!(err.is_timeout(), "{err}");
    let r = quick.get(format!("{}/blocks/tip/height", e.ex.url())).send().await.unwrap();
    assert_eq!(r.text().await.unwrap(), "100", "the next one is answered at once");

    e.ex.fault(Fault { delay_ms: 300, times: Some(1), ..Fault::default() });
    let started = Instant::now();
    assert_eq!(e.text("/blocks/tip/height").await, "100", "a delay alone answers normally");
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn a_malformed_fault_answers_200_with_a_body_that_does_not_parse() {
    let e = explorer().await;
    e.ex.pay(&[(ALICE, 1_000)]);
    e.ex.fault(Fault { malformed: true, times: Some(3), ..Fault::default() });
    let (status, body) = e.get(&format!("/address/{ALICE}/txs")).await;
    assert_eq!(status, 200);
    assert!(serde_json::from_str::<Value>(&body).is_err(), "truncated JSON: {body}");
    let (status, body) = e.get("/blocks/tip/height").await;
    assert_eq!(status, 200);
    assert!(body.parse::<u64>().is_err(), "not a height: {body}");
    let (status, body) = e.get_from(&e.ex.rates_url(), "/simple/price?ids=bitcoin&vs_currencies=pln").await;
    assert_eq!(status, 200);
    assert!(serde_json::from_str::<Value>(&body).is_err(), "{body}");
    assert_eq!(e.json(&format!("/address/{ALICE}/txs")).await.as_array().unwrap().len(), 1, "then whole again");
}

#[tokio::test]
async fn requests_are_counted_by_path_faulted_ones_too() {
    let e = explorer().await;
    e.get("/blocks/tip/height").await;
    assert_eq!(e.ex.requests(), 1);
    e.ex.reset_counts();
    assert_eq!(e.ex.requests(), 0);
    e.ex.fault(Fault { status: Some(500), path_contains: Some(BOB.into()), times: Some(1), ..Fault::default() });
    for a in [ALICE, BOB, ALICE] {
        e.get(&format!("/address/{a}/txs")).await;
    }
    e.get("/blocks/tip/height").await;
    e.get("/no/such/route").await;
    e.get_from(&e.ex.rates_url(), "/simple/price?ids=bitcoin&vs_currencies=pln").await;
    e.control("POST", "mine", "{}").await;
    assert_eq!(e.ex.requests(), 6, "Esplora and rates, not control");
    assert_eq!(e.ex.requests_to("/api/address/"), 3);
    assert_eq!(e.ex.requests_to(&format!("/api/address/{BOB}")), 1, "the faulted one");
    assert_eq!(e.ex.requests_to("/api/blocks/"), 1);
    assert_eq!(e.ex.requests_to("/coingecko/"), 1);
    assert_eq!(e.control("GET", "stats", "").await.1["requests"], 6);
}

#[tokio::test]
async fn malformed_requests_get_esplora_errors() {
    let e = explorer().await;
    assert_eq!(e.get("/tx/xyz").await, (400, "Invalid hex string".into()));
    assert_eq!(e.get("/block/xyz/status").await, (400, "Invalid hex string".into()));
    assert_eq!(e.get("/block-height/abc").await, (400, "Invalid number".into()));
    let unknown = "cd".repeat(32);
    assert_eq!(e.get(&format!("/tx/{unknown}")).await, (404, "Transaction not found".into()));
    assert_eq!(e.get(&format!("/block/{unknown}")).await, (404, "Block not found".into()));
    assert_eq!(e.json(&format!("/block/{unknown}/status")).await, json!({ "in_best_chain": false }));
    let (status, body) = e.get("/no/such/route").await;
    assert_eq!(status, 404);
    assert!(body.starts_with("endpoint does not exist"), "{body}");
}

#[tokio::test]
async fn the_control_api_drives_the_chain() {
    let e = explorer().await;
    let body = json!({ "outputs": [{ "address": ALICE, "value": 100_000 }] }).to_string();
    let (status, paid) = e.control("POST", "pay", &body).await;
    assert_eq!(status, 200, "{paid}");
    let txid = paid["txid"].as_str().unwrap().to_owned();
    assert_eq!(e.json(&format!("/tx/{txid}")).await["vout"][0]["value"], 100_000);

    let body = json!({ "txid": txid, "outputs": [{ "address": ALICE, "value": 90_000 }] }).to_string();
    let (status, replaced) = e.control("POST", "replace", &body).await;
    assert_eq!(status, 200, "{replaced}");
    let txid = replaced["txid"].as_str().unwrap().to_owned();

    let (status, mined) = e.control("POST", "mine", r#"{"blocks":2}"#).await;
    assert_eq!((status, mined["tip"].as_u64()), (200, Some(102)));
    assert_eq!(e.json(&format!("/tx/{txid}/status")).await["block_hash"], mined["hashes"][0]);
    let (status, reorged) = e.control("POST", "reorg", r#"{"depth":2,"drop":true}"#).await;
    assert_eq!((status, reorged["hashes"].as_array().unwrap().len()), (200, 2));
    assert_eq!(e.get(&format!("/tx/{txid}")).await.0, 404);

    let other = e.ex.pay(&[(BOB, 1)]);
    assert_eq!(e.control("POST", "drop", &json!({ "txid": other }).to_string()).await.1, json!({ "dropped": true }));
    assert_eq!(e.control("POST", "drop", &json!({ "txid": other }).to_string()).await.1, json!({ "dropped": false }));

    let fault = r#"{"status":503,"path_contains":"/tip/","times":1}"#;
    assert_eq!(e.control("POST", "fault", fault).await.0, 200);
    assert_eq!(e.get("/blocks/tip/hash").await.0, 503);
    e.control("POST", "fault", r#"{"malformed":true}"#).await;
    assert_eq!(e.control("DELETE", "fault", "").await, (200, json!({ "ok": true })));
    assert_eq!(e.get("/blocks/tip/height").await, (200, "102".into()));

    assert_eq!(e.control("POST", "rate", r#"{"coin":"litecoin","currency":"pln","value":"312.40"}"#).await.0, 200);
    let (_, rate) = e.get_from(&e.ex.rates_url(), "/simple/price?ids=litecoin&vs_currencies=pln").await;
    assert_eq!(rate, r#"{"litecoin":{"pln":312.40}}"#);

    let (status, stats) = e.control("GET", "stats", "").await;
    assert_eq!(status, 200);
    assert_eq!((stats["tip"].as_u64(), stats["mempool"].as_u64()), (Some(102), Some(0)));
    assert_eq!(stats["tip_hash"], e.text("/blocks/tip/hash").await.as_str());
}

#[tokio::test]
async fn the_control_api_refuses_bad_input_with_400_and_a_reason() {
    let e = explorer().await;
    let unknown = "ef".repeat(32);
    let cases = [
        ("pay", "{not json".to_owned(), "invalid JSON"),
        ("pay", "{}".to_owned(), "missing field `outputs`"),
        ("pay", r#"{"outputs":[]}"#.to_owned(), "at least one"),
        ("pay", r#"{"outputs":[{"address":"a/b","value":1}]}"#.to_owned(), "outputs[0].address"),
        ("pay", r#"{"outputs":[{"address":"x","value":0}]}"#.to_owned(), "outputs[0].value"),
        ("pay", r#"{"outputs":[{"address":"x","value":-5}]}"#.to_owned(), "invalid JSON"),
        ("pay", r#"{"outputs":[{"address":"x","value":1}],"extra":1}"#.to_owned(), "unknown field"),
        ("mine", r#"{"blocks":0}"#.to_owned(), "blocks 0"),
        ("mine", r#"{"blocks":"2"}"#.to_owned(), "invalid JSON"),
        ("reorg", r#"{"depth":0}"#.to_owned(), "depth 0"),
        ("reorg", r#"{"depth":101}"#.to_owned(), "the tip height 100"),
        ("replace", format!(r#"{{"txid":"{unknown}","outputs":[{{"address":"x","value":1}}]}}"#), "not in the mempool"),
        ("replace", r#"{"txid":"zz","outputs":[{"address":"x","value":1}]}"#.to_owned(), "64 hex digits"),
        ("drop", r#"{"txid":"123"}"#.to_owned(), "64 hex digits"),
        ("fault", r#"{"status":42}"#.to_owned(), "status 42"),
        ("fault", r#"{"path_contains":"/tx"}"#.to_owned(), "needs status, delay_ms or malformed"),
        ("fault", r#"{"status":500,"times":0}"#.to_owned(), "times 0"),
        ("fault", r#"{"delay":5}"#.to_owned(), "unknown field"),
        ("rate", r#"{"coin":"bitcoin","currency":"pln","value":"abc"}"#.to_owned(), "not a non-negative decimal"),
        ("rate", r#"{"coin":"Bit Coin","currency":"pln","value":"1"}"#.to_owned(), "not a CoinGecko id"),
    ];
    for (route, body, why) in cases {
        let (status, answer) = e.control("POST", route, &body).await;
        assert_eq!(status, 400, "{route} {body}: {answer}");
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(error.contains(why), "{route} {body}: {error:?} should say {why:?}");
    }
    assert_eq!((e.ex.tip_height(), e.control("GET", "stats", "").await.1["mempool"].as_u64()), (100, Some(0)));
    assert_eq!(e.control("GET", "stats", "").await.1["faults"], 0, "nothing was applied");
}

#[tokio::test]
async fn the_server_stops_with_its_last_handle_or_at_shutdown() {
    let e = explorer().await;
    let other = e.ex.clone();
    let url = format!("{}/blocks/tip/height", e.ex.url());
    drop(e.ex);
    assert_eq!(e.http.get(&url).send().await.unwrap().text().await.unwrap(), "100", "a handle remains");
    other.shutdown().await;
    assert!(reqwest::Client::new().get(&url).send().await.is_err(), "stopped listening");

    let last = Explorer::start_at(([127, 0, 0, 1], 0).into(), 7).await.unwrap();
    let url = format!("{}/blocks/tip/height", last.url());
    assert_eq!(reqwest::get(&url).await.unwrap().text().await.unwrap(), "7", "a chosen start height");
    drop(last);
    let deadline = Instant::now() + Duration::from_secs(10);
    while reqwest::Client::new().get(&url).send().await.is_ok() {
        assert!(Instant::now() < deadline, "still served after its last handle dropped");
        tokio::task::yield_now().await;
    }
}

#[test]
fn wharf_explorer_serves_until_stopped_and_prints_its_urls() {
    use std::io::BufRead as _;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_wharf"))
        .args(["explorer", "--listen", "127.0.0.1:0", "--height", "42"])
        .env("WHARF_LOG", "error")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let hint = lines.next().unwrap().unwrap();
    let url = first.split_whitespace().find(|w| w.starts_with("http://") && w.ends_with("/api")).unwrap().to_owned();
    let tip = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async { reqwest::get(format!("{url}/blocks/tip/height")).await.unwrap().text().await.unwrap() })
    })
    .join()
    .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(tip, "42");
    assert!(first.contains("/coingecko/api/v3"), "{first}");
    assert!(hint.contains("/control/pay") && hint.contains("/control/stats"), "{hint}");
}
