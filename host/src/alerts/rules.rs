//! The built-in rules: what each reads (the runtime's breaker, the Bot API's health, the
//! database) and how a reading compares with its threshold.

use std::collections::HashMap;

use super::eval::{Reading, Status};
use crate::config::{AlertsConfig, RatioRule};
use crate::storage::{Storage, StorageError};
use crate::telegram::ApiHealth;

const HOUR_MS: i64 = 3_600_000;

/// What the rules read besides the database.
pub struct Sources<'a> {
    /// Database.
    pub storage: &'a Storage,
    /// Whether the Bot API answers.
    pub api: &'a ApiHealth,
    /// Plugins the circuit breaker disabled.
    pub disabled: Vec<String>,
}

/// Every enabled rule's readings at `now_ms`; any read failing fails the whole check
/// (a missing reading would read as "resolved").
pub async fn read(cfg: &AlertsConfig, src: &Sources<'_>, now_ms: i64) -> Result<Vec<Reading>, StorageError> {
    let mut out = Vec::new();
    if cfg.plugin_disabled {
        for name in &src.disabled {
            out.push(Reading {
                alert: format!("plugin_disabled.{name}"),
                value: None,
                threshold: None,
                status: Status::Breached,
                detail: format!("The circuit breaker disabled plugin {name} after repeated failures."),
            });
        }
    }
    if let Some(t) = cfg.dead_letters_per_hour.get() {
        let n = src.storage.dead_letters_since(now_ms - HOUR_MS).await?;
        out.push(at_least("dead_letters", n, t, format!("{n} dead letters (inbox and outbox) in the last hour.")));
    }
    let queues = if cfg.inbox_lag_seconds.get().is_some() || cfg.outbox_lag_seconds.get().is_some() {
        Some(src.storage.queue_lag().await?)
    } else {
        None
    };
    if let (Some(t), Some(q)) = (cfg.inbox_lag_seconds.get(), &queues) {
        let lag = age_s(q.inbox.oldest_ms, now_ms);
        out.push(at_least("inbox_lag", lag, t, format!("The oldest inbox entry has waited {lag} s.")));
    }
    // Without contact with Telegram (no front end, `mode = "none"`) nothing drains the
    // outbox and nothing can be unreachable: those rules say nothing then.
    let telegram = src.api.last_ok_ms().is_some() || src.api.failing_since_ms().is_some();
    if let (Some(t), Some(q)) = (cfg.outbox_lag_seconds.get(), &queues) {
        let lag = age_s(q.outbox.oldest_ms, now_ms);
        let mut r = at_least("outbox_lag", lag, t, format!("The oldest outbox message has waited {lag} s."));
        if !telegram {
            r.status = Status::Unknown;
        }
        out.push(r);
    }
    if let Some(t) = cfg.api_unreachable_minutes.get() {
        let failing_ms = src.api.failing_since_ms().map_or(0, |since| (now_ms - since).max(0));
        let minutes = failing_ms / 60_000;
        let detail = match src.api.last_ok_ms() {
            Some(ok) => {
                format!("The Bot API has not answered for {minutes} min (last answer {} s ago).", (now_ms - ok) / 1000)
            }
            None => format!("The Bot API has not answered for {minutes} min (no answer since the start)."),
        };
        let mut r = at_least("api_unreachable", minutes, t, detail);
        if !telegram {
            r.status = Status::Unknown;
        }
        out.push(r);
    }
    let mut windows: HashMap<u64, Vec<(String, i64)>> = HashMap::new();
    for rule in cfg.ratios() {
        if let std::collections::hash_map::Entry::Vacant(slot) = windows.entry(rule.window_minutes) {
            let since = now_ms - i64::try_from(rule.window_minutes).unwrap_or(1440) * 60_000;
            slot.insert(src.storage.event_counts(since, now_ms).await?);
        }
        let counts = windows.get(&rule.window_minutes).map_or(&[][..], Vec::as_slice);
        out.push(ratio(rule, counts));
    }
    Ok(out)
}

/// A reading that breaches when `value` reaches `threshold`.
fn at_least(alert: &str, value: i64, threshold: u64, detail: String) -> Reading {
    let breached = u64::try_from(value).is_ok_and(|v| v >= threshold);
    Reading {
        alert: alert.into(),
        value: Some(value as f64),
        threshold: Some(threshold as f64),
        status: if breached { Status::Breached } else { Status::Clear },
        detail,
    }
}

/// Seconds since `oldest_ms` (0 when there is nothing).
fn age_s(oldest_ms: Option<i64>, now_ms: i64) -> i64 {
    oldest_ms.map_or(0, |t| (now_ms - t).max(0) / 1000)
}

/// A ratio rule over event counts per kind in its window.
pub(super) fn ratio(rule: &RatioRule, counts: &[(String, i64)]) -> Reading {
    let sum = |glob: &crate::config::KindGlob| counts.iter().filter(|(k, _)| glob.matches(k)).map(|(_, n)| *n).sum();
    let (failed, total): (i64, i64) = (sum(&rule.failed), sum(&rule.total));
    let percent = if total > 0 { failed as f64 * 100.0 / total as f64 } else { 0.0 };
    let enough = u64::try_from(total).is_ok_and(|t| t >= rule.min_events);
    Reading {
        alert: format!("ratio.{}", rule.name.as_str()),
        value: Some((percent * 10.0).round() / 10.0),
        threshold: Some(rule.above_percent),
        status: if enough && percent > rule.above_percent { Status::Breached } else { Status::Clear },
        detail: format!(
            "{failed} of {total} {} events were {} in the last {} min ({percent:.1} %).",
            rule.total.as_str(),
            rule.failed.as_str(),
            rule.window_minutes
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> RatioRule {
        let text = "name = \"buy\"\nfailed = \"purchase.failed\"\ntotal = \"purchase.*\"\nabove_percent = 10\n";
        toml::from_str(text).unwrap()
    }

    fn counts(failed: i64, ok: i64) -> Vec<(String, i64)> {
        vec![("purchase.failed".into(), failed), ("purchase.succeeded".into(), ok), ("wallet.deposit".into(), 500)]
    }

    #[test]
    fn a_ratio_needs_enough_events_and_more_than_the_percentage() {
        let r = ratio(&rule(), &counts(2, 6));
        assert_eq!((r.status, r.value), (Status::Clear, Some(25.0)), "8 events are fewer than min_events");
        let r = ratio(&rule(), &counts(1, 9));
        assert_eq!((r.status, r.value), (Status::Clear, Some(10.0)), "10 % is not above 10 %");
        let r = ratio(&rule(), &counts(3, 17));
        assert_eq!((r.status, r.value), (Status::Breached, Some(15.0)));
        assert_eq!(r.alert, "ratio.buy");
        assert_eq!(r.detail, "3 of 20 purchase.* events were purchase.failed in the last 5 min (15.0 %).");
        assert_eq!(ratio(&rule(), &[]).status, Status::Clear);
    }

    #[test]
    fn thresholds_are_reached_at_equality() {
        assert_eq!(at_least("x", 10, 10, String::new()).status, Status::Breached);
        assert_eq!(at_least("x", 9, 10, String::new()).status, Status::Clear);
        assert_eq!(age_s(Some(1_000), 62_999), 61);
        assert_eq!(age_s(None, 62_999), 0);
    }
}
