//! The part of the configuration a reload may change, and reading `config.toml` again.
//!
//! [`Live`] holds the plugin specs, `[bot]` and the config as its file said; [`Admins`]
//! the admins. Both are snapshots behind a lock: a turn reads them once (with the plugin
//! set) and keeps what it read, a reload swaps in new ones. A new file is checked as at
//! start (`Config::load`, loading every plugin, the set checks); anything wrong rejects
//! the whole file and nothing changes. Settings a running process cannot take over
//! ([`crate::config::RESTART_ONLY`]) are left as they are, and the admins are told.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};

use super::Shared;
use super::plugin::{self, LoadError, PluginSet};
use crate::config::{BotConfig, Config, ConfigDiff, PluginSpec};
use crate::storage::{KvQuota, NewLogEvent};

/// Most characters of a config error quoted to admins in Telegram.
const MAX_WHY: usize = 1500;

/// The swappable part of the configuration.
pub(crate) struct Live {
    /// Enabled plugins in run order.
    pub specs: Vec<PluginSpec>,
    /// What the host answers itself.
    pub bot: BotConfig,
    /// The config as its file said when it was last accepted (none when the runtime was
    /// started from a config parsed from text: then a reload reads no file).
    pub file: Option<Config>,
}

impl Live {
    pub fn new(config: &Config) -> Self {
        Self { specs: config.plugin_specs(), bot: config.bot.clone(), file: config.as_written() }
    }
}

/// The bot's admins, swapped whole by a reload.
#[derive(Debug, Default)]
pub(crate) struct Admins(RwLock<Arc<HashSet<i64>>>);

impl Admins {
    pub fn new(ids: &[i64]) -> Self {
        Self(RwLock::new(Arc::new(ids.iter().copied().collect())))
    }

    pub fn contains(&self, id: &i64) -> bool {
        self.snapshot().contains(id)
    }

    /// The admins now.
    pub fn snapshot(&self) -> Arc<HashSet<i64>> {
        self.0.read().map(|a| a.clone()).unwrap_or_else(|e| e.into_inner().clone())
    }

    fn set(&self, ids: &[i64]) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(ids.iter().copied().collect());
    }
}

/// What reading the file again gave.
pub(crate) enum Read {
    /// The runtime was not started from a file.
    NoFile,
    /// The file says what it said.
    Unchanged,
    /// The file cannot be used (why, with line and column where known).
    Invalid(String),
    /// A valid file that differs.
    Changed(Box<Config>, ConfigDiff),
}

/// Read the config file of `live` again.
pub(crate) fn read(live: &Live) -> Read {
    let Some(old) = &live.file else { return Read::NoFile };
    let Some(path) = old.file() else { return Read::NoFile };
    match Config::load(path) {
        Err(e) => Read::Invalid(e.to_string()),
        Ok(new) if new.same_text(old) => Read::Unchanged,
        Ok(new) => {
            let diff = old.diff(&new);
            Read::Changed(Box::new(new), diff)
        }
    }
}

/// A new config whose plugins loaded and passed the set checks, ready to swap in.
pub(crate) struct Candidate {
    pub config: Config,
    pub diff: ConfigDiff,
    /// What runs from now on.
    pub live: Live,
    pub set: PluginSet,
    /// Modules rejected for reasons of their own (the running version keeps serving).
    pub errors: Vec<LoadError>,
}

