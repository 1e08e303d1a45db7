//! One turn: route an inbox event to plugins in order, collect their effects, commit
//! them atomically, and re-run the whole turn if the commit finds a conflict.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tracing::Instrument;

use super::Shared;
use super::answers::{self, Before};
use super::plugin::{LoadedPlugin, PluginSet};
use super::sandbox::{self, Outcome};
use crate::caps::TurnState;
use crate::caps::bindings::wharf::bot::types::{Context, Event, Flow};
use crate::caps::budget::{BudgetHit, Cause};
use crate::inbox::{AdminAct, Entry, Row};
use crate::metrics::{FailureReason, Queue, TurnOutcome};
use crate::storage::{CommitOutcome, InboxRow, NewInbox, NewLogEvent, NewOutbox};
use crate::telegram::outbox_call::{AnswerCallbackQuery, OutboxCall, ReplyTo, SendMessage};

/// The plugins an event goes to, in order, each with the event as it should see it.
///
/// A button press goes to the plugin owning its prefix (data without the prefix), and
/// also, in chain order, to plugins granted `telegram.buttons` (a subscription gate):
/// those see another plugin's press with its data in full (`PREFIX:DATA`) and without
/// the message id (it is not their message), and may stop it before its owner sees it.
pub(crate) fn route(set: &PluginSet, event: &Event, target: Option<&str>) -> Vec<(Arc<LoadedPlugin>, Event)> {
    if let Event::Callback(cb) = event {
        let Some((prefix, data)) = cb.data.split_once(':') else { return Vec::new() };
        let owned = |p: &LoadedPlugin| p.ctx.callback_prefix.as_deref() == Some(prefix);
        if !set.plugins.iter().any(|p| owned(p)) {
            return Vec::new();
        }
        return set
            .plugins
            .iter()
            .filter(|p| target.is_none_or(|t| p.name().as_str() == t))
            .filter_map(|p| {
                let mut cb = cb.clone();
                if owned(p) {
                    cb.data = data.to_owned();
                } else if target.is_none() && p.ctx.spec.has(&crate::config::Grant::TelegramButtons) {
                    cb.message_id = None;
                } else {
                    return None;
                }
                Some((p.clone(), Event::Callback(cb)))
            })
            .collect();
    }
    set.plugins
        .iter()
        .filter(|p| match (target, event) {
            (Some(t), _) => p.name().as_str() == t,
            (None, Event::Custom(c)) => p.manifest.topics.contains(&c.topic),
            (None, Event::Timer(_) | Event::Lifecycle(_)) => false,
            (None, _) => super::observe::handles(p, event),
        })
        .map(|p| (p.clone(), event.clone()))
        .collect()
}

pub(crate) fn context(shared: &Shared, event: &Event, lane: i64, turn_id: i64, now_ms: i64) -> Context {
    let user = match event {
        Event::Message(m) => m.sender.as_ref(),
        Event::Callback(c) => Some(&c.sender),
        Event::Member(m) => Some(&m.user),
        _ => None,
    };
    Context {
        chat_id: super::observe::chat_of(lane),
        user_id: user.map(|u| u.id),
        is_admin: user.is_some_and(|u| shared.admins.contains(&u.id)),
        language: user.and_then(|u| u.language_code.clone()),
        now_ms,
        turn_id,
    }
}

/// How serving one inbox row ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Served {
    /// Committed, dead-lettered, or already handled.
    Done,
    /// Another runtime holds the lane now; nothing was applied.
    LeaseLost,
    /// The runtime is shutting down; nothing was applied.
    Stopped,
}

/// Handle one inbox row until it is committed (or was already handled), or the runtime
/// shuts down. A row that cannot be read goes to the inbox's dead letters.
pub(crate) async fn run(shared: &Shared, row: &InboxRow) -> Served {
    let span = tracing::info_span!("wharf.turn", chat_id = row.lane, inbox_id = row.id);
    async {
        match Row::decode(&row.payload) {
            Ok(Row::Entry(entry)) => run_entry(shared, row, Work::Event(entry)).await,
            Ok(Row::Act(act)) if row.target.is_some() => run_entry(shared, row, Work::Act(act)).await,
            Ok(Row::Act(_)) => dead_letter(shared, row, "an admin action without a target plugin").await,
            Err(e) => dead_letter(shared, row, &e.to_string()).await,
        }
    }
    .instrument(span)
    .await
}

