//! Host capabilities offered to plugins, one module per WIT interface.
//!
//! [`PluginState`] is the data of a plugin's `Store` for one call: the WASI context, the
//! memory limiter, which plugin is running (a stack, because a plugin may call another
//! plugin's exported interface in the same store), and the turn's buffered effects.
//!
//! Each capability module owns its rules, in the style of wasmtime's `WasiKeyValue<'a>`:
//! a view (`Kv<'a>`, `Telegram<'a>`, …, made by `state.kv()`, `state.telegram()`, … for
//! each host call) that implements the generated `Host` trait and holds the access
//! decided for the running plugin (see `access`) and the capability's quotas; the
//! module's `requirement` (the grant each function needs, checked at load time); and its
//! `add_to_linker`. `messages` holds handles and message ownership, `compat` the adapters
//! that serve `wharf:bot@0.1.0` components through the same views, `budget` the
//! per-plugin budgets across turns, `egress` which addresses HTTP may connect to.

mod access;
pub mod bindings;
pub(crate) mod budget;
mod compat;
mod config;
pub(crate) mod effects;
pub mod egress;
mod events;
mod http;
mod kv;
mod log;
mod messages;
mod scheduler;
mod telegram;

use std::sync::Arc;
use std::time::Instant;

use wasmtime::component::{Component, HasSelf, Instance, Linker, ResourceTable};
use wasmtime::{ResourceLimiter, Result};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::clock::{Clock, WasiWallClock};
use crate::config::{PluginName, PluginSpec};
use crate::storage::Storage;
pub(crate) use access::{Access, Requirement};
pub(crate) use effects::{CallEffects, TurnState};
pub use events::EventQuotas;
pub use kv::KvQuotas;
pub use log::LogQuotas;
pub use scheduler::SchedulerQuotas;
pub use telegram::TelegramQuotas;

/// Per-turn quotas on what one plugin call may produce, one part per capability (each
/// defined, with its defaults, in the capability's module). The host refuses anything
/// beyond them with an `invalid-input` error.
#[derive(Clone, Debug, Default)]
pub struct Quotas {
    /// `kv`: key and value sizes, writes per turn.
    pub kv: KvQuotas,
    /// `telegram`: calls queued per turn.
    pub telegram: TelegramQuotas,
    /// `events`: events per turn, payload size.
    pub events: EventQuotas,
    /// `scheduler`: timer changes per turn, payload size.
    pub scheduler: SchedulerQuotas,
    /// `log`: business events per turn, diagnostic lines per call.
    pub log: LogQuotas,
}

/// Services shared by every store: storage, time, the HTTP client, limits.
#[derive(Debug)]
pub struct HostServices {
    /// Database.
    pub storage: Storage,
    /// Host clock.
    pub clock: Clock,
    /// Outbound HTTP client: no redirects (a redirect could leave the granted hosts), no
    /// proxy, names resolved to public addresses only (see `egress`).
    pub http: reqwest::Client,
    /// Largest HTTP response body.
    pub http_max_body: u64,
    /// Per-turn quotas.
    pub quotas: Quotas,
    /// Budgets across turns: every plugin's token buckets.
    pub(crate) budgets: budget::Budgets,
    /// The bot for live calls: member lookups, file downloads (once Telegram is connected).
    pub live: Arc<crate::telegram::live::LiveBot>,
    /// The bot's admins (`admins` in the config), for `config.admins`; a config reload
    /// replaces them.
    pub admins: std::sync::RwLock<Vec<i64>>,
    /// The host's metrics (outbound HTTP is counted per plugin).
    pub metrics: Arc<crate::metrics::Metrics>,
}

/// What the host knows about a loaded plugin that host calls need.
#[derive(Debug)]
pub struct PluginCtx {
    /// Its config.
    pub spec: PluginSpec,
    /// Callback namespace from its manifest.
    pub callback_prefix: Option<String>,
    /// Settings as a JSON object string.
    pub settings_json: String,
}

impl PluginCtx {
    /// Config name, also the KV namespace.
    pub fn name(&self) -> &PluginName {
        &self.spec.name
    }
}

