//! The `wharf` binary as an operator uses it.

use std::path::Path;
use std::process::Command;

use crate::common::plugin;

pub(crate) fn wharf(args: &[&str]) -> (bool, String, String) {
    wharf_in(&Path::new(env!("CARGO_MANIFEST_DIR")).join(".."), args)
}

/// `wharf ARGS` run in `cwd`: whether it succeeded, stdout, stderr.
pub(crate) fn wharf_in(cwd: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_wharf"))
        .args(args)
        .current_dir(cwd)
        .env("WHARF_LOG", "error")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A `wharf chat` config in `dir` with admin 1000, SQLite under `dir/data/` and these
/// plugin tables.
fn chat_config(dir: &Path, plugins: &str) -> std::path::PathBuf {
    let config = dir.join("config.toml");
    let cache = Path::new(env!("WHARF_PLUGIN_DIR")).join("../../../wharf-test-cache");
    let text = format!(
        "admins = [1000]\n[storage]\nurl = \"sqlite:data/chat.db\"\n[runtime]\ncache_dir = \"{}\"\n{plugins}",
        cache.display()
    );
    std::fs::write(&config, text).unwrap();
    config
}

/// Run `wharf chat --config CONFIG` with `script` on stdin; its stdout.
pub(crate) fn chat(config: &Path, script: &[u8]) -> String {
    chat_in(Path::new("."), config, script)
}

/// As [`chat`], from the directory `cwd`.
pub(crate) fn chat_in(cwd: &Path, config: &Path, script: &[u8]) -> String {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_wharf"))
        .current_dir(cwd)
        .args(["chat", "--config", config.to_str().unwrap()])
        .env("WHARF_LOG", "error")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(script).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn check_config_accepts_the_shipped_config() {
    let (ok, stdout, stderr) = wharf(&["check-config"]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("config.toml: ok"), "{stdout}");
}

#[test]
fn check_config_rejects_a_bad_file_with_its_line_and_a_nonzero_exit() {
    let bad = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/unknown_plugin_key.toml");
    let (ok, _, stderr) = wharf(&["check-config", "--config", bad.to_str().unwrap()]);
    assert!(!ok);
    assert!(stderr.contains("line 6, column 1"), "{stderr}");
    assert!(stderr.contains("unknown field `colour`"), "{stderr}");

    let (ok, _, stderr) = wharf(&["check-config", "--config", "/nonexistent/config.toml"]);
    assert!(!ok);
    assert_eq!(
        stderr,
        "error: /nonexistent/config.toml: no such config file; pass --config PATH (the repository's config.toml is a \
         working example)\n",
        "one clear line"
    );
}

#[test]
fn scripted_chat_sessions_run_echo_and_press_a_button_again_and_again() {
    let dir = tempfile::tempdir().unwrap();
    let config = chat_config(dir.path(), &plugin("echo", "echo", r#"grants = ["telegram.send"]"#));
    // Twice over the same database: the second session must not lose its updates to
    // the offset the first one left behind.
    for session in 1..=2 {
        let stdout = chat(&config, b"/echo\n1\n/echo scripted\n/admin\n/quit\n");
        let lines = crate::common::transcript(&stdout);
        assert_eq!(
            lines,
            [
                "bot: Send /echo TEXT and I will repeat it.",
                "     [1] Ping",
                "bot (popup): pong",
                "bot: scripted",
                "-- you are admin 1000",
            ],
            "session {session}: {stdout}"
        );
    }
    assert!(dir.path().join("data/chat.db").exists(), "SQLite lives next to the config");
}

#[test]
fn in_a_chat_session_the_admin_opens_the_admin_menu() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = plugin("echo", "echo", r#"grants = ["telegram.send"]"#)
        + &plugin("console", "console", r#"grants = ["kv", "telegram.send"]"#);
    let config = chat_config(dir.path(), &plugins);
    let stdout = chat(&config, b"/admin\n/admin\n1\n/quit\n");
    let lines = crate::common::transcript(&stdout);
    assert_eq!(lines[0], "-- you are admin 1000", "{stdout}");
    assert!(lines.iter().any(|l| l.contains("Choose a plugin")), "the second /admin opens the menu: {stdout}");
    assert!(lines.iter().any(|l| l.contains("[1] console")), "{stdout}");
}

#[test]
fn a_chat_session_buys_from_the_seed_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let config = chat_config(
        dir.path(),
        &(plugin("wallet", "wallet", r#"grants = ["kv", "telegram.send", "events"]"#)
            + &plugin("shop", "shop", r#"grants = ["kv", "telegram", "scheduler", "events", "call:wallet"]"#)),
    );
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/shop/seed.txt");
    let script = format!(
        "/admin\n/upload {} /import\n/discount city=Warsaw category=\"gift cards\" 20\n/credit 1 200 welcome\n\
         /as 1\n/shop\n1\n1\n1\n1\n1\n3\n/wallet\n",
        seed.display()
    );
    let stdout = chat(&config, script.as_bytes());
    for expected in [
        "bot: ✅ Imported 11 items: 7 new products, 9 new cities, districts and categories.",
        "bot (edited): 📍 Warsaw: choose a district",
        "[1] Steam 50 PLN · 40 PLN (−20%)",
        "Price: ~50 PLN~ 40 PLN −20%",
        "Paid 40 PLN; your balance is 160 PLN.",
        "Your item:\nSTEAM-",
        "Balance: 160 PLN",
    ] {
        assert!(stdout.contains(expected), "missing {expected:?} in:\n{stdout}");
    }
}

#[test]
fn plugin_text_cannot_forge_log_lines() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let config = chat_config(
        dir.path(),
        &(plugin(
            "probe",
            "probe",
            r#"grants = ["kv", "telegram", "events", "scheduler"]
http = ["127.0.0.1"]"#,
        )),
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_wharf"))
        .args(["chat", "--config", config.to_str().unwrap()])
        .env("WHARF_LOG", "wharf=info")
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"/forgelog\n/quit\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("ok\\n2026-01-01T00:00:00.000000Z ERROR wharf.turn: forged line"), "{stderr}");
    assert!(stderr.contains("no\\r\\n2026-01-01T00:00:00.000000Z ERROR wharf.turn: forged reason"), "{stderr}");
    assert!(!stderr.lines().any(|l| l.starts_with("2026-01-01")), "a forged line: {stderr}");
}

#[test]
fn sighup_reloads_a_chat_session_and_never_ends_it() {
    use std::io::{BufRead, Write};
    let dir = tempfile::tempdir().unwrap();
    let config = chat_config(dir.path(), &plugin("echo", "echo", r#"grants = ["telegram.send"]"#));
    let mut child = Command::new(env!("CARGO_BIN_EXE_wharf"))
        .args(["chat", "--config", config.to_str().unwrap()])
        .env("WHARF_LOG", "error")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let (tx, lines) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in stdout.lines() {
            if tx.send(line.unwrap()).is_err() {
                return;
            }
        }
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    let mut seen = Vec::new();
    let mut wait_for = |what: &str| loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) if line.contains(what) => return,
            Ok(line) => seen.push(line),
            Err(e) => panic!("no {what:?} ({e}) after: {seen:#?}"),
        }
    };
    wait_for(&format!("kill -HUP {}", child.id()));
    wait_for("/quit");
    for _ in 0..2 {
        let hup = Command::new("kill").args(["-HUP", &child.id().to_string()]).status().unwrap();
        assert!(hup.success());
        wait_for("-- reloaded: no plugin changed");
    }
    // Still alive and answering.
    stdin.write_all(b"/echo after the signals\n").unwrap();
    wait_for("bot: after the signals");
    stdin.write_all(b"/quit\n").unwrap();
    assert!(child.wait().unwrap().success());
    reader.join().unwrap();
}
