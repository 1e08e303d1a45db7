//! Crash safety: `wharf run` as a child process is killed with SIGKILL at random moments
//! and restarted, many times. Every update must be applied exactly once, and every reply
//! sent at least once (a repeat is allowed only for the sends in flight at a kill: at
//! most one per chat and at most `max_in_flight` in all).

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use wharf::telegram::emulator::Emulator;

use crate::common::*;

const TOKEN: &str = "42:crash-test";
/// Sends in flight at once: the most that may repeat per kill.
const IN_FLIGHT: usize = 4;

fn spawn(config: &std::path::Path, log: &std::path::Path) -> Child {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
    Command::new(env!("CARGO_BIN_EXE_wharf"))
        .args(["run", "--config", config.to_str().unwrap()])
        .env("WHARF_CRASH_TOKEN", TOKEN)
        .env("WHARF_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_points_loses_nothing_and_applies_nothing_twice() {
    let seed: u64 = std::env::var("WHARF_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(rand::random);
    println!("crash test seed {seed} (set WHARF_CRASH_SEED to replay)");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let emu = Emulator::start(([127, 0, 0, 1], 0).into(), TOKEN).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    let plugins = plugin("probe", "probe", ALL);
    let text = config_text(dir.path(), &Db::Sqlite, &plugins, "")
        + &format!(
            "[telegram]\napi_url = \"{}\"\ntoken_env = \"WHARF_CRASH_TOKEN\"\nmax_in_flight = {IN_FLIGHT}\n",
            emu.api_url()
        );
    std::fs::write(&config, text).unwrap();
    let log = dir.path().join("wharf.log");

    const USERS: i64 = 20;
    const PER_USER: i64 = 15;
    let mut n = 0;
    let mut kills = 0;
    for round in 0..12 {
        // Feed more updates while the bot may or may not be running.
        if round < 6 {
            for _ in 0..(USERS * PER_USER / 6) {
                emu.send_text(n % USERS + 1, &format!("/mark {n}"));
                n += 1;
            }
        }
        let mut child = spawn(&config, &log);
        tokio::time::sleep(Duration::from_millis(rng.random_range(30..600))).await;
        child.kill().unwrap();
        child.wait().unwrap();
        kills += 1;
    }
    // Let a last instance finish the work.
    let mut child = spawn(&config, &log);
    let expected: HashMap<i64, usize> =
        (1..=USERS).map(|u| (u, (0..n).filter(|i| i % USERS + 1 == u).count())).collect();
    let done = emu
        .wait_sent(Duration::from_secs(180), |e| {
            expected.iter().all(|(u, want)| {
                let mut got: Vec<String> = e.texts(*u);
                got.dedup();
                got.len() >= *want
            })
        })
        .await;
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(done, "not every reply was sent; log:\n{}", std::fs::read_to_string(&log).unwrap_or_default());

    let storage = wharf::storage::Storage::open(&format!("sqlite:{}", dir.path().join("wharf.db").display()), None)
        .await
        .unwrap();
    for i in 0..n {
        let (v, _) = storage.kv_get("probe", &format!("seen:{i}")).await.unwrap();
        assert_eq!(v.as_deref(), Some(&b"1"[..]), "update {i} applied exactly once (seed {seed})");
    }
    let mut repeats = 0;
    for u in 1..=USERS {
        let texts = emu.texts(u);
        let mut seen = std::collections::HashSet::new();
        let mut mine = 0;
        for t in &texts {
            if !seen.insert(t.clone()) {
                mine += 1;
            }
        }
        assert!(
            mine <= kills,
            "user {u}: {mine} repeats for {kills} kills; one send per chat is in flight (seed {seed})"
        );
        repeats += mine;
        let want: std::collections::HashSet<String> =
            (0..n).filter(|i| i % USERS + 1 == u).map(|i| format!("marked {i}")).collect();
        assert_eq!(seen, want, "user {u}: every reply arrived (seed {seed})");
    }
    assert!(repeats <= kills * IN_FLIGHT, "{repeats} repeated messages for {kills} kills (seed {seed})");
    assert_eq!(storage.inbox_len().await.unwrap(), 0);
}
