//! Observers (world `observer-plugin`, fixture `watch`) behind the chain plugin `probe`:
//! they see every update after the chain (also one a plugin stopped or the host
//! answered), in a turn and a lane of their own; they cannot send; their failures
//! (error, trap, time budget, budgets) lose only their own effects and feed the breaker;
//! an observation is committed with the update's turn and runs exactly once across a
//! restart; a blocked observer delays no chat's answers. A component built against
//! 0.2.1 still loads.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use wharf::clock::Clock;
use wharf::config::Config;
use wharf::event::{Event, MemberStatus, MemberUpdate, callback, private_chat, text, user};
use wharf::metrics::FailureReason;
use wharf::{Runtime, RuntimeOptions};

use crate::common::*;

/// How long a test waits for something that must happen soon (a liveness bound, not a
/// measurement).
const SOON: Duration = Duration::from_secs(60);

/// The chain plugin `probe` first, then the observer `watch` (`extra` in its table).
fn chain_and_watch(extra: &str) -> String {
    plugin("probe", "probe", ALL) + &plugin("watch", "watch", &format!("{ALL}\n{extra}"))
}

/// What `watch` observed, as `LABEL@CHAT` (turn ids stripped), and the turn ids.
async fn seen(h: &Harness) -> (Vec<String>, Vec<i64>) {
    split(h.kv::<Vec<String>>("watch", "seen").await.unwrap_or_default())
}

