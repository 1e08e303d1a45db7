//! The outbox sender under load and the Telegram front end's containment: a group's
//! backlog does not hold up other chats, a slow Bot API gets concurrent sends, member
//! changes outside private chats mark nobody as blocked, and the webhook server closes
//! connections that hold a slot without sending.

use std::time::Duration;

use tokio::io::AsyncReadExt;
use wharf::telegram::limits::RateLimits;

use crate::telegram::{WAIT, bot, bot_configured, echo_and_probe};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_backlog_does_not_hold_up_a_private_chat() {
    // Telegram's real limits: the group gets 20 messages a minute and cannot drain.
    let b = bot(&echo_and_probe()).await;
    for i in 0..600 {
        b.emu.send_text_in(10 + i % 5, -100, &format!("/echo g{i}"));
    }
    // The private reply is queued behind (after) more than 500 of the group's rows.
    wait_for("the group's replies to be queued", async || b.h.outbox_len().await >= 550).await;
    b.emu.send_text(5, "/echo private");
    let answered = b.emu.wait_sent(Duration::from_secs(60), |e| e.texts(5) == ["private"]).await;
    assert!(answered, "the private chat waited behind the group; group got {}", b.emu.texts(-100).len());
    assert!(b.emu.texts(-100).len() < 600, "the group is still paced at 20/min");
    assert_eq!(b.emu.too_many(), 0, "no 429");
    b.h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_bot_api_gets_sends_to_many_chats_at_once() {
    let b = bot_configured(&echo_and_probe(), RateLimits::default().scaled(1000.0), false, |_| {}).await;
    b.emu.set_send_delay(Some(Duration::from_millis(50)));
    for chat in 1..=100 {
        b.emu.send_text(chat, "/echo hi");
    }
    assert!(b.emu.wait_sent(Duration::from_secs(120), |e| (1..=100).all(|c| e.texts(c) == ["hi"])).await);
    let overlap = b.emu.max_concurrent("sendMessage");
    assert!(overlap > 1, "sends never overlapped (at most {overlap} at once)");
    b.h.rt.shutdown().await;
}

/// A `my_chat_member` update: the bot's status in `chat` changed to `status` by `user`.
fn member_update(chat: serde_json::Value, user: i64, status: &str) -> serde_json::Value {
    let bot = serde_json::json!({"id": 7_000_000_001_i64, "is_bot": true, "first_name": "Wharf", "username": "wharf_test_bot"});
    let mut new = serde_json::json!({"user": bot, "status": status});
    if status == "kicked" {
        new["until_date"] = serde_json::json!(0);
    }
    serde_json::json!({"my_chat_member": {
        "chat": chat, "from": {"id": user, "is_bot": false, "first_name": "U"}, "date": 1_700_000_000,
        "old_chat_member": {"user": bot, "status": "member"}, "new_chat_member": new}})
}

/// Poll `cond` until it holds; fail naming `what` after [`WAIT`].
pub(crate) async fn wait_for(what: &str, mut cond: impl AsyncFnMut() -> bool) {
    let deadline = std::time::Instant::now() + WAIT;
    while !cond().await {
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaving_a_group_or_channel_marks_nobody_blocked() {
    let b = bot(&echo_and_probe()).await;
    b.emu.push_raw(member_update(serde_json::json!({"id": -100, "type": "group", "title": "G"}), 5, "left"));
    b.emu.push_raw(member_update(serde_json::json!({"id": -1001, "type": "channel", "title": "C"}), 5, "kicked"));
    b.emu.send_text(5, "/echo still here");
    assert!(b.emu.wait_sent(WAIT, |e| e.texts(5) == ["still here"]).await, "the admin's reply was dropped");
    assert!(!b.h.rt.storage().is_blocked(5).await.unwrap());
    assert!(b.h.rt.storage().dead_letters().await.unwrap().is_empty());
    b.h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_kick_marks_a_block_and_a_later_message_clears_it() {
    let b = bot(&echo_and_probe()).await;
    let storage = b.h.rt.storage().clone();
    b.emu.push_raw(member_update(serde_json::json!({"id": 6, "type": "private", "first_name": "U"}), 6, "kicked"));
    wait_for("the block mark", async || storage.is_blocked(6).await.unwrap()).await;
    b.emu.send_text(6, "/echo back again");
    assert!(b.emu.wait_sent(WAIT, |e| e.texts(6) == ["back again"]).await, "the reply to a returning user was dropped");
    assert!(!storage.is_blocked(6).await.unwrap());
    b.h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_over_the_webhook_cap_are_closed_and_deliveries_go_on() {
    let b = bot_configured(&echo_and_probe(), RateLimits::default(), true, |cfg| {
        let w = cfg.webhook.as_mut().unwrap();
        (w.max_connections, w.header_timeout_ms, w.body_timeout_ms, w.idle_timeout_ms) = (4, 300, 300, 300);
    })
    .await;
    let (url, _) = b.emu.webhook().unwrap();
    let addr = reqwest::Url::parse(&url).unwrap().socket_addrs(|| None).unwrap()[0];
    let mut idle = Vec::new();
    for _ in 0..10 {
        idle.push(tokio::net::TcpStream::connect(addr).await.unwrap());
    }
    b.emu.send_text(5, "/echo through");
    assert!(b.emu.wait_sent(WAIT, |e| e.texts(5) == ["through"]).await, "a real delivery did not get through");
    for (i, s) in idle.iter_mut().enumerate() {
        let mut buf = [0u8; 1];
        let read = tokio::time::timeout(WAIT, s.read(&mut buf)).await;
        assert!(matches!(read, Ok(Ok(0) | Err(_))), "idle connection {i} was not closed by the server: {read:?}");
    }
    assert!(
        b.h.rt.metrics().webhook_refusals(wharf::metrics::WebhookRefusal::Connections) >= 1,
        "connections over the cap were served"
    );
    b.h.rt.shutdown().await;
}
