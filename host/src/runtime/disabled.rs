//! Breaker trips that survive a restart. When the circuit breaker disables a plugin,
//! the trip is recorded in `plugin_state` with the component's digest; at start a
//! plugin whose recorded digest matches the loaded component starts disabled, and a
//! different component (a new version or build) clears the record. An admin re-enables
//! a plugin by removing its record (`wharf plugin enable NAME`, also while the bot
//! runs): the running process polls the table and closes the breaker within
//! [`POLL`]. A reload that swaps a plugin's module clears its record too. Plugins an
//! admin disabled by hand (`runtime::manage`) share the table, marked by their digest;
//! they stay disabled whatever module loads.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use super::Shared;
use super::plugin::LoadedPlugin;
use crate::config::PluginName;
use crate::storage::DisabledPlugin;

/// How often the running process looks for plugins an admin re-enabled.
pub(crate) const POLL: Duration = Duration::from_secs(1);

/// The digest recorded for a component: its SHA-256, hex.
pub(crate) fn digest(p: &LoadedPlugin) -> String {
    p.hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// Record that the breaker disabled `plugin` (best effort: if the database refuses,
/// the plugin is still disabled until this process stops).
pub(crate) async fn persist(shared: &Shared, plugin: &PluginName, reason: &str) {
    let Some(p) = shared.current_set().get(plugin.as_str()).cloned() else { return };
    let record = DisabledPlugin {
        plugin: plugin.to_string(),
        disabled_at_ms: shared.host.clock.now_ms(),
        reason: reason.to_owned(),
        digest: digest(&p),
        version: p.manifest.version.clone(),
    };
    if let Err(e) = shared.host.storage.disable_plugin(&record).await {
        tracing::warn!(target: "wharf.breaker", plugin = %plugin, error = %e, "cannot record the disabled plugin; a restart would enable it again");
    }
}

/// At start: open the breaker of every loaded plugin whose recorded trip names the same
/// component; forget trips of plugins now running a different one. Returns the plugins
/// that start disabled.
pub(crate) async fn restore(shared: &Shared) -> anyhow::Result<Vec<String>> {
    let set = shared.current_set();
    let mut still = Vec::new();
    for d in shared.host.storage.disabled_plugins().await? {
        let Some(p) = set.get(&d.plugin) else { continue };
        if let Some(who) = super::manage::by_admin(&d) {
            tracing::warn!(target: "wharf.admin", plugin = %d.plugin, by = %who, "plugin stays disabled (disabled by an admin)");
            super::manage::mark_off(shared, p.name(), who);
            still.push(d.plugin);
        } else if digest(p) == d.digest {
            tracing::warn!(target: "wharf.breaker", plugin = %d.plugin, since_ms = d.disabled_at_ms, "plugin stays disabled (tripped before the restart); `wharf plugin enable` enables it");
            shared.breaker.open(p.name());
            still.push(d.plugin);
        } else {
            tracing::info!(target: "wharf.breaker", plugin = %d.plugin, old_version = %d.version, version = %p.manifest.version, "a different component loaded; the plugin is enabled again");
            shared.host.storage.enable_plugin(&d.plugin).await?;
        }
    }
    Ok(still)
}

/// A reload swapped `plugin`'s module: its trip no longer holds.
pub(crate) async fn forget(shared: &Shared, plugin: &PluginName) {
    if let Err(e) = shared.host.storage.enable_plugin(plugin.as_str()).await {
        tracing::warn!(target: "wharf.breaker", plugin = %plugin, error = %e, "cannot clear the plugin's recorded trip");
    }
}

/// Poll `plugin_state`: a plugin whose breaker is open and whose record was there at
/// the previous poll but is gone now was re-enabled by an admin. (A trip whose record
/// has not been written yet is never mistaken for that: it must be seen first.)
pub(crate) async fn watch(shared: Arc<Shared>, mut seen: HashSet<String>) {
    loop {
        tokio::time::sleep(POLL).await;
        if shared.is_shutting_down() {
            return;
        }
        let rows = match shared.host.storage.disabled_plugins().await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::debug!(target: "wharf.breaker", error = %e, "cannot read the disabled plugins");
                continue;
            }
        };
        // Plugins another process disabled by hand.
        for d in &rows {
            if let (Some(who), Ok(p)) = (super::manage::by_admin(d), PluginName::parse(&d.plugin))
                && !super::manage::is_off_by_admin(&shared, &p)
                && shared.current_set().get(p.as_str()).is_some()
            {
                tracing::info!(target: "wharf.admin", plugin = %p, by = %who, "plugin disabled by an admin");
                super::manage::mark_off(&shared, &p, who);
            }
        }
        let now: HashSet<String> = rows.into_iter().map(|d| d.plugin).collect();
        for name in seen.difference(&now) {
            // Enabled by hand by another process, which recorded who did.
            if let Ok(p) = PluginName::parse(name)
                && super::manage::unmark_off(&shared, &p)
            {
                shared.breaker.reset(&p);
                tracing::info!(target: "wharf.admin", plugin = %p, "plugin enabled again by an admin");
                continue;
            }
            if let Ok(p) = PluginName::parse(name)
                && shared.breaker.is_open(&p)
            {
                shared.breaker.reset(&p);
                tracing::info!(target: "wharf.breaker", plugin = %p, "plugin enabled again by an admin");
                let event = crate::storage::NewLogEvent::host("plugin.enabled", "Plugin enabled again", "✅")
                    .field("plugin", p.as_str())
                    .field("by", "an admin (wharf plugin enable)");
                super::notice::record(&shared, event).await;
            }
        }
        seen = now;
    }
}
