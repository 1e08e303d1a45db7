//! `wharf logs` (the real binary over a database with recorded events), the event log's
//! retention (storage batches on both backends, the running bot on the manual clock) and
//! `wharf run --log-dir`.

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use wharf::storage::{EventFilter, NewLogEvent, Storage};

use crate::cli::wharf;
use crate::common::{T0, databases};

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;
/// 2026-11-30 00:00 in Warsaw (23:00 UTC the day before).
const NOV30_WARSAW: i64 = 1_796_079_600_000 - DAY;

fn now_ms() -> i64 {
    wharf::clock::Clock::system().now_ms()
}

fn ev(plugin: &str, kind: &str, user: Option<i64>, fields: &[(&str, &str)]) -> NewLogEvent {
    let mut e = NewLogEvent::host(kind, "", "");
    e.plugin = plugin.into();
    e.title = None;
    e.emoji = None;
    e.user_id = user;
    e.fields = fields.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    e
}

/// A config over a fresh SQLite database in a temporary directory (times in Warsaw), and
/// the database opened.
async fn setup() -> (tempfile::TempDir, PathBuf, Storage) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[storage]\nurl = \"sqlite:data/wharf.db\"\n[log_sink]\ntimezone = \"Europe/Warsaw\"\n")
        .unwrap();
    let db = dir.path().join("data/wharf.db");
    let storage = Storage::open(&format!("sqlite:{}", db.display()), None).await.unwrap();
    (dir, config, storage)
}

/// `wharf logs ARGS --config CONFIG`: success, stdout lines, stderr.
fn logs(config: &Path, args: &[&str]) -> (bool, Vec<String>, String) {
    let mut all = vec!["logs"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--config", config.to_str().unwrap()]);
    let (ok, out, err) = wharf(&all);
    (ok, out.lines().map(str::to_owned).collect(), err)
}

/// The kinds of the JSON lines `wharf logs ARGS --json` prints, in order.
fn kinds(config: &Path, args: &[&str]) -> Vec<String> {
    let mut all = args.to_vec();
    all.push("--json");
    let (ok, lines, err) = logs(config, &all);
    assert!(ok, "{args:?}: {err}");
    lines.iter().map(|l| json(l)["kind"].as_str().unwrap().to_owned()).collect()
}

fn json(line: &str) -> serde_json::Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
}

