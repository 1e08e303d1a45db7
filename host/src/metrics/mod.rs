//! Prometheus metrics: the `wharf_*` families (through the `prometheus-client` crate,
//! which also writes the exposition), the process metrics from `/proc`, and the turn
//! latency samples the benchmarks print.
//!
//! Counters move on the hot path (one atomic add); gauges that come from the database
//! or from other parts of the host (queue depths, breaker state, the last Bot API
//! answer) are set by [`Metrics::encode`]'s caller right before encoding, from a
//! [`Scraped`] snapshot, so nothing on the path of a message queries for them.
//! Labels are bounded: plugin names come from the config, outcomes and methods are
//! fixed sets, business event kinds are capped at [`MAX_KINDS`] (the rest are `other`).

mod labels;
mod latency;
mod process;

use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

use labels::{
    AlertLabel, BudgetLabels, HttpLabels, KindLabel, MethodLabel, OutcomeLabel, PluginLabel, PluginReason, QueueLabel,
    ReasonLabel, SendLabels,
};
pub use labels::{FailureReason, HttpOutcome, Queue, SendOutcome, TurnOutcome, UpdateOutcome, WebhookRefusal};
pub use latency::LatencySummary;

use crate::storage::{QueueDepth, QueueLag};

/// Most distinct `kind` labels of `wharf_business_events_total`; later kinds count as `other`.
pub const MAX_KINDS: usize = 200;

type Timing = Family<PluginLabel, Histogram, fn() -> Histogram>;
type MethodTiming = Family<MethodLabel, Histogram, fn() -> Histogram>;
type GaugeF = Gauge<f64, AtomicU64>;

fn call_buckets() -> Histogram {
    // 0.5 ms … ~8 s
    Histogram::new(exponential_buckets(0.0005, 2.0, 15))
}

fn request_buckets() -> Histogram {
    // 5 ms … ~20 s
    Histogram::new(exponential_buckets(0.005, 2.0, 13))
}

/// Every metric the host keeps, and the registry that encodes them.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    turns: Family<OutcomeLabel, Counter>,
    plugin_failures: Family<PluginReason, Counter>,
    plugin_budget_hits: Family<BudgetLabels, Counter>,
    plugin_call_duration: Timing,
    plugin_http: Family<HttpLabels, Counter>,
    inbox_depth: Gauge,
    inbox_oldest_age: GaugeF,
    outbox_depth: Gauge,
    outbox_oldest_age: GaugeF,
    dead_letters: Family<QueueLabel, Counter>,
    telegram_sends: Family<SendLabels, Counter>,
    telegram_request_duration: MethodTiming,
    telegram_last_success: GaugeF,
    telegram_updates: Family<OutcomeLabel, Counter>,
    telegram_poll_errors: Counter,
    webhook_refused: Family<ReasonLabel, Counter>,
    business_events: Family<KindLabel, Counter>,
    kinds: Mutex<HashSet<String>>,
    breaker_open: Family<PluginLabel, Gauge>,
    alerts_firing: Family<AlertLabel, Gauge>,
    alert_changes: Family<OutcomeLabel, Counter>,
    alert_webhooks: Family<OutcomeLabel, Counter>,
    timers_fired: Counter,
    reloads: Family<OutcomeLabel, Counter>,
    latencies: latency::Latencies,
}

/// What the caller of [`Metrics::encode`] read for the gauges at scrape time.
#[derive(Debug, Clone, Default)]
pub struct Scraped {
    /// Host clock now (Unix ms).
    pub now_ms: i64,
    /// The queues' lag (`None`: the database did not answer; the gauges keep their values).
    pub lag: Option<QueueLag>,
    /// The last Bot API call that got an answer (Unix ms).
    pub api_last_ok_ms: Option<i64>,
    /// Loaded plugins and whether their breaker is open.
    pub breakers: Vec<(String, bool)>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut m = Self {
            registry: Registry::default(),
            turns: Family::default(),
            plugin_failures: Family::default(),
            plugin_budget_hits: Family::default(),
            plugin_call_duration: Family::new_with_constructor(call_buckets),
            plugin_http: Family::default(),
            inbox_depth: Gauge::default(),
            inbox_oldest_age: GaugeF::default(),
            outbox_depth: Gauge::default(),
            outbox_oldest_age: GaugeF::default(),
            dead_letters: Family::default(),
            telegram_sends: Family::default(),
            telegram_request_duration: Family::new_with_constructor(request_buckets),
            telegram_last_success: GaugeF::default(),
            telegram_updates: Family::default(),
            telegram_poll_errors: Counter::default(),
            webhook_refused: Family::default(),
            business_events: Family::default(),
            kinds: Mutex::default(),
            breaker_open: Family::default(),
            alerts_firing: Family::default(),
            alert_changes: Family::default(),
            alert_webhooks: Family::default(),
            timers_fired: Counter::default(),
            reloads: Family::default(),
            latencies: latency::Latencies::default(),
        };
        m.register();
        m
    }
}

