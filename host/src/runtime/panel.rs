//! The host side of plugins' `admin` exports: [`Console`], the one handle the admin
//! surfaces (Telegram's `/admin`, `wharf admin`, the web dashboard) use to list, show
//! and run plugins' views and actions.
//!
//! - **Views** run here and now, read-only, in a store of their own ([`Console::view`]).
//! - **Actions** are queued in the inbox (format version 3, lane 0, aimed at the plugin)
//!   and run by whichever runtime serves the database as a turn of the plugin
//!   ([`attempt`]): its effects, the reply (KV namespace `_admin`, key `reply:REQUEST`),
//!   the `admin.action` event and, for an admin in Telegram, the reply message commit
//!   together. The request id makes it exactly-once: queuing reads the reply key and
//!   commits only if it is still absent (and the inbox refuses a second queued row with
//!   the same key), and the turn itself does nothing when a reply is already there.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Shared;
use super::plugin::{LoadedPlugin, PluginSet};
use super::reload::ReloadReport;
use super::sandbox::{self, AdminCall, AdminEnd};
use super::turn::Attempt;
use crate::caps::TurnState;
use crate::caps::bindings::wharf::bot::types::Context;
use crate::inbox::AdminAct;
use crate::panel::params;
use crate::panel::{Block, Output, PanelError, PanelPlugin, Surface, Who, render, spec};
use crate::storage::{CommitOutcome, InboxRow, KeyRead, NewInbox, NewLogEvent, NewOutbox, TurnCommit};

/// How long [`Console::act`] waits for the action's turn by default.
pub const ACT_WAIT: Duration = Duration::from_secs(30);
/// The host's KV namespace for replies to actions.
pub(crate) const REPLY_NS: &str = "_admin";
/// How long a reply (and so a request id's once-only guarantee) is kept.
pub const REPLY_KEEP_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// A reply to an action, as kept under its request id.
#[derive(Debug, Serialize, Deserialize)]
struct Reply {
    result: Result<Output, PanelError>,
    at_ms: i64,
}

pub(super) fn reply_key(request: &str) -> String {
    format!("reply:{request}")
}

/// Plugins' admin views and actions on one runtime (serving, or opened by `wharf admin`
/// without serving). Cheap to clone.
#[derive(Clone)]
pub struct Console {
    pub(super) shared: Arc<Shared>,
    /// Whether this process serves the inbox (else an action waits for the runtime that
    /// does, polling the database).
    pub(super) serving: bool,
    pub(super) wait: Duration,
}

impl std::fmt::Debug for Console {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Console").field("serving", &self.serving).finish_non_exhaustive()
    }
}

impl Console {
    /// Wait at most `wait` for an action's turn (then [`PanelError::Pending`]).
    pub fn with_wait(mut self, wait: Duration) -> Self {
        self.wait = wait;
        self
    }

    /// Loaded plugins with an `admin` export, in run order.
    pub fn plugins(&self) -> Vec<PanelPlugin> {
        listing(&self.shared, &self.shared.current_set())
    }

    /// Show `view` of `plugin` with `params` as typed (checked against the spec), read-only.
    pub async fn view(
        &self,
        plugin: &str,
        view: &str,
        params: &[(String, String)],
        page: Option<&str>,
        who: &Who,
    ) -> Result<Output, PanelError> {
        view_on(&self.shared, &self.shared.current_set(), plugin, view, params, page, who).await
    }

