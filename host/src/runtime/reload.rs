//! Hot reload. A reload reads `config.toml` again (see `reconfig`: a valid new file is
//! applied with the set, an invalid one changes nothing), then compiles changed modules, checks them like a first load and
//! swaps the whole plugin set atomically: turns in flight keep the set they started
//! with; the next turn sees the new one. A module that fails any check is rejected and
//! its previous version keeps serving. Each plugin gets `installed` / `upgraded`
//! exactly once per version, committed together with the version record.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::{Shared, plugin, reconfig};
use crate::caps::bindings::wharf::bot::types::{Event, Lifecycle};
use crate::config::ConfigDiff;
use crate::storage::{NewInbox, NewLogEvent, TurnCommit};

/// What a reload did.
#[derive(Debug, Default, Clone)]
pub struct ReloadReport {
    /// Plugins now running a different module than before.
    pub swapped: Vec<String>,
    /// Plugins whose new module was rejected (the old one keeps serving), with why.
    pub rejected: Vec<(String, String)>,
    /// What became of `config.toml`.
    pub config: ConfigOutcome,
}

/// What a reload did with `config.toml`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub enum ConfigOutcome {
    /// The runtime was not started from a file (a config parsed from text): not read.
    #[default]
    NotRead,
    /// The file says what it said.
    Unchanged,
    /// The new file is in effect (settings needing a restart aside, see the diff).
    Applied(ConfigDiff),
    /// The file is invalid or does not fit the plugins: nothing changed. Why, with line
    /// and column where the file is at fault.
    Rejected(String),
}

impl ReloadReport {
    /// One line per thing that happened, for an admin.
    pub fn summary(&self) -> String {
        let mut lines = Vec::new();
        match &self.config {
            ConfigOutcome::NotRead => {}
            ConfigOutcome::Unchanged => lines.push("config.toml: unchanged".to_owned()),
            ConfigOutcome::Applied(d) => {
                let mut parts = Vec::new();
                for (what, list) in [("added", &d.added), ("removed", &d.removed), ("reconfigured", &d.changed)] {
                    if !list.is_empty() {
                        parts.push(format!("{what} {}", list.join(", ")));
                    }
                }
                if d.admins {
                    parts.push("admins changed".into());
                }
                if d.bot {
                    parts.push("[bot] changed".into());
                }
                if !d.restart_only.is_empty() {
                    parts.push(format!("needs a restart for {}", d.restart_only.join(", ")));
                }
                if parts.is_empty() {
                    parts.push("no change that matters".into());
                }
                lines.push(format!("config.toml applied: {}", parts.join("; ")));
            }
            ConfigOutcome::Rejected(why) => lines.push(format!("config.toml rejected, nothing changed: {why}")),
        }
        if self.swapped.is_empty() {
            lines.push("modules: no plugin changed".into());
        } else {
            lines.push(format!("modules swapped: {}", self.swapped.join(", ")));
        }
        for (plugin, why) in &self.rejected {
            lines.push(format!("module of {plugin} rejected: {}", super::notice::quote(plugin, why)));
        }
        lines.join("\n")
    }
}

/// Reload as SIGHUP does (the config file, then every changed module).
pub(crate) async fn reload(shared: &Arc<Shared>) -> anyhow::Result<ReloadReport> {
    reload_by(shared, "SIGHUP or a local call").await
}

