//! What a plugin's module may not take from the other plugins it runs with. Checked for
//! every candidate module before it joins a plugin set, so a clash rejects that module
//! (on a reload the running version keeps serving) and never pushes another plugin out:
//!
//! - a callback prefix is one plugin's (buttons are routed by it);
//! - on a reload, a module may not newly take another plugin's name or a command
//!   another plugin declares, and may not start exporting an interface another plugin
//!   exports (at a version serving the same imports, see `link::serves`) when an importer
//!   is granted both (it could no longer tell which to call).
//!
//! (A new module that a running importer no longer links against is rejected by
//! `plugin::build`, which sees the importer fail.)

use wasmtime::Engine;

use super::link;
use super::plugin::{LoadedPlugin, exported_interfaces};
use crate::config::{Grant, PluginSpec};

/// Check `new` against `others` (the rest of the set it would join). `reloading` is
/// `Some(version now running, if any)` on a reload, `None` on a first load.
pub(super) fn check<'a>(
    engine: &Engine,
    new: &LoadedPlugin,
    others: impl Iterator<Item = &'a LoadedPlugin>,
    reloading: Option<Option<&LoadedPlugin>>,
    specs: &[PluginSpec],
) -> Result<(), String> {
    let others: Vec<&LoadedPlugin> = others.collect();
    if let Some(prefix) = &new.ctx.callback_prefix
        && let Some(owner) = others.iter().find(|o| o.ctx.callback_prefix.as_ref() == Some(prefix))
    {
        return Err(format!("callback prefix {prefix:?} is already used by plugin {}", owner.name()));
    }
    let Some(old) = reloading else { return Ok(()) };
    let name = &new.manifest.name;
    if old.is_none_or(|o| o.manifest.name != *name)
        && let Some(o) = others.iter().find(|o| o.name().as_str() == name || o.manifest.name == *name)
    {
        return Err(format!("the new module calls itself {name:?}, the name of plugin {}", o.name()));
    }
    for c in &new.manifest.commands {
        let had = old.is_some_and(|o| o.manifest.commands.iter().any(|x| x.name == c.name));
        if had {
            continue;
        }
        if let Some(o) = others.iter().find(|o| o.manifest.commands.iter().any(|x| x.name == c.name)) {
            return Err(format!("the new module declares /{}, which plugin {} already handles", c.name, o.name()));
        }
    }
    let exports = exported_interfaces(engine, &new.component);
    let old_exports = old.map(|o| exported_interfaces(engine, &o.component)).unwrap_or_default();
    for iface in exports.iter().filter(|e| !old_exports.contains(e)) {
        for rival in others.iter() {
            // An importer granted both, importing something both serve (semver-compatibly).
            let rival_exports = exported_interfaces(engine, &rival.component);
            let torn = specs.iter().find(|s| {
                s.name != *new.name()
                    && s.name != *rival.name()
                    && s.has(&Grant::Call(new.name().clone()))
                    && s.has(&Grant::Call(rival.name().clone()))
                    && others.iter().any(|o| {
                        o.name() == &s.name
                            && o.component
                                .component_type()
                                .imports(engine)
                                .any(|(n, _)| link::serves(iface, n) && link::export_for(&rival_exports, n).is_some())
                    })
            });
            if let Some(t) = torn {
                return Err(format!(
                    "the new module exports {iface}, which plugin {} exports too, and plugin {} is granted both",
                    rival.name(),
                    t.name
                ));
            }
        }
    }
    Ok(())
}
