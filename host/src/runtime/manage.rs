//! Operating the running bot from elsewhere: reloads asked for by another process
//! (`wharf admin reload`, [`request_reload`]) or by an admin in Telegram (`/reload`),
//! plugins disabled and enabled by hand (kept across restarts in `plugin_state`), and
//! the plugin list `/plugins` and the dashboard show.
//!
//! - A reload request is a key `reload:…` in the host's KV namespace `_runtime`; the
//!   serving runtime looks every [`POLL`], removes the key (compare-and-swap, so one
//!   runtime of several performs it) and reloads, recording who asked.
//! - A plugin disabled by an admin has a `plugin_state` row whose digest is [`MANUAL`]:
//!   unlike a breaker trip it outlives new versions and reloads, until an admin enables
//!   the plugin again. The serving runtime notices rows written by other processes within
//!   [`POLL`] (see `disabled::watch` for the removals).

use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::{Console, Shared};
use crate::config::PluginName;
use crate::storage::{CommitOutcome, DisabledPlugin, KeyRead, NewLogEvent, NewOutbox, Storage, TurnCommit};

/// How often the serving runtime looks for reload requests and plugins disabled by hand.
pub(crate) const POLL: std::time::Duration = super::disabled::POLL;
/// The `plugin_state` digest of a plugin an admin disabled (a SHA-256 is hex).
pub(crate) const MANUAL: &str = "admin";
/// The host's KV namespace for requests to the running runtime.
const NS: &str = "_runtime";
const RELOAD_PREFIX: &str = "reload:";

/// A reload request, as kept in KV.
#[derive(Debug, Serialize, Deserialize)]
struct Request {
    who: String,
    at_ms: i64,
}

fn wall_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// Ask the runtime serving `storage`'s database (another process, typically) to reload
/// as SIGHUP does; it does so within about two seconds and records `who` asked.
pub async fn request_reload(storage: &Storage, who: &str) -> anyhow::Result<()> {
    use rand::Rng as _;
    let at_ms = wall_ms();
    let key = format!("{RELOAD_PREFIX}{at_ms:013}:{:016x}", rand::rng().random::<u64>());
    let value = serde_json::to_vec(&Request { who: who.to_owned(), at_ms })?;
    let commit = TurnCommit { writes: vec![(NS.into(), key, Some(value))], now_ms: at_ms, ..TurnCommit::default() };
    storage.commit(commit).await.context("queuing the reload request")?;
    Ok(())
}

/// Disable `plugin` by hand on `storage`'s database (kept across restarts and new
/// versions); the serving runtime stops calling it within about a second.
pub async fn disable_plugin(storage: &Storage, plugin: &str, version: &str, who: &str) -> anyhow::Result<()> {
    PluginName::parse(plugin).map_err(|e| anyhow::anyhow!("{plugin}: {e}"))?;
    let now = wall_ms();
    let record = DisabledPlugin {
        plugin: plugin.to_owned(),
        disabled_at_ms: now,
        reason: format!("disabled by {who}"),
        digest: MANUAL.into(),
        version: version.to_owned(),
    };
    storage.disable_plugin(&record).await.context("recording the disabled plugin")?;
    let event = NewLogEvent::host("plugin.disabled", "Plugin disabled by an admin", "⏸")
        .field("plugin", plugin)
        .field("by", who);
    storage.record_events(&[event], now).await.context("recording the event")?;
    Ok(())
}

/// Enable `plugin` on `storage`'s database, whether an admin or the circuit breaker
/// disabled it; false if it was not disabled. The serving runtime resumes calling it
/// within about a second.
pub async fn enable_plugin(storage: &Storage, plugin: &str, who: &str) -> anyhow::Result<bool> {
    if !storage.enable_plugin(plugin).await.context("enabling the plugin")? {
        return Ok(false);
    }
    let event =
        NewLogEvent::host("plugin.enabled", "Plugin enabled again", "✅").field("plugin", plugin).field("by", who);
    storage.record_events(&[event], wall_ms()).await.context("recording the event")?;
    Ok(true)
}

/// Who disabled the plugin of a `plugin_state` row by hand (none for a breaker trip).
pub(crate) fn by_admin(d: &DisabledPlugin) -> Option<&str> {
    (d.digest == MANUAL).then(|| d.reason.strip_prefix("disabled by ").unwrap_or(&d.reason))
}

/// Whether an admin disabled `plugin` by hand.
pub(crate) fn is_off_by_admin(shared: &Shared, plugin: &PluginName) -> bool {
    shared.off_by_admin.lock().unwrap_or_else(|e| e.into_inner()).contains_key(plugin)
}

/// Note a plugin disabled by hand (its breaker is kept open).
pub(crate) fn mark_off(shared: &Shared, plugin: &PluginName, who: &str) {
    shared.breaker.open(plugin);
    shared.off_by_admin.lock().unwrap_or_else(|e| e.into_inner()).insert(plugin.clone(), who.to_owned());
}

