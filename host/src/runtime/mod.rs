//! The runtime: loads plugins, runs the dispatcher, the timer loop and the reload
//! watcher, and offers the API the CLI, the Telegram front end and tests use.
//!
//! | module | role |
//! |---|---|
//! | `engine` | wasmtime engine, pooling allocator, epoch ticker, compile cache |
//! | `plugin` | loading, grant checks, linking, `describe()`, the [`PluginSet`] |
//! | `abi` | the `handler` export of each supported WIT version (0.2, 0.1) |
//! | `checks` | checks of the whole set against the config (greeting buttons, duplicate commands) |
//! | `clash` | what a module may not take from the other plugins (prefix, commands, exports) |
//! | `link` | forwarding cross-plugin calls within one store |
//! | `sandbox` | one plugin call in a fresh store (`handle`, or an observer's `observe`) |
//! | `turn` | routing an event through plugins and committing the turn |
//! | `observe` | observers: their observations (queued with the update's turn), lanes and turns |
//! | `answers` | what the host answers itself: /help, admin-only refusals, greeting, fallback |
//! | `dispatcher` | inbox → per-chat lanes, leased through the database, served round-robin |
//! | `timers` | due timers → inbox |
//! | `retention` | the event log's old rows, pruned in batches |
//! | `reload` | hot reload: file watcher and lifecycle events |
//! | `reconfig` | what a reload may change in the config, and reading `config.toml` again |
//! | `manage` | reload requests from other processes and Telegram, disabling plugins by hand |
//! | `health` | the circuit breaker |
//! | `disabled` | breaker trips kept across restarts (`plugin_state`), re-enabling |
//! | `observer` | the read-only handle the admin listener uses |
//! | `panel` | plugins' admin views (read-only calls) and actions (turns via the inbox): [`Console`] |
//! | `menu` | the Telegram `/admin` menu of plugins' views and actions |
//! | `notice` | notices to admins in Telegram, quoting plugins' text safely |
//! | `seen` | users seen in updates, and the host's events about users (started, blocked) |

mod abi;
mod answers;
mod checks;
mod clash;
mod disabled;
mod dispatcher;
mod engine;
mod health;
mod link;
mod manage;
mod menu;
mod notice;
mod observe;
mod observer;
mod panel;
mod plugin;
mod reconfig;
mod reload;
mod retention;
mod sandbox;
mod seen;
mod timers;
mod turn;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use wasmtime::Engine;
use wasmtime::component::Linker;

pub use crate::metrics::{LatencySummary, Metrics};
pub use checks::SetReport;
pub use manage::{PluginRow, PluginRunState, disable_plugin, enable_plugin, request_reload};
pub use observer::{Observer, PluginStatus};
pub use panel::{ACT_WAIT, Console};
pub use plugin::LoadError;
pub use reload::{ConfigOutcome, ReloadReport};

use crate::caps::bindings::wharf::bot::types::Event;
use crate::caps::{self, HostServices, PluginState, Quotas};
use crate::clock::Clock;
use crate::config::Config;
use crate::inbox::Entry;
use crate::storage::{KvQuota, NewInbox, Storage};
use plugin::PluginSet;

/// Options that are not in `config.toml` (mostly for tests and embedding).
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// Host clock (a manual one in tests).
    pub clock: Clock,
    /// PostgreSQL schema to use (tests isolate themselves with one).
    pub pg_schema: Option<String>,
    /// Per-turn quotas.
    pub quotas: Quotas,
    /// Poll plugin files for changes (overrides `[runtime] watch` when set).
    pub watch: Option<bool>,
    /// Host names resolved to fixed addresses for plugins' HTTP requests, before DNS
    /// (tests); the addresses are still checked as DNS answers are.
    pub dns_overrides: std::collections::HashMap<String, Vec<std::net::IpAddr>>,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        Self {
            clock: Clock::system(),
            pg_schema: None,
            quotas: Quotas::default(),
            watch: None,
            dns_overrides: Default::default(),
        }
    }
}

