//! `cargo bench --bench runtime`: prints the runtime's figures (no assertions).
//!
//! 1. Instantiate + call per plugin per turn (µs), with 1 and 6 trivial plugins.
//! 2. Committed turns/s on SQLite across 1 and 100 chats with a plugin doing one read
//!    and one write; service latency p50/p99 and queueing latency at a steady rate.
//! 3. Conflicts and retries when every turn hits one hot key.
//! 4. What an observer costs per observed update: its `observe` call alone, and end to
//!    end (the same load with and without one observer counting every update).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use wharf::config::Config;
use wharf::event::{Event, text};
use wharf::{Runtime, RuntimeOptions};

fn wasm(name: &str) -> PathBuf {
    PathBuf::from(env!("WHARF_PLUGIN_DIR")).join(format!("{name}.wasm"))
}

async fn runtime(dir: &std::path::Path, plugins: &str) -> Runtime {
    let cache = PathBuf::from(env!("WHARF_PLUGIN_DIR")).join("../../../wharf-bench-cache");
    let text = format!(
        "[storage]\nurl = \"sqlite:{}\"\n[runtime]\ncache_dir = \"{}\"\nwatch = false\n{plugins}",
        dir.join("bench.db").display(),
        cache.display()
    );
    let config = Config::parse(&text, dir).unwrap();
    let rt = Runtime::start(&config, RuntimeOptions::default()).await.unwrap();
    rt.wait_idle(Duration::from_secs(60)).await.unwrap();
    rt
}

async fn instantiate_and_call(plugins: usize) {
    let dir = tempfile::tempdir().unwrap();
    let tables: String =
        (1..=plugins).map(|i| format!("[plugins.noop{i}]\npath = \"{}\"\n", wasm("noop").display())).collect();
    let rt = runtime(dir.path(), &tables).await;
    let event = text(1, "hello");
    rt.measure_calls(1, &event, 200).await.unwrap();
    let iterations = 3_000;
    let (elapsed, called) = rt.measure_calls(1, &event, iterations).await.unwrap();
    let per_call = elapsed.as_secs_f64() * 1e6 / f64::from(iterations) / called as f64;
    println!(
        "instantiate+call, {plugins} plugin(s) per turn: {per_call:.1} µs per plugin ({called} calls/turn, {iterations} turns)"
    );
    rt.shutdown().await;
}

async fn enqueue(rt: &Runtime, events: Vec<(i64, Option<String>, Event)>) {
    for chunk in events.chunks(1_000) {
        rt.enqueue_many(chunk).await.unwrap();
    }
}

async fn throughput(chats: i64, per_chat: i64, hot: bool) {
    let dir = tempfile::tempdir().unwrap();
    let grants = "grants = [\"kv\", \"telegram\", \"events\", \"scheduler\"]\nhttp = [\"127.0.0.1\"]";
    let rt = runtime(dir.path(), &format!("[plugins.probe]\npath = \"{}\"\n{grants}\n", wasm("probe").display())).await;
    let cmd = if hot { "/touch hot" } else { "/touch" };
    let events: Vec<_> = (0..per_chat).flat_map(|_| (1..=chats).map(move |c| (c, None, text(c, cmd)))).collect();
    let n = events.len();
    rt.metrics().reset();
    let start = Instant::now();
    enqueue(&rt, events).await;
    rt.wait_idle(Duration::from_secs(600)).await.unwrap();
    let secs = start.elapsed().as_secs_f64();
    let m = rt.metrics();
    let l = m.latencies();
    let committed = m.turns(wharf::metrics::TurnOutcome::Committed);
    let conflicts = m.turns(wharf::metrics::TurnOutcome::Conflict);
    println!(
        "{} turns across {chats} chat(s){}: {:.0} turns/s; service p50 {} µs, p99 {} µs; conflicts {conflicts} ({:.2} retries/turn)",
        n,
        if hot { " on ONE hot key" } else { ", 1 read + 1 write" },
        n as f64 / secs,
        l.service_p50_us,
        l.service_p99_us,
        conflicts as f64 / committed.max(1) as f64,
    );
    if !hot {
        // Steady load at a fixed rate: latency from queueing to commit.
        let rate = 1_000.0_f64;
        m.reset();
        let total = (rate * 3.0) as usize;
        let start = Instant::now();
        for i in 0..total {
            let due = start + Duration::from_secs_f64(i as f64 / rate);
            tokio::time::sleep_until(due.into()).await;
            let chat = (i as i64 % chats) + 1;
            rt.enqueue(chat, &text(chat, cmd)).await.unwrap();
        }
        rt.wait_idle(Duration::from_secs(600)).await.unwrap();
        let l = m.latencies();
        println!(
            "  at a steady {rate:.0} turns/s across {chats} chat(s): queue→commit p50 {} ms, p99 {} ms ({} turns)",
            l.queued_p50_ms, l.queued_p99_ms, l.count
        );
    }
    rt.shutdown().await;
}

