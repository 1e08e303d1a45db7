//! `config.toml`: parsing, validation and the resolved settings the host runs with.
//!
//! Every table denies unknown keys and every id is a validated newtype, so a mistake is
//! reported with its line and column. Relative paths are resolved against the directory
//! of the config file.

mod admin;
mod alerts;
mod bot;
mod budget;
mod ids;
mod log_sink;
mod reload;

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::Deserialize;

pub use admin::AdminConfig;
pub use alerts::{AlertsConfig, RatioRule, RuleName, Threshold, WebhookUrl};
pub use bot::{BotConfig, Fallback, StartButton, StartConfig};
pub use budget::{Budget, BudgetKeys, Rate};
pub use ids::{Grant, HttpHost, PluginName};
pub use log_sink::{KindGlob, LogLevel, LogSinkConfig, TimeZoneName, TitleOverride};
pub use reload::{ConfigDiff, RESTART_ONLY};

/// The budget keys of a `[runtime]` or `[plugins.NAME.limits]` table.
macro_rules! budget_keys {
    ($t:expr) => {
        BudgetKeys {
            timers_per_sec: $t.timers_per_sec,
            timers_burst: $t.timers_burst,
            events_per_sec: $t.events_per_sec,
            events_burst: $t.events_burst,
            messages_per_sec: $t.messages_per_sec,
            messages_burst: $t.messages_burst,
            rearm_delay_ms: $t.rearm_delay_ms,
            max_hops: $t.max_hops,
            kv_mib: $t.kv_mib,
            kv_keys: $t.kv_keys,
            update_allowance: $t.update_allowance,
        }
    };
}

/// A config problem, with the file and (where known) the line and column.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// There is no file at that path.
    #[error(
        "{}: no such config file; pass --config PATH (the repository's config.toml is a working example)",
        path.display()
    )]
    Missing {
        /// The config file.
        path: PathBuf,
    },
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The config file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML or does not match the schema.
    #[error("{path}: {message}")]
    Invalid {
        /// The config file.
        path: PathBuf,
        /// What is wrong, where.
        message: String,
    },
}

/// The whole `config.toml`.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Telegram user ids of the bot's admins.
    #[serde(default)]
    pub admins: Vec<i64>,
    /// Where state lives.
    pub storage: StorageConfig,
    /// Runtime limits and behaviour.
    #[serde(default)]
    pub runtime: RuntimeConfig,
    /// Telegram connection; without it the bot serves only its inbox.
    pub telegram: Option<TelegramConfig>,
    /// What the host itself answers (help, fallback, the /start greeting).
    #[serde(default)]
    pub bot: BotConfig,
    /// The admin HTTP listener (`/metrics`, `/healthz`, `/readyz`); none without the table.
    pub admin: Option<AdminConfig>,
    /// The admin log channel and the event log's retention.
    #[serde(default)]
    pub log_sink: LogSinkConfig,
    /// Built-in alert rules; without the table no alerts are evaluated.
    pub alerts: Option<AlertsConfig>,
    /// Plugins by name, in file order.
    #[serde(default)]
    pub plugins: IndexMap<PluginName, toml::Spanned<PluginConfig>>,
    /// Directory of the config file (for relative paths); not read from the file.
    #[serde(skip)]
    pub base_dir: PathBuf,
    /// The config file's text, for line numbers in later errors.
    #[serde(skip)]
    source: String,
    /// The file it was read from ([`Config::load`]); a reload reads it again.
    #[serde(skip)]
    file: Option<PathBuf>,
}

/// `[storage]`.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// `sqlite:PATH` (created if missing) or `postgres://…`.
    pub url: String,
}