/// The runtime's side of the Telegram front end.
#[derive(Clone, Debug)]
pub struct Link {
    /// Database.
    pub storage: Storage,
    /// Host clock.
    pub clock: Clock,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// Whether the Bot API answers (the front end keeps it up to date).
    pub api: Arc<crate::telegram::ApiHealth>,
    /// Notify after adding inbox entries.
    pub inbox_ready: Arc<Notify>,
    /// Told which chats got outbox rows.
    pub outbox_ready: Arc<crate::telegram::ready::OutboxReady>,
    /// Where the front end plugs in the bot for live calls (members, files).
    pub live: Arc<crate::telegram::live::LiveBot>,
    /// The command menu: (command, description) of every non-admin command.
    pub commands: Vec<(String, String)>,
}

/// State shared by the runtime's tasks.
pub(crate) struct Shared {
    engine: Engine,
    host: Arc<HostServices>,
    base_linker: Linker<PluginState>,
    /// The plugins' specs and `[bot]` as configured now (a reload swaps them).
    live: RwLock<Arc<reconfig::Live>>,
    cache_dir: std::path::PathBuf,
    set: RwLock<Arc<PluginSet>>,
    /// The bot's admins now (a reload swaps them).
    admins: reconfig::Admins,
    /// Plugins an admin disabled by hand, and who.
    off_by_admin: Mutex<std::collections::HashMap<crate::config::PluginName, String>>,
    /// Reloads asked for in Telegram, performed by a task of their own.
    reload_asks: manage::Asks,
    concurrency: usize,
    max_failures: u32,
    breaker: health::Breaker,
    metrics: Arc<Metrics>,
    /// Whether the Bot API answers.
    api: Arc<crate::telegram::ApiHealth>,
    /// `[log_sink]`: the admin log channel.
    log_sink: crate::config::LogSinkConfig,
    /// Turns committed business events (the log sink looks at once).
    sink_wake: Arc<Notify>,
    /// Users this process recorded as seen.
    seen: seen::SeenUsers,
    /// Commits failing since the last that worked.
    storage_trouble: notice::StorageTrouble,
    /// What the alert task shows (the firing alerts).
    alerts: Arc<crate::alerts::Alerts>,
    lanes: Mutex<dispatcher::Lanes>,
    /// This runtime's id on the lanes it leases (fresh at every start).
    owner: Arc<str>,
    /// New inbox entries exist, or a worker handed a lane back.
    wake: Arc<Notify>,
    /// A held lane is ready for a worker.
    work: Notify,
    /// New outbox rows exist (for these chats).
    outbox_ready: Arc<crate::telegram::ready::OutboxReady>,
    /// Timers were added or changed.
    timers_changed: Notify,
    reload_lock: tokio::sync::Mutex<()>,
    shutting_down: AtomicBool,
}

impl Shared {
    fn current_set(&self) -> Arc<PluginSet> {
        self.set.read().map(|s| s.clone()).unwrap_or_else(|e| e.into_inner().clone())
    }

    fn live(&self) -> Arc<reconfig::Live> {
        self.live.read().map(|s| s.clone()).unwrap_or_else(|e| e.into_inner().clone())
    }

    fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Relaxed)
    }
}

