//! The turn engine: concurrency, ordering, atomicity, routing.

use std::time::Duration;

use crate::common::*;

async fn rmw_many(db: &Db) {
    let h = start_on(db, &plugin("probe", "probe", ALL), "").await;
    const CHATS: i64 = 50;
    const PER_CHAT: i64 = 20;
    let mut events = Vec::new();
    for seq in 1..=PER_CHAT {
        for chat in 1..=CHATS {
            events.push((chat, None, wharf::event::text(chat, &format!("/rmw {seq}"))));
        }
    }
    h.rt.enqueue_many(&events).await.unwrap();
    h.idle().await;
    assert_eq!(h.kv::<i64>("probe", "shared").await, Some(CHATS * PER_CHAT), "final value is exact");
    for chat in 1..=CHATS {
        assert_eq!(h.kv::<i64>("probe", &format!("last:{chat}")).await, Some(PER_CHAT), "chat {chat} saw every turn");
    }
    let bad = h.rt.storage().kv_keys("probe", "bad:", None, 10).await.unwrap();
    assert!(bad.is_empty(), "turns ran out of order within a chat: {bad:?}");
    let m = h.rt.metrics();
    assert_eq!(
        m.turns(wharf::metrics::TurnOutcome::Committed),
        (CHATS * PER_CHAT) as u64 + 1,
        "plus the installed event"
    );
    assert!(
        m.turns(wharf::metrics::TurnOutcome::Conflict) > 0,
        "a hot key under concurrency must have produced conflicts"
    );
    h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_concurrent_turns_on_a_hot_key_are_exact_and_ordered_per_chat() {
    for db in databases() {
        rmw_many(&db).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trapping_second_plugin_loses_only_its_own_effects() {
    let plugins = plugin("first", "probe", ALL)
        + &plugin("second", "probe", &format!("{ALL}\nsettings = {{ mode = \"trap-after-write\", prefix = \"p2\" }}"));
    let h = start(&plugins).await;
    h.say(7, "/set greeting hello").await;
    h.idle().await;
    assert_eq!(h.kv::<String>("first", "greeting").await.as_deref(), Some("hello"));
    assert_eq!(h.kv::<bool>("second", "written-before-trap").await, None, "nothing of the trapped plugin");
    assert_eq!(h.rt.metrics().plugin_malfunctions("second"), 2, "installed event + message both trapped");
    h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_ends_the_chain_and_a_refusal_discards_effects() {
    let plugins =
        plugin("first", "probe", ALL) + &plugin("second", "probe", &format!("{ALL}\nsettings = {{ prefix = \"p2\" }}"));
    let h = start(&plugins).await;
    h.say(7, "/stop").await;
    h.say(7, "/set k v").await;
    h.say(7, "/refuse").await;
    h.idle().await;
    assert_eq!(h.kv::<String>("first", "k").await.as_deref(), Some("v"));
    assert_eq!(h.kv::<String>("second", "k").await.as_deref(), Some("v"), "continue passes the event on");
    assert_eq!(h.kv::<bool>("first", "refused-write").await, None, "a refused event leaves no writes");
    assert_eq!(h.rt.metrics().plugin_failures("first", wharf::metrics::FailureReason::Refused), 1);
    h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn context_marks_admins_and_messages_are_validated_bot_api_json() {
    let h = start(&plugin("probe", "probe", ALL)).await;
    h.say(1000, "/whoami").await;
    h.say(5, "/whoami").await;
    h.say(5, "/send hi <there>").await;
    h.idle().await;
    assert_eq!(h.sent(1000).await, ["admin=true lang=None"]);
    assert_eq!(h.sent(5).await, ["This command is for admins.", "hi <there>"], "the host refuses for the plugin");
    let rows = h.rt.storage().outbox(Some(5)).await.unwrap();
    let v: serde_json::Value = serde_json::from_str(&rows[1].payload).unwrap();
    assert_eq!(v["method"], "sendMessage");
    assert_eq!(v["params"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"], "probe:pressed");
    h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callbacks_reach_only_the_owner_of_the_prefix_without_it() {
    let plugins =
        plugin("probe", "probe", ALL) + &plugin("other", "probe", &format!("{ALL}\nsettings = {{ prefix = \"oth\" }}"));
    let h = start(&plugins).await;
    h.rt.enqueue(5, &wharf::event::callback(5, "oth:pressed")).await.unwrap();
    h.rt.enqueue(5, &wharf::event::callback(5, "nobody:x")).await.unwrap();
    h.idle().await;
    assert_eq!(h.kv::<i64>("other", "pressed:pressed").await, Some(1));
    assert_eq!(h.kv::<i64>("probe", "pressed:pressed").await, None);
    let rows = h.rt.storage().outbox(Some(5)).await.unwrap();
    assert_eq!(rows.len(), 2, "the owner answered its callback; the host answered the unowned one");
    assert!(rows.iter().all(|r| r.payload.contains("answerCallbackQuery")));
    assert_eq!((rows[0].plugin.as_str(), rows[1].plugin.as_str()), ("other", "wharf"));
    h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kv_listing_merges_buffered_writes_and_pages() {
    let h = start(&plugin("probe", "probe", ALL)).await;
    for k in ["a:1", "a:2", "a:3", "a:4", "b:1"] {
        h.say(5, &format!("/set {k} x")).await;
    }
    h.say(5, "/del a:2").await;
    h.say(5, "/list a:").await;
    h.idle().await;
    assert_eq!(h.sent(5).await, [r#"page=["a:1", "a:3", "a:4"] more=false all=["a:1", "a:3", "a:4"]"#]);
    h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugins_see_host_time_through_wasi_and_the_scheduler() {
    let h = start(&plugin("probe", "probe", ALL)).await;
    h.rt.clock().advance(Duration::from_secs(5));
    h.say(5, "/now").await;
    h.say(5, "/clock").await;
    h.idle().await;
    assert_eq!(h.kv::<i64>("probe", "now").await, Some(T0 + 5_000));
    assert_eq!(h.kv::<i64>("probe", "wasi-now").await, Some(T0 + 5_000));
    h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_inbox_entry_is_skipped_and_counted_and_the_chat_goes_on() {
    let h = start(&plugin("probe", "probe", ALL)).await;
    let bad = wharf::storage::NewInbox { lane: 5, target: None, payload: "{\"not\": an event".into(), dedupe: None };
    h.rt.storage().push_inbox(&[bad], T0).await.unwrap();
    h.say(5, "/set after bad").await;
    h.idle().await;
    assert_eq!(h.rt.metrics().turns(wharf::metrics::TurnOutcome::Failed), 1);
    assert_eq!(h.kv::<String>("probe", "after").await.as_deref(), Some("bad"), "the next entry of the chat ran");
    assert_eq!(h.rt.storage().inbox_len().await.unwrap(), 0);
    h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_whose_command_failed_is_told_once_and_others_are_not_bothered() {
    let bad = plugin("bad", "probe", &format!("{ALL}\nsettings = {{ mode = \"trap\" }}"));
    let h = start(&bad).await;
    h.say(7, "/rmw").await; // declared by the plugin: the user addressed it
    h.say(8, "/set k v").await; // not declared: the plugin was only offered the message
    h.idle().await;
    assert_eq!(h.rt.metrics().plugin_malfunctions("bad"), 3, "installed + both messages trapped");
    let told = h.sent(7).await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(told[0].starts_with("⚠️ Sorry, that did not work and nothing was changed"), "{told:?}");
    assert_eq!(h.sent(8).await, Vec::<String>::new());
    let row = &h.rt.storage().outbox(Some(7)).await.unwrap()[0];
    let payload: serde_json::Value = serde_json::from_str(&row.payload).unwrap();
    assert_eq!(payload["params"]["reply_parameters"]["message_id"], 1, "the apology answers the failed message");
    h.rt.shutdown().await;
}
