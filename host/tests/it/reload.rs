//! Hot reload: swapping a module while turns flow, rejecting bad modules, the file
//! watcher, and the `upgraded` lifecycle event.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::*;

/// A probe whose `.wasm` lives in its own directory, so tests can replace it.
fn swappable(dir: &Path) -> String {
    let path = dir.join("probe.wasm");
    std::fs::copy(wasm("probe"), &path).unwrap();
    format!("[plugins.probe]\npath = \"{}\"\n{ALL}\n", path.display())
}

fn replace(dir: &Path, bytes: &[u8]) {
    // Write then rename, as a deploy would, so no reader sees half a file.
    let tmp = dir.join("probe.wasm.new");
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, dir.join("probe.wasm")).unwrap();
}

async fn wait_for(what: &str, mut cond: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !cond().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_under_load_handles_every_turn_once_by_one_version() {
    let plugins_dir = tempfile::tempdir().unwrap();
    let h = start(&swappable(plugins_dir.path())).await;
    let batch = |from: i64, to: i64| -> Vec<(i64, Option<String>, wharf::event::Event)> {
        (from..to).map(|n| (n % 10 + 1, None, wharf::event::text(n % 10 + 1, &format!("/mark {n}")))).collect()
    };
    h.rt.enqueue_many(&batch(0, 250)).await.unwrap();
    wait_for("some turns on v1", async || h.rt.metrics().turns(wharf::metrics::TurnOutcome::Committed) >= 50).await;
    replace(plugins_dir.path(), &std::fs::read(wasm("probe_v2")).unwrap());
    let report = h.rt.reload().await.unwrap();
    assert_eq!(report.swapped, ["probe"]);
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    h.rt.enqueue_many(&batch(250, 500)).await.unwrap();
    h.idle().await;

    let mut by_version = std::collections::BTreeMap::<String, usize>::new();
    for n in 0..500 {
        assert_eq!(h.kv::<i64>("probe", &format!("seen:{n}")).await, Some(1), "turn {n} handled exactly once");
        let v: String = h.kv("probe", &format!("by:{n}")).await.unwrap();
        if n >= 250 {
            assert_eq!(v, "2.0.0", "turn {n} was queued after the reload");
        }
        *by_version.entry(v).or_default() += 1;
    }
    assert!(by_version.get("1.0.0").copied().unwrap_or(0) >= 50, "{by_version:?}");
    assert_eq!(
        h.kv::<Vec<String>>("probe", "lifecycle").await.unwrap(),
        ["installed 1.0.0", "upgraded 1.0.0->2.0.0"],
        "upgraded exactly once"
    );

    // A broken module and one that fails the grant check are both rejected; v2 serves on.
    for (bytes, why) in [
        (b"not wasm at all".to_vec(), "is not a valid WebAssembly component"),
        (std::fs::read(wasm("teller")).unwrap(), "which no enabled plugin exports"),
    ] {
        replace(plugins_dir.path(), &bytes);
        let report = h.rt.reload().await.unwrap();
        assert!(report.swapped.is_empty());
        assert_eq!(report.rejected.len(), 1);
        assert!(report.rejected[0].1.contains(why), "{}", report.rejected[0].1);
        assert_eq!(h.rt.plugin_version("probe").as_deref(), Some("2.0.0"));
    }
    h.say(3, "/mark after-rejects").await;
    h.idle().await;
    assert_eq!(h.kv::<String>("probe", "by:after-rejects").await.as_deref(), Some("2.0.0"));
    assert_eq!(h.kv::<Vec<String>>("probe", "lifecycle").await.unwrap().len(), 2, "no lifecycle event for rejects");
    h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_the_file_on_disk_reloads_the_plugin() {
    let plugins_dir = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let text = config_text(dir.path(), &Db::Sqlite, &swappable(plugins_dir.path()), "");
    let config = wharf::config::Config::parse(&text, dir.path()).unwrap();
    let opts = wharf::RuntimeOptions { watch: Some(true), ..Default::default() };
    let rt = wharf::Runtime::start(&config, opts).await.unwrap();
    assert_eq!(rt.plugin_version("probe").as_deref(), Some("1.0.0"));
    replace(plugins_dir.path(), &std::fs::read(wasm("probe_v2")).unwrap());
    wait_for("the watcher to reload", async || rt.plugin_version("probe").as_deref() == Some("2.0.0")).await;
    rt.shutdown().await;
}

/// `[plugins.NAME]` whose module is a copy of `wasm_name` in `dir`, so tests can replace it.
fn swappable_as(dir: &Path, name: &str, wasm_name: &str, extra: &str) -> String {
    let path = dir.join(format!("{name}.wasm"));
    std::fs::copy(wasm(wasm_name), &path).unwrap();
    format!("[plugins.{name}]\npath = \"{}\"\n{extra}\n", path.display())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_that_clashes_is_rejected_and_the_running_plugins_keep_serving() {
    let dir = tempfile::tempdir().unwrap();
    // Two plugins listed before the wallet; each is reloaded with the impostor, which
    // takes its callback prefix from settings and declares /wallet.
    let plugins = swappable_as(
        dir.path(),
        "squatter",
        "noop",
        "grants = [\"telegram.send\"]\nsettings = { prefix = \"wallet\" }",
    ) + &swappable_as(
        dir.path(),
        "copycat",
        "noop",
        "grants = [\"telegram.send\"]\nsettings = { prefix = \"cat\" }",
    ) + &plugin("wallet", "wallet", r#"grants = ["kv", "telegram.send", "events"]"#);
    let h = start(&plugins).await;
    let press = async || {
        h.rt.enqueue(7, &wharf::event::callback(7, "wallet:dep")).await.unwrap();
        h.idle().await;
        h.sent(7).await
    };
    assert!(press().await.iter().any(|t| t.contains("How do you want to pay")), "the wallet has its button");

    for (name, why) in [
        ("squatter", "callback prefix \"wallet\" is already used by plugin wallet"),
        ("copycat", "the new module declares /wallet, which plugin wallet already handles"),
    ] {
        std::fs::copy(wasm("impostor"), dir.path().join(format!("{name}.wasm.new"))).unwrap();
        std::fs::rename(dir.path().join(format!("{name}.wasm.new")), dir.path().join(format!("{name}.wasm"))).unwrap();
        let report = h.rt.reload().await.unwrap();
        assert!(report.swapped.is_empty(), "{name}: {:?}", report.swapped);
        assert_eq!(report.rejected.len(), 1, "{name}: {:?}", report.rejected);
        assert_eq!(report.rejected[0].0, name);
        assert!(report.rejected[0].1.contains(why), "{name}: {}", report.rejected[0].1);
        assert_eq!(h.rt.plugin_version(name).as_deref(), Some("1.0.0"), "{name}: the running module keeps serving");
        assert!(h.rt.plugin_version("wallet").is_some(), "{name}: the wallet is still loaded");

        let sent = press().await;
        let answers = sent.iter().filter(|t| t.contains("How do you want to pay")).count();
        assert!(answers >= 2, "{name}: the wallet still answers its buttons: {sent:?}");
        assert!(!sent.iter().any(|t| t.contains("impostor")), "{name}: {sent:?}");
        h.say(7, "/wallet").await;
        h.idle().await;
        assert!(h.sent(7).await.last().is_some_and(|t| t.contains("Your wallet")), "{name}: /wallet still works");

        let notices = h.sent(1000).await;
        let notice = notices.iter().find(|t| t.contains(&format!("The new module of plugin {name} was rejected")));
        let notice = notice.unwrap_or_else(|| panic!("{name}: the admin was told: {notices:?}"));
        assert!(notice.contains("version 1.0.0 keeps serving") && notice.contains(why), "{notice}");
        // Put the running module back, so the next reload is about the next plugin only.
        std::fs::copy(wasm("noop"), dir.path().join(format!("{name}.wasm"))).unwrap();
    }
    h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_that_would_unlink_an_importer_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = swappable_as(dir.path(), "wallet", "wallet", r#"grants = ["kv", "telegram.send", "events"]"#)
        + &swappable_as(
            dir.path(),
            "spare",
            "noop",
            "grants = [\"telegram.send\"]\nsettings = { prefix = \"sp\", command = \"sp\" }",
        )
        + &plugin("ledger-probe", "ledger_probe", r#"grants = ["telegram.send", "call:wallet", "call:spare"]"#);
    let h = start(&plugins).await;
    let credit = async |key: &str| {
        h.say(5, &format!("/l credit 5 100 {key}")).await;
        h.idle().await;
        h.sent(5).await.last().cloned().unwrap_or_default()
    };
    assert!(credit("probe:1").await.starts_with("ok seq=1"));

    for (name, wasm_name, why) in [
        // The wallet stops exporting the ledger the probe imports from it.
        (
            "wallet",
            "echo",
            "the running plugin ledger-probe would no longer load with it: plugin ledger-probe imports wharf:wallet/ledger@0.1.0, which no enabled plugin exports",
        ),
        // A second ledger appears, and the probe is granted both.
        (
            "spare",
            "impostor",
            "the new module exports wharf:wallet/ledger@0.1.0, which plugin wallet exports too, and plugin ledger-probe is granted both",
        ),
    ] {
        let path = dir.path().join(format!("{name}.wasm"));
        let running = std::fs::read(&path).unwrap();
        std::fs::copy(wasm(wasm_name), &path).unwrap();
        let report = h.rt.reload().await.unwrap();
        assert!(report.swapped.is_empty(), "{name}: {:?}", report.swapped);
        assert_eq!(report.rejected.len(), 1, "{name}: {:?}", report.rejected);
        assert_eq!(report.rejected[0].0, name);
        assert!(report.rejected[0].1.contains(why), "{name}: {}", report.rejected[0].1);
        assert_eq!(h.rt.plugin_version("ledger-probe").as_deref(), Some("1.0.0"), "{name}: the importer stays");
        let reply = credit(&format!("probe:{name}")).await;
        assert!(reply.starts_with("ok seq="), "{name}: the ledger still works: {reply}");
        let notices = h.sent(1000).await;
        assert!(
            notices.iter().any(|t| t.contains(&format!("new module of plugin {name} was rejected"))),
            "{notices:?}"
        );
        std::fs::write(&path, running).unwrap();
    }
    h.rt.shutdown().await;
}