/// A running Wharf host.
pub struct Runtime {
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

impl Runtime {
    /// Open storage, load every enabled plugin (failing if any cannot load), emit
    /// lifecycle events and start serving the inbox.
    pub async fn start(config: &Config, opts: RuntimeOptions) -> anyhow::Result<Self> {
        let shared = Self::open(config, &opts).await?;
        let stamps = reload::stamps(&shared);
        let set = Self::load_all(&shared).await?;
        let report = checks::check(&shared.live().bot, &set);
        for w in &report.warnings {
            tracing::warn!(target: "wharf.config", "{w}");
        }
        if !report.errors.is_empty() {
            anyhow::bail!("the config does not fit the plugins:\n  - {}", report.errors.join("\n  - "));
        }
        *shared.set.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(set);
        reload::record_versions(&shared).await?;
        if shared.log_sink.chat_id.is_some() {
            crate::sink::init_cursor(&shared.host.storage, shared.host.clock.now_ms())
                .await
                .context("setting up the log sink")?;
        }
        let still_disabled = disabled::restore(&shared).await.context("reading the plugins the breaker disabled")?;
        let mut tasks = vec![
            tokio::spawn(dispatcher::run(shared.clone())),
            tokio::spawn(timers::run(shared.clone())),
            tokio::spawn(disabled::watch(shared.clone(), still_disabled.into_iter().collect())),
            tokio::spawn(retention::run(shared.clone())),
            tokio::spawn(manage::watch(shared.clone())),
            tokio::spawn(manage::serve_asks(shared.clone())),
        ];
        if opts.watch.unwrap_or(config.runtime.watch) {
            tasks.push(tokio::spawn(reload::watch(shared.clone(), stamps)));
        }
        if shared.log_sink.chat_id.is_some() {
            let deps = crate::sink::SinkDeps {
                storage: shared.host.storage.clone(),
                clock: shared.host.clock.clone(),
                outbox_ready: shared.outbox_ready.clone(),
                wake: shared.sink_wake.clone(),
                admins: shared.admins.snapshot().iter().copied().collect(),
            };
            tasks.push(tokio::spawn(crate::sink::run(deps, shared.log_sink.clone())));
        }
        if let Some(alerts) = &config.alerts {
            let breaker = shared.clone();
            let deps = crate::alerts::AlertDeps {
                storage: shared.host.storage.clone(),
                clock: shared.host.clock.clone(),
                api: shared.api.clone(),
                disabled: Box::new(move || breaker.breaker.open_plugins()),
                admins: config.admins.clone(),
                log_sink: shared.log_sink.clone(),
                outbox_ready: shared.outbox_ready.clone(),
                sink_wake: shared.sink_wake.clone(),
                metrics: shared.metrics.clone(),
                shown: shared.alerts.clone(),
            };
            tasks.push(tokio::spawn(crate::alerts::run(deps, alerts.clone())));
        }
        tracing::info!(target: "wharf.runtime", plugins = shared.current_set().plugins.len(), "runtime started");
        Ok(Self { shared, tasks })
    }

    fn shared(config: &Config, opts: &RuntimeOptions, storage: Storage) -> anyhow::Result<Shared> {
        let rt = &config.runtime;
        let engine = engine::new_engine(rt.concurrency)?;
        let http = caps::egress::client(opts.dns_overrides.clone())?;
        let live = reconfig::Live::new(config);
        let specs = &live.specs;
        storage.set_kv_quotas(
            specs.iter().map(|s| (s.name.to_string(), KvQuota { bytes: s.budget.kv_bytes, keys: s.budget.kv_keys })),
        );
        let metrics = Arc::new(Metrics::default());
        let host = Arc::new(HostServices {
            storage,
            clock: opts.clock.clone(),
            http,
            http_max_body: rt.http_max_body,
            quotas: opts.quotas.clone(),
            budgets: caps::budget::Budgets::default(),
            live: Arc::default(),
            admins: std::sync::RwLock::new(config.admins.clone()),
            metrics: metrics.clone(),
        });
        Ok(Shared {
            base_linker: caps::base_linker(&engine).map_err(anyhow::Error::from)?,
            engine,
            host,
            live: RwLock::new(Arc::new(live)),
            cache_dir: config.resolve(&rt.cache_dir),
            set: RwLock::new(Arc::new(PluginSet::default())),
            admins: reconfig::Admins::new(&config.admins),
            off_by_admin: Mutex::default(),
            reload_asks: manage::Asks::default(),
            concurrency: rt.concurrency,
            max_failures: rt.max_failures,
            breaker: health::Breaker::new(rt.max_failures),
            metrics,
            api: Arc::default(),
            log_sink: config.log_sink.clone(),
            sink_wake: Arc::default(),
            seen: seen::SeenUsers::default(),
            storage_trouble: notice::StorageTrouble::default(),
            alerts: Arc::default(),
            lanes: Mutex::new(dispatcher::Lanes::default()),
            owner: dispatcher::owner_id(),
            wake: Arc::new(Notify::new()),
            work: Notify::new(),
            outbox_ready: Arc::default(),
            timers_changed: Notify::new(),
            reload_lock: tokio::sync::Mutex::new(()),
            shutting_down: AtomicBool::new(false),
        })
    }