impl Metrics {
    fn register(&mut self) {
        let r = self.registry.sub_registry_with_prefix("wharf");
        r.register("turns", "Turns by how they ended", self.turns.clone());
        r.register("plugin_failures", "Plugin calls that failed, by plugin and reason", self.plugin_failures.clone());
        r.register("plugin_budget_hits", "Budget hits by plugin and budget", self.plugin_budget_hits.clone());
        r.register_with_unit(
            "plugin_call_duration",
            "Time of one plugin call (instantiate and handle)",
            Unit::Seconds,
            self.plugin_call_duration.clone(),
        );
        r.register(
            "plugin_http_requests",
            "Plugins' outbound HTTP requests by plugin, granted host and outcome",
            self.plugin_http.clone(),
        );
        r.register("inbox_depth", "Entries waiting in the inbox", self.inbox_depth.clone());
        r.register_with_unit(
            "inbox_oldest_age",
            "Age of the oldest inbox entry",
            Unit::Seconds,
            self.inbox_oldest_age.clone(),
        );
        r.register("outbox_depth", "Calls waiting in the outbox", self.outbox_depth.clone());
        r.register_with_unit(
            "outbox_oldest_age",
            "Age of the oldest outbox call",
            Unit::Seconds,
            self.outbox_oldest_age.clone(),
        );
        r.register("dead_letters", "Rows moved to dead letters, by queue", self.dead_letters.clone());
        r.register("telegram_sends", "Bot API sends by method and outcome", self.telegram_sends.clone());
        r.register_with_unit(
            "telegram_request_duration",
            "Bot API request time by method",
            Unit::Seconds,
            self.telegram_request_duration.clone(),
        );
        r.register(
            "telegram_last_success_timestamp_seconds",
            "When a Bot API call last got an answer (Unix seconds; 0: never)",
            self.telegram_last_success.clone(),
        );
        r.register("telegram_updates", "Updates from Telegram by what became of them", self.telegram_updates.clone());
        r.register("telegram_poll_errors", "getUpdates calls that failed", self.telegram_poll_errors.clone());
        r.register("webhook_refused", "Webhook requests refused, by reason", self.webhook_refused.clone());
        r.register(
            "business_events",
            "Business events of committed turns by kind (at most 200 kinds, then \"other\")",
            self.business_events.clone(),
        );
        r.register(
            "plugin_breaker_open",
            "1 while the circuit breaker has a plugin disabled",
            self.breaker_open.clone(),
        );
        r.register("alerts_firing", "1 while an alert fires", self.alerts_firing.clone());
        r.register(
            "alert_changes",
            "Alerts fired, repeated and resolved, and alert checks that failed",
            self.alert_changes.clone(),
        );
        r.register("alert_webhooks", "Alert webhook deliveries by outcome", self.alert_webhooks.clone());
        r.register("timers_fired", "Timers fired into the inbox", self.timers_fired.clone());
        r.register("reloads", "Plugin modules swapped in or rejected by reloads", self.reloads.clone());
        self.registry.register_collector(Box::new(process::ProcessCollector::new()));
    }

    /// Set the scrape-time gauges from `s`, then write every metric in the text format.
    pub fn encode(&self, s: &Scraped) -> Result<String, std::fmt::Error> {
        let age = |q: &QueueDepth| q.oldest_ms.map_or(0.0, |t| (s.now_ms - t).max(0) as f64 / 1000.0);
        if let Some(lag) = &s.lag {
            self.inbox_depth.set(lag.inbox.depth);
            self.inbox_oldest_age.set(age(&lag.inbox));
            self.outbox_depth.set(lag.outbox.depth);
            self.outbox_oldest_age.set(age(&lag.outbox));
        }
        self.telegram_last_success.set(s.api_last_ok_ms.map_or(0.0, |t| t as f64 / 1000.0));
        self.breaker_open.clear();
        for (plugin, open) in &s.breakers {
            self.breaker_open.get_or_create(&PluginLabel { plugin: plugin.clone() }).set(i64::from(*open));
        }
        let mut out = String::with_capacity(8 * 1024);
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }

    /// Count a turn that ended with `outcome`.
    pub fn turn(&self, outcome: TurnOutcome) {
        self.turns.get_or_create(&OutcomeLabel { outcome: outcome.as_str() }).inc();
    }

    /// Count a plugin call that failed.
    pub fn plugin_failure(&self, plugin: &str, reason: FailureReason) {
        self.plugin_failures.get_or_create(&PluginReason { plugin: plugin.to_owned(), reason: reason.as_str() }).inc();
    }

