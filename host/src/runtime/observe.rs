//! Observers: plugins that export `wharf:bot/observer` besides `handler` (world
//! `observer-plugin`). They see every update from Telegram after the chain, and nothing
//! they do can change what happened to it.
//!
//! - **Queued with the update's commit.** The turn that handles an update (a message, a
//!   button press, a member update; not an entry aimed at one plugin) adds one
//!   observation entry per observer whose breaker is closed to its commit ([`queue`]):
//!   inbox format version 2, targeted at the observer, carrying the update as it arrived
//!   and the facts of that turn ([`Observation`]). The update's effects and its
//!   observations commit together, so each observer sees each update exactly once, also
//!   across a crash, and sees it even when a plugin stopped it or the host answered it.
//! - **A lane of its own.** Each observer's entries go to its own lane ([`lane`]), far
//!   below any Telegram chat id: an observer runs on one worker at a time, never in a
//!   chat's lane, so a slow or failing observer delays no chat's answers (it only falls
//!   behind), and it observes updates one at a time in the order they were handled, so
//!   its counters do not conflict with each other.
//! - **A turn of its own** ([`attempt`]): `observe(event, ctx)` with the `context` the
//!   plugins got (chat, user, `now-ms`, `turn-id` of the handled update), with messages
//!   to Telegram denied (`access-denied`). Its KV writes, events, timers and business
//!   events commit when it returns `ok`, with the removal of the observation; an `err`,
//!   trap, timeout or memory cap discards them, and the observation is done (not
//!   retried). Traps and timeouts count towards the circuit breaker as in `handle`;
//!   budgets hit count as for any plugin. Conflicts and host faults re-run it, like any
//!   turn. A disabled observer's observations are not queued (and queued ones are
//!   dropped).
//! - **Its `handle`** gets only what is its own ([`handles`]): commands it declares,
//!   presses of its buttons (routed by prefix, as for every plugin), its timers, its
//!   topics and lifecycle; plain messages and member updates reach it through `observe`
//!   only, so nothing is seen twice.

use std::sync::Arc;

use super::Shared;
use super::plugin::{LoadedPlugin, PluginSet};
use super::sandbox::{self, Outcome};
use super::turn::{self, Attempt};
use crate::caps::TurnState;
use crate::caps::bindings::wharf::bot::types::Event;
use crate::caps::budget::Cause;
use crate::config::PluginName;
use crate::inbox::{Entry, Observation};
use crate::storage::{InboxRow, NewInbox};

/// Observers' lanes are `i64::MIN` up to here (exclusive); Telegram chat ids are above
/// -10^13, nowhere near.
const OBSERVER_LANES_END: i64 = i64::MIN + (1 << 32);

/// The lane of observer `name`'s observations: fixed by its name (FNV-1a), so entries
/// queued before a restart stay in it.
pub(crate) fn lane(name: &PluginName) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.as_str().bytes() {
        hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    i64::MIN + i64::try_from(hash & 0xffff_ffff).unwrap_or(0)
}

/// The chat of a lane, as `context.chat-id` gives it: none for lane 0 and for
/// observers' lanes (events and timers an observer makes in `observe` run there).
pub(crate) fn chat_of(lane: i64) -> Option<i64> {
    (lane != 0 && lane >= OBSERVER_LANES_END).then_some(lane)
}

/// Whether observers see `event`: the updates from Telegram.
pub(crate) fn observed(event: &Event) -> bool {
    matches!(event, Event::Message(_) | Event::Callback(_) | Event::Member(_))
}

/// Whether `plugin` gets the untargeted `event` in the chain: every plugin does, but an
/// observer only a message with a command its manifest declares (button presses are
/// routed by prefix before this). Its other messages and member updates it observes.
pub(crate) fn handles(plugin: &LoadedPlugin, event: &Event) -> bool {
    if plugin.observer.is_none() {
        return true;
    }
    match event {
        Event::Message(m) => {
            m.command.as_ref().is_some_and(|c| plugin.manifest.commands.iter().any(|s| s.name == c.name))
        }
        Event::Member(_) => false,
        _ => true,
    }
}

