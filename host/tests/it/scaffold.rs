//! `wharf new`: the crate it writes outside the repository builds for wasm32-wasip2 and
//! passes its own `cargo test` (native tests on the SDK's fake host, and a conversation
//! with the built component through `wharf test`), offline, with this cargo home.

use std::path::Path;
use std::process::{Command, Output};

/// `cargo ARGS` in `dir` with `target` as its target directory, offline, without the
/// flags of the build running this test.
fn cargo(dir: &Path, target: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(dir).args(args).env("CARGO_TARGET_DIR", target).env("CARGO_NET_OFFLINE", "true");
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
    ] {
        cmd.env_remove(var);
    }
    cmd.output().unwrap()
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn a_new_plugin_crate_builds_for_wasm_and_passes_its_own_tests() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("greeter");
    let out = Command::new(env!("CARGO_BIN_EXE_wharf")).args(["new", "greeter", "--dir"]).arg(&dir).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/sdk").canonicalize().unwrap();
    assert!(manifest.contains(&format!("wharf-sdk = {{ path = \"{}\" }}", sdk.display())), "{manifest}");
    let again = Command::new(env!("CARGO_BIN_EXE_wharf")).args(["new", "greeter", "--dir"]).arg(&dir).output().unwrap();
    assert!(!again.status.success() && text(&again).contains("exists and is not empty"), "{}", text(&again));

    let fmt = cargo(&dir, &tmp.path().join("target"), &["fmt", "--check"]);
    assert!(fmt.status.success(), "the new crate is formatted: {}", text(&fmt));

    // One target directory for both builds (the test build reuses the wasm one).
    let target = tmp.path().join("target");
    let wasm = cargo(&dir, &target, &["build", "--release", "--target", "wasm32-wasip2"]);
    assert!(wasm.status.success(), "{}", text(&wasm));
    assert!(target.join("wasm32-wasip2/release/greeter.wasm").is_file());

    let test = cargo(&dir, &target, &["test"]);
    let report = text(&test);
    assert!(test.status.success(), "{report}");
    for name in ["tests::hello_counts_each_users_visits ... ok", "conversations ... ok"] {
        assert!(report.contains(name), "{name} did not pass:\n{report}");
    }
}
