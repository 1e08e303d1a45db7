//! What a transition says: its event-log row (`alert.fired`, `alert.resolved`), the
//! plain-text message to admins when no log channel takes it, and the webhook's JSON.

use serde::{Deserialize, Serialize};

use super::eval::{Change, Transition};
use crate::config::{LogLevel, LogSinkConfig};
use crate::storage::{AlertRecord, AlertWrite, NewLogEvent, NewOutbox};

/// The webhook's body: one alert changing state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookAlert {
    /// `[alerts] bot_name`.
    pub bot: String,
    /// The alert's name, e.g. `inbox_lag`, `ratio.purchases`, `plugin_disabled.shop`.
    pub alert: String,
    /// `fired` or `resolved`.
    pub state: AlertState,
    /// True when this repeats a firing alert.
    pub repeat: bool,
    /// What was measured (count, seconds, minutes, percent), if anything.
    pub value: Option<f64>,
    /// The rule's threshold, if it has one.
    pub threshold: Option<f64>,
    /// One line for people.
    pub detail: String,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// When it fired (RFC 3339, UTC).
    pub since: String,
}

/// The state a webhook reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    /// Firing (first time or a repeat).
    Fired,
    /// Cleared.
    Resolved,
}

/// A human title for an alert name.
pub fn title(alert: &str) -> String {
    if let Some(plugin) = alert.strip_prefix("plugin_disabled.") {
        return format!("Plugin {plugin} disabled");
    }
    if let Some(rule) = alert.strip_prefix("ratio.") {
        return format!("High failure rate: {rule}");
    }
    match alert {
        "dead_letters" => "Dead letters".into(),
        "inbox_lag" => "Inbox lag".into(),
        "outbox_lag" => "Outbox lag".into(),
        "api_unreachable" => "Bot API unreachable".into(),
        other => other.into(),
    }
}

/// A value as people read it: whole numbers without decimals.
pub fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 { format!("{}", v as i64) } else { format!("{v:.1}") }
}

/// Where and how a check's transitions are announced.
pub struct Announcer<'a> {
    /// `[log_sink]`: whether the channel takes alert events, and the time zone.
    pub log_sink: &'a LogSinkConfig,
    /// Told directly when the channel does not take an alert.
    pub admins: &'a [i64],
    /// `[alerts] bot_name`.
    pub bot: &'a str,
}

impl Announcer<'_> {
    /// The record of `t` at `now_ms`: the table change, the event, admin messages.
    pub fn record(&self, t: &Transition, now_ms: i64) -> AlertRecord {
        let name = title(&t.alert);
        let since_ms = t.before.map_or(now_ms, |f| f.since_ms);
        let (kind, level, emoji, heading) = match t.change {
            Change::Fired => ("alert.fired", LogLevel::Error, "🚨", format!("Alert: {name}")),
            Change::Repeat => ("alert.fired", LogLevel::Error, "🚨", format!("Still firing: {name}")),
            Change::Resolved => ("alert.resolved", LogLevel::Info, "✅", format!("Resolved: {name}")),
        };
        let since = self.log_sink.timezone.format_ms(since_ms);
        let mut event = NewLogEvent::host(kind, &heading, emoji).level(level).field("Alert", t.alert.as_str());
        let mut lines = vec![format!("{emoji} {heading}"), t.detail.clone()];
        if let Some(v) = t.value {
            event = event.field("Value", number(v));
        }
        if let Some(th) = t.threshold {
            event = event.field("Threshold", number(th));
            lines.push(format!("Threshold: {}", number(th)));
        }
        event = event.field("Detail", t.detail.as_str());
        match t.change {
            Change::Fired => {}
            Change::Repeat => {
                event = event.field("Firing since", since.as_str());
                lines.push(format!("Firing since {since} ({})", self.log_sink.timezone.name()));
            }
            Change::Resolved => {
                let lasted = duration((now_ms - since_ms).max(0));
                event = event.field("Fired at", since.as_str()).field("Lasted", lasted.as_str());
                lines.push(format!("Fired at {since} ({}), lasted {lasted}", self.log_sink.timezone.name()));
            }
        }
        let write = match (t.change, t.before) {
            (Change::Repeat, Some(f)) => {
                AlertWrite::Repeat { alert: t.alert.clone(), prev_sent_ms: f.last_sent_ms, value: t.value }
            }
            (Change::Resolved, Some(f)) => AlertWrite::Resolve { alert: t.alert.clone(), since_ms: f.since_ms },
            _ => AlertWrite::Fire { alert: t.alert.clone(), value: t.value, threshold: t.threshold },
        };
        let channel = self.log_sink.chat_id.is_some() && self.log_sink.wants(kind, level);
        let outbox = if channel { Vec::new() } else { self.to_admins(&lines.join("\n")) };
        AlertRecord { write, event, outbox }
    }

    /// The webhook body of `t` at `now_ms`.
    pub fn webhook(&self, t: &Transition, now_ms: i64) -> WebhookAlert {
        WebhookAlert {
            bot: self.bot.to_owned(),
            alert: t.alert.clone(),
            state: if t.change == Change::Resolved { AlertState::Resolved } else { AlertState::Fired },
            repeat: t.change == Change::Repeat,
            value: t.value,
            threshold: t.threshold,
            detail: t.detail.clone(),
            at: rfc3339(now_ms),
            since: rfc3339(t.before.map_or(now_ms, |f| f.since_ms)),
        }
    }

    fn to_admins(&self, text: &str) -> Vec<NewOutbox> {
        self.admins.iter().filter(|a| **a != 0).map(|a| NewOutbox::host_text(*a, text)).collect()
    }
}