fn split(seen: Vec<String>) -> (Vec<String>, Vec<i64>) {
    seen.iter()
        .map(|s| {
            let (label, turn) = s.rsplit_once('#').expect("LABEL@CHAT#TURN");
            (label.to_owned(), turn.parse::<i64>().expect("a turn id"))
        })
        .unzip()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_observer_loads_and_so_does_a_component_built_against_0_2_1() {
    let config = chain_and_watch("") + &plugin("old", "legacy_v021", r#"grants = ["kv", "telegram.send"]"#);
    let h = start(&config).await;
    assert!(h.rt.is_observer("watch"));
    assert!(!h.rt.is_observer("probe") && !h.rt.is_observer("old"));
    h.say(42, "/old021").await;
    h.say(42, "/old021").await;
    h.idle().await;
    assert_eq!(h.sent(42).await, ["0.2.1 ok 1", "0.2.1 ok 2"]);
    let log = h.rt.storage().event_log().await.unwrap();
    let kinds: Vec<_> = log.iter().map(|e| (e.plugin.as_str(), e.kind.as_str())).collect();
    assert_eq!(kinds, [("old", "old021.done"); 2]);
    assert_eq!(seen(&h).await.0, ["msg:/old021@42", "msg:/old021@42"], "the old plugin stopped them; watch saw both");
    h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_observer_sees_every_update_after_the_chain_even_a_stopped_one() {
    let h = start(&chain_and_watch("")).await;
    let member = Event::Member(MemberUpdate { chat: private_chat(42), user: user(42), status: MemberStatus::Blocked });
    // One at a time, so the order of the turns is the order of the list.
    for event in
        [text(42, "/stop"), text(42, "/mark 1"), text(42, "hello"), callback(42, "probe:x"), member, text(42, "/help")]
    {
        h.rt.enqueue(42, &event).await.unwrap();
        h.idle().await;
    }
    let (labels, turns) = seen(&h).await;
    assert_eq!(
        labels,
        ["msg:/stop@42", "msg:/mark 1@42", "msg:hello@42", "press:probe:x@42", "member:blocked@42", "msg:/help@42"],
        "probe stopped /stop, answered /mark and the button, the host answered /help: watch saw all of them, \
         button presses with their whole callback data"
    );
    assert!(turns.windows(2).all(|w| w[0] < w[1]), "each with the turn id of the update it observed: {turns:?}");
    assert_eq!(h.sent(42).await.first().map(String::as_str), Some("marked 1"), "the chain ran as always");
    assert_eq!(h.kv::<i64>("probe", "pressed:x").await, Some(1));
    assert_eq!(
        h.kv::<Vec<String>>("watch", "handled").await.unwrap(),
        ["lifecycle"],
        "updates that are not its own reach an observer through observe only"
    );
    // Its own command reaches its handle in the chain, and it observes that message too.
    h.say(42, "/watched").await;
    h.idle().await;
    assert!(h.sent(42).await.contains(&"observed 6".to_owned()));
    assert_eq!(h.kv::<Vec<String>>("watch", "handled").await.unwrap(), ["lifecycle", "msg:/watched"]);
    assert_eq!(seen(&h).await.0.last().map(String::as_str), Some("msg:/watched@42"));
    h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_observer_may_not_send_and_its_other_writes_commit() {
    let h = start(&chain_and_watch("")).await;
    h.say(42, "/mark 1 obs-send").await;
    h.idle().await;
    let denied: String = h.kv("watch", "send-error").await.unwrap();
    assert!(denied.starts_with("access denied: observe() may not send"), "{denied}");
    assert_eq!(h.sent(42).await, ["marked 1"], "only the chain's answer");
    assert_eq!(seen(&h).await.0, ["msg:/mark 1 obs-send@42"], "observe returned ok: its writes committed");
    h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_observer_loses_its_own_effects_and_never_the_chains() {
    let h = start_on(&Db::Sqlite, &chain_and_watch("limits = { timeout_ms = 1000 }"), "max_failures = 10").await;
    for (n, word) in ["obs-fail", "obs-trap", "obs-loop"].iter().enumerate() {
        h.say(42, &format!("/mark {n} {word}")).await;
        h.idle().await;
        assert_eq!(h.kv::<i64>("probe", &format!("seen:{n}")).await, Some(1), "{word}: the chain's write committed");
        assert_eq!(h.kv::<String>("watch", "dirty").await, None, "{word}: the observer's write was discarded");
    }
    assert_eq!(h.sent(42).await, ["marked 0", "marked 1", "marked 2"], "every answer went out");
    assert_eq!(seen(&h).await.0, Vec::<String>::new(), "no observation of them committed");
    let failures = |r| h.rt.metrics().plugin_failures("watch", r);
    assert_eq!(
        [failures(FailureReason::Refused), failures(FailureReason::Trap), failures(FailureReason::Timeout)],
        [1, 1, 1]
    );
    h.say(42, "after").await;
    h.idle().await;
    assert_eq!(seen(&h).await.0, ["msg:after@42"], "the observer goes on with the next update");
    assert!(!h.rt.is_disabled("watch"));
    h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_observer_that_keeps_trapping_is_disabled_and_the_chain_goes_on() {
    let h = start_on(&Db::Sqlite, &chain_and_watch(""), "max_failures = 3").await;
    // Its `installed` lifecycle event (a success, which resets the count) is handled first.
    h.idle().await;
    for n in 0..3 {
        h.say(42, &format!("/mark {n} obs-trap")).await;
        h.idle().await;
    }
    assert!(h.rt.is_disabled("watch"));
    let notices = h.sent(1000).await;
    assert!(
        notices.len() == 1 && notices[0].contains("Plugin watch was disabled after 3 consecutive failures"),
        "{notices:?}"
    );
    h.say(42, "/mark 3").await;
    h.idle().await;
    assert_eq!(h.sent(42).await, ["marked 0", "marked 1", "marked 2", "marked 3"]);
    assert_eq!(h.rt.storage().inbox_len().await.unwrap(), 0, "nothing is queued for a disabled observer");
    assert_eq!(h.kv::<Vec<String>>("watch", "seen").await, None);
    assert!(!h.rt.is_disabled("probe"));
    h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storming_observer_is_stopped_by_its_budgets_and_the_chain_goes_on() {
    let watch = "limits = { events_burst = 5, events_per_sec = 0.01 }";
    let probe = plugin("probe", "probe", &format!("{ALL}\nsettings = {{ topic = \"watch.storm\" }}"));
    let config = probe + &plugin("watch", "watch", &format!("{ALL}\n{watch}"));
    let h = start_on(&Db::Sqlite, &config, "max_failures = 3").await;
    for n in 0..3 {
        h.say(42, &format!("/mark {n} obs-storm")).await;
        h.idle().await;
    }
    assert_eq!(h.sent(42).await, ["marked 0", "marked 1", "marked 2"]);
    // Its turns are metered from the first event (no allowance as for a user's update).
    assert_eq!(h.kv::<u32>("watch", "stormed").await, Some(0), "the bucket ran dry in the first storm");
    assert_eq!(h.kv::<i64>("probe", "got:watch.storm:watch").await, Some(5), "the burst was delivered, once");
    assert!(h.rt.is_disabled("watch"), "three turns over budget within a minute");
    assert!(h.rt.metrics().budget_hits("watch", "events") >= 3);
    assert!(h.sent(1000).await.iter().any(|n| n.contains("Plugin watch was disabled after hitting its budgets")));
    h.say(43, "/mark 9").await;
    h.idle().await;
    assert_eq!(h.sent(43).await, ["marked 9"]);
    h.rt.shutdown().await;
}

/// A local HTTP server whose answers wait until it is opened, counting the requests.
struct Gate {
    port: u16,
    hits: Arc<AtomicUsize>,
    open: tokio::sync::watch::Sender<bool>,
}

impl Gate {
    async fn start() -> Self {
        let hits = Arc::new(AtomicUsize::new(0));
        let (open, rx) = tokio::sync::watch::channel(false);
        let counter = hits.clone();
        let app = axum::Router::new().route(
            "/hold",
            axum::routing::get(move || {
                let (counter, mut rx) = (counter.clone(), rx.clone());
                async move {
                    counter.fetch_add(1, Ordering::SeqCst);
                    let _ = rx.wait_for(|open| *open).await;
                    "ok"
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { port, hits, open }
    }

    /// `watch`'s table: the gate as its `url`, time enough to wait at it.
    fn watch_extra(&self) -> String {
        format!(
            "http = [\"127.0.0.1:{}\"]\nlimits = {{ timeout_ms = 60000 }}\nsettings = {{ url = \"http://127.0.0.1:{}/hold\" }}",
            self.port, self.port
        )
    }

    async fn until_hits(&self, n: usize) {
        let deadline = Instant::now() + SOON;
        while self.hits.load(Ordering::SeqCst) < n {
            assert!(Instant::now() < deadline, "the observer never reached the gate");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

fn watch_at(gate: &Gate) -> String {
    plugin("probe", "probe", ALL)
        + &plugin(
            "watch",
            "watch",
            &format!("grants = [\"kv\", \"telegram\", \"events\", \"scheduler\"]\n{}", gate.watch_extra()),
        )
}

async fn until_sent(h: &Harness, chat: i64, want: &str) {
    let deadline = Instant::now() + SOON;
    while !h.sent(chat).await.iter().any(|t| t == want) {
        assert!(Instant::now() < deadline, "chat {chat} never got {want:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_observer_blocked_in_observe_delays_no_chats_answers() {
    let gate = Gate::start().await;
    let h = start(&watch_at(&gate)).await;
    h.say(1, "/mark 1 obs-block").await;
    gate.until_hits(1).await;
    // The observer is inside observe, waiting at the gate. Other chats, and the same
    // chat, are answered meanwhile.
    for chat in [2, 3, 1] {
        h.say(chat, &format!("/mark {chat}{chat}")).await;
    }
    for chat in [2, 3, 1] {
        until_sent(&h, chat, &format!("marked {chat}{chat}")).await;
    }
    assert_eq!(gate.hits.load(Ordering::SeqCst), 1, "the observer is still at the gate");
    assert_eq!(h.kv::<Vec<String>>("watch", "seen").await, None, "and has observed nothing yet");
    gate.open.send_replace(true);
    h.idle().await;
    let (labels, _) = seen(&h).await;
    assert_eq!(labels.len(), 4, "{labels:?}");
    assert_eq!(labels[0], "msg:/mark 1 obs-block@1", "observations run in the order the updates were handled");
    let mut rest = labels[1..].to_vec();
    rest.sort();
    assert_eq!(rest, ["msg:/mark 11@1", "msg:/mark 22@2", "msg:/mark 33@3"]);
    h.rt.shutdown().await;
}

/// A runtime over `dir` that can be stopped and started again on the same database.
async fn runtime(dir: &tempfile::TempDir, text: &str) -> Runtime {
    let config = Config::parse(text, dir.path()).unwrap();
    Runtime::start(&config, RuntimeOptions { clock: Clock::manual(T0), ..RuntimeOptions::default() }).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_observation_is_committed_with_its_update_and_runs_once_across_a_restart() {
    let gate = Gate::start().await;
    let dir = tempfile::tempdir().unwrap();
    let text = config_text(dir.path(), &Db::Sqlite, &watch_at(&gate), "");
    let rt = runtime(&dir, &text).await;
    for n in 0..5 {
        let block = if n == 0 { " obs-block" } else { "" };
        rt.enqueue(7, &wharf::event::text(7, &format!("/mark {n}{block}"))).await.unwrap();
    }
    gate.until_hits(1).await;
    // Every update's turn commits (answer, probe's write, the observations queued) while
    // the first observation waits at the gate.
    // (The plugins' `installed` events are handled meanwhile too.)
    let deadline = Instant::now() + SOON;
    while rt.storage().outbox(Some(7)).await.unwrap().len() < 5 || rt.storage().inbox_len().await.unwrap() != 5 {
        assert!(Instant::now() < deadline, "the chain did not answer all five, or five observations are not queued");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(gate.hits.load(Ordering::SeqCst), 1, "the first observation is still at the gate");
    // Stop in the middle of the first observation and start again: the new runtime
    // runs it again (nothing of it had committed) while the old call still waits at
    // the gate; when both get their answer, only one commits. The four behind it run
    // once each.
    drop(rt);
    let rt = runtime(&dir, &text).await;
    gate.until_hits(2).await;
    gate.open.send_replace(true);
    rt.wait_idle(IDLE).await.unwrap();
    let (bytes, _) = rt.storage().kv_get("watch", "seen").await.unwrap();
    let (labels, turns) = split(serde_json::from_slice(&bytes.unwrap()).unwrap());
    assert_eq!(labels, ["msg:/mark 0 obs-block@7", "msg:/mark 1@7", "msg:/mark 2@7", "msg:/mark 3@7", "msg:/mark 4@7"]);
    assert!(turns.windows(2).all(|w| w[0] < w[1]), "{turns:?}");
    for n in 0..5 {
        let (v, _) = rt.storage().kv_get("probe", &format!("seen:{n}")).await.unwrap();
        assert_eq!(v.as_deref(), Some(&b"1"[..]), "update {n} applied once");
    }
    rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_observation_is_written_in_inbox_format_version_2() {
    use wharf::inbox::{Entry, Observation};
    let of = Observation { lane: 42, turn_id: 17, now_ms: T0 };
    let entry = Entry::observation(text(42, "/echo legacy"), 3, of);
    let encoded = entry.encode().unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/inbox_observation.json");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, format!("{encoded}\n")).unwrap();
    }
    let golden = std::fs::read_to_string(&path).unwrap();
    assert_eq!(golden.trim_end(), encoded, "the format changed; add a version instead");
    assert!(encoded.starts_with(r#"{"v":2,"#), "{encoded}");
    assert_eq!(Entry::decode(&encoded).unwrap(), entry);
    let plain = Entry::new(text(42, "hi")).encode().unwrap();
    assert!(plain.starts_with(r#"{"v":1,"#), "other entries stay version 1: {plain}");
}
