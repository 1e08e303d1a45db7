//! One plugin call in its own fresh store: instantiate from the cached `InstancePre`
//! (plus any exporting plugins it calls), run under the epoch deadline and memory cap,
//! and classify how it ended. Effects are kept only when the call succeeds. The same
//! for an observer's `observe` (with messages to Telegram denied), and for the `admin`
//! export: `spec()` at load (no effects), `view` (read-only, never committed) and `act`
//! (a turn).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::Instrument;
use wasmtime::component::Instance;
use wasmtime::{Engine, Store, Trap, UpdateDeadline};

use super::abi::{AdminPre, Handler, HandlerPre, ObserverPre};
use super::plugin::LoadedPlugin;
use crate::caps::bindings::admin::exports::wharf::bot::admin as adm;
use crate::caps::bindings::exports::wharf::bot::handler::{Error as HandlerError, Manifest};
use crate::caps::bindings::wharf::bot::types::{Context, Event, Flow};
use crate::caps::{HostServices, PluginCtx, PluginState, TurnState};
use crate::metrics::FailureReason;

/// How one plugin call ended.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Returned normally.
    Done(Flow),
    /// Returned an error: its effects are discarded; not a malfunction.
    Refused(String),
    /// Trapped, timed out or ran out of memory: effects discarded, counts as a failure.
    Failed(FailureReason, String),
    /// The host could not serve it (storage down, pool exhausted): retry the turn.
    HostFault(String),
}

fn new_store(engine: &Engine, state: PluginState) -> Store<PluginState> {
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.limiter);
    store.epoch_deadline_callback(|ctx| {
        if Instant::now() >= ctx.data().deadline { Ok(UpdateDeadline::Interrupt) } else { Ok(UpdateDeadline::Yield(1)) }
    });
    store.set_epoch_deadline(1);
    store
}

/// Instantiate exporting plugins `deps`, then the plugin itself.
async fn instantiate(
    store: &mut Store<PluginState>,
    pre: &HandlerPre,
    deps: &[Arc<LoadedPlugin>],
) -> wasmtime::Result<Handler> {
    instantiate_deps(store, deps).await?;
    pre.instantiate(store).await
}

/// Instantiate exporting plugins `deps` into `store`, in order.
async fn instantiate_deps(store: &mut Store<PluginState>, deps: &[Arc<LoadedPlugin>]) -> wasmtime::Result<()> {
    for dep in deps {
        store.data_mut().enter(dep.ctx.clone());
        let inst: wasmtime::Result<Instance> = dep.pre.instance_pre().instantiate_async(&mut *store).await;
        store.data_mut().leave();
        let inst = inst?;
        store.data_mut().linked.push((dep.name().clone(), inst));
    }
    Ok(())
}

/// Call `describe()`; `pre` comes from `caps::describe_linker` (no effectful imports,
/// no other plugins), and the capabilities' views also refuse every effect while
/// `describing` is set.
pub(crate) async fn describe(
    engine: &Engine,
    host: &Arc<HostServices>,
    ctx: &Arc<PluginCtx>,
    pre: &HandlerPre,
    deadline: Instant,
) -> anyhow::Result<Manifest> {
    let mut state = PluginState::new(host.clone(), ctx.clone(), TurnState::new(None, 0, host.clock.now_ms()), deadline);
    state.describing = true;
    let mut store = new_store(engine, state);
    let result = async {
        let plugin = pre.instantiate(&mut store).await?;
        plugin.describe(&mut store).await
    }
    .await;
    let state = store.into_data();
    result.map_err(|e| anyhow::anyhow!("{}", describe_failure(&state, &e, ctx)))
}