/// Events at known distances from now.
async fn record_recent(storage: &Storage) -> i64 {
    let now = now_ms();
    let mut sale = ev("shop", "purchase.succeeded", Some(1), &[("order", "3"), ("price", "40 PLN")]);
    sale.title = Some("Purchase successful".into());
    sale.emoji = Some("🛒".into());
    let failed = ev("shop", "purchase.failed", Some(2), &[("reason", "insufficient_funds")])
        .level(wharf::config::LogLevel::Warn);
    let mut forged = ev("fixture", "a_b.x", None, &[("note", "line\n01/01/2020 00:00:00  error  forged")]);
    forged.title = Some("two\nlines".into());
    for (ago, e) in [
        (3 * HOUR, sale),
        (90 * MIN, failed),
        (10 * MIN, ev("wallet", "wallet.credit", Some(1), &[("amount", "200")])),
        (5 * MIN, NewLogEvent::host("user.started", "New user", "👋").user(3)),
        (2 * MIN, ev("fixture", "axb.x", None, &[])),
        (MIN, forged),
    ] {
        storage.record_events(&[e], now - ago).await.unwrap();
    }
    now
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_lists_filters_and_prints_json_lines() {
    let (_dir, config, storage) = setup().await;
    record_recent(&storage).await;

    let (ok, lines, err) = logs(&config, &[]);
    assert!(ok, "{err}");
    assert_eq!(lines.len(), 7, "a heading and six rows, one line each (no forged lines): {lines:#?}");
    assert!(lines[0].starts_with("TIME") && lines[0].ends_with("FIELDS"), "{}", lines[0]);
    assert!(lines[1].contains("  info   shop") && lines[1].contains("purchase.succeeded"), "{}", lines[1]);
    assert!(lines[1].contains("Purchase successful") && lines[1].ends_with("order=3  price=\"40 PLN\""));
    assert!(lines[2].contains("warn") && lines[2].contains("reason=insufficient_funds"), "{}", lines[2]);
    assert!(lines[6].contains("two\\nlines") && lines[6].contains("note=\"line\\n01/01/2020"), "{}", lines[6]);

    let all = ["purchase.succeeded", "purchase.failed", "wallet.credit", "user.started", "axb.x", "a_b.x"];
    assert_eq!(kinds(&config, &[]), all, "oldest first");
    assert_eq!(kinds(&config, &["--kind", "purchase.*"]), ["purchase.succeeded", "purchase.failed"]);
    assert_eq!(kinds(&config, &["--kind", "*.credit"]), ["wallet.credit"]);
    assert_eq!(kinds(&config, &["--kind", "a_b.*"]), ["a_b.x"], "_ is no wildcard");
    assert_eq!(kinds(&config, &["--kind", "a_b.x"]), ["a_b.x"]);
    assert_eq!(kinds(&config, &["--kind", "PURCHASE.*"]), Vec::<String>::new(), "kinds are case-sensitive");
    assert_eq!(kinds(&config, &["--user", "1"]), ["purchase.succeeded", "wallet.credit"]);
    assert_eq!(kinds(&config, &["--plugin", "wharf"]), ["user.started"]);
    assert_eq!(kinds(&config, &["--plugin", "shop", "--user", "2"]), ["purchase.failed"]);
    assert_eq!(kinds(&config, &["--since", "2h"]), all[1..]);
    assert_eq!(kinds(&config, &["--since", "30m", "--until", "3m"]), ["wallet.credit", "user.started"]);
    assert_eq!(kinds(&config, &["--until", "1h"]), ["purchase.succeeded", "purchase.failed"]);
    assert_eq!(kinds(&config, &["--limit", "2"]), ["axb.x", "a_b.x"], "the newest two, oldest first");

    let (ok, lines, _) = logs(&config, &["--json", "--kind", "purchase.succeeded"]);
    assert!(ok);
    let row = json(&lines[0]);
    assert_eq!(row["plugin"], "shop");
    assert_eq!(row["level"], "info");
    assert_eq!(row["user_id"], 1);
    assert_eq!(row["title"], "Purchase successful");
    assert_eq!(row["emoji"], "🛒");
    assert_eq!(serde_json::to_string(&row["fields"]).unwrap(), r#"{"order":"3","price":"40 PLN"}"#, "in order");
    let time = jiff::Timestamp::from_millisecond(row["at_ms"].as_i64().unwrap()).unwrap();
    let warsaw = time.to_zoned(jiff::tz::TimeZone::get("Europe/Warsaw").unwrap());
    assert_eq!(row["time"], warsaw.strftime("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string(), "in the configured zone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn since_and_until_take_dates_in_the_configured_zone_and_stats_count_days() {
    let (_dir, config, storage) = setup().await;
    for (at, kind) in [
        (NOV30_WARSAW - 30 * MIN, "a.late"),   // 29 Nov 23:30 in Warsaw
        (NOV30_WARSAW + 30 * MIN, "b.early"),  // 30 Nov 00:30
        (NOV30_WARSAW + 13 * HOUR, "c.noon"),  // 30 Nov 13:00
        (NOV30_WARSAW + DAY + MIN, "d.next"),  // 1 Dec 00:01
        (NOV30_WARSAW + DAY + HOUR, "d.next"), // 1 Dec 01:00
    ] {
        storage.record_events(&[ev("p", kind, None, &[])], at).await.unwrap();
    }
    let day = ["--since", "2026-11-30", "--until", "2026-11-30"];
    assert_eq!(kinds(&config, &day), ["b.early", "c.noon"], "a date alone is the whole day, in Warsaw");
    assert_eq!(kinds(&config, &["--since", "2026-11-30T12:00"]), ["c.noon", "d.next", "d.next"]);
    assert_eq!(kinds(&config, &["--since", "2026-11-30 12:00", "--until", "2026-12-01T00:30"]), ["c.noon", "d.next"]);
    assert_eq!(kinds(&config, &["--until", "2026-11-29T23:00:00Z"]), ["a.late"], "an instant with its offset");

    let (ok, lines, err) = logs(&config, &["stats", "--by", "day"]);
    assert!(ok, "{err}");
    assert_eq!(
        lines,
        ["DAY         COUNT", "2026-11-29      1", "2026-11-30      2", "2026-12-01      2", "total           5"]
    );
    let (ok, lines, _) = logs(&config, &["stats", "--by", "day", "--json", "--since", "2026-11-30"]);
    assert!(ok);
    assert_eq!(lines, [r#"{"day":"2026-11-30","count":2}"#, r#"{"day":"2026-12-01","count":2}"#]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_count_by_kind_plugin_and_user_most_first() {
    let (_dir, config, storage) = setup().await;
    record_recent(&storage).await;
    let more = [
        ev("shop", "purchase.failed", Some(2), &[]),
        ev("shop", "purchase.failed", Some(2), &[]),
        ev("wallet", "wallet.credit", Some(2), &[]),
    ];
    storage.record_events(&more, now_ms() - MIN).await.unwrap();

    let (ok, lines, err) = logs(&config, &["stats"]);
    assert!(ok, "{err}");
    assert_eq!(lines[0], "KIND                COUNT");
    assert_eq!(lines[1], "purchase.failed         3");
    assert_eq!(lines[2], "wallet.credit           2");
    assert_eq!(lines[3], "a_b.x                   1", "ties by name");
    assert_eq!(lines.last().unwrap(), "total                   9");

    let counts = |args: &[&str]| -> Vec<serde_json::Value> {
        let mut all = vec!["stats", "--json"];
        all.extend_from_slice(args);
        let (ok, lines, err) = logs(&config, &all);
        assert!(ok, "{err}");
        lines.iter().map(|l| json(l)).collect()
    };
    let by_plugin = counts(&["--by", "plugin"]);
    assert_eq!(by_plugin[0], serde_json::json!({"plugin": "shop", "count": 4}));
    assert_eq!(by_plugin.len(), 4);
    let by_user = counts(&["--by", "user", "--kind", "purchase.*"]);
    assert_eq!(by_user, [serde_json::json!({"user": 2, "count": 3}), serde_json::json!({"user": 1, "count": 1})]);
    let nobody = counts(&["--by", "user", "--kind", "a*"]);
    assert_eq!(nobody, [serde_json::json!({"user": null, "count": 2})]);
    assert_eq!(
        counts(&["--since", "1h", "--kind", "wallet.*"]),
        [serde_json::json!({"kind": "wallet.credit", "count": 2})]
    );
}

/// `wharf logs --follow ARGS` with its stdout lines arriving on a channel.
fn follow(config: &Path, args: &[&str]) -> (Child, mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wharf"))
        .args(["logs", "--follow", "--config", config.to_str().unwrap()])
        .args(args)
        .env("WHARF_LOG", "error")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines() {
            if tx.send(line.unwrap()).is_err() {
                return;
            }
        }
    });
    (child, rx)
}

fn next_line(rx: &mpsc::Receiver<String>) -> String {
    rx.recv_timeout(Duration::from_secs(60)).expect("a line within a minute")
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "still running after a minute");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_prints_rows_committed_after_it_started_and_ends_on_ctrl_c() {
    let (_dir, config, storage) = setup().await;
    record_recent(&storage).await;
    let (mut child, rx) = follow(&config, &["--json", "--kind", "purchase.*", "--limit", "1"]);
    assert_eq!(json(&next_line(&rx))["kind"], "purchase.failed", "the newest match first");

    // One that does not match, then one that does: the next line is the second.
    storage.record_events(&[ev("wallet", "wallet.debit", Some(1), &[])], now_ms()).await.unwrap();
    storage.record_events(&[ev("shop", "purchase.cancelled", Some(4), &[])], now_ms()).await.unwrap();
    let line = json(&next_line(&rx));
    assert_eq!((line["kind"].as_str(), line["user_id"].as_i64()), (Some("purchase.cancelled"), Some(4)));
    storage.record_events(&[ev("shop", "purchase.expired", None, &[])], now_ms()).await.unwrap();
    assert_eq!(json(&next_line(&rx))["kind"], "purchase.expired");

    let int = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(int.success());
    assert!(wait_exit(&mut child).success(), "Ctrl-C ends it cleanly");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_ends_when_its_reader_goes_away() {
    let (_dir, config, storage) = setup().await;
    record_recent(&storage).await;
    let (mut child, rx) = follow(&config, &["--limit", "1"]);
    assert!(next_line(&rx).starts_with("TIME"));
    assert!(next_line(&rx).contains("a_b.x"));
    drop(rx); // the reader thread ends at its next line, closing the pipe
    storage.record_events(&[ev("shop", "purchase.expired", None, &[])], now_ms()).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "still following into a closed pipe");
        storage.record_events(&[ev("shop", "purchase.expired", None, &[])], now_ms()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(wait_exit(&mut child).success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_arguments_get_a_clear_error() {
    let (dir, config, storage) = setup().await;
    record_recent(&storage).await;
    for (args, expected) in [
        (&["--since", "yesterday"][..], "expected a time ago (30m, 2h, 7d) or a date"),
        (&["--until", "2026-13-01"], "--until"),
        (&["--kind", "a b"], "is not a kind glob"),
        (&["--limit", "0"], "--limit"),
        (&["--follow", "--until", "1h"], "cannot be used with"),
        (&["--since", "1h", "--until", "2h"], "--since is not before --until"),
        (&["stats", "--by", "month"], "possible values: kind, plugin, user, day"),
    ] {
        let (ok, lines, err) = logs(&config, args);
        assert!(!ok, "{args:?} was accepted: {lines:?}");
        assert!(err.contains(expected), "{args:?}: {err}");
    }
    let empty = dir.path().join("empty.toml");
    std::fs::write(&empty, "[storage]\nurl = \"sqlite:nowhere/none.db\"\n").unwrap();
    let (ok, _, err) = logs(&empty, &[]);
    assert!(!ok);
    assert!(err.contains("no database at") && err.contains("nowhere/none.db"), "{err}");
    assert!(!dir.path().join("nowhere").exists(), "no empty database was created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pruning_deletes_the_oldest_rows_in_batches_on_every_backend() {
    for db in databases() {
        let (s, _d) = crate::storage_suite::open(&db).await;
        let old: Vec<NewLogEvent> = (0..1_200).map(|i| ev("p", &format!("old.{i}"), None, &[])).collect();
        s.record_events(&old, T0 - 100 * DAY).await.unwrap();
        s.record_events(&[ev("p", "edge", None, &[])], T0 - 90 * DAY).await.unwrap();
        s.record_events(&[ev("p", "new", None, &[])], T0).await.unwrap();
        let mut batches = Vec::new();
        loop {
            let n = s.prune_events(T0 - 90 * DAY, 500).await.unwrap();
            batches.push(n);
            if n == 0 {
                break;
            }
        }
        assert_eq!(batches, [500, 500, 200, 0], "{db:?}");
        let left: Vec<String> = s.event_log().await.unwrap().into_iter().map(|r| r.kind).collect();
        assert_eq!(left, ["edge", "new"], "{db:?}: a row exactly at the cutoff stays");
        // The filters in SQL on this backend: `_` and case are literal.
        s.record_events(&[ev("p", "a_b", None, &[]), ev("p", "axb", None, &[]), ev("p", "A_B", None, &[])], T0)
            .await
            .unwrap();
        let glob = |g: &str| EventFilter { kind: Some(g.to_owned().try_into().unwrap()), ..EventFilter::default() };
        let found = s.newest_events(&glob("a_*"), 10).await.unwrap();
        assert_eq!(found.iter().map(|r| r.kind.as_str()).collect::<Vec<_>>(), ["a_b"], "{db:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_running_bot_prunes_old_events_on_the_host_clock() {
    let h = crate::common::start("[log_sink]\nkeep_days = 30\n").await;
    let s = h.rt.storage();
    s.record_events(&(0..1_100).map(|i| ev("p", &format!("old.{i}"), None, &[])).collect::<Vec<_>>(), T0 - 31 * DAY)
        .await
        .unwrap();
    s.record_events(&[ev("p", "edge", None, &[])], T0 - 30 * DAY + 2 * HOUR).await.unwrap();
    s.record_events(&[ev("p", "new", None, &[])], T0).await.unwrap();
    let kinds = || async { s.event_log().await.unwrap().into_iter().map(|r| r.kind).collect::<Vec<_>>() };

    // The next sweep is an hour of host time after the one at start.
    h.rt.clock().advance(Duration::from_millis(HOUR as u64));
    let deadline = Instant::now() + Duration::from_secs(60);
    while kinds().await.len() > 2 {
        assert!(Instant::now() < deadline, "old rows still there: {}", kinds().await.len());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(kinds().await, ["edge", "new"], "younger than 30 days at T0 + 1h");

    h.rt.clock().advance(Duration::from_millis(2 * HOUR as u64));
    while kinds().await.len() > 1 {
        assert!(Instant::now() < deadline, "the edge row is still there");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(kinds().await, ["new"]);
}

#[test]
fn run_with_a_log_dir_writes_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[storage]\nurl = \"sqlite:wharf.db\"\n[telegram]\nmode = \"none\"\n").unwrap();
    let logs = dir.path().join("logs");
    let mut child = Command::new(env!("CARGO_BIN_EXE_wharf"))
        .args(["run", "--config", config.to_str().unwrap(), "--log-dir", logs.to_str().unwrap(), "--log-keep", "3"])
        .env("WHARF_LOG", "info")
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = |line: &serde_json::Value| line["fields"]["message"] == "runtime started";
    let deadline = Instant::now() + Duration::from_secs(60);
    let (file, lines) = loop {
        let found = std::fs::read_dir(&logs).into_iter().flatten().flatten().find_map(|f| {
            let text = std::fs::read_to_string(f.path()).ok()?;
            let lines: Vec<serde_json::Value> = text.lines().map(json).collect();
            lines.iter().any(started).then(|| (f.file_name().to_string_lossy().into_owned(), lines))
        });
        if let Some(found) = found {
            break found;
        }
        assert!(Instant::now() < deadline, "no log file with \"runtime started\" in {}", logs.display());
        std::thread::sleep(Duration::from_millis(20));
    };
    let today = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
    assert_eq!(file, format!("wharf.{today}.log"));
    let line = lines.iter().find(|l| started(l)).unwrap();
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["target"], "wharf.runtime");
    assert!(line["timestamp"].is_string());
    let term = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(term.success());
    assert!(wait_exit(&mut child).success());
}
