//! Budgets across turns, enforced. The capabilities call in here before buffering an
//! effect:
//!
//! - timers set, events emitted and Telegram calls queued are charged to per-plugin
//!   token buckets ([`Budgets`]) that live in the runtime, shared by every turn, and
//!   refill on the host clock; a turn handling an update from Telegram gets a small
//!   free allowance per plugin, so replies to users are not metered, storms are;
//! - a timer set while the plugin handles one of its own timers is pushed back to the
//!   plugin's re-arm delay;
//! - an event emitted at a hop count beyond the plugin's `max_hops` is dropped;
//! - KV writes are checked against the namespace's persisted usage (`storage::usage`)
//!   plus the turn's pending writes; the commit checks again, exactly.
//!
//! A refusal is an error the plugin sees (`quota-exceeded`) and a
//! [`BudgetHit`] recorded in the turn, which the runtime logs, counts, records in the
//! event log and feeds to the circuit breaker (`runtime::turn`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use super::PluginState;
use super::bindings::wharf::bot::{events, kv, scheduler, telegram};
use super::effects::Key;
use crate::caps::bindings::wharf::bot::types::Event;
use crate::config::{PluginName, Rate};

/// What a bucket meters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    /// Timers set.
    Timers,
    /// Events emitted.
    Events,
    /// Telegram calls queued.
    Messages,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Timers => "timers",
            Kind::Events => "events",
            Kind::Messages => "messages",
        }
    }
}

/// A token bucket on the host clock.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bucket {
    tokens: f64,
    last_ms: i64,
}

impl Bucket {
    /// A full bucket at `now_ms`.
    pub fn full(rate: Rate, now_ms: i64) -> Self {
        Self { tokens: f64::from(rate.burst), last_ms: now_ms }
    }

    /// Give back a token taken for effects that were never applied.
    pub fn refund(&mut self, rate: Rate) {
        self.tokens = (self.tokens + 1.0).min(f64::from(rate.burst));
    }

    /// Refill for the time since the last call, then take one token if there is one.
    pub fn take(&mut self, rate: Rate, now_ms: i64) -> bool {
        let elapsed = now_ms.saturating_sub(self.last_ms).max(0) as f64 / 1000.0;
        self.tokens = (self.tokens + elapsed * rate.per_sec).min(f64::from(rate.burst));
        self.last_ms = self.last_ms.max(now_ms);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Every plugin's buckets, shared by all turns of a runtime.
#[derive(Debug, Default)]
pub struct Budgets {
    buckets: Mutex<HashMap<(PluginName, Kind), Bucket>>,
}

impl Budgets {
    /// Take one token of `kind` from `plugin`'s bucket.
    pub(crate) fn take(&self, plugin: &PluginName, kind: Kind, rate: Rate, now_ms: i64) -> bool {
        let mut map = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry((plugin.clone(), kind)).or_insert_with(|| Bucket::full(rate, now_ms)).take(rate, now_ms)
    }

    /// Give back the tokens a turn attempt took when its effects were not applied (a
    /// conflict re-runs the turn, which is charged again).
    pub(crate) fn refund(&self, charged: &[Charge]) {
        let mut map = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for (plugin, kind, rate) in charged {
            if let Some(b) = map.get_mut(&(plugin.clone(), *kind)) {
                b.refund(*rate);
            }
        }
    }
}

/// A token taken from a bucket: whose, which kind, at which rate.
pub(crate) type Charge = (PluginName, Kind, Rate);

/// What caused the turn, as far as budgets care.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cause {
    /// Hop count of the handled inbox entry (0 for updates, timers and lifecycle).
    pub hops: u32,
    /// The turn handles an update from Telegram (metered only past the allowance).
    pub from_update: bool,
    /// The plugin whose own timer fired, when the turn handles a timer.
    pub timer_of: Option<String>,
}

impl Cause {
    /// The cause of a turn handling `event` (from an entry with `hops`, for `target`).
    pub fn new(event: &Event, hops: u32, target: Option<&str>) -> Self {
        Self {
            hops,
            from_update: matches!(event, Event::Message(_) | Event::Callback(_) | Event::Member(_)),
            timer_of: matches!(event, Event::Timer(_)).then(|| target.map(str::to_owned)).flatten(),
        }
    }
}

/// A budget a plugin hit in a turn.
#[derive(Debug, Clone)]
pub(crate) struct BudgetHit {
    /// The plugin.
    pub plugin: PluginName,
    /// Which budget: `timers`, `events`, `messages`, `hops`, `kv`.
    pub budget: &'static str,
    /// What the plugin was told.
    pub detail: String,
}

/// The turn's budget bookkeeping.
#[derive(Debug, Default)]
pub(crate) struct TurnBudget {
    pub cause: Cause,
    /// Free units used per plugin and kind (turns handling an update).
    free_used: HashMap<(PluginName, Kind), u32>,
    /// Stored sizes (key + value bytes; `None` = absent) of keys fetched for quota checks.
    kv_sizes: HashMap<Key, Option<usize>>,
    /// Budgets hit, in order.
    pub hits: Vec<BudgetHit>,
    /// Tokens taken, to refund if the turn's effects are not applied.
    pub charged: Vec<Charge>,
}

/// A budget refusal as each interface's error type (`quota-exceeded`, which 0.1
/// components see as `other("quota exceeded: …")`): the one place per interface that
/// decides which error case a plugin sees.
pub(crate) trait QuotaError {
    /// The error for a refusal; `text` says which budget and its limits.
    fn quota(text: String) -> Self;
}

impl QuotaError for scheduler::Error {
    fn quota(text: String) -> Self {
        Self::QuotaExceeded(text)
    }
}

impl QuotaError for events::Error {
    fn quota(text: String) -> Self {
        Self::QuotaExceeded(text)
    }
}

impl QuotaError for telegram::Error {
    fn quota(text: String) -> Self {
        Self::QuotaExceeded(text)
    }
}

impl QuotaError for kv::Error {
    fn quota(text: String) -> Self {
        Self::QuotaExceeded(text)
    }
}

impl PluginState {
    /// Record a hit for the running plugin and return the refusal for it.
    fn hit<E: QuotaError>(&mut self, budget: &'static str, detail: String) -> E {
        let plugin = self.current().name().clone();
        self.turn.budget.hits.push(BudgetHit { plugin, budget, detail: format!("quota exceeded: {detail}") });
        E::quota(detail)
    }