/// Run `handle(event, ctx)`; the turn state goes in and comes back out.
pub(crate) async fn handle(
    engine: &Engine,
    host: &Arc<HostServices>,
    plugin: &LoadedPlugin,
    turn: TurnState,
    event: &Event,
    ctx: &Context,
) -> (TurnState, Outcome) {
    let deadline = Instant::now() + Duration::from_millis(plugin.ctx.spec.timeout_ms);
    let mut state = PluginState::new(host.clone(), plugin.ctx.clone(), turn, deadline);
    if let Event::Callback(cb) = event {
        state.pressed = cb.chat.as_ref().zip(cb.message_id).map(|(c, id)| (plugin.name().clone(), c.id, id));
    }
    let mut store = new_store(engine, state);
    let span = tracing::debug_span!("wharf.plugin.call", plugin = %plugin.name());
    let result = async {
        let bindings = instantiate(&mut store, &plugin.pre, &plugin.deps).await?;
        bindings.handle(&mut store, event, ctx).await
    }
    .instrument(span)
    .await;
    let result = result.map(|r| {
        r.map_err(|e| match e {
            HandlerError::InvalidInput(m) => format!("invalid input: {m}"),
            HandlerError::AccessDenied(m) => format!("access denied: {m}"),
            HandlerError::Other(m) => m,
        })
    });
    finish(store, plugin, result)
}

/// Run an observer's `observe(event, ctx)`, with messages to Telegram denied to
/// everything in its store; the turn state goes in and comes back out. An `ok` is
/// [`Outcome::Done`] with `continue`.
pub(crate) async fn observe(
    engine: &Engine,
    host: &Arc<HostServices>,
    plugin: &LoadedPlugin,
    observer: &ObserverPre,
    turn: TurnState,
    event: &Event,
    ctx: &Context,
) -> (TurnState, Outcome) {
    let deadline = Instant::now() + Duration::from_millis(plugin.ctx.spec.timeout_ms);
    let mut state = PluginState::new(host.clone(), plugin.ctx.clone(), turn, deadline);
    state.observing = true;
    let mut store = new_store(engine, state);
    let span = tracing::debug_span!("wharf.plugin.observe", plugin = %plugin.name());
    let result = async {
        instantiate_deps(&mut store, &plugin.deps).await?;
        observer.observe(&plugin.pre, &mut store, event, ctx).await
    }
    .instrument(span)
    .await;
    finish(store, plugin, result.map(|r| r.map(|()| Flow::Continue)))
}

/// Call the `admin` export's `spec()`, like `describe()` (every effect denied).
pub(crate) async fn admin_spec(
    engine: &Engine,
    host: &Arc<HostServices>,
    ctx: &Arc<PluginCtx>,
    describe_pre: &HandlerPre,
    admin: &AdminPre,
    deadline: Instant,
) -> anyhow::Result<adm::AdminSpec> {
    let mut state = PluginState::new(host.clone(), ctx.clone(), TurnState::new(None, 0, host.clock.now_ms()), deadline);
    state.describing = true;
    let mut store = new_store(engine, state);
    let result = admin.spec(describe_pre, &mut store).await;
    let state = store.into_data();
    result.map_err(|e| anyhow::anyhow!("{}", describe_failure(&state, &e, ctx)))
}

