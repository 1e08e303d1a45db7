//! The host's own pages: overview (turns, queues, errors, recent events, two charts),
//! plugins (state, failures, grants; reload, disable, enable), the event log (filters
//! kind, plugin, user, level; paged by row id) and the dead letters of both queues
//! (retry, discard).

use std::sync::Arc;

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;
use serde::Serialize;

use super::auth::{Fields, field};
use super::{Dashboard, redirect, show_time, svg};
use crate::config::{KindGlob, LogLevel};
use crate::metrics::TurnOutcome;
use crate::storage::{CountBy, CountKey, DeadQueue, EventFilter, EventLogRow, EventPage, QUARTER_HOUR_MS};

/// Event-log rows per page.
const PAGE: i64 = 50;
/// Dead letters listed per queue.
const DEAD_SHOWN: i64 = 200;

/// An event as a table row.
#[derive(Serialize)]
struct EventRow {
    id: i64,
    at: String,
    plugin: String,
    kind: String,
    level: String,
    user: Option<i64>,
    title: String,
    fields: String,
}

impl From<&EventLogRow> for EventRow {
    fn from(r: &EventLogRow) -> Self {
        Self {
            id: r.id,
            at: show_time(r.at_ms),
            plugin: r.plugin.clone(),
            kind: r.kind.clone(),
            level: format!("{:?}", r.level).to_lowercase(),
            user: r.user_id,
            title: format!("{} {}", r.emoji.clone().unwrap_or_default(), r.title.clone().unwrap_or_default())
                .trim()
                .to_owned(),
            fields: r.fields.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" "),
        }
    }
}

/// The session (or the response that refuses the request).
macro_rules! session {
    ($e:expr) => {
        match $e {
            Ok(s) => s,
            Err(r) => return *r,
        }
    };
}
pub(crate) use session;

pub(crate) async fn overview(State(d): State<Arc<Dashboard>>, headers: HeaderMap) -> Response {
    let s = session!(d.require(&headers));
    let obs = &d.observer;
    let m = obs.metrics();
    let samples = d.samples();
    let rate = match samples.as_slice() {
        [.., a, b] if b.at > a.at => (b.turns - a.turns) as f64 / b.at.duration_since(a.at).as_secs_f64(),
        _ => 0.0,
    };
    let labels: Vec<String> = samples
        .iter()
        .skip(1)
        .map(|x| format!("-{}s", samples[samples.len() - 1].at.duration_since(x.at).as_secs()))
        .collect();
    let per = |f: fn(&super::Sample) -> u64| -> Vec<i64> {
        samples.windows(2).map(|w| i64::try_from(f(&w[1]).saturating_sub(f(&w[0]))).unwrap_or(i64::MAX)).collect()
    };
    let turns_chart = svg::chart(
        "Turns between samples",
        &labels,
        &[("committed".into(), per(|x| x.turns)), ("failed".into(), per(|x| x.failed))],
    );
    let now = d.now_ms();
    // 48 quarter hours, the current one last.
    let since = now / QUARTER_HOUR_MS * QUARTER_HOUR_MS - 47 * QUARTER_HOUR_MS;
    let filter = EventFilter { since_ms: Some(since), ..EventFilter::default() };
    let mut per_quarter = vec![0i64; 48];
    if let Ok(groups) = obs.storage().count_events(&filter, CountBy::QuarterHour).await {
        for (key, n) in groups {
            if let CountKey::QuarterHour(at) = key
                && let Ok(i) = usize::try_from((at - since) / QUARTER_HOUR_MS)
                && i < per_quarter.len()
            {
                per_quarter[i] += n;
            }
        }
    }
    let q_labels: Vec<String> = (0..48).map(|i| show_time(since + i * QUARTER_HOUR_MS)[11..16].to_owned()).collect();
    let events_chart =
        svg::chart("Events per quarter hour (UTC, last 12 h)", &q_labels, &[("events".into(), per_quarter)]);
    let lag = obs.storage().queue_lag().await.ok();
    let age = |o: Option<i64>| o.map_or(0, |t| (now - t).max(0) / 1000);
    let inbox_dead = obs.storage().dead_list(DeadQueue::Inbox, DEAD_SHOWN).await.map(|v| v.len()).unwrap_or(0);
    let outbox_dead = obs.storage().dead_list(DeadQueue::Outbox, DEAD_SHOWN).await.map(|v| v.len()).unwrap_or(0);
    let recent: Vec<EventRow> = obs
        .storage()
        .event_page(&EventPage { business: true, ..EventPage::default() }, 10)
        .await
        .map(|rows| rows.iter().map(EventRow::from).collect())
        .unwrap_or_default();
    let plugins = obs.plugin_details();
    let ctx = context! {
        title => "Overview",
        rate => format!("{rate:.2}"),
        committed => m.turns(TurnOutcome::Committed),
        turns_failed => m.turns(TurnOutcome::Failed) + m.turns(TurnOutcome::HostFault),
        conflicts => m.turns(TurnOutcome::Conflict),
        plugin_failures => plugins.iter().map(|p| p.failures).sum::<u64>(),
        disabled => plugins.iter().filter(|p| p.disabled).map(|p| p.name.clone()).collect::<Vec<_>>(),
        inbox => lag.map(|l| l.inbox.depth),
        inbox_age => lag.map(|l| age(l.inbox.oldest_ms)),
        outbox => lag.map(|l| l.outbox.depth),
        outbox_age => lag.map(|l| age(l.outbox.oldest_ms)),
        dead_total => inbox_dead + outbox_dead, recent, turns_chart, events_chart,
        ..d.base(&s, "overview")
    };
    d.page(StatusCode::OK, "overview.html", ctx)
}

