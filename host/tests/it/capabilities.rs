//! Capabilities' own rules at load time: `describe()` runs with a linker that has no
//! effectful imports, so a plugin touching KV or Telegram there does not load (before,
//! the calls were refused one by one and the plugin loaded).

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_cannot_reach_effectful_capabilities() {
    for effect in ["kv", "send"] {
        let table = plugin("intruder", "intruder", r#"grants = ["kv", "telegram.send"]"#)
            + &format!("[plugins.intruder.settings]\ndescribe_effect = \"{effect}\"\n");
        let Err(e) = try_start_on(&Db::Sqlite, &table, "").await else {
            panic!("a plugin calling {effect} in describe() must not load");
        };
        let msg = format!("{e:#}");
        assert!(msg.contains("plugin intruder: describe() failed") && msg.contains("trapped"), "{effect}: {msg}");
    }
    // Without the effect it loads and runs.
    let h = start(&plugin("intruder", "intruder", r#"grants = ["kv", "telegram.send"]"#)).await;
    h.say(5, "/intrude own").await;
    h.idle().await;
    assert_eq!(h.sent(5).await.last().map(String::as_str), Some("queued"));
}
