//! Cross-plugin calls: an import of another plugin's interface is defined in the
//! caller's linker as dynamic functions that forward to the exporter's instance living
//! in the same store. Both plugins' effects land in the same turn buffers, so they
//! commit or roll back together; the exporter runs under its own name (KV namespace,
//! memory cap) while it executes.

use std::sync::Arc;

use anyhow::{Context as _, anyhow};
use wasmtime::Engine;
use wasmtime::component::types::{ComponentInstance, ComponentItem};
use wasmtime::component::{ComponentExportIndex, Linker};

use super::plugin::LoadedPlugin;
use crate::caps::PluginState;

pub(crate) fn forward_interface(
    linker: &mut Linker<PluginState>,
    engine: &Engine,
    name: &str,
    ty: &ComponentInstance,
    exporter: &Arc<LoadedPlugin>,
) -> anyhow::Result<()> {
    let iface_idx = exporter
        .component
        .get_export_index(None, name)
        .ok_or_else(|| anyhow!("plugin {} does not export {name}", exporter.name()))?;
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
            .ok_or_else(|| anyhow!("plugin {} does not export {name}#{fname}", exporter.name()))?;
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