/// How an admin call ended.
pub(crate) enum AdminEnd {
    /// The plugin answered.
    Done(adm::Output),
    /// The plugin returned an error: (kind, message).
    Refused(&'static str, String),
    /// Trapped, timed out, out of memory.
    Failed(FailureReason, String),
    /// The host could not serve it.
    HostFault(String),
}

/// Which admin call.
pub(crate) enum AdminCall<'a> {
    /// `view(name, params, page)`: read-only.
    View(&'a str, &'a [adm::Param], Option<&'a str>),
    /// `act(name, params)`: a turn.
    Act(&'a str, &'a [adm::Param]),
}

/// Run an admin `view` or `act`; the turn state goes in and comes back out (with the
/// call's effects only when an `act` succeeded: a view's are never kept).
pub(crate) async fn admin(
    engine: &Engine,
    host: &Arc<HostServices>,
    plugin: &LoadedPlugin,
    admin: &AdminPre,
    turn: TurnState,
    call: AdminCall<'_>,
    ctx: &Context,
) -> (TurnState, AdminEnd) {
    let deadline = Instant::now() + Duration::from_millis(plugin.ctx.spec.timeout_ms);
    let mut state = PluginState::new(host.clone(), plugin.ctx.clone(), turn, deadline);
    state.read_only = matches!(call, AdminCall::View(..));
    let mut store = new_store(engine, state);
    let span = tracing::debug_span!("wharf.plugin.admin", plugin = %plugin.name());
    let result = async {
        instantiate_deps(&mut store, &plugin.deps).await?;
        match call {
            AdminCall::View(name, params, page) => admin.view(&plugin.pre, &mut store, name, params, page, ctx).await,
            AdminCall::Act(name, params) => admin.act(&plugin.pre, &mut store, name, params, ctx).await,
        }
    }
    .instrument(span)
    .await;
    let mut output = None;
    let mut refusal = None;
    let result = result.map(|r| match r {
        Ok(out) => {
            output = Some(out);
            Ok(Flow::Continue)
        }
        Err(e) => {
            let (kind, message) = match e {
                adm::Error::InvalidInput(m) => ("invalid-input", m),
                adm::Error::AccessDenied(m) => ("access-denied", m),
                adm::Error::NotFound(m) => ("not-found", m),
                adm::Error::Other(m) => ("other", m),
            };
            refusal = Some(kind);
            Err(message)
        }
    });
    let (turn, outcome) = finish(store, plugin, result);
    let end = match outcome {
        Outcome::Done(_) => output.map_or_else(|| AdminEnd::HostFault("no output".into()), AdminEnd::Done),
        Outcome::Refused(message) => AdminEnd::Refused(refusal.unwrap_or("other"), message),
        Outcome::Failed(kind, message) => AdminEnd::Failed(kind, message),
        Outcome::HostFault(message) => AdminEnd::HostFault(message),
    };
    (turn, end)
}

/// Classify how a call ended and keep its effects only if it succeeded.
fn finish(
    store: Store<PluginState>,
    plugin: &LoadedPlugin,
    result: wasmtime::Result<Result<Flow, String>>,
) -> (TurnState, Outcome) {
    let mut state = store.into_data();
    if state.dropped_log_lines > 0 {
        tracing::warn!(target: "wharf.plugin", plugin = %plugin.name(), dropped = state.dropped_log_lines, "log quota exceeded");
    }
    let call = std::mem::take(&mut state.call);
    let outcome = match result {
        _ if state.host_fault.is_some() => Outcome::HostFault(state.host_fault.take().unwrap_or_default()),
        Ok(Ok(flow)) => Outcome::Done(flow),
        Ok(Err(reason)) => Outcome::Refused(reason),
        Err(e) if e.downcast_ref::<wasmtime::PoolConcurrencyLimitError>().is_some() => {
            Outcome::HostFault(format!("instance pool exhausted: {e}"))
        }
        Err(e) => Outcome::Failed(failure_reason(&state, &e), describe_failure(&state, &e, &plugin.ctx)),
    };
    let mut turn = state.turn;
    if matches!(outcome, Outcome::Done(_)) {
        turn.absorb(call);
    }
    (turn, outcome)
}

/// Which kind of failure a trap is (the metrics' `reason` label).
fn failure_reason(state: &PluginState, e: &wasmtime::Error) -> FailureReason {
    if e.downcast_ref::<Trap>() == Some(&Trap::Interrupt) {
        FailureReason::Timeout
    } else if state.limiter.denied.is_some() {
        FailureReason::Memory
    } else {
        FailureReason::Trap
    }
}

/// A one-line reason for a trap: timeout, memory cap, or the trap with the guest's
/// panic message (from its stderr) when there is one.
fn describe_failure(state: &PluginState, e: &wasmtime::Error, ctx: &PluginCtx) -> String {
    if e.downcast_ref::<Trap>() == Some(&Trap::Interrupt) {
        return format!("timed out after {} ms", ctx.spec.timeout_ms);
    }
    if let Some(cap) = state.limiter.denied {
        return format!("exceeded its memory cap of {} MiB", cap >> 20);
    }
    let stderr = state.stderr_tail();
    let trap = e.downcast_ref::<Trap>().map_or_else(|| format!("{e:#}"), ToString::to_string);
    if stderr.is_empty() { format!("trapped: {trap}") } else { format!("trapped: {trap}: {stderr}") }
}
