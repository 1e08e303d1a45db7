//! `cargo bench --bench analytics [-- CASE…]`: prints the analytics observer's figures (no
//! assertions but that everything arrived). Cases: `observer`, `all-plugins` (both when
//! none is named).
//!
//! 1. `observer`: the cost of the analytics observer per observed update. 5 000 plain
//!    messages from 100 users go straight into the inbox (no Telegram), with echo alone
//!    and with echo and analytics; printed: the mean time of one `observe` call (plugin
//!    time, from `wharf_plugin_call_duration_seconds`), and the wall time per update of
//!    both runs (an observer's observations run one at a time in its own lane, so the
//!    second run is bounded by that lane).
//! 2. `all-plugins`: end-to-end updates/s through the Bot API emulator (emulator → poller
//!    → inbox → plugins → outbox → sender → emulator, limits lifted) with echo alone and
//!    with every bundled plugin of the shipped `config.toml` (echo, wallet, shop, crypto,
//!    analytics): 2 000 `/echo` messages across 100 chats; the rate at which replies
//!    arrive, and the time until the bot is idle (the observer's lane drained).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use wharf::config::{Config, TelegramConfig};
use wharf::event::text;
use wharf::metrics::Scraped;
use wharf::telegram::Telegram;
use wharf::telegram::emulator::Emulator;
use wharf::telegram::limits::RateLimits;
use wharf::{Runtime, RuntimeOptions};

const TOKEN: &str = "1:bench";
const CHATS: i64 = 100;

fn plugin_dir() -> PathBuf {
    PathBuf::from(env!("WHARF_PLUGIN_DIR"))
}

fn wasm(name: &str) -> String {
    plugin_dir().join(format!("{name}.wasm")).display().to_string()
}

/// Storage and runtime tables for a bench database in `dir`.
fn base(dir: &Path) -> String {
    format!(
        "admins = [1000]\n[storage]\nurl = \"sqlite:{}\"\n[runtime]\ncache_dir = \"{}\"\nwatch = false\n",
        dir.join("bench.db").display(),
        plugin_dir().join("../../../wharf-bench-cache").display()
    )
}

fn echo() -> String {
    format!("[plugins.echo]\npath = \"{}\"\ngrants = [\"telegram.send\"]\n", wasm("echo"))
}

fn analytics() -> String {
    format!(
        "[plugins.analytics]\npath = \"{}\"\ngrants = [\"kv\", \"telegram.send\", \"scheduler\"]\n",
        wasm("analytics")
    )
}

/// The shipped `config.toml` with its database in `dir` and the built plugins.
fn shipped(dir: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::read_to_string(root.join("config.toml"))
        .unwrap()
        .replace("target/plugins/wasm32-wasip2/release/", &format!("{}/", plugin_dir().display()))
        .replace("sqlite:data/wharf.db", &format!("sqlite:{}", dir.join("bench.db").display()))
        .replace("\"data/cache\"", &format!("\"{}\"", plugin_dir().join("../../../wharf-bench-cache").display()))
        .replace("watch = true", "watch = false")
}

async fn start(dir: &Path, text: &str) -> Runtime {
    let config = Config::parse(text, dir).unwrap();
    let rt = Runtime::start(&config, RuntimeOptions::default()).await.unwrap();
    rt.wait_idle(Duration::from_secs(120)).await.unwrap();
    rt
}

/// Sum and count of a plugin's call durations, from the metrics text.
fn call_time(rt: &Runtime, plugin: &str) -> (f64, f64) {
    let text = rt.metrics().encode(&Scraped::default()).unwrap();
    let label = format!("plugin=\"{plugin}\"");
    let value = |suffix: &str| {
        text.lines()
            .filter(|l| l.contains(&format!("plugin_call_duration_seconds_{suffix}")) && l.contains(&label))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>()
    };
    (value("sum"), value("count"))
}

/// `n` plain messages from [`CHATS`] users into the inbox; the wall time until idle.
async fn drain(rt: &Runtime, n: i64, tag: &str) -> f64 {
    let events: Vec<_> = (0..n).map(|i| (i % CHATS + 1, None, text(i % CHATS + 1, &format!("{tag} {i}")))).collect();
    let start = Instant::now();
    rt.enqueue_many(&events).await.unwrap();
    rt.wait_idle(Duration::from_secs(1_200)).await.unwrap();
    start.elapsed().as_secs_f64()
}

