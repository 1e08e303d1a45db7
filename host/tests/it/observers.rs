//! Observers (world `observer-plugin`, fixture `watch`): they see every update after the
//! chain, in a turn and a lane of their own, and cannot change what happened to it.

use crate::common::*;

/// The chain plugin `probe` first, then the observer `watch` (`extra` under its table).
pub fn chain_and_watch(extra: &str) -> String {
    format!("{}{}", plugin("probe", "probe", ALL), plugin("watch", "watch", &format!("{ALL}\n{extra}")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_observer_loads_and_so_does_a_component_built_against_0_2_1() {
    let config =
        format!("{}{}", chain_and_watch(""), plugin("old", "legacy_v021", r#"grants = ["kv", "telegram.send"]"#));
    let h = start(&config).await;
    assert!(h.rt.is_observer("watch"));
    assert!(!h.rt.is_observer("probe") && !h.rt.is_observer("old"));
    h.say(42, "/old021").await;
    h.say(42, "/old021").await;
    h.idle().await;
    assert_eq!(h.sent(42).await, ["0.2.1 ok 1", "0.2.1 ok 2"]);
    let log = h.rt.storage().event_log().await.unwrap();
    assert_eq!(
        log.iter().map(|e| (e.plugin.as_str(), e.kind.as_str())).collect::<Vec<_>>(),
        [("old", "old021.done"); 2]
    );
    h.rt.shutdown().await;
}