    /// Run `action` of `plugin` as a turn through the inbox and wait for its reply.
    /// `request` (1-64 characters of a-z, A-Z, 0-9, `-`, `_`) makes it exactly-once:
    /// asking again with the same request id returns the first run's reply, never runs
    /// it twice. [`Console::new_request`] makes one.
    pub async fn act(
        &self,
        plugin: &str,
        action: &str,
        params: &[(String, String)],
        who: &Who,
        request: &str,
    ) -> Result<Output, PanelError> {
        if request.is_empty()
            || request.len() > 64
            || !request.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(PanelError::BadParam {
                param: "request".into(),
                why: "a request id is 1-64 characters of a-z, A-Z, 0-9, - _".into(),
            });
        }
        let storage = &self.shared.host.storage;
        let key = reply_key(request);
        let (found, version) =
            storage.kv_get_fresh(REPLY_NS, &key).await.map_err(|e| PanelError::Host(e.to_string()))?;
        if let Some(bytes) = found {
            return decode_reply(&bytes);
        }
        let p = find(&self.shared, &self.shared.current_set(), plugin)?;
        let Some(admin) = p.admin.as_ref() else { return Err(PanelError::NoPlugin(plugin.to_owned())) };
        let item = admin.spec.action(action).ok_or_else(|| no_item(plugin, "action", action))?;
        let values = params::parse(item, params)?;
        let mut who = who.clone();
        who.label = who.label.chars().filter(|c| !c.is_control()).take(64).collect();
        let act = AdminAct { action: action.to_owned(), params: values, who, request: request.to_owned() };
        let payload = act.encode().map_err(|e| PanelError::Host(e.to_string()))?;
        let commit = TurnCommit {
            reads: vec![KeyRead { ns: REPLY_NS.into(), key: key.clone(), version }],
            inbox: vec![NewInbox {
                lane: 0,
                target: Some(plugin.to_owned()),
                payload,
                dedupe: Some(format!("admin:{request}")),
            }],
            now_ms: self.shared.host.clock.now_ms(),
            ..TurnCommit::default()
        };
        match storage.commit(commit).await {
            // A conflict: the reply appeared meanwhile (the request ran already).
            Ok(CommitOutcome::Committed | CommitOutcome::Conflict) => {}
            Ok(other) => return Err(PanelError::Host(format!("queuing the action: {other:?}"))),
            Err(e) => return Err(PanelError::Host(format!("queuing the action: {e}"))),
        }
        self.shared.wake.notify_one();
        self.await_reply(request).await
    }

    /// Poll for the reply to `request` until it comes or [`Console::with_wait`] passes.
    async fn await_reply(&self, request: &str) -> Result<Output, PanelError> {
        let storage = &self.shared.host.storage;
        let key = reply_key(request);
        let deadline = tokio::time::Instant::now() + self.wait;
        let mut pause = Duration::from_millis(5);
        loop {
            match storage.kv_get_fresh(REPLY_NS, &key).await {
                Ok((Some(bytes), _)) => return decode_reply(&bytes),
                Ok((None, _)) => {}
                Err(e) => tracing::warn!(target: "wharf.admin", error = %e, "cannot read an action's reply"),
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(PanelError::Pending { request: request.to_owned(), waited_s: self.wait.as_secs() });
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(if self.serving { 50 } else { 250 }));
        }
    }

    /// A fresh request id.
    pub fn new_request() -> String {
        use rand::Rng as _;
        let n: u128 = rand::rng().random();
        format!("{n:032x}")
    }

    /// Reload changed plugin modules (as SIGHUP does).
    pub async fn reload(&self) -> anyhow::Result<ReloadReport> {
        super::reload::reload(&self.shared).await
    }
}

/// The plugins of `set` with an `admin` export, in run order.
pub(super) fn listing(shared: &Shared, set: &PluginSet) -> Vec<PanelPlugin> {
    set.plugins
        .iter()
        .filter_map(|p| {
            p.admin.as_ref().map(|a| PanelPlugin {
                plugin: p.name().to_string(),
                version: p.manifest.version.clone(),
                disabled: shared.breaker.is_open(p.name()),
                spec: a.spec.clone(),
            })
        })
        .collect()
}

/// Plugin `plugin` of `set`, if it has an `admin` export and is not disabled.
fn find(shared: &Shared, set: &PluginSet, plugin: &str) -> Result<Arc<LoadedPlugin>, PanelError> {
    let p = set
        .get(plugin)
        .filter(|p| p.admin.is_some())
        .cloned()
        .ok_or_else(|| PanelError::NoPlugin(plugin.to_owned()))?;
    if shared.breaker.is_open(p.name()) {
        return Err(PanelError::Disabled(plugin.to_owned()));
    }
    Ok(p)
}