/// Read `config.toml` again and apply it if it is valid, then reload every plugin whose
/// module changed; `who` asked for it (recorded with the events).
pub(crate) async fn reload_by(shared: &Arc<Shared>, who: &str) -> anyhow::Result<ReloadReport> {
    let _one_at_a_time = shared.reload_lock.lock().await;
    let prev = shared.current_set();
    let live = shared.live();
    let mut report = ReloadReport::default();
    let mut accepted = None;
    match reconfig::read(&live) {
        reconfig::Read::NoFile => {}
        reconfig::Read::Unchanged => report.config = ConfigOutcome::Unchanged,
        reconfig::Read::Invalid(why) => {
            reconfig::rejected(shared, &why, who).await;
            report.config = ConfigOutcome::Rejected(why);
        }
        reconfig::Read::Changed(new, diff) => match reconfig::load(shared, &prev, &live, *new, diff).await {
            Ok(c) => accepted = Some(c),
            Err(why) => {
                reconfig::rejected(shared, &why, who).await;
                report.config = ConfigOutcome::Rejected(why);
            }
        },
    }
    let (set, errors) = match &mut accepted {
        Some(c) => (std::mem::take(&mut c.set), std::mem::take(&mut c.errors)),
        None => {
            plugin::build(
                &shared.engine,
                &shared.host,
                &shared.base_linker,
                &live.specs,
                &shared.cache_dir,
                Some(&prev),
            )
            .await
        }
    };
    let mut cleared = Vec::new();
    for p in &set.plugins {
        let Some(old) = prev.get(p.name().as_str()) else { continue };
        if old.hash != p.hash {
            report.swapped.push(p.name().to_string());
            let manual = super::manage::is_off_by_admin(shared, p.name());
            let was_open = shared.breaker.is_open(p.name()) && !manual;
            if !manual {
                shared.breaker.reset(p.name());
            }
            let mut event = NewLogEvent::host("plugin.reloaded", "Plugin reloaded", "🔄")
                .field("plugin", p.name().as_str())
                .field("version", p.manifest.version.as_str())
                .field("by", who);
            if was_open {
                event = event.field("breaker", "closed again (the plugin is enabled)");
            }
            super::notice::record(shared, event).await;
            if !manual {
                cleared.push(p.name().clone());
            }
        }
    }
    {
        // The set and the config it was built for change together.
        let mut slot = shared.set.write().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = &mut accepted {
            reconfig::apply(shared, c);
        }
        *slot = Arc::new(set);
    }
    if let Some(c) = accepted {
        reconfig::accepted(shared, &c.diff, who).await;
        report.config = ConfigOutcome::Applied(c.diff);
    }
    for name in &cleared {
        super::disabled::forget(shared, name).await;
    }
    for e in errors {
        let error = crate::validate::escape_controls(&e.message);
        tracing::error!(target: "wharf.reload", plugin = %e.plugin, %error, "module rejected; the previous version keeps serving");
        shared.metrics.reload(false);
        let serving = shared.current_set().get(e.plugin.as_str()).map(|p| p.manifest.version.clone());
        let keeps = match serving {
            Some(v) => format!("version {v} keeps serving"),
            None => "it is not running".to_owned(),
        };
        let text = format!(
            "⚠️ The new module of plugin {p} was rejected; {keeps}. Why (may quote the plugin): {}",
            super::notice::quote(e.plugin.as_str(), &e.message),
            p = e.plugin,
        );
        let event = NewLogEvent::host("plugin.rejected", "Plugin module rejected", "⚠️")
            .level(crate::config::LogLevel::Warn)
            .field("plugin", e.plugin.as_str())
            .field("serving", keeps.as_str())
            .field("why", super::notice::quote(e.plugin.as_str(), &e.message));
        super::notice::record(shared, event).await;
        super::notice::tell_admins(shared, &text).await;
        report.rejected.push((e.plugin.to_string(), e.message));
    }
    record_versions(shared).await?;
    if !report.swapped.is_empty() {
        tracing::info!(target: "wharf.reload", swapped = ?report.swapped, "plugins reloaded");
        for _ in &report.swapped {
            shared.metrics.reload(true);
        }
    }
    Ok(report)
}

/// Queue `installed` / `upgraded` for every plugin whose version differs from the
/// recorded one, atomically with recording the new version.
pub(crate) async fn record_versions(shared: &Shared) -> anyhow::Result<()> {
    let set = shared.current_set();
    let storage = &shared.host.storage;
    for p in &set.plugins {
        let version = &p.manifest.version;
        let event = match storage.plugin_version(p.name().as_str()).await? {
            None => Lifecycle::Installed,
            Some(old) if old != *version => Lifecycle::Upgraded(old),
            Some(_) => continue,
        };
        let commit = TurnCommit {
            versions: vec![(p.name().to_string(), version.clone())],
            inbox: vec![NewInbox::entry(
                0,
                Some(p.name().to_string()),
                &crate::inbox::Entry::new(Event::Lifecycle(event)),
                Some(format!("lifecycle:{}:{version}", p.name())),
            )?],
            now_ms: shared.host.clock.now_ms(),
            ..TurnCommit::default()
        };
        storage.commit(commit).await?;
    }
    shared.wake.notify_one();
    Ok(())
}

/// Modification time and size of each plugin file.
pub(crate) type Stamps = HashMap<std::path::PathBuf, Option<(SystemTime, u64)>>;

fn stamp(path: &std::path::Path) -> Option<(SystemTime, u64)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

/// Stamps of the plugin files now; take them before loading, so a change made while
/// loading is still noticed.
pub(crate) fn stamps(shared: &Shared) -> Stamps {
    shared.live().specs.iter().map(|s| (s.path.clone(), stamp(&s.path))).collect()
}

/// Poll plugin files; reload when one changed and stayed unchanged for one more poll
/// (so a file being written is not loaded half-way).
pub(crate) async fn watch(shared: Arc<Shared>, mut seen: Stamps) {
    let mut pending: HashMap<std::path::PathBuf, Option<(SystemTime, u64)>> = HashMap::new();
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        if shared.is_shutting_down() {
            return;
        }
        let mut ready = false;
        for spec in &shared.live().specs {
            let now = stamp(&spec.path);
            if seen.get(&spec.path) == Some(&now) {
                pending.remove(&spec.path);
                continue;
            }
            if pending.get(&spec.path) == Some(&now) {
                seen.insert(spec.path.clone(), now);
                pending.remove(&spec.path);
                ready = true;
            } else {
                pending.insert(spec.path.clone(), now);
            }
        }
        if ready && let Err(e) = reload(&shared).await {
            tracing::error!(target: "wharf.reload", error = %format!("{e:#}"), "reload failed");
        }
    }
}
