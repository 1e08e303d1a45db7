//! The `wharf` binary as an operator uses it.

use std::path::Path;
use std::process::Command;

fn wharf(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_wharf"))
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .env("WHARF_LOG", "error")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
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
    assert!(stderr.contains("cannot read /nonexistent/config.toml"), "{stderr}");
}