/// `[telegram]`.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct TelegramConfig {
    /// Bot API server (Telegram's, a local Bot API server, or the emulator).
    #[serde(default = "default_api_url")]
    pub api_url: String,
    /// Environment variable holding the bot token (never put the token in this file).
    #[serde(default = "default_token_env")]
    pub token_env: String,
    /// How updates arrive.
    #[serde(default)]
    pub mode: TelegramMode,
    /// Rate limits the outbox sender keeps to (Telegram's by default).
    #[serde(default)]
    pub limits: crate::telegram::limits::RateLimits,
    /// Where updates arrive in webhook mode.
    pub webhook: Option<WebhookConfig>,
    /// Outbox messages in flight or sent but not yet recorded, across chats (one request
    /// per chat at a time); after a crash at most this many may be sent again.
    #[serde(default = "default_max_in_flight")]
    pub max_in_flight: usize,
    /// This process's name when several share one database: chats' outboxes are leased
    /// under it. Replicas need distinct ids; a restarted process keeps its id.
    #[serde(default = "default_replica_id")]
    pub replica_id: String,
}

impl TelegramConfig {
    /// Long polling against `api_url` with Telegram's limits.
    pub fn polling(api_url: &str) -> Self {
        Self {
            api_url: api_url.to_owned(),
            token_env: default_token_env(),
            mode: TelegramMode::Polling,
            limits: Default::default(),
            webhook: None,
            max_in_flight: default_max_in_flight(),
            replica_id: default_replica_id(),
        }
    }
}

/// `[telegram.webhook]`.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Address the webhook server listens on.
    pub listen: std::net::SocketAddr,
    /// Public HTTPS URL Telegram posts to (its path is served on `listen`).
    pub url: String,
    /// Environment variable with the secret token (needed when several replicas share
    /// one webhook); a random one is made per start otherwise.
    pub secret_env: Option<String>,
    /// Connections served at once; more are closed as they arrive.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Time a client has to send a request's headers (from connecting or from the
    /// previous response), in milliseconds.
    #[serde(default = "default_header_timeout_ms")]
    pub header_timeout_ms: u64,
    /// Time a client has to send a request's body, in milliseconds.
    #[serde(default = "default_body_timeout_ms")]
    pub body_timeout_ms: u64,
    /// A connection with no request for this long is closed, in milliseconds.
    #[serde(default = "default_idle_timeout_ms")]
    pub idle_timeout_ms: u64,
}

impl WebhookConfig {
    /// Serve on `listen` for the public `url`, with the default limits.
    pub fn new(listen: std::net::SocketAddr, url: &str) -> Self {
        Self {
            listen,
            url: url.to_owned(),
            secret_env: None,
            max_connections: default_max_connections(),
            header_timeout_ms: default_header_timeout_ms(),
            body_timeout_ms: default_body_timeout_ms(),
            idle_timeout_ms: default_idle_timeout_ms(),
        }
    }
}

/// Ranges of the sender's and the webhook server's settings.
fn check_telegram(tg: &TelegramConfig) -> Result<(), String> {
    if !(1..=1024).contains(&tg.max_in_flight) {
        return Err(format!("[telegram] max_in_flight = {} must be between 1 and 1024", tg.max_in_flight));
    }
    if tg.replica_id.is_empty() || tg.replica_id.len() > 64 {
        return Err("[telegram] replica_id must be 1-64 characters".into());
    }
    if let Some(w) = &tg.webhook {
        if !(1..=100_000).contains(&w.max_connections) {
            return Err(format!(
                "[telegram.webhook] max_connections = {} must be between 1 and 100000",
                w.max_connections
            ));
        }
        for (key, ms) in [
            ("header_timeout_ms", w.header_timeout_ms),
            ("body_timeout_ms", w.body_timeout_ms),
            ("idle_timeout_ms", w.idle_timeout_ms),
        ] {
            if !(1..=3_600_000).contains(&ms) {
                return Err(format!("[telegram.webhook] {key} = {ms} must be between 1 and 3600000"));
            }
        }
    }
    Ok(())
}

fn default_max_in_flight() -> usize {
    32
}

fn default_replica_id() -> String {
    "main".into()
}

fn default_max_connections() -> usize {
    256
}

fn default_header_timeout_ms() -> u64 {
    10_000
}

fn default_body_timeout_ms() -> u64 {
    10_000
}

fn default_idle_timeout_ms() -> u64 {
    60_000
}

fn default_api_url() -> String {
    "https://api.telegram.org/".into()
}