async fn dead_letter(shared: &Shared, row: &InboxRow, reason: &str) -> Served {
    tracing::error!(target: "wharf.turn", inbox_id = row.id, %reason, "unreadable inbox entry dead-lettered");
    shared.metrics.turn(TurnOutcome::Failed);
    shared.metrics.dead_letter(Queue::Inbox);
    let mut attempt = 0;
    loop {
        attempt += 1;
        match shared.host.storage.inbox_dead_letter(row.id, reason, shared.host.clock.now_ms()).await {
            Ok(()) => {
                let event = NewLogEvent::host("dead_letter.inbox", "Unreadable update set aside", "📥")
                    .level(crate::config::LogLevel::Error)
                    .field("entry", row.id.to_string())
                    .field("chat", row.lane.to_string())
                    .field("reason", clip(&crate::validate::escape_controls(reason), 200));
                super::notice::record(shared, event).await;
                return Served::Done;
            }
            Err(e) => {
                tracing::warn!(target: "wharf.turn", inbox_id = row.id, error = %e, "cannot dead-letter an entry")
            }
        }
        if shared.is_shutting_down() {
            return Served::Stopped;
        }
        backoff(attempt).await;
    }
}

/// Mark events a turn emitted as one hop further down the chain than its entry.
pub(super) fn stamp_hops(emitted: &mut [NewInbox], hops: u32) {
    for e in emitted {
        if let Ok(mut entry) = Entry::decode(&e.payload)
            && entry.hops != hops
            && let Ok(payload) = {
                entry.hops = hops;
                entry.encode()
            }
        {
            e.payload = payload;
        }
    }
}

/// One attempt at a turn, up to its commit.
pub(super) struct Attempt {
    /// What the plugins read and (successfully) buffered.
    pub turn: TurnState,
    /// The plugins that ran, each with its failure (trap, timeout, memory) if it failed.
    pub results: Vec<(Arc<LoadedPlugin>, Option<String>)>,
    /// The host could not serve a call: nothing commits, the turn runs again.
    pub fault: Option<String>,
}

/// What an inbox row asks for.
enum Work {
    /// An event (or an observation of one).
    Event(Box<Entry>),
    /// An admin's action.
    Act(AdminAct),
}