/// `ms` as `3 h 5 min`, `4 min`, `20 s`.
fn duration(ms: i64) -> String {
    let s = ms / 1000;
    match (s / 3600, s % 3600 / 60) {
        (0, 0) => format!("{s} s"),
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map_or_else(|_| ms.to_string(), |t| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::eval::Firing;
    use super::*;
    use crate::telegram::outbox_call::OutboxCall;

    fn transition(change: Change) -> Transition {
        let before = (change != Change::Fired).then_some(Firing {
            since_ms: 1_796_083_200_000,
            last_sent_ms: 1_796_083_200_000,
            value: Some(90.0),
            threshold: Some(60.0),
        });
        Transition {
            alert: "inbox_lag".into(),
            change,
            value: Some(if change == Change::Resolved { 2.0 } else { 90.0 }),
            threshold: Some(60.0),
            detail: "The oldest inbox entry has waited 90 s.".into(),
            before,
        }
    }

    #[test]
    fn without_a_channel_admins_get_the_text() {
        let sink = LogSinkConfig::default();
        let a = Announcer { log_sink: &sink, admins: &[7, 0], bot: "shop-bot" };
        let now = 1_796_083_200_000 + 3_900_000;
        let r = a.record(&transition(Change::Resolved), now);
        assert_eq!(r.write, AlertWrite::Resolve { alert: "inbox_lag".into(), since_ms: 1_796_083_200_000 });
        assert_eq!((r.event.kind.as_str(), r.event.level), ("alert.resolved", LogLevel::Info));
        assert_eq!(r.outbox.len(), 1, "admin 0 is nobody");
        let OutboxCall::SendMessage(m) = &r.outbox[0].call else { panic!("{:?}", r.outbox[0].call) };
        assert_eq!(
            m.text,
            "✅ Resolved: Inbox lag\nThe oldest inbox entry has waited 90 s.\nThreshold: 60\n\
             Fired at 01/12/2026 00:00:00 (UTC), lasted 1 h 5 min"
        );
        let w = a.webhook(&transition(Change::Repeat), now);
        assert_eq!((w.state, w.repeat, w.bot.as_str()), (AlertState::Fired, true, "shop-bot"));
        assert_eq!((w.at.as_str(), w.since.as_str()), ("2026-12-01T01:05:00Z", "2026-12-01T00:00:00Z"));
    }

    #[test]
    fn with_a_channel_that_takes_alerts_admins_get_nothing_directly() {
        let sink: LogSinkConfig = toml::from_str("chat_id = -100\nkinds = [\"alert.*\"]").unwrap();
        let a = Announcer { log_sink: &sink, admins: &[7], bot: "b" };
        assert!(a.record(&transition(Change::Fired), 0).outbox.is_empty());
        let sink: LogSinkConfig = toml::from_str("chat_id = -100\nkinds = [\"purchase.*\"]").unwrap();
        let a = Announcer { log_sink: &sink, admins: &[7], bot: "b" };
        assert_eq!(a.record(&transition(Change::Fired), 0).outbox.len(), 1, "the channel does not take alerts");
    }
}
