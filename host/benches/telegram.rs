//! `cargo bench --bench telegram [-- CASE…]`: prints the Telegram path's figures (no assertions).
//! Cases: `one-chat`, `many-chats`, `steady`, `outbox-limits`, `slow-api`, `sink` (all when none is named).
//!
//! 1. End-to-end updates/s and p50/p99 latency: emulator → poller → inbox → echo plugin
//!    → outbox → sender → emulator, over loopback (limits lifted, to measure the path).
//! 2. The outbox's achieved rate under Telegram's real limits, as a fraction of the
//!    configured 30 messages/s, and the 429s met.
//! 3. A slow Bot API (every send answered after 50 ms): 100 replies to 100 chats with
//!    limits lifted, and the outbox rate under the real limits.
//! 4. CPU time per update at a steady rate: the emulator runs on a runtime of its own
//!    (threads named `emulator`), and the CPU time of every other thread of the process
//!    (the bot's runtime, SQLite's worker, wasmtime's, the bench's own pushing loop) is
//!    read from `/proc/self/task` before and after.
//! 5. The log sink's cost: turns/s and CPU per turn with every turn recording one business
//!    event, with the admin log channel off and on (runs interleaved, twice each).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use wharf::config::{Config, TelegramConfig};
use wharf::telegram::Telegram;
use wharf::telegram::emulator::Emulator;
use wharf::telegram::limits::RateLimits;
use wharf::{Runtime, RuntimeOptions};

const TOKEN: &str = "1:bench";

/// The emulator's own runtime, so its CPU time can be told apart from the bot's.
static EMULATOR_RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();

fn emulator_rt() -> &'static tokio::runtime::Runtime {
    EMULATOR_RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("emulator")
            .enable_all()
            .build()
            .unwrap()
    })
}

/// CPU seconds (user + system) used so far by this process's threads not named `emulator`.
/// Threads that already exited are not counted (the bot's threads live through a case).
fn bot_cpu_secs() -> f64 {
    // Clock ticks per second (USER_HZ) are 100 on Linux.
    const TICKS: f64 = 100.0;
    let mut ticks = 0u64;
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else { continue };
        let Some((head, rest)) = stat.rsplit_once(')') else { continue };
        if head.contains("(emulator") {
            continue;
        }
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // After the command name: state is field 3; utime and stime are fields 14 and 15.
        ticks += fields[11].parse::<u64>().unwrap_or(0) + fields[12].parse::<u64>().unwrap_or(0);
    }
    ticks as f64 / TICKS
}

async fn setup(limits: RateLimits) -> (Emulator, Runtime, Telegram, tempfile::TempDir) {
    setup_slow(limits, None).await
}

/// As [`setup`], with the emulator answering every send after `delay`.
async fn setup_slow(limits: RateLimits, delay: Option<Duration>) -> (Emulator, Runtime, Telegram, tempfile::TempDir) {
    let echo = format!("[plugins.echo]\npath = \"{}\"\ngrants = [\"telegram.send\"]\n", wasm("echo").display());
    setup_with(limits, delay, &echo).await
}

fn wasm(name: &str) -> PathBuf {
    PathBuf::from(env!("WHARF_PLUGIN_DIR")).join(format!("{name}.wasm"))
}

/// A bot with config `tables` (plugins and more) behind a fresh emulator.
async fn setup_with(
    limits: RateLimits,
    delay: Option<Duration>,
    tables: &str,
) -> (Emulator, Runtime, Telegram, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let plugin_dir = PathBuf::from(env!("WHARF_PLUGIN_DIR"));
    let text = format!(
        "[storage]\nurl = \"sqlite:{}\"\n[runtime]\ncache_dir = \"{}\"\nwatch = false\n{tables}",
        dir.path().join("bench.db").display(),
        plugin_dir.join("../../../wharf-bench-cache").display(),
    );
    let config = Config::parse(&text, dir.path()).unwrap();
    let emu = emulator_rt().spawn(Emulator::start(([127, 0, 0, 1], 0).into(), TOKEN)).await.unwrap().unwrap();
    emu.enforce_limits(Some(limits));
    emu.set_send_delay(delay);
    let rt = Runtime::start(&config, RuntimeOptions::default()).await.unwrap();
    let mut cfg = TelegramConfig::polling(&emu.api_url());
    cfg.limits = limits;
    let tg = Telegram::start(rt.link(), &cfg, TOKEN).await.unwrap();
    rt.wait_idle(Duration::from_secs(60)).await.unwrap();
    (emu, rt, tg, dir)
}