    /// Count a budget hit (also a `budget` failure of the plugin).
    pub fn budget_hit(&self, plugin: &str, budget: &'static str) {
        self.plugin_budget_hits
            .get_or_create(&BudgetLabels { plugin: plugin.to_owned(), budget: budget.to_owned() })
            .inc();
        self.plugin_failure(plugin, FailureReason::Budget);
    }

    /// Time of one plugin call.
    pub fn plugin_call(&self, plugin: &str, took: std::time::Duration) {
        self.plugin_call_duration.get_or_create(&PluginLabel { plugin: plugin.to_owned() }).observe(took.as_secs_f64());
    }

    /// Count one outbound HTTP request of `plugin` to `host` (a granted host, so the
    /// label set is bounded by the config).
    pub fn plugin_http(&self, plugin: &str, host: &str, outcome: HttpOutcome) {
        let labels = HttpLabels { plugin: plugin.to_owned(), host: host.to_owned(), outcome: outcome.as_str() };
        self.plugin_http.get_or_create(&labels).inc();
    }

    /// Outbound HTTP requests of `plugin` to `host` with `outcome`.
    pub fn plugin_http_count(&self, plugin: &str, host: &str, outcome: HttpOutcome) -> u64 {
        let labels = HttpLabels { plugin: plugin.to_owned(), host: host.to_owned(), outcome: outcome.as_str() };
        self.plugin_http.get(&labels).map_or(0, |c| c.get())
    }

    /// Count a row moved to dead letters.
    pub fn dead_letter(&self, queue: Queue) {
        self.dead_letters.get_or_create(&QueueLabel { queue: queue.as_str() }).inc();
    }

    /// Count one Bot API send by method (`sendMessage`, …) and outcome.
    pub fn telegram_send(&self, method: &'static str, outcome: SendOutcome) {
        self.telegram_sends.get_or_create(&SendLabels { method, outcome: outcome.as_str() }).inc();
    }

    /// Time of one Bot API request.
    pub fn telegram_request(&self, method: &'static str, took: std::time::Duration) {
        self.telegram_request_duration.get_or_create(&MethodLabel { method }).observe(took.as_secs_f64());
    }

    /// Count `n` updates from Telegram with `outcome`.
    pub fn telegram_updates(&self, outcome: UpdateOutcome, n: u64) {
        self.telegram_updates.get_or_create(&OutcomeLabel { outcome: outcome.as_str() }).inc_by(n);
    }

    /// Count a failed `getUpdates`.
    pub fn telegram_poll_error(&self) {
        self.telegram_poll_errors.inc();
    }

    /// Count a refused webhook request.
    pub fn webhook_refused(&self, why: WebhookRefusal) {
        self.webhook_refused.get_or_create(&ReasonLabel { reason: why.as_str() }).inc();
    }

    /// Count a committed business event; kinds past the first [`MAX_KINDS`] count as `other`.
    pub fn business_event(&self, kind: &str) {
        let known = self
            .kinds
            .lock()
            .is_ok_and(|mut kinds| kinds.contains(kind) || (kinds.len() < MAX_KINDS && kinds.insert(kind.to_owned())));
        let kind = if known { kind.to_owned() } else { "other".to_owned() };
        self.business_events.get_or_create(&KindLabel { kind }).inc();
    }

    /// Set whether `alert` fires (for the alerting rules).
    pub fn alert_firing(&self, alert: &str, firing: bool) {
        self.alerts_firing.get_or_create(&AlertLabel { alert: alert.to_owned() }).set(i64::from(firing));
    }

    /// Count an alert change (`fired`, `repeat`, `resolved`) or a failed check (`check_failed`).
    pub fn alert_change(&self, change: &'static str) {
        self.alert_changes.get_or_create(&OutcomeLabel { outcome: change }).inc();
    }

    /// Count an alert webhook delivery: `sent`, `failed` (retried), `given_up`, `dropped`.
    pub fn alert_webhook(&self, outcome: &'static str) {
        self.alert_webhooks.get_or_create(&OutcomeLabel { outcome }).inc();
    }

    /// Count `n` timers fired.
    pub fn timers_fired(&self, n: u64) {
        self.timers_fired.inc_by(n);
    }

    /// Count a plugin module swapped in (`true`) or rejected by a reload.
    pub fn reload(&self, swapped: bool) {
        let outcome = if swapped { "swapped" } else { "rejected" };
        self.reloads.get_or_create(&OutcomeLabel { outcome }).inc();
    }

    /// Record one committed turn's latencies (for [`Metrics::latencies`]).
    pub fn record_turn(&self, service: std::time::Duration, queued_ms: i64) {
        self.latencies.record(service, queued_ms);
    }

