//! Alerts: the built-in rules of `[alerts]`, evaluated every `check_seconds` of the host
//! clock. Each alert fires once, is sent again every `repeat_minutes` while it keeps
//! firing, and is resolved when it clears. The firing set lives in the `alerts` table,
//! changed in the same transaction as the alert's event-log row (`alert.fired`,
//! `alert.resolved`: the log sink takes those to the admin channel) and, when no channel
//! takes them, its messages to the admins; so a restart neither fires an alert again
//! nor forgets one, and replicas sharing a database send each change once.
//!
//! | module | what |
//! | --- | --- |
//! | `eval` | pure: readings and the firing set in, transitions out |
//! | `rules` | the built-in rules' readings |
//! | `announce` | event-log rows, admin texts, the webhook's JSON |
//! | `webhook` | POSTing alerts, off the alert task, with timeouts and retries |

pub mod announce;
pub mod eval;
pub mod rules;
pub mod webhook;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

use crate::clock::Clock;
use crate::config::{AlertsConfig, LogSinkConfig};
use crate::runtime::Metrics;
use crate::storage::{Storage, StorageError};
use crate::telegram::ApiHealth;
use crate::telegram::ready::OutboxReady;
pub use announce::{AlertState, WebhookAlert};
use eval::Firing;

/// What the alert task shows the rest of the host (metrics, tests).
#[derive(Debug, Default)]
pub struct Alerts {
    state: Mutex<Shown>,
}

#[derive(Debug, Default)]
struct Shown {
    firing: Vec<String>,
    checks: u64,
    last_check_ms: Option<i64>,
}

impl Alerts {
    /// The alerts firing after the last check, by name (`wharf_alerts_firing{alert}`).
    pub fn firing(&self) -> Vec<String> {
        self.state.lock().map(|s| s.firing.clone()).unwrap_or_default()
    }

    /// Checks completed (successful or not).
    pub fn checks(&self) -> u64 {
        self.state.lock().map_or(0, |s| s.checks)
    }

    /// The host time of the last completed check.
    pub fn last_check_ms(&self) -> Option<i64> {
        self.state.lock().ok().and_then(|s| s.last_check_ms)
    }

    fn checked(&self, now_ms: i64, firing: Option<Vec<String>>) {
        if let Ok(mut s) = self.state.lock() {
            s.checks += 1;
            s.last_check_ms = Some(now_ms);
            if let Some(f) = firing {
                s.firing = f;
            }
        }
    }
}

/// What the alert task needs from the runtime.
pub struct AlertDeps {
    /// Database.
    pub storage: Storage,
    /// Host clock.
    pub clock: Clock,
    /// Whether the Bot API answers.
    pub api: Arc<ApiHealth>,
    /// The plugins the circuit breaker disabled, now.
    pub disabled: Box<dyn Fn() -> Vec<String> + Send + Sync>,
    /// Told directly when no channel takes an alert.
    pub admins: Vec<i64>,
    /// `[log_sink]`.
    pub log_sink: LogSinkConfig,
    /// Told which chats got outbox rows.
    pub outbox_ready: Arc<OutboxReady>,
    /// Woken when alert events were recorded.
    pub sink_wake: Arc<Notify>,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// Where the task shows what fires.
    pub shown: Arc<Alerts>,
}

/// Aborts a task when dropped (the webhook's, with the alert task).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The alert task: a check at once, then every `check_seconds`; runs until aborted.
pub async fn run(deps: AlertDeps, config: AlertsConfig) {
    let mut webhook = None;
    let mut _webhook_task = None;
    if let Some(url) = &config.webhook_url {
        let timeout = Duration::from_secs(config.webhook_timeout_seconds);
        match webhook::Webhook::new(url.as_str(), timeout, deps.metrics.clone()) {
            Ok((w, task)) => {
                webhook = Some(w);
                _webhook_task = Some(AbortOnDrop(tokio::spawn(task)));
            }
            Err(e) => tracing::error!(target: "wharf.alerts", error = %e, "cannot make the alert webhook's client"),
        }
    }
    let check_ms = i64::try_from(config.check_seconds).unwrap_or(30).saturating_mul(1000);
    loop {
        let now_ms = deps.clock.now_ms();
        let firing = match check(&deps, &config, webhook.as_ref(), now_ms).await {
            Ok(firing) => {
                // `wharf_alerts_firing`: 1 for each firing alert, 0 for those that stopped.
                for was in deps.shown.firing().iter().filter(|a| !firing.contains(a)) {
                    deps.metrics.alert_firing(was, false);
                }
                for alert in &firing {
                    deps.metrics.alert_firing(alert, true);
                }
                Some(firing)
            }
            Err(e) => {
                deps.metrics.alert_change("check_failed");
                tracing::warn!(target: "wharf.alerts", error = %e, "cannot check the alert rules; will retry");
                None
            }
        };
        deps.shown.checked(now_ms, firing);
        let next = now_ms.saturating_add(check_ms);
        while deps.clock.now_ms() < next {
            deps.clock.sleep_until(next, Duration::from_secs(1)).await;
        }
    }
}

/// One check at `now_ms`: read, evaluate, record and announce; the firing set after it.
async fn check(
    deps: &AlertDeps,
    config: &AlertsConfig,
    webhook: Option<&webhook::Webhook>,
    now_ms: i64,
) -> Result<Vec<String>, StorageError> {
    let mut firing: BTreeMap<String, Firing> = deps
        .storage
        .firing_alerts()
        .await?
        .into_iter()
        .map(|r| {
            let f =
                Firing { since_ms: r.since_ms, last_sent_ms: r.last_sent_ms, value: r.value, threshold: r.threshold };
            (r.alert, f)
        })
        .collect();
    let sources = rules::Sources { storage: &deps.storage, api: &deps.api, disabled: (deps.disabled)() };
    let readings = rules::read(config, &sources, now_ms).await?;
    let repeat_ms = i64::try_from(config.repeat_minutes).unwrap_or(60).saturating_mul(60_000);
    let transitions = eval::evaluate(&firing, &readings, now_ms, repeat_ms);
    if !transitions.is_empty() {
        let announcer =
            announce::Announcer { log_sink: &deps.log_sink, admins: &deps.admins, bot: config.bot_name.as_str() };
        let records: Vec<_> = transitions.iter().map(|t| announcer.record(t, now_ms)).collect();
        let applied = deps.storage.record_alerts(&records, now_ms).await?;
        deps.sink_wake.notify_one();
        let mut done = Vec::new();
        for ((t, r), ok) in transitions.iter().zip(&records).zip(applied) {
            if !ok {
                continue;
            }
            if !r.outbox.is_empty() {
                deps.outbox_ready.chats(r.outbox.iter().map(|o| o.chat_id));
            }
            let change = match t.change {
                eval::Change::Fired => "fired",
                eval::Change::Repeat => "repeat",
                eval::Change::Resolved => "resolved",
            };
            deps.metrics.alert_change(change);
            if t.change == eval::Change::Resolved {
                tracing::info!(target: "wharf.alerts", alert = %t.alert, change, value = ?t.value, "alert resolved");
            } else {
                tracing::warn!(target: "wharf.alerts", alert = %t.alert, change, value = ?t.value, threshold = ?t.threshold, "alert firing");
            }
            if let Some(w) = webhook {
                w.send(announcer.webhook(t, now_ms));
            }
            done.push(t.clone());
        }
        eval::apply(&mut firing, &done, now_ms);
    }
    Ok(firing.into_keys().collect())
}