pub(crate) async fn plugins(State(d): State<Arc<Dashboard>>, headers: HeaderMap) -> Response {
    let s = session!(d.require(&headers));
    let ctx = context! { title => "Plugins", plugins => d.observer.plugin_details(), ..d.base(&s, "plugins") };
    d.page(StatusCode::OK, "plugins.html", ctx)
}

pub(crate) async fn reload(State(d): State<Arc<Dashboard>>, headers: HeaderMap, Form(f): Form<Fields>) -> Response {
    let s = session!(d.require_post(&headers, &f));
    let (text, outcome) = match d.observer.console().reload_as(&s.who.describe()).await {
        Ok(r) => {
            let rejected = !r.rejected.is_empty() || matches!(r.config, crate::runtime::ConfigOutcome::Rejected(_));
            let summary = r.summary();
            let text = if summary.is_empty() { "Nothing changed.".to_owned() } else { summary };
            (text, if rejected { "rejected" } else { "ok" })
        }
        Err(e) => (format!("Reload failed: {e:#}"), "failed"),
    };
    d.audit(&s.who, "dashboard.reload", "Dashboard: reload", &[("outcome", outcome.into())]).await;
    d.message(StatusCode::OK, "Reload", &text, Some(d.base(&s, "plugins")))
}

pub(crate) async fn plugin_op(
    State(d): State<Arc<Dashboard>>,
    Path((name, op)): Path<(String, String)>,
    headers: HeaderMap,
    Form(f): Form<Fields>,
) -> Response {
    let s = session!(d.require_post(&headers, &f));
    let by = s.who.describe();
    let done = match op.as_str() {
        "disable" => Ok(d.observer.disable_plugin(&name, &format!("{by} (dashboard)")).await),
        "enable" => d.observer.enable_plugin(&name, &by).await,
        _ => return d.message(StatusCode::NOT_FOUND, "Not found", "No such operation.", Some(d.base(&s, "plugins"))),
    };
    match done {
        Ok(true) => {
            let kind = format!("dashboard.plugin_{op}d");
            d.audit(&s.who, &kind, &format!("Dashboard: plugin {op}d"), &[("plugin", name)]).await;
            redirect(&format!("{}/plugins", d.root))
        }
        Ok(false) => d.message(StatusCode::NOT_FOUND, "Not found", "No such plugin.", Some(d.base(&s, "plugins"))),
        Err(e) => {
            d.message(StatusCode::INTERNAL_SERVER_ERROR, "Failed", &format!("{e:#}"), Some(d.base(&s, "plugins")))
        }
    }
}

