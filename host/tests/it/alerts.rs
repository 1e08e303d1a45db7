//! Alerts on the manual clock: fired once, repeated at the interval, resolved; to the
//! admins (no channel) or the log channel; POSTed to a real local webhook that may fail
//! or hang; a hostile plugin's storm of failures; the firing set across a restart.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use wharf::alerts::{AlertState, WebhookAlert};
use wharf::clock::Clock;
use wharf::config::Config;
use wharf::storage::NewLogEvent;
use wharf::{Runtime, RuntimeOptions};

use crate::common::*;

const WAIT: Duration = Duration::from_secs(60);
const ADMIN: i64 = 1000;

/// Poll `f` until it holds or [`WAIT`] passes.
async fn until<F: AsyncFnMut() -> bool>(what: &str, mut f: F) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !f().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Wait until the alert task has checked at the clock's present time.
async fn checked(rt: &Runtime) {
    let now = rt.clock().now_ms();
    until("an alert check", async || rt.alerts().last_check_ms().is_some_and(|t| t >= now)).await;
}

/// Move the clock and wait for the check at the new time.
async fn advance(rt: &Runtime, by: Duration) {
    rt.clock().advance(by);
    checked(rt).await;
}

/// `(kind, title, fields)` of the host's alert events, oldest first.
async fn alert_events(rt: &Runtime) -> Vec<(String, String, indexmap::IndexMap<String, String>)> {
    let rows = rt.storage().event_log().await.unwrap();
    rows.into_iter()
        .filter(|r| r.kind.starts_with("alert."))
        .map(|r| (r.kind, r.title.unwrap_or_default(), r.fields))
        .collect()
}