fn default_token_env() -> String {
    "WHARF_TELEGRAM_TOKEN".into()
}

/// `[telegram] mode`.
#[derive(Debug, Deserialize, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TelegramMode {
    /// Long polling with `getUpdates`.
    #[default]
    Polling,
    /// Telegram posts updates to `[telegram.webhook] url`.
    Webhook,
    /// No Telegram at all: `wharf run` serves only the inbox (events queued by other
    /// means, timers). Said explicitly, so a forgotten table is never taken for it.
    None,
}

/// `[runtime]`.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, default)]
pub struct RuntimeConfig {
    /// How many chats are served at once.
    pub concurrency: usize,
    /// Where compiled plugins are cached.
    pub cache_dir: PathBuf,
    /// Default wall-clock budget of one plugin call, in milliseconds.
    pub timeout_ms: u64,
    /// Default memory cap of one plugin, in MiB.
    pub memory_mib: u64,
    /// Consecutive failures after which a plugin is disabled.
    pub max_failures: u32,
    /// Reload a plugin when its `.wasm` file changes on disk.
    pub watch: bool,
    /// Largest HTTP response body a plugin may receive, in bytes.
    pub http_max_body: u64,
    /// Timers set per second (budget across turns).
    pub timers_per_sec: Option<f64>,
    /// Timers set in a burst.
    pub timers_burst: Option<u32>,
    /// Events emitted per second.
    pub events_per_sec: Option<f64>,
    /// Events emitted in a burst.
    pub events_burst: Option<u32>,
    /// Telegram calls queued per second.
    pub messages_per_sec: Option<f64>,
    /// Telegram calls queued in a burst.
    pub messages_burst: Option<u32>,
    /// Minimum delay of a timer set while handling the plugin's own timer, in ms.
    pub rearm_delay_ms: Option<u64>,
    /// Deepest event chain (hops).
    pub max_hops: Option<u32>,
    /// KV size quota, in MiB.
    pub kv_mib: Option<u64>,
    /// KV key-count quota.
    pub kv_keys: Option<u64>,
    /// Free timers, events and messages per plugin in a turn handling a Telegram update.
    pub update_allowance: Option<u32>,
}

impl RuntimeConfig {
    /// The default budgets: the built-in ones under the keys set in `[runtime]`.
    pub fn budget(&self) -> Budget {
        budget_keys!(self).over(&Budget::default())
    }
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            concurrency: 32,
            cache_dir: PathBuf::from("data/cache"),
            timeout_ms: 2_000,
            memory_mib: 64,
            max_failures: 5,
            watch: true,
            http_max_body: 1 << 20,
            timers_per_sec: None,
            timers_burst: None,
            events_per_sec: None,
            events_burst: None,
            messages_per_sec: None,
            messages_burst: None,
            rearm_delay_ms: None,
            max_hops: None,
            kv_mib: None,
            kv_keys: None,
            update_allowance: None,
        }
    }
}

/// `[plugins.NAME]`.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct PluginConfig {
    /// The component file.
    pub path: PathBuf,
    /// Whether it runs (default true).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Position in the chain (lower first; ties keep file order).
    #[serde(default)]
    pub order: i32,
    /// Capabilities granted.
    #[serde(default)]
    pub grants: Vec<Grant>,
    /// Hosts it may reach over HTTP.
    #[serde(default)]
    pub http: Vec<HttpHost>,
    /// Per-plugin limits overriding `[runtime]`.
    #[serde(default)]
    pub limits: Limits,
    /// Settings handed to the plugin (keys keep their place in the file for errors).
    #[serde(default)]
    pub settings: IndexMap<toml::Spanned<String>, toml::Value>,
}

fn yes() -> bool {
    true
}

