//! Cross-plugin calls: an import of another plugin's interface is defined in the
//! caller's linker as dynamic functions that forward to the exporter's instance living
//! in the same store. Both plugins' effects land in the same turn buffers, so they
//! commit or roll back together; the exporter runs under its own name (KV namespace,
//! memory cap) while it executes.
//!
//! An import is served by a semver-compatible export ([`serves`]): the same interface
//! of the same package, at the same major version (the same minor for `0.x`, the same
//! patch for `0.0.x`), and at the importer's version or newer. So a plugin built against
//! `wharf:wallet/ledger@0.1.0` keeps calling a wallet that exports `@0.1.1` (which may
//! only add functions and types), and one built against `@0.1.1` is refused by a wallet
//! that still exports `@0.1.0`, with the reason ([`version_mismatch`]). Names without a
//! version, or with a pre-release, match only exactly.

use std::sync::Arc;

use anyhow::{Context as _, anyhow};
use wasmtime::Engine;
use wasmtime::component::types::{ComponentInstance, ComponentItem};
use wasmtime::component::{ComponentExportIndex, Linker};

use super::plugin::LoadedPlugin;
use crate::caps::PluginState;

/// A version `MAJOR.MINOR.PATCH`, with its pre-release or build suffix (which makes it
/// match only itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Version<'a> {
    numbers: (u64, u64, u64),
    suffix: &'a str,
}

/// `wharf:wallet/ledger@0.1.1` → (`wharf:wallet/ledger`, its version); `None` without a
/// version that parses.
fn split(name: &str) -> Option<(&str, Version<'_>)> {
    let (base, version) = name.rsplit_once('@')?;
    let end = version.find(['-', '+']).unwrap_or(version.len());
    let mut parts = version[..end].split('.').map(str::parse::<u64>);
    let numbers = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(Ok(a)), Some(Ok(b)), Some(Ok(c)), None) => (a, b, c),
        _ => return None,
    };
    Some((base, Version { numbers, suffix: &version[end..] }))
}

/// Whether an export named `export` serves an import named `import`: the same name, or
/// the same interface at a semver-compatible version no older than the import's.
pub(crate) fn serves(export: &str, import: &str) -> bool {
    if export == import {
        return true;
    }
    let (Some((eb, ev)), Some((ib, iv))) = (split(export), split(import)) else { return false };
    if eb != ib || !ev.suffix.is_empty() || !iv.suffix.is_empty() {
        return false;
    }
    let (e, i) = (ev.numbers, iv.numbers);
    let same_track = match i {
        (0, 0, _) => e == i,
        (0, minor, _) => e.0 == 0 && e.1 == minor,
        (major, ..) => e.0 == major,
    };
    same_track && e >= i
}

/// The name under which a plugin exporting `exports` serves `import`: the exact name if
/// it has it, otherwise its newest compatible export.
pub(crate) fn export_for<'a>(exports: &'a [String], import: &str) -> Option<&'a str> {
    if let Some(exact) = exports.iter().find(|e| *e == import) {
        return Some(exact);
    }
    exports.iter().filter(|e| serves(e, import)).max_by_key(|e| split(e).map(|(_, v)| v.numbers)).map(String::as_str)
}

/// Why plugin `exporter`, exporting `exports`, cannot serve `importer`'s `import` although
/// it exports the same interface at another version; `None` when it has no version of it
/// (or serves it).
pub(crate) fn version_mismatch(importer: &str, exporter: &str, exports: &[String], import: &str) -> Option<String> {
    if export_for(exports, import).is_some() {
        return None;
    }
    let (base, iv) = split(import)?;
    let theirs: Vec<&str> =
        exports.iter().filter(|e| split(e).is_some_and(|(b, _)| b == base)).map(String::as_str).collect();
    let newest = theirs.iter().copied().max_by_key(|e| split(e).map(|(_, v)| v.numbers))?;
    let (major, minor, _) = iv.numbers;
    let track = match (major, minor) {
        (0, 0) => format!("exactly {import}"),
        (0, minor) => format!("{base}@0.{minor}.x at {}.{}.{} or newer", major, minor, iv.numbers.2),
        (major, ..) => format!("{base}@{major}.x at {}.{}.{} or newer", major, minor, iv.numbers.2),
    };
    let older = split(newest).is_some_and(|(_, v)| v.numbers < iv.numbers);
    let fix = if older {
        format!("upgrade plugin {exporter}, or build {importer} against {newest}")
    } else {
        format!("build {importer} against {newest}")
    };
    Some(format!(
        "plugin {importer} imports {import}, but plugin {exporter} exports {} and that cannot serve it (it needs {track}): {fix}",
        theirs.join(" and ")
    ))
}