/// Show `view` of `plugin` in `set`, read-only: what [`Console::view`] does, also for
/// the Telegram menu, which runs it within a turn on the turn's plugin set.
pub(super) async fn view_on(
    shared: &Shared,
    set: &PluginSet,
    plugin: &str,
    view: &str,
    params: &[(String, String)],
    page: Option<&str>,
    who: &Who,
) -> Result<Output, PanelError> {
    let p = find(shared, set, plugin)?;
    let Some(admin) = p.admin.as_ref() else { return Err(PanelError::NoPlugin(plugin.to_owned())) };
    let item = admin.spec.view(view).ok_or_else(|| no_item(plugin, "view", view))?;
    let values = params::parse(item, params)?;
    if page.is_some_and(|c| c.len() > 256) {
        return Err(PanelError::BadParam { param: "page".into(), why: "a page cursor is at most 256 bytes".into() });
    }
    let now_ms = shared.host.clock.now_ms();
    let ctx = context(who, now_ms, 0);
    let wit_params = spec::to_wit(&values);
    let call = AdminCall::View(view, &wit_params, page);
    let started = std::time::Instant::now();
    let turn = TurnState::new(None, 0, now_ms);
    let (_, end) = sandbox::admin(&shared.engine, &shared.host, &p, &admin.pre, turn, call, &ctx).await;
    shared.metrics.plugin_call(p.name().as_str(), started.elapsed());
    match end {
        AdminEnd::Done(out) => spec::output(plugin, &admin.spec, out),
        AdminEnd::Refused(kind, message) => Err(refusal(plugin, kind, &message)),
        AdminEnd::Failed(kind, message) => {
            let reason = super::turn::failed(shared, &p, kind, &message);
            Err(PanelError::Failed { plugin: plugin.to_owned(), message: reason })
        }
        AdminEnd::HostFault(message) => Err(PanelError::Host(message)),
    }
}

fn no_item(plugin: &str, what: &str, name: &str) -> PanelError {
    PanelError::NoItem { plugin: plugin.to_owned(), what: what.to_owned(), name: name.to_owned() }
}

fn refusal(plugin: &str, kind: &str, message: &str) -> PanelError {
    PanelError::Refused {
        plugin: plugin.to_owned(),
        kind: kind.to_owned(),
        message: crate::validate::escape_controls(&super::turn::clip(message, 500)),
    }
}

fn decode_reply(bytes: &[u8]) -> Result<Output, PanelError> {
    match serde_json::from_slice::<Reply>(bytes) {
        Ok(reply) => reply.result,
        Err(e) => Err(PanelError::Host(format!("unreadable reply: {e}"))),
    }
}

fn context(who: &Who, now_ms: i64, turn_id: i64) -> Context {
    Context { chat_id: None, user_id: who.user_id, is_admin: true, language: None, now_ms, turn_id }
}

/// Delete replies recorded before `before_ms`, at most `batch` keys looked at per call;
/// returns how many were deleted and whether keys are left to look at.
pub(super) async fn prune_replies(
    shared: &Shared,
    before_ms: i64,
    after: Option<String>,
    batch: i64,
) -> anyhow::Result<(usize, Option<String>)> {
    let storage = &shared.host.storage;
    let keys = storage.kv_keys(REPLY_NS, "reply:", after.as_deref(), batch).await?;
    let mut commit = TurnCommit { now_ms: shared.host.clock.now_ms(), ..TurnCommit::default() };
    for key in &keys {
        let (value, version) = storage.kv_get_fresh(REPLY_NS, key).await?;
        let old =
            value.as_deref().and_then(|v| serde_json::from_slice::<Reply>(v).ok()).is_none_or(|r| r.at_ms < before_ms);
        if old {
            commit.reads.push(KeyRead { ns: REPLY_NS.into(), key: key.clone(), version });
            commit.writes.push((REPLY_NS.into(), key.clone(), None));
        }
    }
    let deleted = commit.writes.len();
    if deleted > 0 && storage.commit(commit).await? != CommitOutcome::Committed {
        return Ok((0, None));
    }
    let next = (keys.len() >= usize::try_from(batch).unwrap_or(usize::MAX)).then(|| keys.last().cloned()).flatten();
    Ok((deleted, next))
}

