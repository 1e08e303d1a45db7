//! Compatibility: a plugin built against `wharf:bot@0.1.0` (the pinned WIT in
//! `wit/compat/0.1.0`, fixture `legacy-v01`) keeps loading and running on a 0.2 host,
//! through adapters that obey the same rules as 0.2; one built against 0.2.0
//! (`wit/compat/0.2.0`, fixture `legacy-v020`) runs on the 0.2.2 host as it is.

use crate::common::*;
use crate::market::*;

fn legacy(grants: &str) -> String {
    plugin("legacy", "legacy_v01", &format!("grants = {grants}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v020_plugin_loads_on_the_v021_host_and_its_business_events_are_recorded() {
    let h = start(&plugin("old", "legacy_v020", r#"grants = ["telegram.send"]"#)).await;
    h.say(42, "/old").await;
    h.idle().await;
    assert_eq!(h.sent(42).await, ["old ok"]);
    let log = h.rt.storage().event_log().await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!((log[0].plugin.as_str(), log[0].kind.as_str(), log[0].user_id), ("old", "old.done", Some(42)));
    let fields: Vec<_> = log[0].fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(fields, [("visible", "yes"), ("card", "•••")]);
    assert_eq!((log[0].title.as_deref(), log[0].level), (None, wharf::config::LogLevel::Info));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v01_plugin_loads_handles_messages_and_uses_kv() {
    let h = start(&legacy(r#"["kv", "telegram.send"]"#)).await;
    h.say(42, "/legacy count").await;
    h.say(42, "/legacy count").await;
    h.idle().await;
    assert_eq!(h.sent(42).await, ["legacy count 1", "legacy count 2"]);
    assert_eq!(h.kv::<i64>("legacy", "count").await, Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v01_plugin_needs_the_same_grants() {
    let Err(e) = try_start_on(&Db::Sqlite, &legacy(r#"["telegram.send"]"#), "").await else {
        panic!("a 0.1 plugin importing kv without the grant must not load");
    };
    let msg = format!("{e:#}");
    assert!(msg.contains("wharf:bot/kv@0.1.0 (function") && msg.contains("needs \"kv\""), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v01_plugin_edits_its_own_message_by_id() {
    let m = market_from(&Db::Sqlite, &legacy(r#"["kv", "telegram.send"]"#)).await;
    m.say(7, "/legacy button", "legacy button").await;
    let edited = m.tap(7, "Edit me", "edited by legacy").await;
    assert_eq!(edited.edits, 1, "{edited:?}");
}