    /// Charge one unit of `kind` to the running plugin: free within a Telegram update's
    /// allowance, otherwise a token from its bucket.
    pub(crate) fn charge<E: QuotaError>(&mut self, kind: Kind) -> Result<(), E> {
        let plugin = self.current().clone();
        let budget = plugin.spec.budget;
        if self.turn.budget.cause.from_update {
            let used = self.turn.budget.free_used.entry((plugin.name().clone(), kind)).or_default();
            if *used < budget.update_allowance {
                *used += 1;
                return Ok(());
            }
        }
        let rate = match kind {
            Kind::Timers => budget.timers,
            Kind::Events => budget.events,
            Kind::Messages => budget.messages,
        };
        if self.host.budgets.take(plugin.name(), kind, rate, self.host.clock.now_ms()) {
            self.turn.budget.charged.push((plugin.name().clone(), kind, rate));
            return Ok(());
        }
        let detail =
            format!("{} per second: at most {} in a burst, {} a second", kind.name(), rate.burst, rate.per_sec);
        Err(self.hit(kind.name(), detail))
    }

    /// The due time of a timer the running plugin sets: at least its re-arm delay from
    /// now when it is handling one of its own timers.
    pub(crate) fn rearm_floor(&self, due_ms: i64) -> i64 {
        let plugin = self.current();
        if self.turn.budget.cause.timer_of.as_deref() != Some(plugin.name().as_str()) {
            return due_ms;
        }
        let delay = i64::try_from(plugin.spec.budget.rearm_delay_ms).unwrap_or(i64::MAX);
        due_ms.max(self.host.clock.now_ms().saturating_add(delay))
    }

    /// Refuse an event that would go deeper than the running plugin's `max_hops`.
    pub(crate) fn check_hops<E: QuotaError>(&mut self) -> Result<(), E> {
        let max = self.current().spec.budget.max_hops;
        let hops = self.turn.budget.cause.hops.saturating_add(1);
        if hops <= max {
            return Ok(());
        }
        Err(self.hit("hops", format!("the event would be {hops} hops deep in a chain of events; at most {max}")))
    }