    /// Open the configured database and make the shared state (no plugins loaded yet).
    async fn open(config: &Config, opts: &RuntimeOptions) -> anyhow::Result<Arc<Shared>> {
        let url = config.storage_url();
        let storage = Storage::open(&url, opts.pg_schema.as_deref())
            .await
            .with_context(|| format!("opening storage {}", crate::secret::mask_url(&url)))?;
        Ok(Arc::new(Self::shared(config, opts, storage)?))
    }

    /// Load every configured plugin; an error lists each one that failed.
    async fn load_all(shared: &Shared) -> anyhow::Result<PluginSet> {
        let (set, errors) = Self::build_set(shared).await;
        if !errors.is_empty() {
            let list: Vec<String> = errors.iter().map(|e| format!("  - {}", e.message)).collect();
            anyhow::bail!("{} plugin(s) failed to load:\n{}", errors.len(), list.join("\n"));
        }
        Ok(set)
    }

    /// Load the configured plugins: those that loaded, and why the others did not.
    async fn build_set(shared: &Shared) -> (PluginSet, Vec<LoadError>) {
        plugin::build(&shared.engine, &shared.host, &shared.base_linker, &shared.live().specs, &shared.cache_dir, None)
            .await
    }

    /// Open the configured database and load the plugins without serving anything, for
    /// `wharf admin`: views run here; actions are queued for the runtime that serves the
    /// database (see [`Console::act`]). Plugins the breaker disabled show as disabled.
    pub async fn open_console(config: &Config, opts: RuntimeOptions) -> anyhow::Result<Console> {
        let shared = Self::open(config, &opts).await?;
        let set = Self::load_all(&shared).await?;
        *shared.set.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(set);
        let set = shared.current_set();
        for d in shared.host.storage.disabled_plugins().await.context("reading the plugins the breaker disabled")? {
            if let Some(p) = set.get(&d.plugin)
                && (disabled::digest(p) == d.digest || manage::by_admin(&d).is_some())
            {
                shared.breaker.open(p.name());
            }
        }
        Ok(Console { shared, serving: false, wait: ACT_WAIT })
    }

    /// Load the configured plugins without running anything (for `wharf check-config`).
    /// Plugins that failed to load are errors; so are set-level problems of the ones that
    /// loaded (see [`SetReport`]), which also brings warnings.
    pub async fn check_plugins(config: &Config) -> anyhow::Result<SetReport> {
        let dir = tempfile_dir()?;
        let url = format!("sqlite:{}", dir.join("check.db").display());
        let storage = Storage::open(&url, None).await?;
        let shared = Self::shared(config, &RuntimeOptions::default(), storage)?;
        let (set, errors) = Self::build_set(&shared).await;
        let _ = std::fs::remove_dir_all(&dir);
        let mut report = checks::check(&shared.live().bot, &set);
        report.errors.splice(0..0, errors.into_iter().map(|e| e.message));
        Ok(report)
    }

    /// The database.
    pub fn storage(&self) -> &Storage {
        &self.shared.host.storage
    }

    /// Plugins' admin views and actions.
    pub fn console(&self) -> Console {
        Console { shared: self.shared.clone(), serving: true, wait: ACT_WAIT }
    }

    /// The host clock.
    pub fn clock(&self) -> &Clock {
        &self.shared.host.clock
    }

    /// Counters.
    pub fn metrics(&self) -> &Metrics {
        &self.shared.metrics
    }

    /// The alerts firing and the alert task's checks (`[alerts]`).
    pub fn alerts(&self) -> &crate::alerts::Alerts {
        &self.shared.alerts
    }

    /// A read-only handle for the admin listener.
    pub fn observer(&self) -> Observer {
        Observer { shared: self.shared.clone() }
    }

    /// Whether the Bot API answers (kept up to date by the Telegram front end).
    pub fn api_health(&self) -> &crate::telegram::ApiHealth {
        &self.shared.api
    }

    /// Queue an event in a lane (a chat id, or 0) for every plugin it routes to.
    pub async fn enqueue(&self, lane: i64, event: &Event) -> anyhow::Result<()> {
        self.enqueue_many(&[(lane, None, event.clone())]).await
    }

