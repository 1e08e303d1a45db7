//! `cargo bench --bench crypto`: one watcher round over 10,000 watched Bitcoin addresses
//! against the explorer emulator (prints figures; asserts only that every address was
//! looked at and every payment credited).
//!
//! 10,000 users each ask for an address (real derivation in the plugin, one lane so the
//! address counter never conflicts); 100 of them pay and the payments get 2
//! confirmations. Then the watcher runs until the round is over: each run makes at most
//! `requests_per_run` requests (one for the tip, one per address, one per credit check),
//! and a run that used its budget with work left asks for a follow-up a second later.
//! The host clock is manual here, so the time printed is the host's own work; on a real
//! clock add one second per follow-up run.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use wharf::clock::Clock;
use wharf::config::Config;
use wharf::event::callback;
use wharf::explorer::Explorer;
use wharf::{Runtime, RuntimeOptions};

const USERS: i64 = 10_000;
const PAYERS: i64 = 100;
const KEY: &str =
    "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs";

fn wasm(name: &str) -> String {
    PathBuf::from(env!("WHARF_PLUGIN_DIR")).join(format!("{name}.wasm")).display().to_string()
}

async fn bot(dir: &std::path::Path, explorer: &Explorer, per_run: u32) -> Runtime {
    let cache = PathBuf::from(env!("WHARF_PLUGIN_DIR")).join("../../../wharf-bench-cache");
    let text = format!(
        r#"admins = [1000]
[storage]
url = "sqlite:{db}"
[runtime]
cache_dir = "{cache}"
watch = false
[plugins.wallet]
path = "{wallet}"
grants = ["kv", "telegram.send", "events"]
[plugins.crypto]
path = "{crypto}"
grants = ["kv", "telegram.send", "scheduler", "call:wallet"]
http = ["127.0.0.1:{port}"]
limits = {{ timeout_ms = 20000, kv_keys = 1000000, kv_mib = 1024 }}
[plugins.crypto.settings]
requests_per_run = {per_run}
[[plugins.crypto.settings.chains]]
coin = "BTC"
xpub = "{KEY}"
explorer = "{url}"
[plugins.crypto.settings.rates]
fixed = {{ BTC = "400000.00" }}
"#,
        db = dir.join("bench.db").display(),
        cache = cache.display(),
        wallet = wasm("wallet"),
        crypto = wasm("crypto"),
        port = explorer.addr().port(),
        url = explorer.url(),
    );
    let config = Config::parse(&text, dir).unwrap();
    let rt = Runtime::start(&config, RuntimeOptions { clock: Clock::manual(1_700_000_000_000), ..Default::default() })
        .await
        .unwrap();
    rt.wait_idle(Duration::from_secs(60)).await.unwrap();
    rt
}

async fn balance(rt: &Runtime, user: i64) -> i64 {
    let (bytes, _) = rt.storage().kv_get("wallet", &format!("acct:{user}")).await.unwrap();
    bytes.map_or(0, |b| serde_json::from_slice::<serde_json::Value>(&b).unwrap()["balance"].as_i64().unwrap_or(0))
}

async fn round(per_run: u32) {
    let explorer = Explorer::start(([127, 0, 0, 1], 0).into()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rt = bot(dir.path(), &explorer, per_run).await;

    let started = Instant::now();
    // One lane: the users' first requests run one after another.
    let asks: Vec<_> = (1..=USERS).map(|u| (0, None, callback(u, "crypto:a:BTC"))).collect();
    rt.enqueue_many(&asks).await.unwrap();
    rt.wait_idle(Duration::from_secs(1800)).await.unwrap();
    let handed = rt.storage().kv_keys("crypto", "own:BTC:", None, i64::MAX).await.unwrap();
    assert_eq!(handed.len() as i64, USERS);
    println!("  {USERS} addresses handed out (derived in the plugin) in {:.1} s", started.elapsed().as_secs_f64());

    for u in 1..=PAYERS {
        let (bytes, _) = rt.storage().kv_get("crypto", &format!("addr:BTC:{u}")).await.unwrap();
        let a: serde_json::Value = serde_json::from_slice(&bytes.unwrap()).unwrap();
        explorer.pay(&[(a["address"].as_str().unwrap(), 100_000)]);
    }
    explorer.mine(2);
    explorer.reset_counts();

    // The round: the job's tick, then follow-ups a second apart until the work is done.
    let started = Instant::now();
    let mut runs = 0u32;
    rt.clock().advance(Duration::from_secs(30));
    loop {
        rt.wait_idle(Duration::from_secs(600)).await.unwrap();
        runs += 1;
        let cursor = rt.storage().kv_get("crypto", "cursor:BTC").await.unwrap().0;
        if cursor.is_none() && explorer.requests_to("/api/address/") >= USERS as u64 {
            break;
        }
        rt.clock().advance(Duration::from_secs(1));
    }
    let took = started.elapsed();
    let (total, addresses, tips) =
        (explorer.requests(), explorer.requests_to("/api/address/"), explorer.requests_to("/api/blocks/tip"));
    println!(
        "  requests_per_run = {per_run}: {runs} runs, {total} requests ({addresses} address listings, {tips} tip heights, {} other), host time {:.2} s ({:.0} requests/s); on a real clock at least {} s more (one second between follow-up runs)",
        total - addresses - tips,
        took.as_secs_f64(),
        total as f64 / took.as_secs_f64(),
        runs.saturating_sub(1)
    );
    // The payments were found in this round; the next runs credit them (one block check
    // each, within the same budget).
    let started = Instant::now();
    let mut runs = 0;
    rt.clock().advance(Duration::from_secs(30));
    loop {
        rt.wait_idle(Duration::from_secs(600)).await.unwrap();
        runs += 1;
        if balance(&rt, PAYERS).await > 0 && balance(&rt, 1).await > 0 {
            let mut all = true;
            for u in 1..=PAYERS {
                all &= balance(&rt, u).await == 40_000;
            }
            if all {
                break;
            }
        }
        assert!(runs < 1000, "payments not credited");
        rt.clock().advance(Duration::from_secs(1));
    }
    println!("  then {PAYERS} payments credited in {runs} run(s), host time {:.2} s", started.elapsed().as_secs_f64());
    rt.shutdown().await;
    explorer.shutdown().await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    println!("crypto: one watcher round over {USERS} watched addresses ({PAYERS} with a payment)");
    for per_run in [40, 1000] {
        round(per_run).await;
    }
}
