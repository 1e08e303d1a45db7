//! The pure part of alerting: readings of the rules and the firing set in, transitions
//! out. An alert fires once when its reading breaches, is sent again every repeat
//! interval while it keeps breaching, and resolves when it no longer does (or is no
//! longer read at all: a plugin re-enabled, a rule turned off).

use std::collections::BTreeMap;

/// What one rule measured for one alert at one check.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// The alert's name: `plugin_disabled.NAME`, `dead_letters`, `inbox_lag`,
    /// `outbox_lag`, `api_unreachable`, `ratio.NAME`.
    pub alert: String,
    /// What was measured (count, seconds, minutes, percent), if anything.
    pub value: Option<f64>,
    /// The rule's threshold, if it has one.
    pub threshold: Option<f64>,
    /// Whether the value breaches the threshold.
    pub status: Status,
    /// One line saying what was measured, for people.
    pub detail: String,
}

/// What a reading says about its alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Over the threshold.
    Breached,
    /// Under it.
    Clear,
    /// Not measurable now (e.g. no Telegram contact yet): nothing changes.
    Unknown,
}

/// An alert that is firing (one row of the `alerts` table).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Firing {
    /// When it fired (host clock, Unix ms).
    pub since_ms: i64,
    /// When it was last sent (fired or repeated).
    pub last_sent_ms: i64,
    /// The value last sent.
    pub value: Option<f64>,
    /// The threshold last sent.
    pub threshold: Option<f64>,
}

/// What happened to an alert at this check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// It breached and was not firing.
    Fired,
    /// It is firing and the repeat interval passed since it was last sent.
    Repeat,
    /// It was firing and no longer breaches.
    Resolved,
}

/// One change to deliver, with what it was before (for the store's compare-and-set).
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// The alert.
    pub alert: String,
    /// What happened.
    pub change: Change,
    /// The value now (a resolved alert no longer read has none).
    pub value: Option<f64>,
    /// The threshold.
    pub threshold: Option<f64>,
    /// What was measured, for people.
    pub detail: String,
    /// The firing row before this change (none for `Fired`).
    pub before: Option<Firing>,
}

/// The transitions of one check at `now_ms`, in alert-name order.
pub fn evaluate(
    firing: &BTreeMap<String, Firing>,
    readings: &[Reading],
    now_ms: i64,
    repeat_ms: i64,
) -> Vec<Transition> {
    let mut by_name: BTreeMap<&str, &Reading> = BTreeMap::new();
    for r in readings {
        by_name.insert(r.alert.as_str(), r);
    }
    let mut out = Vec::new();
    for (name, r) in &by_name {
        let before = firing.get(*name).copied();
        let change = match (r.status, before) {
            (Status::Breached, None) => Some(Change::Fired),
            (Status::Breached, Some(f)) if now_ms - f.last_sent_ms >= repeat_ms => Some(Change::Repeat),
            (Status::Clear, Some(_)) => Some(Change::Resolved),
            _ => None,
        };
        if let Some(change) = change {
            out.push(Transition {
                alert: (*name).to_owned(),
                change,
                value: r.value,
                threshold: r.threshold,
                detail: r.detail.clone(),
                before,
            });
        }
    }
    for (name, f) in firing.iter().filter(|(n, _)| !by_name.contains_key(n.as_str())) {
        out.push(Transition {
            alert: name.clone(),
            change: Change::Resolved,
            value: None,
            threshold: f.threshold,
            detail: "no longer measured".into(),
            before: Some(*f),
        });
    }
    out.sort_by(|a, b| a.alert.cmp(&b.alert));
    out
}

