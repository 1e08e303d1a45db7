//! What changed between two versions of `config.toml`, for a reload: plugins added,
//! removed or reconfigured, admins and `[bot]`, and the settings a running process
//! cannot take over (they need a restart; the running values stay).
//!
//! Sections are compared as written (TOML values, not positions), so moving a table or
//! editing a line above it changes nothing.

use super::{Config, PluginName, PluginSpec};

/// Settings a reload does not apply: the running process keeps the values it started
/// with until it is restarted.
pub const RESTART_ONLY: &[&str] = &[
    "storage",
    "telegram",
    "admin",
    "log_sink",
    "alerts",
    "runtime.concurrency",
    "runtime.cache_dir",
    "runtime.watch",
    "runtime.http_max_body",
    "runtime.max_failures",
];

/// The difference between the config a process runs with and a newer one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigDiff {
    /// Plugins enabled now that were not before (new tables, or `enabled = true`).
    pub added: Vec<String>,
    /// Plugins no longer enabled (table removed, or `enabled = false`).
    pub removed: Vec<String>,
    /// Plugins whose path, grants, HTTP hosts, limits or settings changed (a new place in
    /// the chain is applied too, without being listed).
    pub changed: Vec<String>,
    /// Whether the admins changed.
    pub admins: bool,
    /// Whether `[bot]` changed.
    pub bot: bool,
    /// Changed settings from [`RESTART_ONLY`]: not applied until a restart.
    pub restart_only: Vec<String>,
}

impl ConfigDiff {
    /// Whether the new config changes anything a reload applies.
    pub fn applies_anything(&self) -> bool {
        !(self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()) || self.admins || self.bot
    }
}

/// What identifies a plugin's configuration (not where it is written).
fn spec_key(s: &PluginSpec) -> String {
    format!(
        "{:?}|{:?}|{:?}|{}|{}|{:?}|{:?}",
        s.path, s.grants, s.http, s.timeout_ms, s.memory_bytes, s.budget, s.settings
    )
}

impl Config {
    /// Whether `other` was read from the same text.
    pub fn same_text(&self, other: &Config) -> bool {
        self.source == other.source
    }

    /// This config as its file says, without changes made in code after loading (such as
    /// `wharf chat` pointing `[telegram]` at its emulator); `None` for a config that was
    /// not read from a file.
    pub fn as_written(&self) -> Option<Config> {
        let file = self.file.clone()?;
        let mut cfg = Config::parse(&self.source, &self.base_dir).ok()?;
        cfg.file = Some(file);
        Some(cfg)
    }

    /// What changes from `self` to `new`.
    pub fn diff(&self, new: &Config) -> ConfigDiff {
        let old_specs = self.plugin_specs();
        let new_specs = new.plugin_specs();
        let find = |list: &[PluginSpec], n: &PluginName| list.iter().position(|s| s.name == *n);
        let mut d = ConfigDiff::default();
        for s in &new_specs {
            match find(&old_specs, &s.name) {
                None => d.added.push(s.name.to_string()),
                Some(j) if spec_key(&old_specs[j]) != spec_key(s) => d.changed.push(s.name.to_string()),
                Some(_) => {}
            }
        }
        d.removed =
            old_specs.iter().filter(|s| find(&new_specs, &s.name).is_none()).map(|s| s.name.to_string()).collect();
        d.admins = self.admins != new.admins;
        let (old_t, new_t) = (self.table(), new.table());
        d.bot = section(&old_t, "bot") != section(&new_t, "bot");
        d.restart_only = RESTART_ONLY
            .iter()
            .filter(|key| section(&old_t, key) != section(&new_t, key))
            .map(|key| (*key).to_owned())
            .collect();
        d
    }

    /// The file as a TOML table (empty if it does not parse, which a loaded config does).
    fn table(&self) -> toml::Table {
        self.source.parse().unwrap_or_default()
    }
}

/// The value at a dotted key (`runtime.watch`), if written.
fn section<'a>(t: &'a toml::Table, key: &str) -> Option<&'a toml::Value> {
    let mut parts = key.split('.');
    let mut v = t.get(parts.next()?)?;
    for p in parts {
        v = v.as_table()?.get(p)?;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(text: &str) -> Config {
        Config::parse(text, std::path::Path::new("/tmp")).expect("valid config")
    }

    const BASE: &str = "admins = [1]\n[storage]\nurl = \"sqlite:a.db\"\n[plugins.a]\npath = \"a.wasm\"\n\
                        settings = { x = 1 }\n[plugins.b]\npath = \"b.wasm\"\n";

    #[test]
    fn a_diff_names_what_changed_and_what_needs_a_restart() {
        let old = cfg(BASE);
        assert!(!old.diff(&old).applies_anything());
        assert!(old.diff(&old).restart_only.is_empty());
        let text = "admins = [1, 2]\n[storage]\nurl = \"sqlite:b.db\"\n[runtime]\nwatch = false\n\n\
                    [plugins.a]\npath = \"a.wasm\"\nsettings = { x = 2 }\n[plugins.c]\npath = \"c.wasm\"\n";
        let d = old.diff(&cfg(text));
        assert_eq!(d.added, ["c"]);
        assert_eq!(d.removed, ["b"]);
        assert_eq!(d.changed, ["a"]);
        assert!(d.admins && !d.bot);
        assert_eq!(d.restart_only, ["storage", "runtime.watch"]);
    }

    #[test]
    fn moving_lines_changes_nothing() {
        let old = cfg(BASE);
        let moved = format!("\n\n# a comment\n{BASE}");
        let d = old.diff(&cfg(&moved));
        assert_eq!(d, ConfigDiff::default());
    }
}