/// Caps memory growth at the running plugin's limit.
#[derive(Debug, Default)]
pub(crate) struct MemoryLimiter {
    cap: u64,
    pub(crate) denied: Option<u64>,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> Result<bool> {
        let ok = u64::try_from(desired).is_ok_and(|d| d <= self.cap);
        if !ok {
            self.denied = Some(self.cap);
        }
        Ok(ok)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> Result<bool> {
        Ok(desired <= 100_000)
    }
}

/// The data of a plugin's `Store` for one call.
pub struct PluginState {
    wasi: WasiCtx,
    table: ResourceTable,
    stderr: wasmtime_wasi::p2::pipe::MemoryOutputPipe,
    pub(crate) limiter: MemoryLimiter,
    stack: Vec<Arc<PluginCtx>>,
    /// Instances of exporting plugins linked into this store, by plugin name.
    pub(crate) linked: Vec<(PluginName, Instance)>,
    pub(crate) host: Arc<HostServices>,
    pub(crate) turn: TurnState,
    pub(crate) call: CallEffects,
    /// Set when a host call failed for reasons that are not the plugin's fault.
    pub(crate) host_fault: Option<String>,
    pub(crate) deadline: Instant,
    /// `describe()` is running: the capabilities' views deny every effect.
    pub(crate) describing: bool,
    /// An observer's `observe` is running: `telegram` denies messages (to every plugin
    /// in the store, so an export it calls cannot send for it either).
    pub(crate) observing: bool,
    /// An admin view is running: every write is refused (`access-denied`), and nothing
    /// of the call is ever committed.
    pub(crate) read_only: bool,
    /// The message whose button the call answers: (plugin, chat, message id). Only the
    /// plugin owning a callback prefix gets its presses, and only it can have put its
    /// prefix on a keyboard, so that message is the plugin's own.
    pub(crate) pressed: Option<(PluginName, i64, i32)>,
    /// Diagnostic lines dropped for exceeding the per-call quota.
    pub(crate) dropped_log_lines: usize,
    /// Diagnostic lines written in this call (see `log`).
    log_lines: usize,
}

impl PluginState {
    pub(crate) fn new(host: Arc<HostServices>, plugin: Arc<PluginCtx>, turn: TurnState, deadline: Instant) -> Self {
        let stderr = wasmtime_wasi::p2::pipe::MemoryOutputPipe::new(4096);
        let wasi = WasiCtx::builder()
            .wall_clock(WasiWallClock(host.clock.clone()))
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        let mut state = Self {
            wasi,
            table: ResourceTable::new(),
            stderr,
            limiter: MemoryLimiter::default(),
            stack: Vec::with_capacity(2),
            linked: Vec::new(),
            host,
            turn,
            call: CallEffects::default(),
            host_fault: None,
            deadline,
            describing: false,
            observing: false,
            read_only: false,
            pressed: None,
            dropped_log_lines: 0,
            log_lines: 0,
        };
        state.enter(plugin);
        state
    }

    /// The plugin whose code is running now.
    pub(crate) fn current(&self) -> &Arc<PluginCtx> {
        self.stack.last().expect("a plugin is always on the stack")
    }

    /// A call into `plugin` starts (its memory cap applies until `leave`).
    pub(crate) fn enter(&mut self, plugin: Arc<PluginCtx>) {
        self.limiter.cap = plugin.spec.memory_bytes;
        self.stack.push(plugin);
    }

    /// The call into the top plugin returned.
    pub(crate) fn leave(&mut self) {
        if self.stack.len() > 1 {
            self.stack.pop();
        }
        self.limiter.cap = self.current().spec.memory_bytes;
    }

    /// Record a host-side failure and turn it into a trap that aborts the turn attempt.
    pub(crate) fn fault(&mut self, what: impl std::fmt::Display) -> wasmtime::Error {
        let msg = what.to_string();
        tracing::warn!(target: "wharf.host", plugin = %self.current().name(), error = %msg, "host call failed");
        self.host_fault = Some(msg.clone());
        wasmtime::Error::msg(msg)
    }