/// `[plugins.NAME.limits]`.
#[derive(Debug, Deserialize, Clone, Copy, Default)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Wall-clock budget of one call, in milliseconds.
    pub timeout_ms: Option<u64>,
    /// Memory cap, in MiB.
    pub memory_mib: Option<u64>,
    /// Timers set per second (budget across turns).
    pub timers_per_sec: Option<f64>,
    /// Timers set in a burst.
    pub timers_burst: Option<u32>,
    /// Events emitted per second.
    pub events_per_sec: Option<f64>,
    /// Events emitted in a burst.
    pub events_burst: Option<u32>,
    /// Telegram calls queued per second.
    pub messages_per_sec: Option<f64>,
    /// Telegram calls queued in a burst.
    pub messages_burst: Option<u32>,
    /// Minimum delay of a timer set while handling the plugin's own timer, in ms.
    pub rearm_delay_ms: Option<u64>,
    /// Deepest event chain (hops).
    pub max_hops: Option<u32>,
    /// KV size quota, in MiB.
    pub kv_mib: Option<u64>,
    /// KV key-count quota.
    pub kv_keys: Option<u64>,
    /// Free timers, events and messages per plugin in a turn handling a Telegram update.
    pub update_allowance: Option<u32>,
}

/// One enabled plugin, resolved: absolute path, effective limits, JSON settings.
#[derive(Debug, Clone)]
pub struct PluginSpec {
    /// Config name.
    pub name: PluginName,
    /// Absolute path of the `.wasm`.
    pub path: PathBuf,
    /// Grants.
    pub grants: Vec<Grant>,
    /// HTTP hosts.
    pub http: Vec<HttpHost>,
    /// Budget per call.
    pub timeout_ms: u64,
    /// Memory cap in bytes.
    pub memory_bytes: u64,
    /// Budgets across turns.
    pub budget: Budget,
    /// Settings as a JSON object.
    pub settings: serde_json::Map<String, serde_json::Value>,
    /// Each setting's key with its line and column in the config file.
    pub setting_keys: Vec<(String, usize, usize)>,
    /// The line of `[plugins.NAME]` in the config file, for error messages.
    pub line: usize,
}

impl PluginSpec {
    /// Whether `grant` (or a grant that covers it) is held.
    pub fn has(&self, grant: &Grant) -> bool {
        self.grants.iter().any(|g| {
            g == grant
                || (*g == Grant::Telegram
                    && matches!(grant, Grant::TelegramSend | Grant::TelegramMembers | Grant::TelegramFiles))
        })
    }
}

