//! Output hygiene: what a plugin queues for Telegram is checked when it is queued
//! (markup, blank text, URLs), so the plugin sees `invalid-input` instead of the message
//! being dead-lettered later; and the host never queues a message to chat 0.

use crate::common::*;
use crate::market::{WAIT, market_from};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_markup_is_refused_when_queued_and_nothing_is_dead_lettered() {
    let m = market_from(&Db::Sqlite, &plugin("probe", "probe", ALL)).await;
    let cases = [
        ("html <b>unclosed", "HTML: <b> is never closed"),
        ("html <div>x</div>", "HTML: <div> is not a tag Telegram supports"),
        ("html fish & chips", "write a lone '&' as &amp;"),
        ("md price: 1.5", "MarkdownV2: '.' at character 9 is reserved"),
        ("md *bold", "MarkdownV2: an entity opened with * is never closed"),
        ("html &#32;", "text shows nothing"),
        ("html <b> </b>", "text shows nothing"),
        ("url javascript:alert(1)", "button URL \\\"javascript:alert(1)\\\" must start with"),
        ("url https://exa mple.com", "is not well-formed"),
    ];
    for (args, why) in cases {
        m.h.say(5, &format!("/markup {args}")).await;
        m.h.idle().await;
        let got: String = m.h.kv("probe", "markup").await.unwrap();
        assert!(got.starts_with("Err(Error::InvalidInput(") && got.contains(why), "{args}: {got}");
    }
    m.h.say(5, "/markup html <b>fine</b> &amp; <a href=\"https://example.com\">dandy</a>").await;
    m.h.idle().await;
    let got: String = m.h.kv("probe", "markup").await.unwrap();
    assert!(got.starts_with("Ok("), "the send was accepted (it returns a handle): {got}");
    assert!(
        m.emu.wait_sent(WAIT, |e| e.texts(5).iter().any(|t| t.contains("dandy"))).await,
        "the good one is delivered"
    );
    assert_eq!(m.emu.texts(5).len(), 1, "only the good one: {:?}", m.emu.texts(5));
    let dead = m.h.rt.storage().dead_letters().await.unwrap();
    assert!(dead.is_empty(), "nothing dead-lettered: {dead:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_apology_is_queued_to_chat_0() {
    let bad = plugin("bad", "probe", &format!("{ALL}\nsettings = {{ mode = \"trap\" }}"));
    let h = start(&bad).await;
    // A command the failing plugin owns, in an event without a real chat.
    h.rt.enqueue(0, &wharf::event::text(0, "/rmw 1")).await.unwrap();
    h.say(6, "/rmw 1").await;
    h.idle().await;
    assert_eq!(h.rt.metrics().plugin_malfunctions("bad"), 3, "installed, chat 0, chat 6");
    let rows = h.rt.storage().outbox(None).await.unwrap();
    assert!(rows.iter().all(|r| r.chat_id != 0 && !r.payload.contains("\"chat_id\":0")), "{rows:?}");
    assert_eq!(h.sent(6).await.len(), 1, "chat 6 got its apology");
    h.rt.shutdown().await;
}