    /// Queue several events in one transaction; `target` restricts one to a plugin.
    pub async fn enqueue_many(&self, events: &[(i64, Option<String>, Event)]) -> anyhow::Result<()> {
        let entries = events
            .iter()
            .map(|(lane, target, event)| NewInbox::entry(*lane, target.clone(), &Entry::new(event.clone()), None))
            .collect::<Result<Vec<_>, _>>()?;
        self.shared.host.storage.push_inbox(&entries, self.shared.host.clock.now_ms()).await?;
        self.shared.wake.notify_one();
        Ok(())
    }

    /// Benchmark helper: run `event` through the plugins it routes to `iterations` times,
    /// each call in a fresh instance, without committing. Returns the elapsed time and
    /// how many plugins each iteration called.
    #[doc(hidden)]
    pub async fn measure_calls(&self, lane: i64, event: &Event, iterations: u32) -> anyhow::Result<(Duration, usize)> {
        let shared = &self.shared;
        let set = shared.current_set();
        let routed = turn::route(&set, event, None);
        let now_ms = shared.host.clock.now_ms();
        let ctx = turn::context(shared, event, lane, 0, now_ms);
        let start = Instant::now();
        for _ in 0..iterations {
            let mut state = caps::TurnState::new(None, lane, now_ms);
            state.budget.cause = caps::budget::Cause::new(event, 0, None);
            for (plugin, ev) in &routed {
                let (t, outcome) = sandbox::handle(&shared.engine, &shared.host, plugin, state, ev, &ctx).await;
                state = t;
                anyhow::ensure!(matches!(outcome, sandbox::Outcome::Done(_)), "{}: {outcome:?}", plugin.name());
            }
        }
        Ok((start.elapsed(), routed.len()))
    }

    /// Benchmark helper: hand `event` to observer `plugin`'s `observe` `iterations` times,
    /// each call in a fresh instance, without committing. Returns the elapsed time.
    #[doc(hidden)]
    pub async fn measure_observe(
        &self,
        plugin: &str,
        lane: i64,
        event: &Event,
        iterations: u32,
    ) -> anyhow::Result<Duration> {
        let shared = &self.shared;
        let set = shared.current_set();
        let p = set.get(plugin).with_context(|| format!("no plugin {plugin}"))?;
        let observer = p.observer.clone().with_context(|| format!("plugin {plugin} is not an observer"))?;
        let now_ms = shared.host.clock.now_ms();
        let ctx = turn::context(shared, event, lane, 0, now_ms);
        let start = Instant::now();
        for _ in 0..iterations {
            let state = caps::TurnState::new(None, observe::lane(p.name()), now_ms);
            let (_, outcome) = sandbox::observe(&shared.engine, &shared.host, p, &observer, state, event, &ctx).await;
            anyhow::ensure!(matches!(outcome, sandbox::Outcome::Done(_)), "{plugin}: {outcome:?}");
        }
        Ok(start.elapsed())
    }

    /// What the Telegram front end needs: storage, clock, metrics and notifications.
    pub fn link(&self) -> Link {
        Link {
            storage: self.shared.host.storage.clone(),
            clock: self.shared.host.clock.clone(),
            metrics: self.shared.metrics.clone(),
            api: self.shared.api.clone(),
            inbox_ready: self.shared.wake.clone(),
            outbox_ready: self.shared.outbox_ready.clone(),
            live: self.shared.host.live.clone(),
            commands: self.commands(),
        }
    }

    /// Every non-admin command of the loaded plugins (first plugin wins a name), and the
    /// host's `/help` unless a plugin declares it.
    pub fn commands(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for p in &self.shared.current_set().plugins {
            for c in p.manifest.commands.iter().filter(|c| !c.admin_only) {
                if !out.iter().any(|(n, _)| *n == c.name) {
                    out.push((c.name.clone(), c.description.clone()));
                }
            }
        }
        if !out.iter().any(|(n, _)| n == "help") {
            out.push(("help".into(), "Show what this bot can do".into()));
        }
        out
    }

