//! The admin listener over real HTTP: `/metrics` parsed by a Prometheus text parser and
//! moving with traffic, `/healthz`, `/readyz` going 503 when the database goes away
//! (on PostgreSQL, when `WHARF_TEST_DATABASE_URL` is set: a database made for the test
//! is closed to connections and its sessions terminated, then opened again; an embedded
//! SQLite file cannot be taken away from a process that holds it open, so SQLite is
//! checked for the 200 case only), a public address refused (see the golden
//! `admin_public`), a breaker trip surviving a restart until `wharf plugin enable`, a
//! client hammering `/metrics` not starving a chat, and a plugin inventing event kinds
//! not growing the label set.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use wharf::admin::{AdminServer, router};
use wharf::config::{AdminConfig, Config};
use wharf::metrics::{MAX_KINDS, TurnOutcome};
use wharf::{Runtime, RuntimeOptions};

use crate::cli::wharf;
use crate::common::*;
use crate::telegram::{WAIT, bot, echo_and_probe};

async fn admin(rt: &Runtime) -> AdminServer {
    AdminServer::start(&AdminConfig::loopback(0), router(rt.observer())).await.unwrap()
}

async fn get(addr: SocketAddr, path: &str) -> (u16, String, String) {
    let r = reqwest::get(format!("http://{addr}{path}")).await.unwrap();
    let status = r.status().as_u16();
    let kind = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, kind, r.text().await.unwrap())
}

async fn scrape(addr: SocketAddr) -> prometheus_parse::Scrape {
    let (status, kind, body) = get(addr, "/metrics").await;
    assert_eq!(status, 200);
    assert_eq!(kind, "text/plain; version=0.0.4; charset=utf-8");
    prometheus_parse::Scrape::parse(body.lines().map(|l| Ok(l.to_owned()))).unwrap()
}

/// The value of the sample `name` whose labels include `labels` (0 when absent).
fn value(s: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    s.samples
        .iter()
        .filter(|x| x.metric == name && labels.iter().all(|(k, v)| x.labels.get(k) == Some(*v)))
        .map(|x| match x.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => 0.0,
        })
        .sum()
}

