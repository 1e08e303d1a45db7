//! `cargo bench --bench gate`: what the subscription gate adds to a turn (prints figures,
//! asserts only that the warm cache answered without Telegram).
//!
//! 1. A message from a member with a warm cache: the gate's call alone (µs per turn,
//!    fresh instance each time, nothing committed), next to a trivial plugin's call.
//! 2. The same with the cache off: every turn looks the member up in the Bot API
//!    emulator on loopback (one `getChatMember` over HTTP).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use wharf::config::{Config, TelegramConfig};
use wharf::event::text;
use wharf::telegram::Telegram;
use wharf::telegram::emulator::Emulator;
use wharf::{Runtime, RuntimeOptions};

const TOKEN: &str = "123456:GATE-BENCH-secret";
const NEWS: i64 = -1_001_000_000_001;
const USER: i64 = 1;

fn wasm(name: &str) -> String {
    PathBuf::from(env!("WHARF_PLUGIN_DIR")).join(format!("{name}.wasm")).display().to_string()
}

async fn runtime(dir: &std::path::Path, plugins: &str) -> Runtime {
    let cache = PathBuf::from(env!("WHARF_PLUGIN_DIR")).join("../../../wharf-bench-cache");
    let text = format!(
        "admins = [1000]\n[storage]\nurl = \"sqlite:{}\"\n[runtime]\ncache_dir = \"{}\"\nwatch = false\n{plugins}",
        dir.join("bench.db").display(),
        cache.display()
    );
    let config = Config::parse(&text, dir).unwrap();
    let rt = Runtime::start(&config, RuntimeOptions::default()).await.unwrap();
    rt.wait_idle(Duration::from_secs(60)).await.unwrap();
    rt
}

fn gate(settings: &str) -> String {
    format!(
        "[plugins.gate]\npath = \"{}\"\norder = -10\ngrants = [\"kv\", \"telegram\", \"telegram.buttons\"]\n\
         [plugins.gate.settings]\nchannels = [\"@wharf_news\"]\n{settings}\n",
        wasm("gate")
    )
}

/// µs per turn of the plugins `event` routes to: the best of 3 rounds of `iterations`
/// turns (other work on the machine only ever slows a round down).
async fn per_turn(rt: &Runtime, iterations: u32) -> f64 {
    let event = text(USER, "hello");
    rt.measure_calls(USER, &event, iterations / 10).await.unwrap();
    let mut best = f64::MAX;
    for _ in 0..3 {
        let (elapsed, _) = rt.measure_calls(USER, &event, iterations).await.unwrap();
        best = best.min(elapsed.as_secs_f64() * 1e6 / f64::from(iterations));
    }
    best
}

/// The gate behind the emulator, `USER` a member of the channel; the first message
/// resolves the channel (and, with a cache, caches the answer).
async fn gated(emu: &Emulator, settings: &str) -> (tempfile::TempDir, Runtime, Telegram) {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime(dir.path(), &gate(settings)).await;
    let tg = Telegram::start(rt.link(), &TelegramConfig::polling(&emu.api_url()), TOKEN).await.unwrap();
    rt.enqueue(USER, &text(USER, "hello")).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while rt.storage().kv_get("gate", "chan:@wharf_news").await.unwrap().0.is_none() {
        assert!(Instant::now() < deadline, "the gate never resolved its channel");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    rt.wait_idle(Duration::from_secs(60)).await.unwrap();
    (dir, rt, tg)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let emu = Emulator::start(([127, 0, 0, 1], 0).into(), TOKEN).await.unwrap();
    emu.add_channel(NEWS, Some("wharf_news"), "Wharf News", None);
    emu.set_member(NEWS, USER, "member");

    let dir = tempfile::tempdir().unwrap();
    let noop = runtime(dir.path(), &format!("[plugins.noop]\npath = \"{}\"\n", wasm("noop"))).await;
    let base = per_turn(&noop, 2_000).await;
    println!("a trivial plugin (noop), for comparison: {base:.1} µs per turn");
    noop.shutdown().await;

    let (_d, rt, tg) = gated(&emu, "").await;
    let before = emu.requests("getChatMember");
    let warm = per_turn(&rt, 2_000).await;
    assert_eq!(emu.requests("getChatMember"), before, "the warm cache answered every turn");
    println!("gate, member, warm cache: {warm:.1} µs per turn (+{:.1} µs over noop)", warm - base);
    tg.stop().await;
    rt.shutdown().await;

    let (_d, rt, tg) = gated(&emu, "cache_minutes = 0\nnegative_cache_seconds = 0").await;
    let before = emu.requests("getChatMember");
    let cold = per_turn(&rt, 200).await;
    let lookups = emu.requests("getChatMember") - before;
    println!("gate, member, no cache: {cold:.1} µs per turn (one getChatMember each: {lookups} calls to the emulator)");
    tg.stop().await;
    rt.shutdown().await;
}