pub(crate) async fn events(State(d): State<Arc<Dashboard>>, headers: HeaderMap, Query(q): Query<Fields>) -> Response {
    let s = session!(d.require(&headers));
    let text = |n: &str| field(&q, n).map(str::trim).filter(|v| !v.is_empty());
    let mut errors = Vec::new();
    let kind =
        text("kind").and_then(|k| KindGlob::try_from(k.to_owned()).map_err(|e| errors.push(format!("kind: {e}"))).ok());
    let user_id = text("user").and_then(|u| u.parse().map_err(|_| errors.push("user: a number".into())).ok());
    let level = text("level").and_then(|l| match l {
        "debug" => Some(LogLevel::Debug),
        "info" => Some(LogLevel::Info),
        "warn" => Some(LogLevel::Warn),
        "error" => Some(LogLevel::Error),
        _ => None,
    });
    let before = text("before").and_then(|b| b.parse().ok());
    let page = EventPage { kind, plugin: text("plugin").map(str::to_owned), user_id, level, before, business: false };
    let rows = match d.observer.storage().event_page(&page, PAGE).await {
        Ok(r) => r,
        Err(e) => {
            errors.push(format!("the event log cannot be read: {e}"));
            Vec::new()
        }
    };
    let older = (rows.len() == usize::try_from(PAGE).unwrap_or(0)).then(|| rows.last().map(|r| r.id)).flatten();
    let keep: Vec<(String, String)> = ["kind", "plugin", "user", "level"]
        .iter()
        .filter_map(|n| text(n).map(|v| ((*n).to_owned(), v.to_owned())))
        .collect();
    let ctx = context! {
        title => "Event log",
        rows => rows.iter().map(EventRow::from).collect::<Vec<_>>(),
        kind => text("kind"), plugin => text("plugin"), user => text("user"), level => text("level"),
        errors, older, keep,
        ..d.base(&s, "events")
    };
    d.page(StatusCode::OK, "events.html", ctx)
}

#[derive(Serialize)]
struct DeadRow {
    id: i64,
    chat: i64,
    plugin: String,
    reason: String,
    at: String,
    payload: String,
}

pub(crate) async fn dead(State(d): State<Arc<Dashboard>>, headers: HeaderMap) -> Response {
    let s = session!(d.require(&headers));
    let mut queues = Vec::new();
    for q in [DeadQueue::Inbox, DeadQueue::Outbox] {
        let rows: Vec<DeadRow> = match d.observer.storage().dead_list(q, DEAD_SHOWN).await {
            Ok(rows) => rows
                .into_iter()
                .map(|r| DeadRow {
                    id: r.id,
                    chat: r.chat,
                    plugin: r.plugin.unwrap_or_default(),
                    reason: r.reason,
                    at: show_time(r.at_ms),
                    payload: r.payload.chars().take(300).collect(),
                })
                .collect(),
            Err(e) => {
                return d.message(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Dead letters",
                    &e.to_string(),
                    Some(d.base(&s, "dead")),
                );
            }
        };
        queues.push(context! { name => q.as_str(), rows });
    }
    d.page(StatusCode::OK, "dead.html", context! { title => "Dead letters", queues, ..d.base(&s, "dead") })
}

pub(crate) async fn dead_op(
    State(d): State<Arc<Dashboard>>,
    Path(queue): Path<String>,
    headers: HeaderMap,
    Form(f): Form<Fields>,
) -> Response {
    let s = session!(d.require_post(&headers, &f));
    let q = match queue.as_str() {
        "inbox" => DeadQueue::Inbox,
        "outbox" => DeadQueue::Outbox,
        _ => return d.message(StatusCode::NOT_FOUND, "Not found", "No such queue.", Some(d.base(&s, "dead"))),
    };
    let ids: Vec<i64> = f.iter().filter(|(k, _)| k == "id").filter_map(|(_, v)| v.parse().ok()).collect();
    let storage = d.observer.storage();
    let (op, n) = match field(&f, "op") {
        Some("retry") => match storage.dead_retry(q, &ids, d.now_ms()).await {
            Ok(moved) => {
                match q {
                    DeadQueue::Inbox => d.observer.wake_inbox(),
                    DeadQueue::Outbox => d.observer.wake_outbox(moved.iter().copied()),
                }
                ("retry", moved.len() as u64)
            }
            Err(e) => {
                return d.message(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Failed",
                    &e.to_string(),
                    Some(d.base(&s, "dead")),
                );
            }
        },
        Some("discard") => match storage.dead_discard(q, &ids).await {
            Ok(n) => ("discard", n),
            Err(e) => {
                return d.message(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Failed",
                    &e.to_string(),
                    Some(d.base(&s, "dead")),
                );
            }
        },
        _ => return d.message(StatusCode::BAD_REQUEST, "Dead letters", "Retry or discard?", Some(d.base(&s, "dead"))),
    };
    let shown: Vec<String> = ids.iter().map(ToString::to_string).collect();
    d.audit(
        &s.who,
        &format!("dashboard.dead_{op}"),
        &format!("Dashboard: dead letters {op}"),
        &[("queue", q.as_str().into()), ("ids", shown.join(",")), ("count", n.to_string())],
    )
    .await;
    redirect(&format!("{}/dead", d.root))
}
