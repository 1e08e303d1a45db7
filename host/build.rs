//! Builds every plugin crate under `plugins/` for `wasm32-wasip2` whenever the host is
//! built, so `cargo run` and `cargo test` need no manual step. The plugins go to
//! `<target dir>/plugins/wasm32-wasip2/release/NAME.wasm`; that directory is exported
//! to the host as the `WHARF_PLUGIN_DIR` compile-time variable (used by tests).
//!
//! Plugin crates are those whose manifest asks for a `cdylib`, or that carry
//! `[package.metadata.wharf] plugin = true` and stay `rlib`-only so that their unit tests
//! build natively under plain `cargo test` (a native `cdylib` cannot link the component
//! export names); those are built with `cargo rustc --crate-type cdylib`.
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
    let (cdylibs, rlibs): (Vec<Plugin>, Vec<Plugin>) =
        plugin_crates(&root.join("plugins")).into_iter().partition(|p| p.cdylib);
    if !cdylibs.is_empty() {
        let mut cmd = cargo(&root, "build", &plugin_target);
        for c in &cdylibs {
            cmd.args(["-p", &c.name]);
        }
        run(cmd);
    }
    for c in &rlibs {
        let mut cmd = cargo(&root, "rustc", &plugin_target);
        cmd.args(["-p", &c.name, "--lib", "--crate-type", "cdylib"]);
        run(cmd);
    }
}

/// `cargo SUBCOMMAND --release --target wasm32-wasip2 --target-dir DIR`, with the host
/// build's flags removed.
fn cargo(root: &Path, subcommand: &str, target_dir: &Path) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root).args([subcommand, "--release", "--target", "wasm32-wasip2", "--target-dir"]).arg(target_dir);
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
    cmd
}

fn run(mut cmd: Command) {
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

/// A plugin crate to build.
struct Plugin {
    name: String,
    /// Its manifest asks for a `cdylib` itself.
    cdylib: bool,
}

/// The plugin crates under `dir` (one or two levels deep).
fn plugin_crates(dir: &Path) -> Vec<Plugin> {
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
                Ok(text) => {
                    let cdylib = text.lines().any(|l| l.trim_start().starts_with("crate-type") && l.contains("cdylib"));
                    let marked = text.lines().any(|l| l.trim() == "[package.metadata.wharf]");
                    if let Some(name) = package_name(&text).filter(|_| cdylib || marked) {
                        found.push(Plugin { name, cdylib });
                    }
                }
                Err(_) if depth < 1 => stack.push((path, depth + 1)),
                Err(_) => {}
            }
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    found
}

fn package_name(manifest: &str) -> Option<String> {
    manifest
        .lines()
        .skip_while(|l| l.trim() != "[package]")
        .find_map(|l| l.trim().strip_prefix("name = ").map(|v| v.trim_matches('"').to_owned()))
}
