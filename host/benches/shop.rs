//! `cargo bench --bench shop`: purchases through the real wallet and shop plugins on
//! SQLite (prints figures, asserts nothing but the money).
//!
//! Each purchase is two turns, as a user makes it: Buy (reserve) then Confirm (debit
//! through the wallet's ledger, mark sold, record, deliver). 100 users act at once.
//! 1. Large stock: 10 products × 200 items; every round each user buys one item.
//! 2. Contention: all 100 users go for one product with few items.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use wharf::config::Config;
use wharf::event::{Event, callback, text};
use wharf::{Runtime, RuntimeOptions};

const ADMIN: i64 = 1000;
const USERS: i64 = 100;

fn wasm(name: &str) -> String {
    PathBuf::from(env!("WHARF_PLUGIN_DIR")).join(format!("{name}.wasm")).display().to_string()
}

async fn market(dir: &std::path::Path) -> Runtime {
    let cache = PathBuf::from(env!("WHARF_PLUGIN_DIR")).join("../../../wharf-bench-cache");
    let text = format!(
        "admins = [{ADMIN}]\n[storage]\nurl = \"sqlite:{}\"\n[runtime]\ncache_dir = \"{}\"\nwatch = false\n\
         [plugins.wallet]\npath = \"{}\"\ngrants = [\"kv\", \"telegram.send\", \"events\"]\n\
         [plugins.shop]\npath = \"{}\"\ngrants = [\"kv\", \"telegram\", \"scheduler\", \"events\", \"call:wallet\"]\n",
        dir.join("bench.db").display(),
        cache.display(),
        wasm("wallet"),
        wasm("shop"),
    );
    let config = Config::parse(&text, dir).unwrap();
    let rt = Runtime::start(&config, RuntimeOptions::default()).await.unwrap();
    rt.wait_idle(Duration::from_secs(60)).await.unwrap();
    rt
}

async fn run(rt: &Runtime, events: Vec<(i64, Option<String>, Event)>) {
    rt.enqueue_many(&events).await.unwrap();
    rt.wait_idle(Duration::from_secs(600)).await.unwrap();
}

/// Stock `products` products with `items` items each, and give every user `money` PLN.
async fn seed(rt: &Runtime, products: u32, items: u32, money: u32) {
    for p in 1..=products {
        let lines: String =
            (1..=items).map(|i| format!("Warsaw | Mokotów | Cards | Card {p} | 10 | CODE-{p}-{i}\n")).collect();
        run(rt, vec![(ADMIN, None, text(ADMIN, &format!("/import\n{lines}")))]).await;
    }
    let credits = (1..=USERS).map(|u| (ADMIN, None, text(ADMIN, &format!("/credit {u} {money} bench")))).collect();
    run(rt, credits).await;
}

/// A user's balance from the wallet's records.
async fn balance(rt: &Runtime, user: i64) -> i64 {
    let (bytes, _) = rt.storage().kv_get("wallet", &format!("acct:{user}")).await.unwrap();
    bytes.map_or(0, |b| serde_json::from_slice::<serde_json::Value>(&b).unwrap()["balance"].as_i64().unwrap_or(0))
}

/// One round: every user taps Buy on `product_of(user)`, then Confirm on what they got.
/// Returns the purchases completed.
async fn round<F>(rt: &Runtime, product_of: F) -> u64
where
    F: Fn(i64) -> u32,
{
    let sold_before = rt.storage().kv_keys("shop", "sold:", None, i64::MAX).await.unwrap().len();
    let buys = (1..=USERS).map(|u| (u, None, callback(u, &format!("shop:b:{}", product_of(u))))).collect();
    run(rt, buys).await;
    let mut confirms = Vec::new();
    for u in 1..=USERS {
        let (bytes, _) = rt.storage().kv_get("shop", &format!("res:{u}")).await.unwrap();
        if let Some(b) = bytes {
            let order: i64 = serde_json::from_slice(&b).unwrap();
            confirms.push((u, None, callback(u, &format!("shop:ok:{order}"))));
        }
    }
    run(rt, confirms).await;
    let sold_after = rt.storage().kv_keys("shop", "sold:", None, i64::MAX).await.unwrap().len();
    (sold_after - sold_before) as u64
}

async fn scenario(name: &str, products: u32, items: u32, rounds: u32, hot: bool) {
    let dir = tempfile::tempdir().unwrap();
    let rt = market(dir.path()).await;
    seed(&rt, products, items, 1_000).await;
    rt.metrics().reset();
    let start = Instant::now();
    let mut bought = 0;
    for r in 0..rounds {
        let product_of = |u: i64| if hot { 1 } else { ((u as u32 + r) % products) + 1 };
        bought += round(&rt, product_of).await;
    }
    let secs = start.elapsed().as_secs_f64();
    let m = rt.metrics();
    let committed = m.turns(wharf::metrics::TurnOutcome::Committed);
    let conflicts = m.turns(wharf::metrics::TurnOutcome::Conflict);
    let attempts = u64::from(rounds) * USERS as u64;
    println!(
        "{name}: {bought} purchases of {attempts} attempts in {secs:.2} s = {:.0} purchases/s ({:.0} turns/s); \
         conflicts {conflicts} = {:.2} retries per purchase, {:.2} per turn",
        bought as f64 / secs,
        committed as f64 / secs,
        conflicts as f64 / bought.max(1) as f64,
        conflicts as f64 / committed.max(1) as f64,
    );
    // The money must add up whatever the speed.
    let mut total = 0;
    for u in 1..=USERS {
        total += balance(&rt, u).await;
    }
    assert_eq!(total, USERS * 100_000 - bought as i64 * 1_000, "charged exactly the sales");
    rt.shutdown().await;
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    println!(
        "== Wharf shop benchmark ({} cores, SQLite, {USERS} users at once)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    scenario("large stock (10 products x 200 items, 5 rounds)", 10, 200, 5, false).await;
    scenario("hot items (1 product x 20 items, all users at once)", 1, 20, 1, true).await;
    scenario("hot items (1 product x 300 items, 3 rounds)", 1, 300, 3, true).await;
}
