//! Custom events (delivered after commit, exactly once, to subscribers), timers and
//! repeating jobs on the injectable clock, and lifecycle events.

use std::time::Duration;

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emitted_events_reach_each_subscriber_once() {
    for db in databases() {
        let plugins = plugin("probe", "probe", ALL)
            + &plugin("listener", "probe", &format!("{ALL}\nsettings = {{ prefix = \"l\" }}"))
            + &plugin("deaf", "probe", &format!("{ALL}\nsettings = {{ prefix = \"d\", topic = \"other.topic\" }}"));
        let h = start_on(&db, &plugins, "").await;
        h.say(5, "/emit probe.ping").await;
        h.idle().await;
        // The message goes through all three plugins, so each emits once: 3 events,
        // each delivered to the two subscribers of probe.ping.
        for (plugin, source) in [("probe", "probe"), ("probe", "listener"), ("listener", "deaf"), ("listener", "probe")]
        {
            assert_eq!(
                h.kv::<i64>(plugin, &format!("got:probe.ping:{source}")).await,
                Some(1),
                "{plugin} from {source}"
            );
        }
        let deaf = h.rt.storage().kv_keys("deaf", "got:", None, 10).await.unwrap();
        assert!(deaf.is_empty(), "a non-subscriber got {deaf:?}");
        h.rt.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_shot_timers_fire_once_when_the_clock_reaches_them() {
    for db in databases() {
        let h = start_on(&db, &plugin("probe", "probe", ALL), "").await;
        h.say(5, "/after reminder 60000").await;
        h.idle().await;
        h.rt.clock().advance(Duration::from_secs(59));
        h.idle().await;
        assert_eq!(h.kv::<i64>("probe", "fired:reminder").await, None, "not yet due");
        h.rt.clock().advance(Duration::from_secs(1));
        h.idle().await;
        assert_eq!(h.kv::<i64>("probe", "fired:reminder").await, Some(1));
        assert_eq!(h.sent(5).await, ["timer reminder fired"], "the timer ran in the chat that set it");
        h.rt.clock().advance(Duration::from_secs(3600));
        h.idle().await;
        assert_eq!(h.kv::<i64>("probe", "fired:reminder").await, Some(1), "one-shot");
        h.rt.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeating_jobs_catch_up_once_and_stop_when_cancelled() {
    let h = start(&plugin("probe", "probe", ALL)).await;
    h.say(5, "/every job 10000").await;
    h.idle().await;
    h.rt.clock().advance(Duration::from_secs(10));
    h.idle().await;
    assert_eq!(h.kv::<i64>("probe", "fired:job").await, Some(1));
    h.rt.clock().advance(Duration::from_secs(25));
    h.idle().await;
    assert_eq!(h.kv::<i64>("probe", "fired:job").await, Some(2), "missed runs are not replayed one by one");
    h.say(5, "/cancel job").await;
    h.say(5, "/cancel never-set").await;
    h.idle().await;
    assert_eq!(h.kv::<bool>("probe", "cancelled:job").await, Some(true));
    assert_eq!(h.kv::<bool>("probe", "cancelled:never-set").await, Some(false));
    h.rt.clock().advance(Duration::from_secs(600));
    h.idle().await;
    assert_eq!(h.kv::<i64>("probe", "fired:job").await, Some(2), "cancelled");
    h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn installed_is_delivered_once_per_database() {
    let dir = tempfile::tempdir().unwrap();
    let text = config_text(dir.path(), &Db::Sqlite, &plugin("probe", "probe", ALL), "");
    let config = wharf::config::Config::parse(&text, dir.path()).unwrap();
    for _restart in 0..2 {
        let rt = wharf::Runtime::start(
            &config,
            wharf::RuntimeOptions { clock: wharf::clock::Clock::manual(T0), ..Default::default() },
        )
        .await
        .unwrap();
        rt.wait_idle(IDLE).await.unwrap();
        let (v, _) = rt.storage().kv_get("probe", "lifecycle").await.unwrap();
        let seen: Vec<String> = serde_json::from_slice(&v.unwrap()).unwrap();
        assert_eq!(seen, ["installed 1.0.0"]);
        rt.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn business_events_are_logged_with_secrets_masked_and_members_unavailable_offline() {
    let h = start(&plugin("probe", "probe", ALL)).await;
    h.say(5, "/log").await;
    h.say(5, "/member").await;
    h.idle().await;
    let log = h.rt.storage().event_log().await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!((log[0].plugin.as_str(), log[0].kind.as_str(), log[0].user_id), ("probe", "probe.logged", Some(5)));
    let fields: Vec<_> = log[0].fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(fields, [("visible", "yes"), ("card", "•••")], "in the order recorded, the secret masked");
    let member: String = h.kv("probe", "lookup:5").await.unwrap();
    assert!(member.contains("Unavailable"), "{member}");
    h.rt.shutdown().await;
}