async fn observer(n: i64) {
    let dir = tempfile::tempdir().unwrap();
    let rt = start(dir.path(), &(base(dir.path()) + &echo())).await;
    drain(&rt, 200, "warm").await;
    let alone = drain(&rt, n, "hello").await;
    rt.shutdown().await;

    let dir = tempfile::tempdir().unwrap();
    let rt = start(dir.path(), &(base(dir.path()) + &echo() + &analytics())).await;
    drain(&rt, 200, "warm").await;
    let (sum0, count0) = call_time(&rt, "analytics");
    let with = drain(&rt, n, "hello").await;
    let (sum, count) = call_time(&rt, "analytics");
    let calls = count - count0;
    assert!(calls >= n as f64, "every update was observed ({calls} observe calls for {n} updates)");
    let days = rt.storage().kv_keys("analytics", "d:", None, 1_000_000).await.unwrap().len();
    rt.shutdown().await;
    println!(
        "analytics observer, {n} updates from {CHATS} users: observe() {:.0} µs per update (plugin time, mean of {calls:.0} calls); \
         wall time {:.0} µs per update with echo alone, {:.0} µs with echo + analytics ({days} user-days counted)",
        (sum - sum0) / calls * 1e6,
        alone / n as f64 * 1e6,
        with / n as f64 * 1e6,
    );
}

/// End to end through the emulator with `tables`: (replies/s, seconds until idle).
async fn end_to_end(tables: &str, dir: &Path, per_chat: usize) -> (f64, f64) {
    let config = Config::parse(tables, dir).unwrap();
    let emu = Emulator::start(([127, 0, 0, 1], 0).into(), TOKEN).await.unwrap();
    let limits = RateLimits::default().scaled(10_000.0);
    emu.enforce_limits(Some(limits));
    let rt = Runtime::start(&config, RuntimeOptions::default()).await.unwrap();
    let mut cfg = TelegramConfig::polling(&emu.api_url());
    cfg.limits = limits;
    let tg = Telegram::start(rt.link(), &cfg, TOKEN).await.unwrap();
    rt.wait_idle(Duration::from_secs(120)).await.unwrap();
    let start = Instant::now();
    for round in 0..per_chat {
        for chat in 1..=CHATS {
            emu.send_text(chat, &format!("/echo m{round}"));
        }
    }
    let total = CHATS as usize * per_chat;
    let echoed =
        |e: &Emulator| (1..=CHATS).map(|c| e.texts(c).iter().filter(|t| t.starts_with('m')).count()).sum::<usize>();
    let all = emu.wait_sent(Duration::from_secs(1_200), |e| echoed(e) >= total).await;
    assert!(all, "not every reply arrived");
    let replied = start.elapsed().as_secs_f64();
    rt.wait_idle(Duration::from_secs(1_200)).await.unwrap();
    let idle = start.elapsed().as_secs_f64();
    tg.stop().await;
    rt.shutdown().await;
    (total as f64 / replied, idle)
}

async fn all_plugins(per_chat: usize) {
    let total = CHATS as usize * per_chat;
    let dir = tempfile::tempdir().unwrap();
    let (echo_rate, echo_idle) = end_to_end(&(base(dir.path()) + &echo()), dir.path(), per_chat).await;
    let dir = tempfile::tempdir().unwrap();
    let (all_rate, all_idle) = end_to_end(&shipped(dir.path()), dir.path(), per_chat).await;
    println!(
        "end to end, {total} /echo updates across {CHATS} chats: echo alone {echo_rate:.0} updates/s (idle after {echo_idle:.1} s); \
         every bundled plugin (echo, wallet, shop, crypto, analytics) {all_rate:.0} updates/s (idle after {all_idle:.1} s, \
         the observer's lane drained)"
    );
}

fn main() {
    let cases: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let run = |name: &str| cases.is_empty() || cases.iter().any(|c| c == name);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        if run("observer") {
            observer(5_000).await;
        }
        if run("all-plugins") {
            all_plugins(20).await;
        }
    });
}