/// How the test webhook answers.
#[derive(Clone, Copy)]
enum Answer {
    Ok,
    /// 500 for the first N requests.
    FailFirst(usize),
    /// Never answer requests about this alert (answer the others).
    Hang(&'static str),
}

#[derive(Clone)]
struct Hook {
    answer: Answer,
    requests: Arc<AtomicUsize>,
    hanging: Arc<AtomicUsize>,
    got: Arc<Mutex<Vec<WebhookAlert>>>,
}

impl Hook {
    fn got(&self) -> Vec<WebhookAlert> {
        self.got.lock().unwrap().clone()
    }
}

async fn take(State(h): State<Hook>, axum::Json(alert): axum::Json<WebhookAlert>) -> StatusCode {
    let n = h.requests.fetch_add(1, Ordering::SeqCst);
    match h.answer {
        Answer::FailFirst(k) if n < k => return StatusCode::INTERNAL_SERVER_ERROR,
        Answer::Hang(name) if alert.alert == name => {
            h.hanging.fetch_add(1, Ordering::SeqCst);
            std::future::pending::<()>().await;
        }
        _ => {}
    }
    h.got.lock().unwrap().push(alert);
    StatusCode::NO_CONTENT
}

/// A real HTTP receiver on 127.0.0.1; its URL.
async fn webhook(answer: Answer) -> (Hook, String) {
    let hook = Hook { answer, requests: Arc::default(), hanging: Arc::default(), got: Arc::default() };
    let app = axum::Router::new().route("/hook", axum::routing::post(take)).with_state(hook.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (hook, url)
}

/// `[alerts]` with every rule off but those in `rules`, and the checks every 30 s.
fn alerts(rules: &str) -> String {
    let keys = [
        "plugin_disabled",
        "dead_letters_per_hour",
        "inbox_lag_seconds",
        "outbox_lag_seconds",
        "api_unreachable_minutes",
    ];
    let off: String =
        keys.iter().filter(|k| !rules.contains(&format!("{k} ="))).map(|k| format!("{k} = false\n")).collect();
    format!("[alerts]\ncheck_seconds = 30\n{off}{rules}\n")
}

/// A runtime with `[alerts]` from `alerts_toml` after its first check.
async fn start_alerts(admins: &[i64], alerts_toml: &str, plugins: &str) -> Harness {
    start_alerts_on(&Db::Sqlite, admins, alerts_toml, plugins).await
}

/// The same on `db`.
async fn start_alerts_on(db: &Db, admins: &[i64], alerts_toml: &str, plugins: &str) -> Harness {
    let h = try_start_with(db, admins, &format!("{plugins}\n{alerts_toml}"), "").await.unwrap();
    checked(&h.rt).await;
    h
}

/// Put `n` rows in the outbox dead letters at the clock's time.
async fn dead_letters(rt: &Runtime, n: usize) {
    let now = rt.clock().now_ms();
    for i in 0..n {
        rt.storage().outbox_insert_raw(-42, "probe", &format!("unreadable {i}"), now).await.unwrap();
    }
    for row in rt.storage().outbox(Some(-42)).await.unwrap() {
        rt.storage().outbox_dead(&row, "test", None, now).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_fires_and_resolves_on_the_manual_clock_and_the_webhook_gets_both() {
    let (hook, url) = webhook(Answer::Ok).await;
    let rules =
        format!("api_unreachable_minutes = 5\nrepeat_minutes = 600\nwebhook_url = \"{url}\"\nbot_name = \"shop-bot\"");
    let h = start_alerts(&[ADMIN, 1001], &alerts(&rules), "").await;
    let rt = &h.rt;
    rt.api_health().failed(rt.clock().now_ms());
    advance(rt, Duration::from_secs(4 * 60 + 30)).await;
    assert!(rt.alerts().firing().is_empty(), "4.5 minutes are not 5");
    assert!(alert_events(rt).await.is_empty());
    advance(rt, Duration::from_secs(30)).await;
    assert_eq!(rt.alerts().firing(), ["api_unreachable"]);
    let events = alert_events(rt).await;
    assert_eq!(events.len(), 1);
    let (kind, title, fields) = &events[0];
    assert_eq!((kind.as_str(), title.as_str()), ("alert.fired", "Alert: Bot API unreachable"));
    assert_eq!(
        (fields["Alert"].as_str(), fields["Value"].as_str(), fields["Threshold"].as_str()),
        ("api_unreachable", "5", "5")
    );
    // No log channel: each admin gets the text.
    for admin in [ADMIN, 1001] {
        assert_eq!(
            h.sent(admin).await,
            [
                "🚨 Alert: Bot API unreachable\nThe Bot API has not answered for 5 min (no answer since the start).\nThreshold: 5"
            ]
        );
    }
    until("the fired webhook", async || hook.got().len() == 1).await;
    let fired = &hook.got()[0];
    assert_eq!(
        (fired.alert.as_str(), fired.state, fired.repeat, fired.bot.as_str()),
        ("api_unreachable", AlertState::Fired, false, "shop-bot")
    );
    assert_eq!((fired.value, fired.threshold), (Some(5.0), Some(5.0)));

    rt.api_health().ok(rt.clock().now_ms());
    advance(rt, Duration::from_secs(30)).await;
    assert!(rt.alerts().firing().is_empty());
    let events = alert_events(rt).await;
    assert_eq!(events.len(), 2);
    assert_eq!((events[1].0.as_str(), events[1].1.as_str()), ("alert.resolved", "Resolved: Bot API unreachable"));
    assert_eq!(events[1].2["Lasted"], "30 s");
    let sent = h.sent(ADMIN).await;
    assert_eq!(sent.len(), 2);
    assert!(sent[1].starts_with("✅ Resolved: Bot API unreachable\n"), "{}", sent[1]);
    until("the resolved webhook", async || hook.got().len() == 2).await;
    let resolved = &hook.got()[1];
    assert_eq!((resolved.state, resolved.since.as_str()), (AlertState::Resolved, fired.at.as_str()));
    // Nothing more while it stays clear.
    advance(rt, Duration::from_secs(3600)).await;
    assert_eq!(alert_events(rt).await.len(), 2);
    assert_eq!(hook.requests.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_firing_alert_repeats_only_at_the_interval() {
    let (hook, url) = webhook(Answer::Ok).await;
    let rules = format!("api_unreachable_minutes = 5\nrepeat_minutes = 60\nwebhook_url = \"{url}\"");
    let h = start_alerts(&[ADMIN], &alerts(&rules), "").await;
    let rt = &h.rt;
    rt.api_health().failed(rt.clock().now_ms());
    let mut fired_counts = Vec::new();
    // Five minutes to fire, then checks every 30 s for two hours and a bit.
    advance(rt, Duration::from_secs(300)).await;
    for _ in 0..250 {
        fired_counts.push(alert_events(rt).await.len());
        advance(rt, Duration::from_secs(30)).await;
    }
    // Fired at 5 min, repeated at 65 and 125 min: after 120 and 240 more checks.
    assert_eq!(fired_counts[0], 1);
    assert_eq!(fired_counts[119], 1);
    assert_eq!(fired_counts[120], 2);
    assert_eq!(fired_counts[239], 2);
    assert_eq!(fired_counts[240], 3);
    assert_eq!(fired_counts[249], 3);
    let events = alert_events(rt).await;
    assert_eq!(events[1].1, "Still firing: Bot API unreachable");
    assert_eq!(events[1].2["Value"], "65");
    assert_eq!(h.sent(ADMIN).await.len(), 3);
    until("three webhooks", async || hook.got().len() == 3).await;
    assert_eq!(hook.got().iter().map(|a| a.repeat).collect::<Vec<_>>(), [false, true, true]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_log_channel_the_alert_goes_there_and_not_to_the_admins() {
    let sink = "[log_sink]\nchat_id = -100777\n";
    let h = start_alerts(&[ADMIN], &format!("{sink}{}", alerts("dead_letters_per_hour = 3")), "").await;
    let rt = &h.rt;
    dead_letters(rt, 3).await;
    advance(rt, Duration::from_secs(30)).await;
    assert_eq!(rt.alerts().firing(), ["dead_letters"]);
    until("the digest in the channel's outbox", async || {
        h.sent(-100777).await.iter().any(|t| t.contains("<b>Alert: Dead letters</b>"))
    })
    .await;
    let digest = h.sent(-100777).await.concat();
    assert!(digest.contains("3 dead letters (inbox and outbox) in the last hour."), "{digest}");
    assert!(h.sent(ADMIN).await.is_empty(), "the channel has it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_ratio_fires_from_business_events_and_resolves_when_the_window_passes() {
    for db in databases() {
        ratio_on(&db).await;
    }
}

async fn ratio_on(db: &Db) {
    let (hook, url) = webhook(Answer::Ok).await;
    let rules = format!(
        "webhook_url = \"{url}\"\n[[alerts.ratio]]\nname = \"purchases\"\nfailed = \"purchase.failed\"\n\
         total = \"purchase.*\"\nwindow_minutes = 5\nabove_percent = 10\nmin_events = 10"
    );
    let h = start_alerts_on(db, &[ADMIN], &alerts(&rules), "").await;
    let rt = &h.rt;
    let event = |kind: &str| NewLogEvent { plugin: "shop".into(), ..NewLogEvent::host(kind, "x", "x") };
    let mut batch: Vec<NewLogEvent> = (0..9).map(|_| event("purchase.succeeded")).collect();
    batch.push(event("purchase.failed"));
    batch.push(event("wallet.deposit.failed"));
    rt.storage().record_events(&batch, rt.clock().now_ms()).await.unwrap();
    advance(rt, Duration::from_secs(30)).await;
    assert!(rt.alerts().firing().is_empty(), "1 of 10 is 10 %, not above");
    rt.storage()
        .record_events(&[event("purchase.failed"), event("purchase.failed")], rt.clock().now_ms())
        .await
        .unwrap();
    advance(rt, Duration::from_secs(30)).await;
    assert_eq!(rt.alerts().firing(), ["ratio.purchases"]);
    let events = alert_events(rt).await;
    assert_eq!(events[0].1, "Alert: High failure rate: purchases");
    assert_eq!(events[0].2["Detail"], "3 of 12 purchase.* events were purchase.failed in the last 5 min (25.0 %).");
    until("the webhook", async || hook.got().len() == 1).await;
    assert_eq!((hook.got()[0].value, hook.got()[0].threshold), (Some(25.0), Some(10.0)));
    // The events leave the five-minute window.
    advance(rt, Duration::from_secs(5 * 60)).await;
    assert!(rt.alerts().firing().is_empty());
    assert_eq!(alert_events(rt).await.last().unwrap().0, "alert.resolved");
    until("the resolved webhook", async || hook.got().len() == 2).await;
    assert_eq!(hook.got()[1].state, AlertState::Resolved);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_storming_failures_raises_one_alert_repeated_at_the_interval_while_others_are_served() {
    let rules = "repeat_minutes = 10\n[[alerts.ratio]]\nname = \"purchases\"\nfailed = \"purchase.failed\"\n\
                 total = \"purchase.*\"\nwindow_minutes = 5\nabove_percent = 10\nmin_events = 10";
    let plugins = plugin(
        "storm",
        "storm",
        "grants = [\"kv\", \"telegram.send\", \"events\", \"scheduler\"]\nsettings = { mode = \"failures\" }",
    ) + &plugin("probe", "probe", ALL);
    let h = start_alerts(&[ADMIN], &alerts(rules), &plugins).await;
    let rt = &h.rt;
    h.say(5, "/storm").await;
    h.idle().await;
    for step in 0..25 {
        advance(rt, Duration::from_secs(30)).await;
        h.idle().await;
        if step == 12 {
            h.say(6, "/send still here").await;
        }
    }
    let failures = rt.storage().event_log().await.unwrap().iter().filter(|r| r.kind == "purchase.failed").count();
    // Two rounds at /storm (its first timer is due at once), then one per step.
    assert_eq!(failures, 50 * 27, "the storm went on all along");
    let events = alert_events(rt).await;
    let titles: Vec<&str> = events.iter().map(|e| e.1.as_str()).collect();
    // Fired at the first check after the storm began (30 s), repeated 10 minutes later.
    assert_eq!(titles, ["Alert: High failure rate: purchases", "Still firing: High failure rate: purchases"]);
    assert_eq!(h.sent(ADMIN).await.len(), 2, "two messages to the admin for 1,300 failures");
    assert_eq!(h.sent(6).await, ["still here"], "another chat was served during the storm");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_neither_fires_a_firing_alert_again_nor_forgets_it() {
    for db in databases() {
        restart_on(&db).await;
    }
}

async fn restart_on(db: &Db) {
    let dir = tempfile::tempdir().unwrap();
    let text = config_text_with(dir.path(), db, &[ADMIN], &alerts("dead_letters_per_hour = 2"), "");
    let config = Config::parse(&text, dir.path()).unwrap();
    let clock = Clock::manual(T0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let pg_schema = matches!(db, Db::Postgres(_)).then(|| format!("wharf_alerts_{}_{nanos}", std::process::id()));
    let opts = || RuntimeOptions { clock: clock.clone(), pg_schema: pg_schema.clone(), ..RuntimeOptions::default() };
    let rt = Runtime::start(&config, opts()).await.unwrap();
    checked(&rt).await;
    dead_letters(&rt, 2).await;
    advance(&rt, Duration::from_secs(30)).await;
    assert_eq!(rt.alerts().firing(), ["dead_letters"]);
    rt.shutdown().await;

    clock.advance(Duration::from_secs(60));
    let rt = Runtime::start(&config, opts()).await.unwrap();
    checked(&rt).await;
    assert_eq!(rt.alerts().firing(), ["dead_letters"], "still firing after the restart");
    assert_eq!(alert_events(&rt).await.len(), 1, "and not fired again");
    // The dead letters leave the hour: resolved, once.
    advance(&rt, Duration::from_secs(3600)).await;
    let kinds: Vec<String> = alert_events(&rt).await.into_iter().map(|e| e.0).collect();
    assert_eq!(kinds, ["alert.fired", "alert.resolved"]);
    assert!(rt.alerts().firing().is_empty());
    rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_webhook_delays_neither_the_admins_nor_other_alerts() {
    let (hook, url) = webhook(Answer::Hang("api_unreachable")).await;
    let rules = format!(
        "api_unreachable_minutes = 1\ndead_letters_per_hour = 1\nwebhook_url = \"{url}\"\nwebhook_timeout_seconds = 300"
    );
    let h = start_alerts(&[ADMIN], &alerts(&rules), "").await;
    let rt = &h.rt;
    rt.api_health().failed(rt.clock().now_ms());
    advance(rt, Duration::from_secs(60)).await;
    until("the hanging request", async || hook.hanging.load(Ordering::SeqCst) == 1).await;
    // While that request hangs: another alert fires, is posted, and both reach the admin.
    dead_letters(rt, 1).await;
    advance(rt, Duration::from_secs(30)).await;
    until("the other alert's webhook", async || hook.got().iter().any(|a| a.alert == "dead_letters")).await;
    rt.api_health().ok(rt.clock().now_ms());
    advance(rt, Duration::from_secs(30)).await;
    let sent = h.sent(ADMIN).await;
    let firsts: Vec<&str> = sent.iter().filter_map(|t| t.lines().next()).collect();
    assert_eq!(firsts, ["🚨 Alert: Bot API unreachable", "🚨 Alert: Dead letters", "✅ Resolved: Bot API unreachable"]);
    // The resolution's request hangs too, beside the first; nothing else was held up.
    until("the second hanging request", async || hook.hanging.load(Ordering::SeqCst) == 2).await;
    assert!(hook.got().iter().all(|a| a.alert == "dead_letters"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_webhook_is_retried_with_backoff() {
    let (hook, url) = webhook(Answer::FailFirst(2)).await;
    let rules = format!("dead_letters_per_hour = 1\nwebhook_url = \"{url}\"");
    let h = start_alerts(&[ADMIN], &alerts(&rules), "").await;
    let rt = &h.rt;
    dead_letters(rt, 1).await;
    advance(rt, Duration::from_secs(30)).await;
    assert_eq!(h.sent(ADMIN).await.len(), 1, "the admin has it before the webhook took it");
    until("the third attempt", async || hook.got().len() == 1).await;
    assert_eq!(hook.requests.load(Ordering::SeqCst), 3);
    until("the delivery counted", async || rt.metrics().alert_webhooks("sent") == 1).await;
    assert_eq!(rt.metrics().alert_webhooks("failed"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_the_breaker_disabled_raises_an_alert() {
    let bad = plugin("bad", "probe", &format!("{ALL}\nsettings = {{ mode = \"trap\", prefix = \"bad\" }}"));
    let h = start_alerts(&[ADMIN], &alerts("plugin_disabled = true"), &bad).await;
    let rt = &h.rt;
    for _ in 0..5 {
        h.say(7, "/rmw").await;
    }
    h.idle().await;
    assert!(rt.is_disabled("bad"));
    advance(rt, Duration::from_secs(30)).await;
    assert_eq!(rt.alerts().firing(), ["plugin_disabled.bad"]);
    let events = alert_events(rt).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].1, "Alert: Plugin bad disabled");
    let sent = h.sent(ADMIN).await;
    assert!(
        sent.iter()
            .any(|t| t
                == "🚨 Alert: Plugin bad disabled\nThe circuit breaker disabled plugin bad after repeated failures."),
        "{sent:?}"
    );
}