/// Forget a plugin disabled by hand; true if it was.
pub(crate) fn unmark_off(shared: &Shared, plugin: &PluginName) -> bool {
    shared.off_by_admin.lock().unwrap_or_else(|e| e.into_inner()).remove(plugin).is_some()
}

/// Perform the reload requests other processes queued, every [`POLL`].
pub(crate) async fn watch(shared: Arc<Shared>) {
    loop {
        tokio::time::sleep(POLL).await;
        if shared.is_shutting_down() {
            return;
        }
        if let Err(e) = take_requests(&shared).await {
            tracing::debug!(target: "wharf.reload", error = %format!("{e:#}"), "cannot read the reload requests");
        }
    }
}

async fn take_requests(shared: &Arc<Shared>) -> anyhow::Result<()> {
    let storage = &shared.host.storage;
    for key in storage.kv_keys(NS, RELOAD_PREFIX, None, 16).await? {
        let (value, version) = storage.kv_get(NS, &key).await?;
        let Some(value) = value else { continue };
        let who = serde_json::from_slice::<Request>(&value).map_or_else(|_| "someone".to_owned(), |r| r.who);
        let commit = TurnCommit {
            reads: vec![KeyRead { ns: NS.into(), key: key.clone(), version }],
            writes: vec![(NS.into(), key, None)],
            now_ms: shared.host.clock.now_ms(),
            ..TurnCommit::default()
        };
        // Another runtime on the same database took it first: it reloads.
        if storage.commit(commit).await? != CommitOutcome::Committed {
            continue;
        }
        let who = crate::validate::escape_controls(&who);
        match super::reload::reload_by(shared, &who).await {
            Ok(r) => {
                tracing::info!(target: "wharf.reload", by = %who, swapped = ?r.swapped, rejected = r.rejected.len(), "requested reload")
            }
            Err(e) => {
                tracing::error!(target: "wharf.reload", by = %who, error = %format!("{e:#}"), "requested reload failed")
            }
        }
    }
    Ok(())
}

/// A `/reload` from an admin in Telegram (a turn handled again after a crash asks
/// again: reloading twice is harmless).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ask {
    /// The admin; the result goes to their private chat.
    pub admin: i64,
    /// The plugin named, if any.
    pub plugin: Option<String>,
}

/// The queue of `/reload`s between turns (which must not wait for a reload) and the
/// task performing them.
pub(crate) struct Asks {
    tx: mpsc::UnboundedSender<Ask>,
    rx: Mutex<Option<mpsc::UnboundedReceiver<Ask>>>,
}

impl Default for Asks {
    fn default() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Self { tx, rx: Mutex::new(Some(rx)) }
    }
}

impl Asks {
    pub fn ask(&self, ask: Ask) {
        let _ = self.tx.send(ask);
    }
}

/// Perform `/reload`s one after the other and send each admin the result (one per
/// `/reload`: a reload is cheap when nothing changed).
pub(crate) async fn serve_asks(shared: Arc<Shared>) {
    let Some(mut rx) = shared.reload_asks.rx.lock().unwrap_or_else(|e| e.into_inner()).take() else { return };
    while let Some(ask) = rx.recv().await {
        let who = format!("admin {} (/reload in Telegram)", ask.admin);
        let text = match super::reload::reload_by(&shared, &who).await {
            Ok(report) => {
                let mut text = String::from("🔄 Reload done.\n");
                if let Some(p) = &ask.plugin {
                    text.push_str(&plugin_line(&shared, p, &report));
                    text.push('\n');
                }
                text.push_str(&report.summary());
                text
            }
            Err(e) => format!("⚠️ The reload failed: {e:#}"),
        };
        let text = super::turn::clip(&text, 4000);
        let commit = TurnCommit {
            outbox: vec![NewOutbox::host_text(ask.admin, &text)],
            now_ms: shared.host.clock.now_ms(),
            ..TurnCommit::default()
        };
        match shared.host.storage.commit(commit).await {
            Ok(_) => shared.outbox_ready.chats([ask.admin]),
            Err(e) => tracing::error!(target: "wharf.reload", error = %e, "cannot queue the reload result"),
        }
    }
}

/// What became of the plugin an admin named in `/reload PLUGIN`.
fn plugin_line(shared: &Shared, plugin: &str, report: &super::ReloadReport) -> String {
    let version = shared.current_set().get(plugin).map(|p| p.manifest.version.clone());
    if report.rejected.iter().any(|(p, _)| p == plugin) {
        return format!("{plugin}: the new module was rejected (see below)");
    }
    match version {
        None => format!("{plugin}: not running"),
        Some(v) if report.swapped.iter().any(|p| p == plugin) => format!("{plugin}: now running version {v}"),
        Some(v) => format!("{plugin}: module unchanged, version {v}"),
    }
}