impl Config {
    /// Read and validate a config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => ConfigError::Missing { path: path.to_owned() },
            _ => ConfigError::Read { path: path.to_owned(), source },
        })?;
        let base = path.parent().map(Path::to_owned).unwrap_or_default();
        let mut cfg =
            Self::parse(&text, &base).map_err(|message| ConfigError::Invalid { path: path.to_owned(), message })?;
        cfg.file = Some(path.to_owned());
        Ok(cfg)
    }

    /// The file this config was read from (none when it was parsed from text).
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// Parse and validate config text; relative paths resolve against `base_dir`.
    pub fn parse(text: &str, base_dir: &Path) -> Result<Self, String> {
        let mut cfg: Config = toml::from_str(text).map_err(|e| e.to_string().trim_end().to_owned())?;
        cfg.base_dir = if base_dir.as_os_str().is_empty() { PathBuf::from(".") } else { base_dir.to_owned() };
        cfg.source = text.to_owned();
        cfg.validate()?;
        Ok(cfg)
    }

    fn validate(&self) -> Result<(), String> {
        let rt = &self.runtime;
        if rt.concurrency == 0 || rt.concurrency > 4096 {
            return Err(format!("[runtime] concurrency = {} must be between 1 and 4096", rt.concurrency));
        }
        if !self.storage.url.starts_with("sqlite:") && !self.storage.url.starts_with("postgres") {
            return Err(format!(
                "[storage] url must start with \"sqlite:\" or \"postgres://\", got {:?}",
                crate::secret::mask_url(&self.storage.url)
            ));
        }
        budget_keys!(rt).check().map_err(|e| format!("[runtime] {e}"))?;
        self.bot.check()?;
        self.log_sink.check()?;
        if let Some(alerts) = &self.alerts {
            alerts.check(|offset| self.line_of(offset))?;
        }
        if let Some(admin) = &self.admin {
            admin.check(|offset| self.position_of(offset))?;
        }
        if let Some(tg) = &self.telegram
            && tg.mode == TelegramMode::Webhook
            && tg.webhook.is_none()
        {
            return Err("[telegram] mode = \"webhook\" needs a [telegram.webhook] table with listen and url".into());
        }
        if let Some(tg) = &self.telegram {
            check_telegram(tg)?;
        }
        for (name, spanned) in &self.plugins {
            let p = spanned.get_ref();
            let line = self.line_of(spanned.span().start);
            for g in &p.grants {
                if let Grant::Call(callee) = g {
                    match self.plugins.get(callee) {
                        None => {
                            return Err(format!(
                                "line {line}: [plugins.{name}] grants {g:?} but there is no [plugins.{callee}]",
                                g = g.to_string()
                            ));
                        }
                        Some(c) if !c.get_ref().enabled && p.enabled => {
                            return Err(format!("line {line}: [plugins.{name}] calls {callee}, which is disabled"));
                        }
                        _ => {}
                    }
                }
            }
            let limits = [("timeout_ms", p.limits.timeout_ms, 1, 60_000), ("memory_mib", p.limits.memory_mib, 1, 4096)];
            for (key, value, lo, hi) in limits {
                if let Some(v) = value.filter(|v| !(lo..=hi).contains(v)) {
                    return Err(format!(
                        "line {line}: [plugins.{name}.limits] {key} = {v} must be between {lo} and {hi}"
                    ));
                }
            }
            budget_keys!(p.limits).check().map_err(|e| format!("line {line}: [plugins.{name}.limits] {e}"))?;
        }
        Ok(())
    }

    /// 1-based line number of a byte offset in the config text.
    pub fn line_of(&self, offset: usize) -> usize {
        self.position_of(offset).0
    }

    /// 1-based line and column (in characters) of a byte offset in the config text.
    pub fn position_of(&self, offset: usize) -> (usize, usize) {
        let Some(before) = self.source.get(..offset) else { return (1, 1) };
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (before.matches('\n').count() + 1, before[line_start..].chars().count() + 1)
    }

    /// Resolve a path from the file against the config's directory.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() { p.to_owned() } else { self.base_dir.join(p) }
    }

    /// Enabled plugins in run order.
    pub fn plugin_specs(&self) -> Vec<PluginSpec> {
        let mut list: Vec<(i32, usize, PluginSpec)> = self
            .plugins
            .iter()
            .enumerate()
            .filter(|(_, (_, p))| p.get_ref().enabled)
            .map(|(i, (name, spanned))| {
                let p = spanned.get_ref();
                let settings = p
                    .settings
                    .iter()
                    .filter_map(|(k, v)| Some((k.get_ref().clone(), serde_json::to_value(v).ok()?)))
                    .collect();
                let setting_keys = p
                    .settings
                    .keys()
                    .map(|k| {
                        let (line, column) = self.position_of(k.span().start);
                        (k.get_ref().clone(), line, column)
                    })
                    .collect();
                let spec = PluginSpec {
                    name: name.clone(),
                    path: self.resolve(&p.path),
                    grants: p.grants.clone(),
                    http: p.http.clone(),
                    timeout_ms: p.limits.timeout_ms.unwrap_or(self.runtime.timeout_ms),
                    memory_bytes: p.limits.memory_mib.unwrap_or(self.runtime.memory_mib) << 20,
                    budget: budget_keys!(p.limits).over(&self.runtime.budget()),
                    settings,
                    setting_keys,
                    line: self.line_of(spanned.span().start),
                };
                (p.order, i, spec)
            })
            .collect();
        list.sort_by_key(|(order, i, _)| (*order, *i));
        list.into_iter().map(|(_, _, s)| s).collect()
    }

    /// The storage URL with a relative SQLite path resolved.
    pub fn storage_url(&self) -> String {
        match self.storage.url.strip_prefix("sqlite:") {
            Some(path) if !path.starts_with(':') => {
                let path = path.trim_start_matches("//");
                format!("sqlite:{}", self.resolve(Path::new(path)).display())
            }
            _ => self.storage.url.clone(),
        }
    }
}
