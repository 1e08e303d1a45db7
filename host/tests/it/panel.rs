//! Plugins' admin views and actions through the host's [`Console`] (the API every admin
//! surface uses), with the hostile fixture `admin-hostile` (world `admin-plugin`): the
//! spec is listed and checked at load; parameters arrive typed; views are read-only and
//! their failures and oversized output are refused without harm to anyone else; actions
//! run as turns through the inbox, exactly once per request id, atomically, recorded in
//! the event log, also when queued by another process.

use std::time::{Duration, Instant};

use wharf::clock::Clock;
use wharf::config::Config;
use wharf::panel::{Block, Output, PanelError, Surface, Who};
use wharf::{Runtime, RuntimeOptions};

use crate::common::*;

/// A liveness bound, not a measurement.
const SOON: Duration = Duration::from_secs(60);

fn hostile(extra: &str) -> String {
    plugin("hostile", "admin_hostile", &format!("{ALL}\nlimits = {{ timeout_ms = 1500, memory_mib = 32 }}\n{extra}"))
        + &plugin("probe", "probe", ALL)
}

fn raw(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
}

fn cli() -> Who {
    Who { user_id: None, via: Surface::Cli, label: "tester".into() }
}

fn pairs(out: &Output) -> Vec<(String, String)> {
    match out.blocks.first() {
        Some(Block::KeyValues(kv)) => kv.clone(),
        other => panic!("expected key-values, got {other:?}"),
    }
}