    /// Milliseconds left in the call's budget.
    pub(crate) fn remaining_ms(&self) -> u64 {
        u64::try_from(self.deadline.saturating_duration_since(Instant::now()).as_millis()).unwrap_or(u64::MAX)
    }

    /// The last line the guest wrote to stderr (e.g. its panic message), trimmed.
    pub(crate) fn stderr_tail(&self) -> String {
        let bytes = self.stderr.contents();
        let text = String::from_utf8_lossy(&bytes);
        let lines: Vec<&str> =
            text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with("note: run with")).collect();
        let joined = lines.join(" ");
        let skip = joined.chars().count().saturating_sub(300);
        joined.chars().skip(skip).collect()
    }
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

/// A linker with WASI (sandboxed: no files, sockets or environment) and every Wharf
/// capability, in the current WIT version and (through adapters) the previous one.
/// Grants are enforced when a plugin is loaded, by its imports, and again by each
/// capability's view on every call.
pub(crate) fn base_linker(engine: &wasmtime::Engine) -> Result<Linker<PluginState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    bindings::wharf::bot::types::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
    config::add_to_linker(&mut linker)?;
    log::add_to_linker(&mut linker)?;
    kv::add_to_linker(&mut linker)?;
    events::add_to_linker(&mut linker)?;
    scheduler::add_to_linker(&mut linker)?;
    telegram::add_to_linker(&mut linker)?;
    http::add_to_linker(&mut linker)?;
    compat::add_to_linker(&mut linker)?;
    Ok(linker)
}

/// `types` has only types.
impl bindings::wharf::bot::types::Host for PluginState {}

/// A capability's rule: what importing one of its functions requires.
type Rule = fn(&str) -> Requirement;

/// Each `wharf:bot` interface with its own rules (a function in its module). The same
/// rules apply to every WIT version the host links.
const CAPABILITIES: [(&str, Rule); 7] = [
    ("config", config::requirement),
    ("log", log::requirement),
    ("kv", kv::requirement),
    ("events", events::requirement),
    ("scheduler", scheduler::requirement),
    ("telegram", telegram::requirement),
    ("http", http::requirement),
];

/// What importing function `func` of interface `interface` (`kv`, `telegram`, …)
/// requires; `None` for an interface this host does not provide. `types` has no
/// functions and needs nothing.
pub(crate) fn requirement(interface: &str, func: &str) -> Option<Requirement> {
    if interface == "types" {
        return Some(Requirement::Nothing);
    }
    CAPABILITIES.iter().find(|(name, _)| *name == interface).map(|(_, rule)| rule(func))
}

/// The linker `describe()` runs with: WASI (sandboxed as always: no files, sockets or
/// environment; stderr captured for the error message), `config` and `log` in every WIT
/// version. Every other import of `component` (capabilities with effects, other plugins'
/// interfaces) traps when called, so `describe()` cannot change anything.
pub(crate) fn describe_linker(engine: &wasmtime::Engine, component: &Component) -> Result<Linker<PluginState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    config::add_to_linker(&mut linker)?;
    log::add_to_linker(&mut linker)?;
    compat::add_pure_to_linker(&mut linker)?;
    let engine = linker.engine().clone();
    let ty = component.component_type();
    // Stubbed one by one (not `define_unknown_imports_as_traps`, whose exact-name stubs
    // would shadow WASI's semver-matched definitions).
    for (name, item) in ty.imports(&engine) {
        let pure = ["types", "config", "log"].iter().any(|i| name.starts_with(&format!("wharf:bot/{i}@")));
        let wasmtime::component::types::ComponentItem::ComponentInstance(inst) = item.ty else { continue };
        if name.starts_with("wasi:") || pure {
            continue;
        }
        let mut stubs = linker.instance(name)?;
        for (func, f) in inst.exports(&engine) {
            if matches!(f.ty, wasmtime::component::types::ComponentItem::ComponentFunc(_)) {
                let what = format!("{name}#{func} is not available in describe()");
                stubs.func_new(func, move |_, _, _, _| Err(wasmtime::Error::msg(what.clone())))?;
            }
        }
    }
    Ok(linker)
}