pub(crate) fn forward_interface(
    linker: &mut Linker<PluginState>,
    engine: &Engine,
    name: &str,
    ty: &ComponentInstance,
    exporter: &Arc<LoadedPlugin>,
) -> anyhow::Result<()> {
    let exports = super::plugin::exported_interfaces(engine, &exporter.component);
    let export = export_for(&exports, name)
        .ok_or_else(|| anyhow!("plugin {} exports no version of {name} that serves it", exporter.name()))?;
    let iface_idx = exporter
        .component
        .get_export_index(None, export)
        .ok_or_else(|| anyhow!("plugin {} does not export {export}", exporter.name()))?;
    let mut inst = linker.instance(name).map_err(anyhow::Error::from)?;
    for (fname, item) in ty.exports(engine) {
        match item.ty {
            ComponentItem::ComponentFunc(_) => {}
            // Records, variants and enums are values copied across; nothing to link.
            ComponentItem::Type(_) => continue,
            _ => {
                return Err(anyhow!(
                    "{name} exports {fname}, which is not a function or a plain type; only those can cross plugins"
                ));
            }
        }
        let idx: ComponentExportIndex = exporter
            .component
            .get_export_index(Some(&iface_idx), fname)
            .ok_or_else(|| anyhow!("plugin {} does not export {export}#{fname}", exporter.name()))?;
        let target = exporter.ctx.clone();
        inst.func_new_async(fname, move |mut store, _ty, params, results| {
            let target = target.clone();
            Box::new(async move {
                let instance =
                    store.data().linked.iter().find(|(n, _)| n == target.name()).map(|(_, i)| *i).ok_or_else(|| {
                        wasmtime::Error::msg(format!("plugin {} is not linked in this store", target.name()))
                    })?;
                let func = instance
                    .get_func(&mut store, idx)
                    .ok_or_else(|| wasmtime::Error::msg(format!("plugin {} lost an export", target.name())))?;
                store.data_mut().enter(target);
                let result = func.call_async(&mut store, params, results).await;
                store.data_mut().leave();
                result
            })
        })
        .map_err(anyhow::Error::from)
        .with_context(|| format!("linking {name}#{fname}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_import_is_served_by_the_same_track_at_its_version_or_newer() {
        let l = |v: &str| format!("wharf:wallet/ledger@{v}");
        for (export, import, ok) in [
            ("0.1.0", "0.1.0", true),
            ("0.1.1", "0.1.0", true),
            ("0.1.7", "0.1.3", true),
            ("0.1.0", "0.1.1", false),
            ("0.2.0", "0.1.0", false),
            ("0.1.0", "0.2.0", false),
            ("1.4.0", "1.2.9", true),
            ("1.2.0", "1.3.0", false),
            ("2.0.0", "1.0.0", false),
            ("0.0.2", "0.0.1", false),
            ("0.0.1", "0.0.1", true),
            ("0.1.1-rc1", "0.1.0", false),
            ("0.1.1", "0.1.0-rc1", false),
            ("0.1.0-rc1", "0.1.0-rc1", true),
            ("0.1", "0.1.0", false),
        ] {
            assert_eq!(serves(&l(export), &l(import)), ok, "export {export}, import {import}");
        }
        assert!(!serves("wharf:wallet/ledger@0.1.1", "wharf:wallet/other@0.1.0"));
        assert!(!serves("wharf:purse/ledger@0.1.1", "wharf:wallet/ledger@0.1.0"));
        assert!(serves("x:y/z", "x:y/z"));
        assert!(!serves("x:y/z", "x:y/z@0.1.0"));
    }

    #[test]
    fn the_exact_export_wins_then_the_newest_compatible() {
        let exports: Vec<String> =
            ["a:b/c@0.1.0", "a:b/c@0.1.2", "a:b/c@0.1.1", "a:b/d@0.1.0"].iter().map(|s| s.to_string()).collect();
        assert_eq!(export_for(&exports, "a:b/c@0.1.1"), Some("a:b/c@0.1.1"));
        assert_eq!(export_for(&exports, "a:b/c@0.1.0"), Some("a:b/c@0.1.0"));
        assert_eq!(export_for(&exports[1..], "a:b/c@0.1.0"), Some("a:b/c@0.1.2"));
        assert_eq!(export_for(&exports, "a:b/c@0.1.3"), None);
    }

    #[test]
    fn a_mismatch_names_both_versions_and_the_fix() {
        let old = vec!["wharf:wallet/ledger@0.1.0".to_owned()];
        let msg = version_mismatch("client", "wallet", &old, "wharf:wallet/ledger@0.1.1").unwrap();
        assert_eq!(
            msg,
            "plugin client imports wharf:wallet/ledger@0.1.1, but plugin wallet exports wharf:wallet/ledger@0.1.0 and that cannot serve it (it needs wharf:wallet/ledger@0.1.x at 0.1.1 or newer): upgrade plugin wallet, or build client against wharf:wallet/ledger@0.1.0"
        );
        let newer = vec!["wharf:wallet/ledger@0.2.0".to_owned()];
        let msg = version_mismatch("client", "wallet", &newer, "wharf:wallet/ledger@0.1.1").unwrap();
        assert!(msg.ends_with(": build client against wharf:wallet/ledger@0.2.0"), "{msg}");
        assert_eq!(version_mismatch("client", "wallet", &old, "wharf:wallet/ledger@0.1.0"), None, "it serves it");
        assert_eq!(version_mismatch("client", "bank", &old, "wharf:fixtures/bank@0.1.0"), None, "another interface");
    }
}