async fn run_entry(shared: &Shared, row: &InboxRow, work: Work) -> Served {
    let (hops, observation, event, act) = match work {
        Work::Event(entry) => (entry.hops, entry.observe, Some((*entry).into_wit()), None),
        Work::Act(act) => (0, None, None, Some(act)),
    };
    let started = std::time::Instant::now();
    // An observation's update was noted (users seen, host events) by its own turn.
    let (users, host_events) = match (&event, observation) {
        (Some(event), None) => super::seen::note(&shared.seen, &shared.host.storage, event).await,
        _ => Default::default(),
    };
    let mut attempt: u32 = 0;
    loop {
        attempt += 1;
        let set = shared.current_set();
        let now_ms = shared.host.clock.now_ms();
        let Attempt { mut turn, results, fault } = match (&event, observation, &act) {
            (Some(event), Some(of), _) => super::observe::attempt(shared, &set, row, event, hops, of, now_ms).await,
            (Some(event), None, _) => chain(shared, &set, row, event, hops, now_ms).await,
            (None, _, Some(act)) => super::panel::attempt(shared, &set, row, act, now_ms).await,
            (None, _, None) => return Served::Done,
        };
        if let Some(reason) = fault {
            shared.host.budgets.refund(&turn.budget.charged);
            tracing::warn!(target: "wharf.turn", %reason, attempt, "host fault; turn will be retried");
            shared.metrics.turn(TurnOutcome::HostFault);
            backoff(attempt).await;
            continue;
        }
        let hits = std::mem::take(&mut turn.budget.hits);
        let charged = std::mem::take(&mut turn.budget.charged);
        turn.applied.log.extend(hits.iter().map(budget_event));
        turn.applied.log.extend(host_events.iter().cloned());
        let emitted = !turn.applied.inbox.is_empty();
        let queued: Vec<i64> = turn.applied.outbox.iter().map(|o| o.chat_id).collect();
        let timers = !turn.applied.timers.is_empty();
        let logged = !turn.applied.log.is_empty();
        let kinds: Vec<String> = turn.applied.log.iter().map(|e| e.kind.clone()).collect();
        let mut commit = turn.into_commit();
        commit.users.clone_from(&users);
        match shared.host.storage.commit_as(commit, &shared.owner).await {
            Ok(CommitOutcome::Committed) => {
                shared.seen.committed(&users);
                if let Some(event) = shared.storage_trouble.recovered(now_ms) {
                    super::notice::record(shared, event).await;
                }
                if logged {
                    shared.sink_wake.notify_one();
                }
                shared.metrics.turn(TurnOutcome::Committed);
                for kind in &kinds {
                    shared.metrics.business_event(kind);
                }
                shared.metrics.record_turn(started.elapsed(), shared.host.clock.now_ms() - row.created_ms);
                if emitted {
                    shared.wake.notify_one();
                }
                if timers {
                    shared.timers_changed.notify_one();
                }
                if !queued.is_empty() {
                    shared.outbox_ready.chats(queued);
                }
                after_commit(shared, &results, &hits).await;
                return Served::Done;
            }
            Ok(CommitOutcome::AlreadyHandled) => {
                shared.host.budgets.refund(&charged);
                shared.metrics.turn(TurnOutcome::AlreadyHandled);
                return Served::Done;
            }
            Ok(CommitOutcome::LeaseLost) => {
                shared.metrics.turn(TurnOutcome::LeaseLost);
                return Served::LeaseLost;
            }
            Ok(CommitOutcome::Conflict) => {
                shared.host.budgets.refund(&charged);
                shared.metrics.turn(TurnOutcome::Conflict);
                if attempt > 3 {
                    backoff(attempt - 3).await;
                }
            }
            Err(e) => {
                shared.host.budgets.refund(&charged);
                tracing::warn!(target: "wharf.turn", error = %e, attempt, "commit failed; turn will be retried");
                shared.metrics.turn(TurnOutcome::CommitError);
                shared.storage_trouble.failed(now_ms, &e.to_string());
                backoff(attempt).await;
            }
        }
        if shared.is_shutting_down() {
            return Served::Stopped;
        }
    }
}

/// One attempt at the turn of an ordinary entry: the plugins it routes to, in order,
/// until one stops it; the host's own answers; and, for an update from Telegram, one
/// observation per observer, queued in the same commit.
async fn chain(shared: &Shared, set: &PluginSet, row: &InboxRow, event: &Event, hops: u32, now_ms: i64) -> Attempt {
    // Events aimed at one plugin are that plugin's alone; the host answers the rest
    // when nobody else does (help, admin-only commands, the greeting, the fallback).
    let received = event;
    let mut turn = TurnState::new(Some(row.id), row.lane, now_ms);
    // The host's `/admin` menu takes its command, buttons and answers first.
    if row.target.is_none() {
        match super::menu::intercept(shared, set, event, &mut turn).await {
            super::menu::Menu::Pass => {}
            super::menu::Menu::Consumed => {
                turn.applied.inbox.extend(super::observe::queue(shared, set, row, received, hops, now_ms));
                return Attempt { turn, results: Vec::new(), fault: None };
            }
            super::menu::Menu::Fault(reason) => return Attempt { turn, results: Vec::new(), fault: Some(reason) },
        }
    }
    let (event, first, to) = match row.target.as_deref() {
        Some(target) => (event.clone(), Vec::new(), route(set, event, Some(target))),
        None => match answers::before(shared, set, event.clone(), now_ms) {
            Before::Route(ev, first) => {
                let to = route(set, &ev, None);
                (*ev, first, to)
            }
            Before::Answered(out) => (event.clone(), out, Vec::new()),
        },
    };
    let ctx = context(shared, &event, row.lane, row.id, now_ms);
    turn.budget.cause = Cause::new(&event, hops, row.target.as_deref());
    turn.applied.outbox.extend(first);
    let mut results: Vec<(Arc<LoadedPlugin>, Option<String>)> = Vec::new();
    let mut owner_failed = false;
    let mut consumed = false;
    for (plugin, ev) in to {
        if shared.breaker.is_open(plugin.name()) {
            continue;
        }
        let call_started = std::time::Instant::now();
        let (t, outcome) = sandbox::handle(&shared.engine, &shared.host, &plugin, turn, &ev, &ctx).await;
        shared.metrics.plugin_call(plugin.name().as_str(), call_started.elapsed());
        turn = t;
        match outcome {
            Outcome::Done(flow) => {
                results.push((plugin, None));
                if flow == Flow::Stop {
                    consumed = true;
                    break;
                }
            }
            Outcome::Refused(reason) => {
                owner_failed |= owns(&plugin, &event);
                refused(shared, &plugin, &reason);
            }
            Outcome::Failed(kind, reason) => {
                owner_failed |= owns(&plugin, &event);
                let reason = failed(shared, &plugin, kind, &reason);
                results.push((plugin, Some(reason)));
            }
            Outcome::HostFault(reason) => return Attempt { turn, results, fault: Some(reason) },
        }
    }
    if owner_failed {
        apologize(&event, &mut turn);
    }
    if row.target.is_none() {
        answers::after(shared, set, &event, consumed, &mut turn);
    }
    answer_unanswered(&event, &mut turn);
    stamp_hops(&mut turn.applied.inbox, hops.saturating_add(1));
    if row.target.is_none() {
        let observations = super::observe::queue(shared, set, row, received, hops, now_ms);
        turn.applied.inbox.extend(observations);
    }
    Attempt { turn, results, fault: None }
}