/// A plugin's state, as `/plugins` and the dashboard show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum PluginRunState {
    /// It runs.
    Running,
    /// The circuit breaker disabled it (it kept failing).
    DisabledByBreaker,
    /// An admin disabled it.
    DisabledByAdmin {
        /// Who.
        by: String,
    },
    /// Configured with `enabled = false`.
    OffInConfig,
}

/// One plugin in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PluginRow {
    /// Its name.
    pub name: String,
    /// Its manifest version (none when it is not loaded).
    pub version: Option<String>,
    /// Its state.
    pub state: PluginRunState,
    /// Whether it exports `observer`.
    pub observer: bool,
    /// Its admin views and actions, if it exports `admin`.
    pub admin: Option<(usize, usize)>,
}

/// Every loaded plugin in run order, then the ones configured off.
pub(crate) fn rows(shared: &Shared) -> Vec<PluginRow> {
    let set = shared.current_set();
    let off = shared.off_by_admin.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut out: Vec<PluginRow> = set
        .plugins
        .iter()
        .map(|p| PluginRow {
            name: p.name().to_string(),
            version: Some(p.manifest.version.clone()),
            state: match off.get(p.name()) {
                Some(by) => PluginRunState::DisabledByAdmin { by: by.clone() },
                None if shared.breaker.is_open(p.name()) => PluginRunState::DisabledByBreaker,
                None => PluginRunState::Running,
            },
            observer: p.observer.is_some(),
            admin: p.admin.as_ref().map(|a| (a.spec.views.len(), a.spec.actions.len())),
        })
        .collect();
    if let Some(file) = &shared.live().file {
        for (name, p) in &file.plugins {
            if !p.get_ref().enabled {
                let row = PluginRow {
                    name: name.to_string(),
                    version: None,
                    state: PluginRunState::OffInConfig,
                    observer: false,
                    admin: None,
                };
                out.push(row);
            }
        }
    }
    out
}

/// The `/plugins` answer.
pub(crate) fn plugins_text(shared: &Shared) -> String {
    let rows = rows(shared);
    let mut text = format!("Plugins ({}):", rows.len());
    for r in rows {
        let state = match &r.state {
            PluginRunState::Running => "running".to_owned(),
            PluginRunState::DisabledByBreaker => "disabled by the circuit breaker".to_owned(),
            PluginRunState::DisabledByAdmin { by } => format!("disabled by {by}"),
            PluginRunState::OffInConfig => "off in config.toml".to_owned(),
        };
        let mut line = format!("\n• {}", r.name);
        if let Some(v) = &r.version {
            line.push_str(&format!(" {v}"));
        }
        line.push_str(&format!(" — {state}"));
        if let Some((views, actions)) = r.admin {
            line.push_str(&format!(" · admin: {views} views, {actions} actions"));
        }
        if r.observer {
            line.push_str(" · observer");
        }
        text.push_str(&line);
    }
    text.push_str("\n\n/reload reads config.toml again and reloads changed plugins.");
    super::turn::clip(&text, 4000)
}

impl Console {
    /// Every plugin with its state (running, disabled by the breaker or by an admin, off
    /// in the config), its exports and version.
    pub fn plugin_rows(&self) -> Vec<PluginRow> {
        rows(&self.shared)
    }

    /// Reload as SIGHUP does, recording `who` asked. Only in the serving process: another
    /// process asks the serving one with [`request_reload`].
    pub async fn reload_as(&self, who: &str) -> anyhow::Result<super::ReloadReport> {
        anyhow::ensure!(self.serving, "this process does not serve the bot; use request_reload");
        super::reload::reload_by(&self.shared, who).await
    }

    /// Disable a loaded plugin by hand, recording `who`; kept across restarts and new
    /// versions until [`Console::enable`].
    pub async fn disable(&self, plugin: &str, who: &str) -> anyhow::Result<()> {
        let set = self.shared.current_set();
        let p = set.get(plugin).with_context(|| format!("no plugin {plugin} is loaded"))?;
        disable_plugin(&self.shared.host.storage, plugin, &p.manifest.version, who).await?;
        mark_off(&self.shared, p.name(), who);
        tracing::info!(target: "wharf.admin", plugin = %plugin, by = %who, "plugin disabled by an admin");
        Ok(())
    }

    /// Enable a plugin an admin or the circuit breaker disabled, recording `who`; false
    /// if it was not disabled.
    pub async fn enable(&self, plugin: &str, who: &str) -> anyhow::Result<bool> {
        let name = PluginName::parse(plugin).map_err(|e| anyhow::anyhow!("{plugin}: {e}"))?;
        let was = enable_plugin(&self.shared.host.storage, plugin, who).await?;
        let manual = unmark_off(&self.shared, &name);
        let open = self.shared.breaker.is_open(&name);
        self.shared.breaker.reset(&name);
        tracing::info!(target: "wharf.admin", plugin = %plugin, by = %who, "plugin enabled by an admin");
        Ok(was || manual || open)
    }
}