/// Sorted delays from pushing each update to the emulator receiving its reply.
fn latencies(emu: &Emulator, chats: i64, pushed: &HashMap<(i64, String), Instant>) -> Vec<Duration> {
    let mut lat: Vec<Duration> = (1..=chats)
        .flat_map(|c| emu.sent(c).into_iter().map(move |m| (c, m)))
        .filter_map(|(c, m)| Some(m.at?.saturating_duration_since(*pushed.get(&(c, m.text.clone()))?)))
        .collect();
    lat.sort();
    lat
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

async fn end_to_end(chats: i64, per_chat: usize) {
    let (emu, rt, tg, _dir) = setup(RateLimits::default().scaled(10_000.0)).await;
    let mut pushed: HashMap<(i64, String), Instant> = HashMap::new();
    let start = Instant::now();
    for round in 0..per_chat {
        for chat in 1..=chats {
            let text = format!("m{round}");
            pushed.insert((chat, text.clone()), Instant::now());
            emu.send_text(chat, &format!("/echo {text}"));
        }
    }
    let total = chats as usize * per_chat;
    let all =
        emu.wait_sent(Duration::from_secs(600), |e| (1..=chats).map(|c| e.sent_count(c)).sum::<usize>() == total).await;
    let secs = start.elapsed().as_secs_f64();
    assert!(all, "not every reply arrived");
    let lat = latencies(&emu, chats, &pushed);
    println!(
        "end to end, {total} updates across {chats} chats: {:.0} updates/s; latency p50 {:.1} ms, p99 {:.1} ms",
        total as f64 / secs,
        percentile(&lat, 0.5).as_secs_f64() * 1e3,
        percentile(&lat, 0.99).as_secs_f64() * 1e3
    );
    tg.stop().await;
    rt.shutdown().await;
}

async fn steady(chats: i64, rate: f64, seconds: f64) {
    let (emu, rt, tg, _dir) = setup(RateLimits::default().scaled(10_000.0)).await;
    let total = (rate * seconds) as i64;
    let mut pushed: HashMap<(i64, String), Instant> = HashMap::new();
    let cpu_before = bot_cpu_secs();
    let start = Instant::now();
    for i in 0..total {
        tokio::time::sleep_until((start + Duration::from_secs_f64(i as f64 / rate)).into()).await;
        let chat = i % chats + 1;
        let text = format!("m{i}");
        pushed.insert((chat, text.clone()), Instant::now());
        emu.send_text(chat, &format!("/echo {text}"));
    }
    let all = emu
        .wait_sent(Duration::from_secs(600), |e| (1..=chats).map(|c| e.sent_count(c) as i64).sum::<i64>() == total)
        .await;
    assert!(all, "not every reply arrived");
    let cpu = bot_cpu_secs() - cpu_before;
    let lat = latencies(&emu, chats, &pushed);
    println!(
        "  at a steady {rate:.0} updates/s across {chats} chats: latency p50 {:.1} ms, p99 {:.1} ms ({total} updates); \
         CPU time of the bot {:.2} ms per update (emulator excluded)",
        percentile(&lat, 0.5).as_secs_f64() * 1e3,
        percentile(&lat, 0.99).as_secs_f64() * 1e3,
        cpu * 1e3 / total as f64
    );
    tg.stop().await;
    rt.shutdown().await;
}

/// 100 replies to 100 chats with every send answered after 50 ms (limits lifted): the
/// time from the first update pushed to the last reply received.
async fn slow_api_replies(chats: i64) {
    let (emu, rt, tg, _dir) = setup_slow(RateLimits::default().scaled(10_000.0), Some(Duration::from_millis(50))).await;
    let start = Instant::now();
    for chat in 1..=chats {
        emu.send_text(chat, "/echo hi");
    }
    let all = emu.wait_sent(Duration::from_secs(600), |e| (1..=chats).all(|c| e.sent_count(c) > 0)).await;
    let secs = start.elapsed().as_secs_f64();
    assert!(all, "not every reply arrived");
    println!(
        "Bot API answering each send after 50 ms: {chats} replies to {chats} chats in {secs:.2} s (at most {} sends in flight at once)",
        emu.max_concurrent("sendMessage")
    );
    tg.stop().await;
    rt.shutdown().await;
}

async fn outbox_rate(messages: i64, delay: Option<Duration>) {
    let limits = RateLimits::default();
    let (emu, rt, tg, _dir) = setup_slow(limits, delay).await;
    for chat in 1..=messages {
        emu.send_text(chat, "/echo hi");
    }
    // Time from the first reply to the last: the sender's own pace.
    let all = emu.wait_sent(Duration::from_secs(600), |e| (1..=messages).all(|c| e.sent_count(c) > 0)).await;
    assert!(all, "not every reply arrived");
    let mut at: Vec<Instant> = (1..=messages).filter_map(|c| emu.sent(c).first().and_then(|m| m.at)).collect();
    at.sort();
    // The first `global_per_sec` go out as a burst; the rate is measured after it.
    let burst = limits.global_per_sec as usize;
    let steady = &at[burst..];
    let secs = steady.last().unwrap().duration_since(steady[0]).as_secs_f64();
    let rate = (steady.len() - 1) as f64 / secs;
    let slow = delay.map_or(String::new(), |d| format!(", each send answered after {} ms", d.as_millis()));
    println!(
        "outbox to {messages} chats under Telegram's limits{slow}: {rate:.1} msg/s after the initial burst = {:.1} % of the configured {} msg/s; 429 responses: {}",
        100.0 * rate / limits.global_per_sec,
        limits.global_per_sec,
        emu.too_many()
    );
    tg.stop().await;
    rt.shutdown().await;
}

/// Wall time over which both sink runs measure CPU (the turns, the sink catching up, idle).
const SINK_WINDOW: Duration = Duration::from_secs(15);

/// One run of the sink case: (turns/s, CPU ms per turn over [`SINK_WINDOW`], digests sent).
async fn sink_run(on: bool, turns: i64, chats: i64) -> (f64, f64, usize) {
    let mut tables = format!(
        "[plugins.probe]\npath = \"{}\"\ngrants = [\"kv\", \"telegram\", \"events\", \"scheduler\"]\nhttp = [\"127.0.0.1\"]\n",
        wasm("probe").display()
    );
    if on {
        tables.push_str("[log_sink]\nchat_id = -100500\n");
    }
    let (emu, rt, tg, _dir) = setup_with(RateLimits::default(), None, &tables).await;
    let events: Vec<_> =
        (0..turns).map(|i| (i % chats + 1, None, wharf::event::text(i % chats + 1, "/logs 1"))).collect();
    let cpu = bot_cpu_secs();
    let start = Instant::now();
    for chunk in events.chunks(1_000) {
        rt.enqueue_many(chunk).await.unwrap();
    }
    rt.wait_idle(Duration::from_secs(600)).await.unwrap();
    let per_s = turns as f64 / start.elapsed().as_secs_f64();
    if on {
        // Until the sink has put every event into a digest.
        let last = rt.storage().last_event_id().await.unwrap();
        loop {
            let (cursor, _) = rt.storage().kv_get("wharf.sink", "cursor").await.unwrap();
            let cursor: i64 = cursor.and_then(|c| String::from_utf8(c).ok()?.parse().ok()).unwrap_or(0);
            if cursor >= last {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(emu.sent_count(-100_500) > 0, "the channel got digests");
    }
    assert!(start.elapsed() < SINK_WINDOW, "the run took longer than the measuring window");
    tokio::time::sleep_until((start + SINK_WINDOW).into()).await;
    let cpu_ms = (bot_cpu_secs() - cpu) * 1e3 / turns as f64;
    let digests = emu.sent_count(-100_500);
    tg.stop().await;
    rt.shutdown().await;
    (per_s, cpu_ms, digests)
}

async fn sink_cost(turns: i64, chats: i64) {
    let mut figures: HashMap<bool, Vec<(f64, f64)>> = HashMap::new();
    let mut digests = 0;
    for _ in 0..2 {
        for on in [false, true] {
            let (per_s, cpu, sent) = sink_run(on, turns, chats).await;
            figures.entry(on).or_default().push((per_s, cpu));
            digests = digests.max(sent);
        }
    }
    let mean = |v: &[(f64, f64)]| {
        let n = v.len() as f64;
        (v.iter().map(|f| f.0).sum::<f64>() / n, v.iter().map(|f| f.1).sum::<f64>() / n)
    };
    let (off, on) = (mean(&figures[&false]), mean(&figures[&true]));
    for (name, (per_s, cpu)) in [("off", off), ("on ", on)] {
        println!(
            "log sink {name}: {turns} turns across {chats} chats, one business event each: {per_s:.0} turns/s, \
             {cpu:.2} ms CPU per turn (all CPU over {} s)",
            SINK_WINDOW.as_secs()
        );
    }
    println!("  with the sink on, the channel got {digests} digest messages");
    println!(
        "log sink cost: {:+.1} % turns/s, {:+.1} % CPU per turn",
        (on.0 / off.0 - 1.0) * 100.0,
        (on.1 / off.1 - 1.0) * 100.0
    );
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    // `cargo bench --bench telegram -- steady` runs only the cases whose name contains a word given.
    let only: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let run = |name: &str| only.is_empty() || only.iter().any(|w| name.contains(w.as_str()));
    println!("== Wharf Telegram benchmark ({} cores)", std::thread::available_parallelism().map_or(0, |n| n.get()));
    if run("one-chat") {
        end_to_end(1, 2_000).await;
    }
    if run("many-chats") {
        end_to_end(200, 25).await;
    }
    if run("steady") {
        steady(100, 200.0, 5.0).await;
    }
    if run("outbox-limits") {
        outbox_rate(600, None).await;
    }
    if run("slow-api") {
        slow_api_replies(100).await;
        outbox_rate(600, Some(Duration::from_millis(50))).await;
    }
    if run("sink") {
        sink_cost(5_000, 100).await;
    }
}