/// Log and count a plugin's refusal (an `err` it returned).
pub(super) fn refused(shared: &Shared, plugin: &LoadedPlugin, reason: &str) {
    let reason = crate::validate::escape_controls(&clip(reason, 500));
    tracing::info!(target: "wharf.turn", plugin = %plugin.name(), %reason, "plugin refused the event");
    shared.metrics.plugin_failure(plugin.name().as_str(), FailureReason::Refused);
}

/// Log and count a plugin's failure (trap, timeout, memory); the reason, clipped and
/// escaped, for the circuit breaker's notice.
pub(super) fn failed(shared: &Shared, plugin: &LoadedPlugin, kind: FailureReason, reason: &str) -> String {
    let reason = crate::validate::escape_controls(&clip(reason, 500));
    tracing::warn!(target: "wharf.turn", plugin = %plugin.name(), %reason, "plugin failed; its effects are discarded");
    shared.metrics.plugin_failure(plugin.name().as_str(), kind);
    reason
}

/// The event-log record of a budget hit.
fn budget_event(hit: &BudgetHit) -> NewLogEvent {
    NewLogEvent::host("budget.exceeded", "Plugin over its budget", "⛔")
        .level(crate::config::LogLevel::Warn)
        .field("plugin", hit.plugin.as_str())
        .field("budget", hit.budget)
        .field("detail", hit.detail.as_str())
}

/// Update the circuit breaker with the committed turn's results and the budgets its
/// plugins hit; tell admins when a plugin gets disabled.
async fn after_commit(shared: &Shared, results: &[(Arc<LoadedPlugin>, Option<String>)], hits: &[BudgetHit]) {
    let now_ms = shared.host.clock.now_ms();
    let mut counted = Vec::new();
    for hit in hits {
        let name = &hit.plugin;
        tracing::warn!(target: "wharf.budget", plugin = %name, budget = hit.budget, detail = %hit.detail, "plugin hit a budget");
        shared.metrics.budget_hit(name.as_str(), hit.budget);
        if counted.contains(&name) {
            continue;
        }
        counted.push(name);
        if shared.breaker.budget_hit(name, now_ms) {
            let text = format!(
                "⚠️ Plugin {name} was disabled after hitting its budgets in {} turns within a minute (last: {}). \
                 Fix it and reload it, or run `wharf plugin enable {name}`, to enable it again.",
                shared.max_failures,
                clip(&hit.detail, 200)
            );
            let why = format!("budgets hit in {} turns within a minute", shared.max_failures);
            disabled(shared, name, &why, &text, &clip(&hit.detail, 200)).await;
        }
    }
    for (plugin, failure) in results {
        let Some(reason) = failure else {
            if !counted.contains(&plugin.name()) {
                shared.breaker.success(plugin.name());
            }
            continue;
        };
        if !shared.breaker.failure(plugin.name()) {
            continue;
        }
        let text = format!(
            "⚠️ Plugin {} was disabled after {} consecutive failures. Fix it and reload it, or run `wharf plugin enable {}`, to enable it again. Its last error: {}",
            plugin.name(),
            shared.max_failures,
            plugin.name(),
            super::notice::quote(plugin.name().as_str(), reason)
        );
        let why = format!("{} consecutive failures", shared.max_failures);
        disabled(shared, plugin.name(), &why, &text, &super::notice::quote(plugin.name().as_str(), reason)).await;
    }
}

