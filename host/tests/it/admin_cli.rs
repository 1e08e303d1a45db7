//! `wharf admin` as an operator uses it, against the database a running bot serves:
//! listings, views as tables, JSON and CSV, and an action that goes through the bot's
//! inbox and runs exactly once per request id.

use std::path::{Path, PathBuf};

use wharf::clock::Clock;
use wharf::config::Config;
use wharf::{Runtime, RuntimeOptions};

use crate::cli::wharf_in;
use crate::common::*;

fn setup(dir: &Path) -> (PathBuf, Config) {
    let plugins = plugin("hostile", "admin_hostile", ALL) + &plugin("probe", "probe", ALL);
    let text = config_text(dir, &Db::Sqlite, &plugins, "");
    let path = dir.join("config.toml");
    std::fs::write(&path, &text).expect("write config");
    (path, Config::parse(&text, dir).expect("config"))
}

/// `wharf admin ARGS --config PATH` off the async threads.
async fn admin(config: &Path, args: &[&str]) -> (bool, String, String) {
    let mut all: Vec<String> = vec!["admin".into()];
    all.extend(args.iter().map(|s| (*s).to_owned()));
    all.extend(["--config".into(), config.display().to_string()]);
    let cwd = config.parent().expect("dir").to_owned();
    tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        wharf_in(&cwd, &refs)
    })
    .await
    .expect("command")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_print_as_tables_json_and_csv() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (config, _) = setup(dir.path());
    let (ok, out, err) = admin(&config, &[]).await;
    assert!(ok, "{err}");
    assert!(out.contains("hostile 1.0.0\n  views:   echo, write, loop, hog, huge, ragged, refuse, pages\n"), "{out}");
    assert!(!out.contains("probe"), "only plugins with an admin export: {out}");

    let (ok, out, err) = admin(&config, &["hostile"]).await;
    assert!(ok, "{err}");
    assert!(out.contains("--city (one of Warsaw|Krakow)"), "{out}");
    assert!(out.contains("--text (text, required)"), "{out}");

    let (ok, out, err) = admin(&config, &["hostile", "echo", "--city", "Warsaw", "--price=9.99"]).await;
    assert!(ok, "{err}");
    assert!(out.contains("city   Warsaw\nprice  999\n"), "{out}");

    let (ok, out, err) = admin(&config, &["hostile", "echo", "--count", "7", "--json"]).await;
    assert!(ok, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(json["blocks"][0]["key_values"][0], serde_json::json!(["count", "7"]), "{out}");

    let (ok, out, err) = admin(&config, &["hostile", "echo", "--count", "7", "--csv"]).await;
    assert!(ok, "{err}");
    assert!(out.starts_with("key,value\r\ncount,7\r\n"), "{out}");

    let (ok, out, _) = admin(&config, &["hostile", "pages", "--page", "2"]).await;
    assert!(ok && out.contains("page 2") && out.contains("(more: --page 3)"), "{out}");

    let (ok, _, err) = admin(&config, &["hostile", "echo", "--city", "Paris"]).await;
    assert!(!ok && err.contains("--city: one of: Warsaw, Krakow"), "{err}");
    let (ok, _, err) = admin(&config, &["nope"]).await;
    assert!(!ok && err.contains("no plugin nope with admin views or actions (there are: hostile)"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_action_from_the_command_line_runs_once_through_the_serving_bot() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, config) = setup(dir.path());
    let rt = Runtime::start(&config, RuntimeOptions { clock: Clock::manual(T0), ..RuntimeOptions::default() })
        .await
        .expect("bot");

    let (ok, _, err) = admin(&path, &["hostile", "bump"]).await;
    assert!(!ok && err.contains("confirm with --yes"), "not a terminal and no --yes: {err}");
    let (ok, out, err) = admin(&path, &["hostile", "bump", "--yes", "--request", "cli-7"]).await;
    assert!(ok, "{err}");
    assert_eq!(out, "n = 1\n");
    let (ok, out, err) = admin(&path, &["hostile", "bump", "--yes", "--request", "cli-7"]).await;
    assert!(ok, "{err}");
    assert_eq!(out, "n = 1\n", "the same request is answered, not run again");
    let (ok, out, err) = admin(&path, &["hostile", "bump", "--yes", "--json"]).await;
    assert!(ok, "{err}");
    assert!(out.contains("n = 2"), "{out}");

    rt.wait_idle(IDLE).await.expect("idle");
    let (n, _) = rt.storage().kv_get_fresh("hostile", "n").await.expect("kv");
    assert_eq!(n.as_deref(), Some(&b"2"[..]));
    let runs = rt.storage().event_log().await.expect("log").into_iter().filter(|e| e.kind == "admin.action").count();
    assert_eq!(runs, 2, "two requests, two runs, each recorded");
    rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_disable_and_enable_from_the_command_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, _) = setup(dir.path());
    let config = Config::load(&path).expect("config file");
    let rt = Runtime::start(&config, RuntimeOptions { clock: Clock::manual(T0), ..RuntimeOptions::default() })
        .await
        .expect("bot");
    let events = |kind: &'static str| {
        let storage = rt.storage().clone();
        async move { storage.event_log().await.expect("log").into_iter().filter(|e| e.kind == kind).collect::<Vec<_>>() }
    };

    // An operator adds an admin, then asks the running bot to reload.
    let text = std::fs::read_to_string(&path).expect("read config").replace("admins = [1000]", "admins = [1000, 1001]");
    std::fs::write(&path, text).expect("write config");
    let (ok, out, err) = admin(&path, &["reload"]).await;
    assert!(ok && out.starts_with("Reload requested"), "{out}{err}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while events("config.reloaded").await.is_empty() {
        assert!(std::time::Instant::now() < deadline, "the running bot did not reload");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(events("config.reloaded").await[0].fields["by"].starts_with("cli:"));

    let who = wharf::panel::Who { user_id: None, via: wharf::panel::Surface::Cli, label: "t".into() };
    let (ok, out, err) = admin(&path, &["disable", "hostile"]).await;
    assert!(ok && out.contains("hostile is disabled"), "{out}{err}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let r = rt.console().view("hostile", "echo", &[], None, &who).await;
        if matches!(r, Err(wharf::panel::PanelError::Disabled(_))) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the bot did not stop calling the plugin: {r:?}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let (ok, out, err) = admin(&path, &["enable", "hostile"]).await;
    assert!(ok && out.contains("hostile is enabled again"), "{out}{err}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while rt.console().view("hostile", "echo", &[], None, &who).await.is_err() {
        assert!(std::time::Instant::now() < deadline, "the bot did not resume the plugin");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let (ok, _, err) = admin(&path, &["disable", "nosuch"]).await;
    assert!(!ok && err.contains("no plugin nosuch in the config"), "{err}");
    rt.shutdown().await;
}

#[test]
fn a_password_hash_for_the_dashboard() {
    use std::io::Write as _;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_wharf"))
        .args(["admin", "hash-password"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("wharf");
    child.stdin.take().expect("stdin").write_all(b"correct horse battery\n").expect("write");
    let out = child.wait_with_output().expect("wait");
    let hash = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(out.status.success() && hash.starts_with("$argon2id$"), "{hash}");
    use argon2::PasswordVerifier as _;
    let parsed = argon2::PasswordHash::new(&hash).expect("a PHC string");
    assert!(argon2::Argon2::default().verify_password(b"correct horse battery", &parsed).is_ok());
    assert!(argon2::Argon2::default().verify_password(b"wrong horse", &parsed).is_err());
}

/// The third-party fixture `console` (one view, one action, written with the SDK alone)
/// on the command line, as in Telegram and the dashboard.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_third_party_plugins_view_and_action_on_the_command_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let plugins = plugin("console", "console", r#"grants = ["kv"]"#);
    let text = config_text(dir.path(), &Db::Sqlite, &plugins, "");
    let path = dir.path().join("config.toml");
    std::fs::write(&path, &text).expect("write config");
    let config = Config::parse(&text, dir.path()).expect("config");
    let rt = Runtime::start(&config, RuntimeOptions { clock: Clock::manual(T0), ..RuntimeOptions::default() })
        .await
        .expect("bot");

    let (ok, out, err) = admin(&path, &[]).await;
    assert!(
        ok && out.contains("console ") && out.contains("views:   notes") && out.contains("actions: add_note"),
        "{out}{err}"
    );
    let (ok, out, err) = admin(&path, &["console", "add_note", "--text", "call the bank", "--yes"]).await;
    assert!(ok && out.contains("Note 1 added"), "{out}{err}");
    let (ok, out, err) = admin(&path, &["console", "notes"]).await;
    assert!(ok && out.contains("call the bank") && out.contains("write refused  yes"), "{out}{err}");
    let (ok, out, err) = admin(&path, &["console", "notes", "--json"]).await;
    assert!(ok, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert!(json["blocks"].to_string().contains("call the bank"), "{out}");
    rt.shutdown().await;
}
