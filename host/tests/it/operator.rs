//! `wharf run` as an operator starts it: a config without `[telegram]` is refused with
//! what to do, `mode = "none"` serves the inbox only, and logs carry no colour codes
//! when stderr is not a terminal.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::cli::wharf;
use crate::common::*;

fn config(dir: &Path, telegram: &str) -> String {
    let text = config_text(dir, &Db::Sqlite, &plugin("echo", "echo", r#"grants = ["telegram.send"]"#), "") + telegram;
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// `wharf check-config` on these plugin tables, which must fail: the line that starts
/// with `marker`, and stderr.
fn check_config_failing(plugins: &str, marker: &str) -> (usize, String) {
    let dir = tempfile::tempdir().unwrap();
    let text = config_text(dir.path(), &Db::Sqlite, plugins, "");
    let line = text.lines().position(|l| l.starts_with(marker)).unwrap() + 1;
    let path = dir.path().join("config.toml");
    std::fs::write(&path, &text).unwrap();
    let (ok, _, stderr) = wharf(&["check-config", "--config", path.to_str().unwrap()]);
    assert!(!ok, "check-config passed");
    (line, stderr)
}

#[test]
fn run_without_a_telegram_table_says_what_to_add() {
    let dir = tempfile::tempdir().unwrap();
    let path = config(dir.path(), "");
    let (ok, _, stderr) = wharf(&["run", "--config", &path]);
    assert!(!ok);
    assert!(stderr.contains("no [telegram] table"), "{stderr}");
    assert!(stderr.contains("mode = \"none\""), "{stderr}");
    assert!(stderr.contains("`wharf chat` runs the bot locally"), "{stderr}");
}

#[test]
fn mode_none_serves_the_inbox_only_and_logs_without_colours() {
    let dir = tempfile::tempdir().unwrap();
    let path = config(dir.path(), "[telegram]\nmode = \"none\"\n");
    let mut child = Command::new(env!("CARGO_BIN_EXE_wharf"))
        .args(["run", "--config", &path])
        .env("WHARF_LOG", "info")
        .env_remove("WHARF_TELEGRAM_TOKEN")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while !seen.iter().any(|l: &String| l.contains("serving the inbox only")) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => seen.push(line),
            Err(_) => panic!("no 'serving the inbox only' line: {seen:?}"),
        }
    }
    // SIGTERM: a clean shutdown.
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    assert!(child.wait().unwrap().success(), "{seen:?}");
    seen.extend(rx.iter());
    assert!(seen.iter().all(|l| !l.contains('\u{1b}')), "colour codes in piped logs: {seen:?}");
}

/// A typo under `[plugins.NAME.settings]` of a plugin that declares its settings stops
/// the start, pointing at the key's line and column and at the name it resembles.
#[test]
fn a_settings_typo_is_reported_with_its_line_and_column() {
    let probe =
        plugin("probe", "probe", &format!("{ALL}\n[plugins.probe.settings]\nprefix = \"p\"\n  mdoe = \"trap\""));
    let (line, stderr) = check_config_failing(&probe, "  mdoe");
    assert!(
        stderr.contains(&format!(
            "config line {line}, column 3: [plugins.probe.settings] \"mdoe\" is not a setting of plugin probe. \
             Did you mean \"mode\"? Its settings: mode, prefix, topic, count_calls."
        )),
        "{stderr}"
    );
}

/// A setting of the wrong type, found by the plugin's typed settings in `describe()`,
/// is reported at the key's line and column, without positions inside the JSON the host
/// made.
#[test]
fn a_settings_type_error_points_at_the_key() {
    let plugins = crate::market::plugins(&wasm("shop"), "reservation_minutes = \"15\"");
    let (line, stderr) = check_config_failing(&plugins, "reservation_minutes");
    assert!(
        stderr.contains(&format!("config line {line}, column 1: [plugins.shop.settings] reservation_minutes")),
        "{stderr}"
    );
    assert!(stderr.contains("setting `reservation_minutes`: invalid type: string \"15\", expected u32"), "{stderr}");
    assert!(!stderr.contains("column 2"), "no position inside the JSON: {stderr}");
}