/// Log, persist (it stays disabled across restarts) and record that the breaker disabled
/// `plugin`, and tell every admin.
async fn disabled(shared: &Shared, plugin: &crate::config::PluginName, why: &str, text: &str, last: &str) {
    tracing::error!(target: "wharf.turn", plugin = %plugin, %why, "plugin disabled by the circuit breaker");
    super::disabled::persist(shared, plugin, why).await;
    let event = NewLogEvent::host("plugin.disabled", "Plugin disabled", "⛔")
        .level(crate::config::LogLevel::Error)
        .field("plugin", plugin.as_str())
        .field("after", why)
        .field("last_error", last);
    super::notice::record(shared, event).await;
    super::notice::tell_admins(shared, text).await;
}

async fn backoff(attempt: u32) {
    let base = 5u64.saturating_mul(1 << attempt.min(8)).min(2_000);
    let jitter = rand::rng().random_range(0..=base / 2);
    tokio::time::sleep(Duration::from_millis(base + jitter)).await;
}

pub(super) fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max).collect();
    out.push('…');
    out
}

/// What a user is told when the plugin that owns their command or button failed or
/// refused it (its effects are gone, so this is the only answer they would get).
pub(crate) const APOLOGY: &str = "⚠️ Sorry, that did not work and nothing was changed. Please try again later.";

/// Whether `plugin` is the one the user addressed: it owns the button (its prefix) or
/// declares the command.
fn owns(plugin: &LoadedPlugin, event: &Event) -> bool {
    match event {
        Event::Callback(cb) => {
            cb.data.split_once(':').is_some_and(|(prefix, _)| plugin.ctx.callback_prefix.as_deref() == Some(prefix))
        }
        Event::Message(m) => {
            m.command.as_ref().is_some_and(|c| plugin.manifest.commands.iter().any(|s| s.name == c.name))
        }
        _ => false,
    }
}

fn answered(turn: &TurnState, callback_id: &str) -> bool {
    turn.applied.outbox.iter().any(|o| o.call.answers() == Some(callback_id))
}

/// Tell the user their command or button failed, unless the turn answers them anyway.
fn apologize(event: &Event, turn: &mut TurnState) {
    let call = match event {
        Event::Callback(cb) if !answered(turn, &cb.id) => OutboxCall::AnswerCallbackQuery(AnswerCallbackQuery {
            callback_query_id: cb.id.clone(),
            text: Some(APOLOGY.into()),
            show_alert: true,
        }),
        // Never to chat 0 (an event without a real chat): Telegram would refuse it.
        Event::Message(m) if m.chat.id != 0 && !turn.applied.outbox.iter().any(|o| o.chat_id == m.chat.id) => {
            OutboxCall::SendMessage(SendMessage {
                chat_id: m.chat.id,
                text: APOLOGY.into(),
                reply_parameters: Some(ReplyTo { message_id: m.id }),
                ..SendMessage::default()
            })
        }
        _ => return,
    };
    let chat_id = if let Event::Message(m) = event { m.chat.id } else { turn.lane };
    turn.applied.outbox.push(NewOutbox { chat_id, plugin: "wharf".into(), call });
}

/// Telegram shows a spinner on a pressed button until the callback is answered: if no
/// plugin answered it in this turn, the host does (with no text).
fn answer_unanswered(event: &Event, turn: &mut TurnState) {
    let Event::Callback(cb) = event else { return };
    if !answered(turn, &cb.id) {
        let call = OutboxCall::AnswerCallbackQuery(AnswerCallbackQuery {
            callback_query_id: cb.id.clone(),
            ..AnswerCallbackQuery::default()
        });
        turn.applied.outbox.push(NewOutbox { chat_id: turn.lane, plugin: "wharf".into(), call });
    }
}