async fn until<F: std::future::Future<Output = bool>>(what: &str, mut f: impl FnMut() -> F) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !f().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_parse_as_prometheus_text_and_move_with_traffic() {
    let b = bot(&echo_and_probe()).await;
    let server = admin(&b.h.rt).await;
    let addr = server.local_addr();
    assert_eq!(get(addr, "/healthz").await.2, "ok");
    b.h.idle().await;
    let before = scrape(addr).await;
    for name in
        ["process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds", "process_start_time_seconds"]
    {
        assert!(before.samples.iter().any(|s| s.metric == name), "{name} missing");
    }
    assert!(before.docs.contains_key("wharf_turns"), "families carry their HELP");
    let committed = value(&before, "wharf_turns_total", &[("outcome", "committed")]);
    let ok = value(&before, "wharf_telegram_sends_total", &[("method", "sendMessage"), ("outcome", "ok")]);
    for chat in [5, 6, 7] {
        b.emu.send_text(chat, "/echo hi");
    }
    assert!(b.emu.wait_sent(WAIT, |e| [5, 6, 7].iter().all(|c| e.texts(*c) == ["hi"])).await);
    b.h.idle().await;
    until("the sends are counted", || async {
        let s = scrape(addr).await;
        value(&s, "wharf_telegram_sends_total", &[("method", "sendMessage"), ("outcome", "ok")]) >= ok + 3.0
    })
    .await;
    let after = scrape(addr).await;
    assert_eq!(value(&after, "wharf_turns_total", &[("outcome", "committed")]), committed + 3.0);
    let calls = after
        .samples
        .iter()
        .find(|s| s.metric == "wharf_plugin_call_duration_seconds" && s.labels.get("plugin") == Some("echo"));
    match calls.map(|s| &s.value) {
        Some(prometheus_parse::Value::Histogram(buckets)) => {
            assert!(buckets.last().is_some_and(|b| b.count >= 3.0), "{buckets:?}")
        }
        other => panic!("no histogram of echo's calls: {other:?}"),
    }
    assert!(value(&after, "wharf_telegram_last_success_timestamp_seconds", &[]) > 0.0);
    assert_eq!(value(&after, "wharf_plugin_breaker_open", &[("plugin", "echo")]), 0.0);
    assert_eq!(value(&after, "wharf_inbox_depth", &[]), 0.0);
    let (status, _, body) = get(addr, "/readyz").await;
    assert_eq!(status, 200, "{body}");
    let ready: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(ready["database"]["reachable"], true);
    assert!(ready["telegram"]["last_success_ms"].as_i64().is_some());
    assert_eq!(ready["plugins"]["loaded"].as_array().unwrap().len(), 2);
    server.stop().await;
    assert!(reqwest::get(format!("http://{addr}/healthz")).await.is_err(), "stopped listening");
    b.h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_is_503_while_postgres_refuses_connections_and_200_when_back() {
    let Ok(url) = std::env::var("WHARF_TEST_DATABASE_URL") else { return };
    use sqlx::Connection as _;
    let db = format!("wharf_ready_{}", std::process::id());
    let mut pg = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::query(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).execute(&mut pg).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {db}")).execute(&mut pg).await.unwrap();
    let own = match url.rfind('/') {
        Some(i) => format!("{}/{db}", &url[..i]),
        None => panic!("{url} names no database"),
    };
    let h = start_on(&Db::Postgres(own), &plugin("echo", "echo", r#"grants = ["telegram.send"]"#), "").await;
    let server = admin(&h.rt).await;
    let addr = server.local_addr();
    assert_eq!(get(addr, "/readyz").await.0, 200);
    sqlx::query(&format!("ALTER DATABASE {db} ALLOW_CONNECTIONS false")).execute(&mut pg).await.unwrap();
    sqlx::query(&format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}'"))
        .execute(&mut pg)
        .await
        .unwrap();
    until("readyz says 503", || async { get(addr, "/readyz").await.0 == 503 }).await;
    let (_, _, body) = get(addr, "/readyz").await;
    let ready: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!((ready["ready"].as_bool(), ready["database"]["reachable"].as_bool()), (Some(false), Some(false)));
    assert_eq!(get(addr, "/healthz").await.0, 200, "alive all the same");
    sqlx::query(&format!("ALTER DATABASE {db} ALLOW_CONNECTIONS true")).execute(&mut pg).await.unwrap();
    until("readyz says 200 again", || async { get(addr, "/readyz").await.0 == 200 }).await;
    server.stop().await;
    drop(h);
    sqlx::query(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).execute(&mut pg).await.unwrap();
}

/// Start a runtime on the config file `path` (manual clock).
async fn runtime_from(path: &std::path::Path) -> Runtime {
    let config = Config::load(path).unwrap();
    let opts = RuntimeOptions { clock: wharf::clock::Clock::manual(T0), ..RuntimeOptions::default() };
    Runtime::start(&config, opts).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_breaker_trip_survives_a_restart_until_an_admin_enables_the_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let bad = |wasm_name: &str| {
        plugin("bad", wasm_name, &format!("{ALL}\nsettings = {{ mode = \"trap\", prefix = \"bad\" }}"))
    };
    let path = dir.path().join("config.toml");
    std::fs::write(&path, config_text(dir.path(), &Db::Sqlite, &bad("probe"), "max_failures = 2")).unwrap();
    let rt = runtime_from(&path).await;
    for chat in [1, 2, 3] {
        rt.enqueue(chat, &wharf::event::text(chat, "/get x")).await.unwrap();
        rt.wait_idle(IDLE).await.unwrap();
    }
    assert!(rt.is_disabled("bad"));
    let failures = rt.metrics().plugin_malfunctions("bad");
    rt.shutdown().await;

    let rt = runtime_from(&path).await;
    assert!(rt.is_disabled("bad"), "still disabled after the restart");
    let server = admin(&rt).await;
    let s = scrape(server.local_addr()).await;
    assert_eq!(value(&s, "wharf_plugin_breaker_open", &[("plugin", "bad")]), 1.0);
    let (_, _, body) = get(server.local_addr(), "/readyz").await;
    assert!(body.contains(r#""disabled":["bad"]"#), "{body}");
    rt.enqueue(4, &wharf::event::text(4, "/get x")).await.unwrap();
    rt.wait_idle(IDLE).await.unwrap();
    assert_eq!(rt.metrics().plugin_malfunctions("bad"), 0, "not called after the restart ({failures} before)");

    let config = path.to_str().unwrap();
    let (ok, out, err) = tokio::task::spawn_blocking({
        let config = config.to_owned();
        move || wharf(&["plugin", "disabled", "--config", &config])
    })
    .await
    .unwrap();
    assert!(ok && out.starts_with("bad\t"), "{out}{err}");
    let (ok, out, err) = tokio::task::spawn_blocking({
        let config = config.to_owned();
        move || wharf(&["plugin", "enable", "bad", "--config", &config])
    })
    .await
    .unwrap();
    assert!(ok && out.contains("bad: enabled"), "{out}{err}");
    until("the running bot enables it", || async { !rt.is_disabled("bad") }).await;
    rt.enqueue(5, &wharf::event::text(5, "/get x")).await.unwrap();
    rt.wait_idle(IDLE).await.unwrap();
    assert_eq!(rt.metrics().plugin_malfunctions("bad"), 1, "called (and trapping) again");
    server.stop().await;
    rt.shutdown().await;

    // Tripped again; a different component of the plugin loads enabled.
    let rt = runtime_from(&path).await;
    for chat in [6, 7] {
        rt.enqueue(chat, &wharf::event::text(chat, "/get x")).await.unwrap();
        rt.wait_idle(IDLE).await.unwrap();
    }
    assert!(rt.is_disabled("bad"), "two failures in a row open it again");
    assert_eq!(rt.storage().disabled_plugins().await.unwrap().len(), 1);
    rt.shutdown().await;
    std::fs::write(&path, config_text(dir.path(), &Db::Sqlite, &bad("probe_v2"), "max_failures = 2")).unwrap();
    let rt = runtime_from(&path).await;
    assert!(!rt.is_disabled("bad"), "a new component is not held to the old one's trip");
    assert!(rt.storage().disabled_plugins().await.unwrap().is_empty());
    rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_hammering_metrics_does_not_starve_a_chat() {
    let b = bot(&echo_and_probe()).await;
    let server = admin(&b.h.rt).await;
    let addr = server.local_addr();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let scrapes = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut hammers = Vec::new();
    for _ in 0..4 {
        let (stop, scrapes) = (stop.clone(), scrapes.clone());
        hammers.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                if client.get(format!("http://{addr}/metrics")).send().await.is_ok() {
                    scrapes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }));
    }
    until("the hammering has begun", || async { scrapes.load(std::sync::atomic::Ordering::Relaxed) >= 50 }).await;
    for round in 0..3 {
        b.emu.send_text(9, &format!("/echo round {round}"));
        assert!(b.emu.wait_sent(WAIT, |e| e.texts(9).len() == round + 1).await, "round {round} not answered");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for h in hammers {
        h.await.unwrap();
    }
    assert_eq!(b.emu.texts(9), ["round 0", "round 1", "round 2"]);
    server.stop().await;
    b.h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_inventing_event_kinds_cannot_grow_the_label_set() {
    let h = start(&plugin("probe", "probe", ALL)).await;
    for chat in [1, 2, 3] {
        h.say(chat, "/kinds 100").await;
        h.idle().await;
    }
    let m = h.rt.metrics();
    assert_eq!(m.turns(TurnOutcome::Committed), 4, "installed + three /kinds");
    assert_eq!(m.business_events("other"), (300 - MAX_KINDS) as u64, "past the cap everything is other");
    let server = admin(&h.rt).await;
    let s = scrape(server.local_addr()).await;
    let kinds: std::collections::HashSet<&str> = s
        .samples
        .iter()
        .filter(|x| x.metric == "wharf_business_events_total")
        .filter_map(|x| x.labels.get("kind"))
        .collect();
    assert_eq!(kinds.len(), MAX_KINDS + 1, "200 kinds and other");
    assert_eq!(value(&s, "wharf_business_events_total", &[]), 300.0, "every event counted");
    server.stop().await;
    h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_plugins_and_queue_lag_are_stored_on_every_backend() {
    for db in databases() {
        let h = start_on(&db, &plugin("probe", "probe", ALL), "").await;
        let storage = h.rt.storage();
        let mut d = wharf::storage::DisabledPlugin {
            plugin: "probe".into(),
            disabled_at_ms: T0,
            reason: "2 consecutive failures".into(),
            digest: "ab".repeat(32),
            version: "1.0.0".into(),
        };
        storage.disable_plugin(&d).await.unwrap();
        d.disabled_at_ms = T0 + 1;
        storage.disable_plugin(&d).await.unwrap();
        assert_eq!(storage.disabled_plugins().await.unwrap(), [d.clone()], "{db:?}: one row, the latest");
        assert!(storage.enable_plugin("probe").await.unwrap());
        assert!(!storage.enable_plugin("probe").await.unwrap(), "{db:?}: enabled once");
        h.idle().await;
        let empty = storage.queue_lag().await.unwrap();
        assert_eq!((empty.inbox.depth, empty.inbox.oldest_ms), (0, None), "{db:?}");
        // Without a Telegram front end the outbox keeps what turns queue.
        h.say(5, "/send one").await;
        h.say(5, "/send two").await;
        h.idle().await;
        let lag = storage.queue_lag().await.unwrap();
        assert_eq!((lag.outbox.depth, lag.outbox.oldest_ms), (empty.outbox.depth + 2, Some(T0)), "{db:?}");
        h.rt.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wharf_run_serves_the_admin_listener_and_stops_it_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let text = config_text(dir.path(), &Db::Sqlite, &plugin("echo", "echo", r#"grants = ["telegram.send"]"#), "")
        + &format!("[telegram]\nmode = \"none\"\n[admin]\nlisten = \"127.0.0.1:{port}\"\n");
    let path = dir.path().join("config.toml");
    std::fs::write(&path, text).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_wharf"))
        .args(["run", "--config", path.to_str().unwrap()])
        .env("WHARF_LOG", "error")
        .spawn()
        .unwrap();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    until("the admin listener answers", || async {
        reqwest::get(format!("http://{addr}/healthz")).await.is_ok_and(|r| r.status() == 200)
    })
    .await;
    let s = scrape(addr).await;
    assert!(s.samples.iter().any(|x| x.metric == "wharf_turns_total"), "the runtime's metrics are served");
    assert_eq!(get(addr, "/readyz").await.0, 200);
    let term = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(term.success());
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap()).await.unwrap();
    assert!(status.success(), "{status}");
    assert!(reqwest::get(format!("http://{addr}/healthz")).await.is_err(), "nothing listens any more");
}
