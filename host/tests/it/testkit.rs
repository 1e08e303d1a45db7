//! Component-level plugin tests (`wharf::testkit`, `wharf test`): a conversation script is
//! typed into `wharf chat` against built plugins and every step's answer is compared.

use std::path::Path;

use wharf::config::Config;
use wharf::testkit::{self, Script};

use crate::common::*;

fn echo_config(dir: &Path) -> Config {
    let plugins = plugin("echo", "echo", r#"grants = ["telegram.send"]"#);
    Config::parse(&config_text(dir, &Db::Sqlite, &plugins, ""), dir).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_with_echo_passes_step_by_step() {
    let dir = tempfile::tempdir().unwrap();
    let script = Script::parse(
        "# echo, as wharf chat shows it\n\
         > /echo\nbot: Send /echo TEXT and I will repeat it.\n     [1] Ping\n\
         > 1\nbot (popup): pong\n\
         > /echo scripted words\nbot: scripted {*}\n\
         > /as 2\n-- you are user 2\n\
         > hello\n",
        Path::new(""),
    )
    .unwrap();
    let outcome = testkit::run(&echo_config(dir.path()), &script).await.unwrap();
    assert!(outcome.passed(), "{outcome}");
    assert_eq!(outcome.steps, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_different_answer_fails_naming_the_step_and_what_came_instead() {
    let dir = tempfile::tempdir().unwrap();
    let script =
        Script::parse("> /echo one\nbot: one\n> /echo two\nbot: three\n> hello\nbot: an answer\n", Path::new(""))
            .unwrap();
    let outcome = testkit::run(&echo_config(dir.path()), &script).await.unwrap();
    assert!(!outcome.passed());
    let lines: Vec<usize> = outcome.mismatches.iter().map(|m| m.step.line).collect();
    assert_eq!(lines, [3, 5], "{outcome}");
    assert_eq!(outcome.mismatches[0].got, ["bot: two"]);
    assert!(outcome.mismatches[1].got.is_empty());
    let report = outcome.to_string();
    assert!(report.starts_with("FAIL (script) (2 of 3 steps differ)"), "{report}");
    assert!(
        report.contains("line 3: > /echo two\n    expected:\n      bot: three\n    got:\n      bot: two"),
        "{report}"
    );
    assert!(report.contains("got:\n      (nothing)"), "{report}");
}

#[test]
fn wharf_test_runs_script_files_with_a_plugin_path_override_and_fails_on_a_difference() {
    let dir = tempfile::tempdir().unwrap();
    // The configured path does not exist: --wasm names the built plugin instead.
    let config = dir.path().join("config.toml");
    let text = config_text(
        dir.path(),
        &Db::Sqlite,
        "[plugins.echo]\npath = \"missing.wasm\"\ngrants = [\"telegram.send\"]\n",
        "",
    );
    std::fs::write(&config, text).unwrap();
    std::fs::write(dir.path().join("good.chat"), "> /echo hi\nbot: hi\n").unwrap();
    std::fs::write(dir.path().join("bad.chat"), "> /echo hi\nbot: bye\n").unwrap();
    let echo = format!("echo={}", wasm("echo").display());
    let wharf = |scripts: &[&str]| {
        let args = [&["test", "--config", "config.toml", "--wasm", echo.as_str()][..], scripts].concat();
        crate::cli::wharf_in(dir.path(), &args)
    };
    let (ok, stdout, stderr) = wharf(&["good.chat"]);
    assert!(ok, "{stdout}{stderr}");
    assert_eq!(stdout.trim(), "PASS good.chat (1 steps)");
    let (ok, stdout, stderr) = wharf(&["good.chat", "bad.chat"]);
    assert!(!ok);
    assert!(stdout.contains("PASS good.chat") && stdout.contains("FAIL bad.chat"), "{stdout}");
    assert!(stderr.contains("1 of 2 scripts failed"), "{stderr}");
}
