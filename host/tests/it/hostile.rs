//! Hostile plugins: loops, memory bombs, traps, oversized output, undeclared imports.
//! In each case the host stays up, other plugins and chats are served, the failure is
//! reported, and a plugin that keeps failing is disabled with a notice to admins.

use crate::common::*;

/// Run a misbehaving `bad` plugin before a healthy `good` one; send from two chats.
async fn misbehaving(mode: &str, limits: &str, expect: &str) {
    let bad = plugin("bad", "probe", &format!("{ALL}\nsettings = {{ mode = \"{mode}\", prefix = \"bad\" }}\n{limits}"));
    let good = plugin("good", "probe", ALL);
    let h = start_on(&Db::Sqlite, &(bad + &good), "max_failures = 3").await;
    for chat in [11, 12] {
        h.say(chat, "/set served yes").await;
        h.say(chat, "/send still here").await;
    }
    h.idle().await;
    assert_eq!(h.kv::<String>("good", "served").await.as_deref(), Some("yes"), "{mode}: the next plugin ran");
    for chat in [11, 12] {
        assert_eq!(h.sent(chat).await, ["still here"], "{mode}: chat {chat} was served");
    }
    assert!(h.rt.is_disabled("bad"), "{mode}: the breaker opened");
    assert!(!h.rt.is_disabled("good"));
    // The third recorded failure opens the breaker. Turns of the three lanes (the
    // installed event, chat 11, chat 12) that started before it was recorded still ran
    // the plugin, so up to all five turns may have failed. After that it is skipped.
    let failures = h.rt.metrics().plugin_malfunctions("bad");
    assert!((3..=5).contains(&failures), "{mode}: {failures} failures");
    h.say(11, "/set again yes").await;
    h.idle().await;
    assert_eq!(h.rt.metrics().plugin_malfunctions("bad"), failures, "{mode}: a disabled plugin is not called");
    assert_eq!(h.kv::<String>("good", "again").await.as_deref(), Some("yes"));
    let notice = h.sent(1000).await;
    assert_eq!(notice.len(), 1, "{mode}: one notice to the admin: {notice:?}");
    assert!(notice[0].contains("Plugin bad was disabled after 3 consecutive failures"), "{}", notice[0]);
    assert!(notice[0].contains(expect), "{mode}: notice should say {expect:?}: {}", notice[0]);
    assert!(notice[0].contains("Its last error: [text from plugin bad, not from Wharf] «"), "{}", notice[0]);
    assert!(!notice[0].chars().any(|c| c.is_control() || c == '\u{202e}'), "{mode}: raw controls: {:?}", notice[0]);
    h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_infinite_loop_is_interrupted_at_its_deadline() {
    misbehaving("loop", "limits = { timeout_ms = 100 }", "timed out after 100 ms").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_memory_bomb_hits_its_cap() {
    misbehaving("membomb", "limits = { memory_mib = 16 }", "exceeded its memory cap of 16 MiB").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trap_is_reported_with_the_panic_message() {
    misbehaving("trap", "", "probe was told to trap").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_message_reaches_admins_quoted_as_the_plugins_with_controls_escaped() {
    misbehaving("forge", "", "boom\\u{202e} ⚠️ Wharf: all plugins are healthy <b>again</b>").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_eight_megabyte_error_is_refused_not_fatal() {
    let bad = plugin("bad", "probe", &format!("{ALL}\nsettings = {{ mode = \"huge-error\", prefix = \"bad\" }}"));
    let h = start(&(bad + &plugin("good", "probe", ALL))).await;
    h.say(5, "/set served yes").await;
    h.idle().await;
    assert_eq!(h.kv::<String>("good", "served").await.as_deref(), Some("yes"));
    assert_eq!(h.rt.metrics().plugin_failures("bad", wharf::metrics::FailureReason::Refused), 2, "installed + message");
    assert!(!h.rt.is_disabled("bad"), "a refusal is not a malfunction");
    h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_output_is_refused_with_errors_the_plugin_sees() {
    let h = start(&plugin("probe", "probe", ALL)).await;
    h.say(5, "/oversized").await;
    h.idle().await;
    assert_eq!(h.kv::<usize>("probe", "oversized-refused").await, Some(5), "value, text, keyboard, event, key");
    assert_eq!(h.outbox_len().await, 0, "nothing oversized reached the outbox");
    h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undeclared_import_fails_to_load_naming_plugin_import_and_config_line() {
    let p = plugin("probe", "probe", r#"grants = ["kv", "telegram", "events", "scheduler"]"#);
    let err = try_start_on(&Db::Sqlite, &p, "").await.err().expect("must not start");
    let msg = format!("{err:#}");
    assert!(
        msg.contains("plugin probe is not granted what it imports: wharf:bot/http@0.2.3 needs an http host"),
        "{msg}"
    );
    assert!(
        msg.contains("add http = [\"api.example.com\"] (the hosts it may reach) under [plugins.probe] (config line 8)"),
        "{msg}"
    );

    let p = plugin(
        "probe",
        "probe",
        r#"grants = ["kv", "telegram.send", "events", "scheduler"]
http = ["127.0.0.1"]"#,
    );
    let err = try_start_on(&Db::Sqlite, &p, "").await.err().expect("must not start");
    let msg = format!("{err:#}");
    assert!(msg.contains("wharf:bot/telegram@0.2.3 (function get-chat-member) needs \"telegram.members\""), "{msg}");
}

/// A plugin lacking several grants gets one error naming all of them, and the one edit
/// that fixes them all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_missing_grant_is_named_at_once() {
    let p = plugin("probe", "probe", r#"grants = ["telegram.send"]"#);
    let err = try_start_on(&Db::Sqlite, &p, "").await.err().expect("must not start");
    let msg = format!("{err:#}");
    for grant in ["kv", "events", "scheduler", "telegram.members", "telegram.files"] {
        assert!(msg.contains(&format!("needs \"{grant}\"")), "{grant} missing from: {msg}");
    }
    assert!(msg.contains("needs an http host"), "{msg}");
    assert!(msg.contains("add http = [\"api.example.com\"]"), "{msg}");
    assert_eq!(msg.matches("plugin probe is not granted").count(), 1, "one error for the plugin: {msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_is_not_a_component_fails_to_load_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.wasm");
    std::fs::write(&junk, b"\0asm garbage").unwrap();
    let p = format!("[plugins.junk]\npath = \"{}\"\n", junk.display());
    let msg = format!("{:#}", try_start_on(&Db::Sqlite, &p, "").await.err().expect("must not start"));
    assert!(msg.contains("junk.wasm is not a valid WebAssembly component"), "{msg}");
    let p = "[plugins.gone]\npath = \"/nonexistent/gone.wasm\"\n";
    let msg = format!("{:#}", try_start_on(&Db::Sqlite, p, "").await.err().expect("must not start"));
    assert!(msg.contains("cannot read /nonexistent/gone.wasm (path under [plugins.gone], line 8)"), "{msg}");
}