    /// Check the running plugin's KV quota after its write of `key` was buffered in the
    /// call: refused when the write grows the namespace past `kv_mib` or `kv_keys`.
    pub(crate) async fn charge_kv<E: QuotaError>(&mut self, key: &str) -> wasmtime::Result<Result<(), E>> {
        let plugin = self.current().clone();
        let ns = plugin.name().as_str().to_owned();
        let (max_bytes, max_keys) = (plugin.spec.budget.kv_bytes, plugin.spec.budget.kv_keys);
        let usage = match self.host.storage.kv_usage(&ns).await {
            Ok(u) => u,
            Err(e) => return Err(self.fault(format_args!("kv usage: {e}"))),
        };
        // An upper bound first, without allocating: every buffered write as a new key
        // (a key written by the turn and again by this call counts twice).
        let buffered = || self.turn.applied.writes.iter().chain(self.call.writes.iter()).filter(|((n, _), _)| *n == ns);
        let (mut worst_bytes, mut worst_keys) = (usage.bytes, usage.keys);
        for ((_, k), v) in buffered() {
            if let Some(v) = v {
                worst_bytes = worst_bytes.saturating_add((k.len() + v.len()) as u64);
                worst_keys = worst_keys.saturating_add(1);
            }
        }
        if worst_bytes <= max_bytes && worst_keys <= max_keys {
            return Ok(Ok(()));
        }
        // New stored sizes of the keys this turn writes in the namespace.
        let pending: BTreeMap<String, Option<usize>> =
            buffered().map(|((_, k), v)| (k.clone(), v.as_ref().map(|v| k.len() + v.len()))).collect();
        // Near the quota: count exactly, with the stored size of each key written.
        let unknown: Vec<String> = pending
            .keys()
            .filter(|k| {
                let key = (ns.clone(), (*k).clone());
                !self.turn.reads.contains_key(&key) && !self.turn.budget.kv_sizes.contains_key(&key)
            })
            .cloned()
            .collect();
        if !unknown.is_empty() {
            let found = match self.host.storage.kv_sizes(&ns, &unknown).await {
                Ok(f) => f,
                Err(e) => return Err(self.fault(format_args!("kv sizes: {e}"))),
            };
            for k in unknown {
                let size = found.get(&k).copied();
                self.turn.budget.kv_sizes.insert((ns.clone(), k), size);
            }
        }
        let old = |k: &String| -> Option<usize> {
            let key = (ns.clone(), k.clone());
            match self.turn.reads.get(&key) {
                Some((_, v)) => v.as_ref().map(|v| k.len() + v.len()),
                None => self.turn.budget.kv_sizes.get(&key).copied().flatten(),
            }
        };
        let (mut bytes, mut keys) = (i128::from(usage.bytes), i128::from(usage.keys));
        for (k, new) in &pending {
            let was = old(k);
            bytes += new.unwrap_or(0) as i128 - was.unwrap_or(0) as i128;
            keys += i128::from(new.is_some()) - i128::from(was.is_some());
        }
        let this_new = pending.get(key).copied().flatten();
        let this_old = old(&key.to_owned());
        let grows_bytes = this_new.unwrap_or(0) > this_old.unwrap_or(0);
        let adds_key = this_new.is_some() && this_old.is_none();
        if grows_bytes && bytes > i128::from(max_bytes) {
            let detail = format!("KV holds at most {} MiB ({max_bytes} bytes) for this plugin", max_bytes >> 20);
            return Ok(Err(self.hit("kv", detail)));
        }
        if adds_key && keys > i128::from(max_keys) {
            return Ok(Err(self.hit("kv", format!("KV holds at most {max_keys} keys for this plugin"))));
        }
        Ok(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: Rate = Rate { per_sec: 2.0, burst: 3 };

    #[test]
    fn a_bucket_allows_its_burst_then_its_rate() {
        let mut b = Bucket::full(RATE, 0);
        assert!((0..3).all(|_| b.take(RATE, 0)), "the burst");
        assert!(!b.take(RATE, 0), "empty until time passes");
        assert!(!b.take(RATE, 400), "0.8 tokens after 400 ms");
        assert!(b.take(RATE, 500), "one token after 500 ms");
        assert!(!b.take(RATE, 500));
        // A long pause refills to the burst, not beyond.
        let allowed = (0..10).filter(|_| b.take(RATE, 3_600_000)).count();
        assert_eq!(allowed, 3);
        // Time going backwards never adds tokens.
        assert!(!b.take(RATE, 0));
    }

    #[test]
    fn buckets_are_per_plugin_and_kind_and_hold_across_calls() {
        let budgets = Budgets::default();
        let (a, b) = (PluginName::parse("a").unwrap(), PluginName::parse("b").unwrap());
        assert_eq!((0..5).filter(|_| budgets.take(&a, Kind::Timers, RATE, 0)).count(), 3);
        assert!(budgets.take(&a, Kind::Events, RATE, 0), "another kind has its own bucket");
        assert!(budgets.take(&b, Kind::Timers, RATE, 0), "another plugin has its own bucket");
        assert!(!budgets.take(&a, Kind::Timers, RATE, 100));
        assert!(budgets.take(&a, Kind::Timers, RATE, 600), "refilled on the clock");
        budgets.refund(&[(a.clone(), Kind::Timers, RATE)]);
        assert!(budgets.take(&a, Kind::Timers, RATE, 600), "a refunded token is there again");
        assert!(!budgets.take(&a, Kind::Timers, RATE, 600));
    }
}