    /// Latency percentiles since the last [`Metrics::reset`].
    pub fn latencies(&self) -> LatencySummary {
        self.latencies.summary()
    }

    /// Forget latency samples and the turn counters (benchmarks measure from here).
    pub fn reset(&self) {
        self.latencies.reset();
        self.turns.clear();
    }
}

/// Reading counters back (tests, benchmarks). Series never created read as 0.
impl Metrics {
    /// Alert webhook deliveries with `outcome`.
    pub fn alert_webhooks(&self, outcome: &'static str) -> u64 {
        self.alert_webhooks.get(&OutcomeLabel { outcome }).map_or(0, |c| c.get())
    }

    /// Turns that ended with `outcome`.
    pub fn turns(&self, outcome: TurnOutcome) -> u64 {
        self.turns.get(&OutcomeLabel { outcome: outcome.as_str() }).map_or(0, |c| c.get())
    }

    /// Failed calls of `plugin` for `reason`.
    pub fn plugin_failures(&self, plugin: &str, reason: FailureReason) -> u64 {
        let key = PluginReason { plugin: plugin.to_owned(), reason: reason.as_str() };
        self.plugin_failures.get(&key).map_or(0, |c| c.get())
    }

    /// Calls of `plugin` that trapped, timed out or ran out of memory.
    pub fn plugin_malfunctions(&self, plugin: &str) -> u64 {
        [FailureReason::Trap, FailureReason::Timeout, FailureReason::Memory]
            .into_iter()
            .map(|r| self.plugin_failures(plugin, r))
            .sum()
    }

    /// Budget hits of `plugin` on `budget`.
    pub fn budget_hits(&self, plugin: &str, budget: &str) -> u64 {
        let key = BudgetLabels { plugin: plugin.to_owned(), budget: budget.to_owned() };
        self.plugin_budget_hits.get(&key).map_or(0, |c| c.get())
    }

    /// Bot API sends with `outcome`, over all methods.
    pub fn telegram_sends(&self, outcome: SendOutcome) -> u64 {
        labels::METHODS
            .iter()
            .map(|&method| {
                self.telegram_sends.get(&SendLabels { method, outcome: outcome.as_str() }).map_or(0, |c| c.get())
            })
            .sum()
    }

    /// Updates from Telegram with `outcome`.
    pub fn telegram_updates_count(&self, outcome: UpdateOutcome) -> u64 {
        self.telegram_updates.get(&OutcomeLabel { outcome: outcome.as_str() }).map_or(0, |c| c.get())
    }

    /// Failed `getUpdates` calls.
    pub fn telegram_poll_errors(&self) -> u64 {
        self.telegram_poll_errors.get()
    }

    /// Refused webhook requests for `why`.
    pub fn webhook_refusals(&self, why: WebhookRefusal) -> u64 {
        self.webhook_refused.get(&ReasonLabel { reason: why.as_str() }).map_or(0, |c| c.get())
    }

    /// Timers fired.
    pub fn timers_fired_count(&self) -> u64 {
        self.timers_fired.get()
    }

    /// Committed business events counted under `kind` (`other` for those past the cap).
    pub fn business_events(&self, kind: &str) -> u64 {
        self.business_events.get(&KindLabel { kind: kind.to_owned() }).map_or(0, |c| c.get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_past_the_cap_count_as_other_and_the_exposition_uses_the_agreed_names() {
        let m = Metrics::default();
        for i in 0..MAX_KINDS + 5 {
            m.business_event(&format!("k{i}"));
        }
        m.business_event("k0");
        assert_eq!((m.business_events("other"), m.business_events("k0")), (5, 2));
        assert_eq!(m.business_events(&format!("k{}", MAX_KINDS)), 0, "never got a series of its own");
        m.turn(TurnOutcome::Committed);
        m.telegram_send("sendMessage", SendOutcome::RetryAfter);
        let lag = QueueLag {
            inbox: QueueDepth { depth: 3, oldest_ms: Some(1_000) },
            outbox: QueueDepth { depth: 0, oldest_ms: None },
        };
        let scraped =
            Scraped { now_ms: 5_500, lag: Some(lag), breakers: vec![("shop".into(), true)], ..Scraped::default() };
        let text = m.encode(&scraped).unwrap_or_default();
        for line in [
            "wharf_turns_total{outcome=\"committed\"} 1",
            "wharf_telegram_sends_total{method=\"sendMessage\",outcome=\"429\"} 1",
            "wharf_inbox_depth 3",
            "wharf_inbox_oldest_age_seconds 4.5",
            "wharf_outbox_oldest_age_seconds 0.0",
            "wharf_plugin_breaker_open{plugin=\"shop\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
        }
    }
}