/// The observation entries for the update `event` (as it arrived, at `hops`) that the
/// untargeted entry `row` is handling at `now_ms`: one per observer whose breaker is
/// closed, in config order.
pub(crate) fn queue(
    shared: &Shared,
    set: &PluginSet,
    row: &InboxRow,
    event: &Event,
    hops: u32,
    now_ms: i64,
) -> Vec<NewInbox> {
    if !observed(event) {
        return Vec::new();
    }
    let of = Observation { lane: row.lane, turn_id: row.id, now_ms };
    let mut out = Vec::new();
    for p in set.plugins.iter().filter(|p| p.observer.is_some() && !shared.breaker.is_open(p.name())) {
        let entry = Entry::observation(event.clone(), hops, of);
        match NewInbox::entry(lane(p.name()), Some(p.name().to_string()), &entry, None) {
            Ok(e) => out.push(e),
            Err(e) => {
                tracing::error!(target: "wharf.turn", plugin = %p.name(), error = %e, "cannot encode an observation")
            }
        }
    }
    out
}

/// One attempt at the observation turn `row` (observation `of` of `event`): the target
/// observer's `observe`, if it is loaded, still an observer and enabled; otherwise
/// nothing, and the entry is done.
pub(crate) async fn attempt(
    shared: &Shared,
    set: &PluginSet,
    row: &InboxRow,
    event: &Event,
    hops: u32,
    of: Observation,
    now_ms: i64,
) -> Attempt {
    let mut turn = TurnState::new(Some(row.id), row.lane, now_ms);
    // Not a turn answering a user: what an observer does is metered from the first unit.
    turn.budget.cause = Cause { hops, from_update: false, timer_of: None };
    let mut results: Vec<(Arc<LoadedPlugin>, Option<String>)> = Vec::new();
    let target = row.target.as_deref().and_then(|t| set.get(t)).filter(|p| !shared.breaker.is_open(p.name()));
    let Some((plugin, observer)) = target.and_then(|p| Some((p.clone(), p.observer.clone()?))) else {
        return Attempt { turn, results, fault: None };
    };
    let ctx = turn::context(shared, event, of.lane, of.turn_id, of.now_ms);
    let started = std::time::Instant::now();
    let (t, outcome) = sandbox::observe(&shared.engine, &shared.host, &plugin, &observer, turn, event, &ctx).await;
    shared.metrics.plugin_call(plugin.name().as_str(), started.elapsed());
    turn = t;
    match outcome {
        Outcome::Done(_) => results.push((plugin, None)),
        Outcome::Refused(reason) => turn::refused(shared, &plugin, &reason),
        Outcome::Failed(kind, reason) => {
            let reason = turn::failed(shared, &plugin, kind, &reason);
            results.push((plugin, Some(reason)));
        }
        Outcome::HostFault(reason) => return Attempt { turn, results, fault: Some(reason) },
    }
    turn::stamp_hops(&mut turn.applied.inbox, hops.saturating_add(1));
    Attempt { turn, results, fault: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observers_lanes_are_no_chats_and_stay_put() {
        let a = PluginName::parse("analytics").expect("valid");
        let b = PluginName::parse("watch").expect("valid");
        assert_eq!(lane(&a), lane(&a.clone()));
        assert_ne!(lane(&a), lane(&b));
        for l in [lane(&a), lane(&b)] {
            assert!(l < OBSERVER_LANES_END);
            assert_eq!(chat_of(l), None);
        }
        assert_eq!(chat_of(0), None);
        assert_eq!(chat_of(42), Some(42));
        assert_eq!(chat_of(-1_001_234_567_890), Some(-1_001_234_567_890));
    }
}