/// Load the plugins `new` configures, the running ones as a reload does. A load error
/// of a plugin the new file adds or reconfigures, a configured plugin that would not
/// run, or a failed set check rejects the file (returned as why).
///
/// What the file did not change keeps running as it is, including what the code that
/// started the runtime set on top of the file (`wharf chat` points the crypto plugin at
/// its local chains): a plugin's spec, `[bot]` and the admins are taken from the new file
/// only when the file changed them.
pub(crate) async fn load(
    shared: &Shared,
    prev: &PluginSet,
    running: &Live,
    new: Config,
    diff: ConfigDiff,
) -> Result<Candidate, String> {
    let touched = |name: &str| diff.added.iter().chain(&diff.changed).any(|n| n == name);
    let specs: Vec<PluginSpec> = new
        .plugin_specs()
        .into_iter()
        .map(|s| match running.specs.iter().find(|r| r.name == s.name) {
            // Where it is written now, for error messages.
            Some(r) if !touched(s.name.as_str()) => {
                let same_keys = r.settings.keys().eq(s.settings.keys());
                let setting_keys = if same_keys { s.setting_keys } else { r.setting_keys.clone() };
                PluginSpec { line: s.line, setting_keys, ..r.clone() }
            }
            _ => s,
        })
        .collect();
    let bot = if diff.bot { new.bot.clone() } else { running.bot.clone() };
    let (set, errors) =
        plugin::build(&shared.engine, &shared.host, &shared.base_linker, &specs, &shared.cache_dir, Some(prev)).await;
    let mut problems: Vec<String> =
        errors.iter().filter(|e| touched(e.plugin.as_str())).map(|e| e.message.clone()).collect();
    for s in specs.iter().filter(|s| set.get(s.name.as_str()).is_none() && !touched(s.name.as_str())) {
        let why = errors.iter().find(|e| e.plugin == s.name).map_or("it does not link", |e| e.message.as_str());
        problems.push(format!("plugin {} would stop running: {why}", s.name));
    }
    problems.extend(super::checks::check(&bot, &set).errors);
    if !problems.is_empty() {
        return Err(problems.join("\n"));
    }
    let errors = errors.into_iter().filter(|e| !touched(e.plugin.as_str())).collect();
    let live = Live { specs, bot, file: Some(new.clone()) };
    Ok(Candidate { config: new, diff, live, set, errors })
}

/// Swap in an accepted config (the caller swaps the plugin set at the same moment).
pub(crate) fn apply(shared: &Shared, c: &mut Candidate) {
    let live = std::mem::replace(&mut c.live, Live { specs: Vec::new(), bot: BotConfig::default(), file: None });
    shared.host.storage.set_kv_quotas(
        live.specs.iter().map(|s| (s.name.to_string(), KvQuota { bytes: s.budget.kv_bytes, keys: s.budget.kv_keys })),
    );
    if c.diff.admins {
        shared.admins.set(&c.config.admins);
        *shared.host.admins.write().unwrap_or_else(|e| e.into_inner()) = c.config.admins.clone();
    }
    *shared.live.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(live);
}

/// Record and announce an accepted config.
pub(crate) async fn accepted(shared: &Shared, diff: &ConfigDiff, who: &str) {
    let list = |v: &[String]| if v.is_empty() { "-".to_owned() } else { v.join(", ") };
    tracing::info!(target: "wharf.config", by = %who, added = ?diff.added, removed = ?diff.removed, changed = ?diff.changed, admins = diff.admins, bot = diff.bot, restart_only = ?diff.restart_only, "config reloaded");
    let event = NewLogEvent::host("config.reloaded", "Config reloaded", "🔧")
        .field("by", who)
        .field("added", list(&diff.added))
        .field("removed", list(&diff.removed))
        .field("changed", list(&diff.changed))
        .field("admins", if diff.admins { "changed" } else { "same" })
        .field("bot", if diff.bot { "changed" } else { "same" })
        .field("needs_restart", list(&diff.restart_only));
    super::notice::record(shared, event).await;
    if !diff.restart_only.is_empty() {
        tracing::warn!(target: "wharf.config", settings = ?diff.restart_only, "changed settings need a restart; the running values stay");
        let text = format!(
            "⚠️ config.toml changed settings a reload cannot apply: {}. The running values stay until Wharf is restarted.",
            diff.restart_only.join(", ")
        );
        super::notice::tell_admins(shared, &text).await;
    }
}

/// Record and announce a rejected config: nothing changed.
pub(crate) async fn rejected(shared: &Shared, why: &str, who: &str) {
    // A config line may hold a token: neither the log nor the admins get it.
    let why = &crate::secret::mask_config_error(why);
    tracing::error!(target: "wharf.config", by = %who, error = %why, "config rejected; the running config stays");
    let event = NewLogEvent::host("config.rejected", "Config rejected", "⛔")
        .level(crate::config::LogLevel::Error)
        .field("by", who)
        .field("why", why);
    super::notice::record(shared, event).await;
    let text =
        format!("⛔ config.toml was not reloaded; the running config stays. Why:\n{}", super::turn::clip(why, MAX_WHY));
    super::notice::tell_admins(shared, &text).await;
}