    /// Read `config.toml` again (applied if valid, see `docs/config-reload.md`) and reload
    /// every plugin whose module changed. What SIGHUP does in `wharf run` and `wharf chat`.
    pub async fn reload(&self) -> anyhow::Result<ReloadReport> {
        reload::reload(&self.shared).await
    }

    /// [`Runtime::reload`], recording `who` asked for it.
    pub async fn reload_as(&self, who: &str) -> anyhow::Result<ReloadReport> {
        reload::reload_by(&self.shared, who).await
    }

    /// Whether a user is one of the bot's admins now.
    pub fn is_admin(&self, user_id: i64) -> bool {
        self.shared.admins.contains(&user_id)
    }

    /// Version of a loaded plugin, from its manifest.
    pub fn plugin_version(&self, name: &str) -> Option<String> {
        self.shared.current_set().get(name).map(|p| p.manifest.version.clone())
    }

    /// Whether a loaded plugin is an observer (exports `wharf:bot/observer`).
    pub fn is_observer(&self, name: &str) -> bool {
        self.shared.current_set().get(name).is_some_and(|p| p.observer.is_some())
    }

    /// Whether the circuit breaker disabled a plugin.
    pub fn is_disabled(&self, name: &str) -> bool {
        crate::config::PluginName::parse(name).is_ok_and(|n| self.shared.breaker.is_open(&n))
    }

    /// Wait until no timer is due, the inbox is empty and no turn is running, polling
    /// until `within`.
    pub async fn wait_idle(&self, within: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + within;
        loop {
            if self.is_idle().await? {
                return Ok(());
            }
            anyhow::ensure!(Instant::now() < deadline, "runtime not idle after {within:?}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// The order matters: work moves from due timers to the inbox, and from the inbox to
    /// running turns, each step atomically; checking in that order (and timers once more,
    /// for timers set by a turn that just committed) cannot miss work in flight.
    async fn is_idle(&self) -> anyhow::Result<bool> {
        let storage = &self.shared.host.storage;
        let no_due_timer = async {
            let due = storage.next_timer_due().await?;
            anyhow::Ok(due.is_none_or(|d| d > self.clock().now_ms()))
        };
        if !no_due_timer.await? || storage.inbox_has_work().await? {
            return Ok(false);
        }
        if !dispatcher::lock(&self.shared.lanes).is_idle() {
            return Ok(false);
        }
        let due = storage.next_timer_due().await?;
        Ok(due.is_none_or(|d| d > self.clock().now_ms()))
    }

    /// Stop accepting work, let running turns finish, give the lanes' leases back, stop
    /// the tasks.
    pub async fn shutdown(mut self) {
        self.shared.shutting_down.store(true, Ordering::Relaxed);
        self.shared.wake.notify_waiters();
        self.shared.work.notify_waiters();
        self.shared.timers_changed.notify_waiters();
        for t in self.tasks.drain(..) {
            t.abort();
        }
        release_leases(&self.shared).await;
    }
}

/// Wait (bounded) for running turns to end, then give back every lease this runtime
/// holds, so the next runtime need not wait for them to expire.
async fn release_leases(shared: &Shared) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline && dispatcher::lock(&shared.lanes).running() > 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    match shared.host.storage.release_all_lanes(&shared.owner).await {
        Ok(()) => dispatcher::lock(&shared.lanes).clear(),
        Err(e) => tracing::warn!(target: "wharf.dispatch", error = %e, "cannot give the lanes' leases back"),
    }
}

impl Drop for Runtime {
    /// A runtime dropped without [`Runtime::shutdown`] stops its background tasks; turns
    /// already running finish or are abandoned before commit (and run again later). Its
    /// leases are given back in the background when possible (else they expire).
    fn drop(&mut self) {
        self.shared.shutting_down.store(true, Ordering::Relaxed);
        self.shared.work.notify_waiters();
        for t in &self.tasks {
            t.abort();
        }
        if !self.tasks.is_empty()
            && let Ok(handle) = tokio::runtime::Handle::try_current()
        {
            let shared = self.shared.clone();
            handle.spawn(async move { release_leases(&shared).await });
        }
    }
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("wharf-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
