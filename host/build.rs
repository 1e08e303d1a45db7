//! Builds every plugin crate under `plugins/` for `wasm32-wasip2` whenever the host is
//! built, so `cargo run` and `cargo test` need no manual step. The plugins go to
//! `<target dir>/plugins/wasm32-wasip2/release/NAME.wasm`; that directory is exported
//! to the host as the `WHARF_PLUGIN_DIR` compile-time variable (used by tests).
//!
//! Set `WHARF_SKIP_PLUGIN_BUILD=1` to skip (e.g. when only checking the host).

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest.parent().expect("host/ lives in the workspace root").to_owned();
    for watched in ["plugins", "wit", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    println!("cargo:rerun-if-env-changed=WHARF_SKIP_PLUGIN_BUILD");
    let target_dir = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let target_dir = if target_dir.is_absolute() { target_dir } else { root.join(target_dir) };
    let plugin_target = target_dir.join("plugins");
    let out = plugin_target.join("wasm32-wasip2").join("release");
    println!("cargo:rustc-env=WHARF_PLUGIN_DIR={}", out.display());
    if std::env::var_os("WHARF_SKIP_PLUGIN_BUILD").is_some() {
        return;
    }
    ensure_wasm_target();
    let crates = plugin_crates(&root.join("plugins"));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root)
        .args(["build", "--release", "--target", "wasm32-wasip2", "--target-dir"])
        .arg(&plugin_target);
    for c in &crates {
        cmd.args(["-p", c]);
    }
    // Flags and wrappers meant for the host build must not leak into the wasm build.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_TARGET_DIR",
        "CARGO_PRIMARY_PACKAGE",
    ] {
        cmd.env_remove(var);
    }
    let output = cmd.output().expect("cannot run cargo to build the plugins");
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let hint = if stderr.contains("wasm32-wasip2") && stderr.contains("target") {
            "\nhint: the wasm32-wasip2 target is missing; rustup installs it from rust-toolchain.toml, or run `rustup target add wasm32-wasip2`"
        } else {
            ""
        };
        panic!("building the plugins for wasm32-wasip2 failed:\n{stderr}{hint}");
    }
}

/// Install the `wasm32-wasip2` standard library through rustup if it is missing
/// (rustup installs targets listed in `rust-toolchain.toml` only with a new toolchain).
fn ensure_wasm_target() {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let Ok(out) = Command::new(rustc).args(["--print", "sysroot"]).output() else { return };
    let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    if sysroot.join("lib/rustlib/wasm32-wasip2").exists() {
        return;
    }
    println!("cargo:warning=installing the wasm32-wasip2 target with rustup");
    let status = Command::new("rustup").args(["target", "add", "wasm32-wasip2"]).status();
    if !status.is_ok_and(|s| s.success()) {
        println!("cargo:warning=`rustup target add wasm32-wasip2` failed; plugin builds will fail");
    }
}

/// Names of the crates under `dir` (one or two levels deep) that build a `cdylib`.
fn plugin_crates(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![(dir.to_owned(), 0)];
    while let Some((d, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let path = e.path();
            if !path.is_dir() {
                continue;
            }
            let manifest = path.join("Cargo.toml");
            match std::fs::read_to_string(&manifest) {
                Ok(text) if text.contains("cdylib") => {
                    if let Some(name) = package_name(&text) {
                        found.push(name);
                    }
                }
                Ok(_) => {}
                Err(_) if depth < 1 => stack.push((path, depth + 1)),
                Err(_) => {}
            }
        }
    }
    found.sort();
    found
}

fn package_name(manifest: &str) -> Option<String> {
    manifest
        .lines()
        .skip_while(|l| l.trim() != "[package]")
        .find_map(|l| l.trim().strip_prefix("name = ").map(|v| v.trim_matches('"').to_owned()))
}