fn text_of(out: &Output) -> String {
    match out.blocks.first() {
        Some(Block::Text(t)) => t.clone(),
        other => panic!("expected text, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_and_actions_are_listed_and_parameters_arrive_typed() {
    let h = start(&hostile("")).await;
    let console = h.rt.console();
    let listed = console.plugins();
    assert_eq!(listed.len(), 1, "only the plugin with an admin export: {listed:?}");
    let p = &listed[0];
    assert_eq!((p.plugin.as_str(), p.disabled), ("hostile", false));
    let views: Vec<&str> = p.spec.views.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(views, ["echo", "write", "loop", "hog", "huge", "ragged", "refuse", "pages"]);
    let actions: Vec<&str> = p.spec.actions.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(actions, ["bump", "trap", "fail", "spin", "notify"]);

    let who = Who::telegram(1000, Surface::Web);
    let params = raw(&[("city", "Warsaw"), ("count", "3"), ("price", "12.5"), ("ids", "a,b"), ("ids", "c")]);
    let out = console.view("hostile", "echo", &params, None, &who).await.expect("view");
    let got = pairs(&out);
    let want: Vec<(String, String)> = [
        ("city", "Warsaw"),
        ("count", "3"),
        ("price", "1250"),
        ("ids", "a,b,c"),
        ("n", "0"),
        ("user", "1000"),
        ("admin", "true"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    assert_eq!(got, want);

    let bad = console.view("hostile", "echo", &raw(&[("city", "Paris")]), None, &who).await;
    assert!(matches!(&bad, Err(PanelError::BadParam { param, .. }) if param == "city"), "{bad:?}");
    let unknown = console.view("hostile", "nope", &[], None, &who).await;
    assert!(matches!(unknown, Err(PanelError::NoItem { .. })), "{unknown:?}");
    let no_admin = console.view("probe", "echo", &[], None, &who).await;
    assert!(matches!(no_admin, Err(PanelError::NoPlugin(_))), "{no_admin:?}");
    h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_view_is_read_only_and_nothing_it_tried_is_committed() {
    let h = start(&hostile("")).await;
    let console = h.rt.console();
    let out = console.view("hostile", "write", &[], None, &Who::telegram(1000, Surface::Web)).await.expect("view");
    for (what, answer) in pairs(&out) {
        assert!(answer.starts_with("refused"), "{what} must be refused in a view: {answer}");
    }
    h.idle().await;
    assert_eq!(h.kv::<i64>("hostile", "n").await, None, "no KV write");
    assert_eq!(h.outbox_len().await, 0, "no message");
    let log = h.rt.storage().event_log().await.expect("log");
    assert!(log.iter().all(|e| e.plugin != "hostile"), "no business event: {log:?}");
    h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_output_and_failing_views_are_refused_and_pages_follow_cursors() {
    let h = start(&hostile("")).await;
    let console = h.rt.console();
    let who = cli();
    for (view, check) in [("huge", "1000 rows"), ("ragged", "1 cells for 2 columns")] {
        let r = console.view("hostile", view, &[], None, &who).await;
        assert!(matches!(&r, Err(PanelError::BadOutput { why, .. }) if why.contains(check)), "{view}: {r:?}");
    }
    let r = console.view("hostile", "refuse", &[], None, &who).await;
    assert!(
        matches!(&r, Err(PanelError::Refused { kind, message, .. }) if kind == "invalid-input" && message == "not today"),
        "{r:?}"
    );
    let r = console.view("hostile", "hog", &[], None, &who).await;
    assert!(matches!(&r, Err(PanelError::Failed { message, .. }) if message.contains("memory cap")), "{r:?}");

    let mut texts = Vec::new();
    let mut page: Option<String> = None;
    loop {
        let out = console.view("hostile", "pages", &[], page.as_deref(), &who).await.expect("page");
        texts.push(text_of(&out));
        match out.next_page {
            Some(next) => page = Some(next),
            None => break,
        }
    }
    assert_eq!(texts, ["page 1", "page 2", "page 3"]);
    h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_looping_view_holds_up_no_chat() {
    let h = start(&hostile("")).await;
    let console = h.rt.console();
    let looping = tokio::spawn(async move { console.view("hostile", "loop", &[], None, &cli()).await });
    h.say(42, "/mark x").await;
    let deadline = Instant::now() + SOON;
    while h.sent(42).await.is_empty() {
        assert!(Instant::now() < deadline, "the chat was not answered");
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let answered_while_looping = !looping.is_finished();
    let r = looping.await.expect("task");
    assert!(matches!(&r, Err(PanelError::Failed { message, .. }) if message.contains("timed out")), "{r:?}");
    assert!(answered_while_looping, "the chat was answered only after the view's time budget ran out");
    assert_eq!(h.sent(42).await, ["marked x"]);
    h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_action_runs_once_per_request_and_commits_all_or_nothing() {
    let h = start(&hostile("")).await;
    let console = h.rt.console();
    let who = Who::telegram(1000, Surface::Web);
    let first = console.act("hostile", "bump", &[], &who, "req-1").await.expect("act");
    assert_eq!(text_of(&first), "n = 1");
    let again = console.act("hostile", "bump", &[], &who, "req-1").await.expect("act");
    assert_eq!(again, first, "the same request gets the first reply");
    // Five admins press at once with one request id: it runs once.
    let runs: Vec<_> = (0..5)
        .map(|_| {
            let c = h.rt.console();
            let who = who.clone();
            tokio::spawn(async move { c.act("hostile", "bump", &[], &who, "req-2").await })
        })
        .collect();
    for r in runs {
        assert_eq!(text_of(&r.await.expect("task").expect("act")), "n = 2");
    }
    assert_eq!(h.kv::<i64>("hostile", "n").await, Some(2));

    let trap = console.act("hostile", "trap", &[], &who, "req-3").await;
    assert!(matches!(&trap, Err(PanelError::Failed { message, .. }) if message.contains("trapped")), "{trap:?}");
    let fail = console.act("hostile", "fail", &[], &who, "req-4").await;
    assert!(matches!(&fail, Err(PanelError::Refused { kind, .. }) if kind == "other"), "{fail:?}");
    assert_eq!(h.kv::<i64>("hostile", "n").await, Some(2), "a failed action's write is discarded");
    let missing = console.act("hostile", "notify", &[], &who, "req-5").await;
    assert!(matches!(&missing, Err(PanelError::BadParam { param, .. }) if param == "text"), "{missing:?}");
    let bad_id = console.act("hostile", "bump", &[], &who, "no spaces").await;
    assert!(matches!(bad_id, Err(PanelError::BadParam { .. })), "{bad_id:?}");

    h.idle().await;
    let log = h.rt.storage().event_log().await.expect("log");
    let actions: Vec<(String, String)> = log
        .iter()
        .filter(|e| e.kind == "admin.action")
        .map(|e| {
            let get = |k: &str| e.fields.get(k).cloned().unwrap_or_default();
            (get("action"), get("outcome"))
        })
        .collect();
    assert_eq!(actions.len(), 4, "bump twice, trap, fail (refused requests never ran): {actions:?}");
    assert_eq!(actions[0], ("bump".into(), "ok".into()));
    assert!(actions[2].1.contains("trapped") && actions[3].1.contains("failed on purpose"), "{actions:?}");
    let by: Vec<_> = log.iter().filter(|e| e.kind == "admin.action").map(|e| e.user_id).collect();
    assert!(by.iter().all(|u| *u == Some(1000)), "recorded with the admin's id: {by:?}");
    h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_in_telegram_gets_the_reply_and_the_action_may_message() {
    let h = start(&hostile("")).await;
    let console = h.rt.console();
    let who = Who::telegram(1000, Surface::Telegram);
    console.act("hostile", "notify", &raw(&[("text", "hello admin")]), &who, "t-1").await.expect("act");
    h.idle().await;
    let sent = h.sent(1000).await;
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[0], "hello admin");
    assert!(sent[1].starts_with("✅ hostile · notify") && sent[1].contains("sent"), "{sent:?}");
    h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_spec_keeps_the_plugin_from_loading() {
    let config = hostile("[plugins.hostile.settings]\nbad_spec = true\n");
    let err = try_start_on(&Db::Sqlite, &config, "").await.err().expect("refused");
    let msg = format!("{err:#}");
    assert!(msg.contains("plugin hostile: admin spec: name \"Bad Name\""), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_action_queued_by_another_process_runs_once_when_the_bot_serves() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = config_text(dir.path(), &Db::Sqlite, &hostile(""), "");
    let config = Config::parse(&text, dir.path()).expect("config");
    let opts = || RuntimeOptions { clock: Clock::manual(T0), ..RuntimeOptions::default() };
    // `wharf admin` while no bot serves: the action waits in the inbox.
    let cli_console =
        Runtime::open_console(&config, opts()).await.expect("console").with_wait(Duration::from_millis(300));
    let early = cli_console.view("hostile", "echo", &[], None, &cli()).await.expect("views run without a bot");
    assert!(pairs(&early).contains(&("n".into(), "0".into())));
    let pending = cli_console.act("hostile", "bump", &[], &cli(), "cli-1").await;
    assert!(matches!(pending, Err(PanelError::Pending { .. })), "{pending:?}");

    let rt = Runtime::start(&config, opts()).await.expect("bot starts");
    let cli_console = cli_console.with_wait(SOON);
    let done = cli_console.act("hostile", "bump", &[], &cli(), "cli-1").await.expect("served");
    assert_eq!(text_of(&done), "n = 1");
    let next = cli_console.act("hostile", "bump", &[], &cli(), "cli-2").await.expect("served");
    assert_eq!(text_of(&next), "n = 2");
    rt.wait_idle(IDLE).await.expect("idle");
    let (n, _) = rt.storage().kv_get("hostile", "n").await.expect("kv");
    assert_eq!(n.as_deref(), Some(&b"2"[..]), "each request ran once");
    let log = rt.storage().event_log().await.expect("log");
    let by: Vec<String> =
        log.iter().filter(|e| e.kind == "admin.action").filter_map(|e| e.fields.get("by").cloned()).collect();
    assert_eq!(by, ["tester via cli", "tester via cli"]);
    rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_are_kept_a_week_then_pruned() {
    for db in databases() {
        let h = start_on(&db, &hostile(""), "").await;
        let console = h.rt.console();
        let who = cli();
        console.act("hostile", "bump", &[], &who, "old-1").await.expect("act");
        assert_eq!(h.kv::<i64>("hostile", "n").await, Some(1));
        let reply = |s: &wharf::storage::Storage| {
            let s = s.clone();
            async move { s.kv_get_fresh("_admin", "reply:old-1").await.expect("kv").0 }
        };
        assert!(reply(h.rt.storage()).await.is_some(), "{db:?}: kept");
        h.rt.clock().advance(Duration::from_secs(6 * 24 * 3600));
        console.act("hostile", "bump", &[], &who, "old-1").await.expect("act");
        assert_eq!(h.kv::<i64>("hostile", "n").await, Some(1), "{db:?}: still answered from the reply after 6 days");
        h.rt.clock().advance(Duration::from_secs(2 * 24 * 3600));
        let deadline = Instant::now() + SOON;
        while reply(h.rt.storage()).await.is_some() {
            assert!(Instant::now() < deadline, "{db:?}: the week-old reply was not pruned");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        h.rt.shutdown().await;
    }
}