/// One attempt at an action's turn: unless the request has a reply already, run
/// `act`, and add the reply, the `admin.action` event and (for Telegram) the reply
/// message to the turn.
pub(super) async fn attempt(shared: &Shared, set: &PluginSet, row: &InboxRow, act: &AdminAct, now_ms: i64) -> Attempt {
    let mut turn = TurnState::new(Some(row.id), row.lane, now_ms);
    let key = reply_key(&act.request);
    match shared.host.storage.kv_get(REPLY_NS, &key).await {
        Ok((found, version)) => {
            let done = found.is_some();
            turn.reads.insert((REPLY_NS.to_owned(), key.clone()), (version, found));
            if done {
                return Attempt { turn, results: Vec::new(), fault: None };
            }
        }
        Err(e) => return Attempt { turn, results: Vec::new(), fault: Some(format!("reading an action's reply: {e}")) },
    }
    let plugin = row.target.clone().unwrap_or_default();
    let mut results = Vec::new();
    let found = set.get(&plugin).cloned();
    let result = match found.as_ref().and_then(|p| p.admin.as_ref().map(|a| (p, a))) {
        None => Err(PanelError::NoPlugin(plugin.clone())),
        Some((p, _)) if shared.breaker.is_open(p.name()) => Err(PanelError::Disabled(plugin.clone())),
        Some((_, admin)) if admin.spec.action(&act.action).is_none() => Err(no_item(&plugin, "action", &act.action)),
        Some((p, admin)) => {
            let ctx = context(&act.who, now_ms, row.id);
            let wit_params = spec::to_wit(&act.params);
            let started = std::time::Instant::now();
            let call = AdminCall::Act(&act.action, &wit_params);
            let (t, end) = sandbox::admin(&shared.engine, &shared.host, p, &admin.pre, turn, call, &ctx).await;
            shared.metrics.plugin_call(p.name().as_str(), started.elapsed());
            turn = t;
            match end {
                AdminEnd::Done(out) => {
                    results.push((p.clone(), None));
                    Ok(spec::output(&plugin, &admin.spec, out).unwrap_or_else(|e| Output {
                        blocks: vec![Block::Text(format!("Done. The plugin's reply cannot be shown: {e}"))],
                        next_page: None,
                    }))
                }
                AdminEnd::Refused(kind, message) => {
                    super::turn::refused(shared, p, &message);
                    Err(refusal(&plugin, kind, &message))
                }
                AdminEnd::Failed(kind, message) => {
                    let reason = super::turn::failed(shared, p, kind, &message);
                    results.push((p.clone(), Some(reason.clone())));
                    Err(PanelError::Failed { plugin: plugin.clone(), message: reason })
                }
                AdminEnd::HostFault(reason) => return Attempt { turn, results, fault: Some(reason) },
            }
        }
    };
    let outcome = match &result {
        Ok(_) => "ok".to_owned(),
        Err(e) => super::turn::clip(&crate::validate::escape_controls(&e.to_string()), 300),
    };
    let shown: Vec<String> = act.params.iter().map(|(n, v)| format!("{n}={}", params::show(v))).collect();
    let mut event = NewLogEvent::host("admin.action", "Admin action", "🛠")
        .field("plugin", plugin.as_str())
        .field("action", act.action.as_str())
        .field("by", act.who.describe())
        .field("params", super::turn::clip(&crate::validate::escape_controls(&shown.join(" ")), 300))
        .field("outcome", outcome.as_str());
    if let Some(id) = act.who.user_id {
        event = event.user(id);
    }
    if result.is_err() {
        event = event.level(crate::config::LogLevel::Warn);
    }
    turn.applied.log.push(event);
    if act.who.via == Surface::Telegram
        && let Some(admin) = act.who.user_id
    {
        let text = match &result {
            Ok(out) => format!("✅ {plugin} · {}\n\n{}", act.action, render::text(out)),
            Err(e) => format!("⚠️ {plugin} · {}: {e}", act.action),
        };
        turn.applied.outbox.push(NewOutbox::host_text(admin, &super::turn::clip(&text, 4000)));
    }
    match serde_json::to_vec(&Reply { result, at_ms: now_ms }) {
        Ok(bytes) => {
            turn.applied.writes.insert((REPLY_NS.to_owned(), key), Some(bytes));
        }
        Err(e) => return Attempt { turn, results, fault: Some(format!("encoding an action's reply: {e}")) },
    }
    Attempt { turn, results, fault: None }
}