/// The firing set after `transitions` applied at `now_ms`.
pub fn apply(firing: &mut BTreeMap<String, Firing>, transitions: &[Transition], now_ms: i64) {
    for t in transitions {
        match t.change {
            Change::Fired => {
                firing.insert(
                    t.alert.clone(),
                    Firing { since_ms: now_ms, last_sent_ms: now_ms, value: t.value, threshold: t.threshold },
                );
            }
            Change::Repeat => {
                if let Some(f) = firing.get_mut(&t.alert) {
                    f.last_sent_ms = now_ms;
                    f.value = t.value;
                }
            }
            Change::Resolved => {
                firing.remove(&t.alert);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn reading(alert: &str, value: f64, threshold: f64) -> Reading {
        Reading {
            alert: alert.into(),
            value: Some(value),
            threshold: Some(threshold),
            status: if value >= threshold { Status::Breached } else { Status::Clear },
            detail: format!("{value}"),
        }
    }

    /// Run checks at the given minutes with the given inbox lag; the changes seen.
    fn run(lags: &[(i64, f64)]) -> Vec<(i64, Change)> {
        let mut firing = BTreeMap::new();
        let mut seen = Vec::new();
        for (minute, lag) in lags {
            let now = minute * MIN;
            let t = evaluate(&firing, &[reading("inbox_lag", *lag, 60.0)], now, 60 * MIN);
            apply(&mut firing, &t, now);
            seen.extend(t.iter().map(|t| (*minute, t.change)));
        }
        seen
    }

    #[test]
    fn fires_once_repeats_at_the_interval_and_resolves() {
        let lags: Vec<(i64, f64)> = (0..=130).map(|m| (m, if m < 125 { 90.0 } else { 5.0 })).collect();
        assert_eq!(
            run(&lags),
            [(0, Change::Fired), (60, Change::Repeat), (120, Change::Repeat), (125, Change::Resolved)]
        );
    }

    #[test]
    fn below_the_threshold_nothing_happens_and_it_can_fire_again() {
        assert_eq!(
            run(&[(0, 10.0), (1, 59.0), (2, 60.0), (3, 0.0), (4, 61.0)]),
            [(2, Change::Fired), (3, Change::Resolved), (4, Change::Fired)]
        );
    }

    #[test]
    fn an_alert_no_longer_read_resolves_and_others_are_independent() {
        let mut firing = BTreeMap::new();
        let disabled = Reading {
            alert: "plugin_disabled.shop".into(),
            value: None,
            threshold: None,
            status: Status::Breached,
            detail: String::new(),
        };
        let t = evaluate(&firing, &[disabled.clone(), reading("dead_letters", 3.0, 10.0)], 0, MIN);
        assert_eq!(t.len(), 1);
        assert_eq!((t[0].alert.as_str(), t[0].change, t[0].before), ("plugin_disabled.shop", Change::Fired, None));
        apply(&mut firing, &t, 0);
        // The plugin is enabled again: no reading for it any more.
        let t = evaluate(&firing, &[reading("dead_letters", 12.0, 10.0)], 30_000, MIN);
        let changes: Vec<_> = t.iter().map(|t| (t.alert.as_str(), t.change)).collect();
        assert_eq!(changes, [("dead_letters", Change::Fired), ("plugin_disabled.shop", Change::Resolved)]);
        assert_eq!(t[1].before.map(|f| f.since_ms), Some(0));
        apply(&mut firing, &t, 30_000);
        assert_eq!(firing.keys().collect::<Vec<_>>(), ["dead_letters"]);
    }

    #[test]
    fn an_unknown_reading_changes_nothing() {
        let mut firing = BTreeMap::new();
        let t = evaluate(&firing, &[reading("outbox_lag", 200.0, 120.0)], 0, MIN);
        apply(&mut firing, &t, 0);
        let unknown = Reading { status: Status::Unknown, ..reading("outbox_lag", 0.0, 120.0) };
        assert_eq!(evaluate(&firing, std::slice::from_ref(&unknown), 5 * MIN, MIN), []);
        assert_eq!(evaluate(&BTreeMap::new(), &[unknown], 5 * MIN, MIN), []);
    }

    #[test]
    fn a_repeat_carries_the_new_value_and_keeps_since() {
        let mut firing = BTreeMap::new();
        let t = evaluate(&firing, &[reading("outbox_lag", 200.0, 120.0)], 0, MIN);
        apply(&mut firing, &t, 0);
        let t = evaluate(&firing, &[reading("outbox_lag", 900.0, 120.0)], MIN, MIN);
        assert_eq!((t[0].change, t[0].value), (Change::Repeat, Some(900.0)));
        apply(&mut firing, &t, MIN);
        let f = firing["outbox_lag"];
        assert_eq!((f.since_ms, f.last_sent_ms, f.value), (0, MIN, Some(900.0)));
    }
}