/// Updates through `probe` (`/touch`, one read and one write) across 100 chats; with
/// `observer`, the fixture `watch` also observes each (counting it in KV). Returns the
/// seconds it took until idle.
async fn observed_load(observer: bool, updates: i64) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let grants = "grants = [\"kv\", \"telegram\", \"events\", \"scheduler\"]\nhttp = [\"127.0.0.1\"]";
    let mut tables = format!("[plugins.probe]\npath = \"{}\"\n{grants}\n", wasm("probe").display());
    if observer {
        tables += &format!(
            "[plugins.watch]\npath = \"{}\"\n{grants}\nsettings = {{ mode = \"count\" }}\n",
            wasm("watch").display()
        );
    }
    let rt = runtime(dir.path(), &tables).await;
    let events: Vec<_> = (0..updates).map(|i| (i % 100 + 1, None, text(i % 100 + 1, "/touch"))).collect();
    let start = Instant::now();
    enqueue(&rt, events).await;
    rt.wait_idle(Duration::from_secs(600)).await.unwrap();
    let secs = start.elapsed().as_secs_f64();
    if observer {
        let (count, _) = rt.storage().kv_get("watch", "count").await.unwrap();
        assert_eq!(count.as_deref(), Some(updates.to_string().as_bytes()), "every update observed once");
    }
    rt.shutdown().await;
    secs
}

async fn observer_cost() {
    let dir = tempfile::tempdir().unwrap();
    let grants = "grants = [\"kv\", \"telegram\", \"events\", \"scheduler\"]\nhttp = [\"127.0.0.1\"]";
    let tables = format!(
        "[plugins.watch]\npath = \"{}\"\n{grants}\nsettings = {{ mode = \"count\" }}\n",
        wasm("watch").display()
    );
    let rt = runtime(dir.path(), &tables).await;
    let event = text(1, "hello");
    rt.measure_observe("watch", 1, &event, 200).await.unwrap();
    let iterations = 3_000;
    let elapsed = rt.measure_observe("watch", 1, &event, iterations).await.unwrap();
    let per_call = elapsed.as_secs_f64() * 1e6 / f64::from(iterations);
    println!("observer: instantiate+observe (one KV increment, not committed): {per_call:.1} µs per observed update");
    rt.shutdown().await;
    let updates = 3_000;
    let without = observed_load(false, updates).await;
    let with = observed_load(true, updates).await;
    let per_update = (with - without) * 1e6 / updates as f64;
    println!(
        "observer: end to end, {updates} updates across 100 chats until idle: {:.0} updates/s without an observer, \
         {:.0} with one counting each (a turn and a commit per observation, one at a time in its lane): \
         +{per_update:.0} µs wall per observed update",
        updates as f64 / without,
        updates as f64 / with,
    );
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    println!("== Wharf runtime benchmark ({} cores)", std::thread::available_parallelism().map_or(0, |n| n.get()));
    // `cargo bench --bench runtime -- observer`: only the observer's figures.
    if std::env::args().any(|a| a == "observer") {
        observer_cost().await;
        return;
    }
    instantiate_and_call(1).await;
    instantiate_and_call(6).await;
    throughput(1, 2_000, false).await;
    throughput(100, 100, false).await;
    throughput(100, 30, true).await;
    observer_cost().await;
}
