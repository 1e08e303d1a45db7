//! The Telegram front end against the bundled Bot API emulator, over real HTTP:
//! conversations, faults (429, 5xx, 403, 400, 409) and rate limits.

use std::time::Duration;

use wharf::config::{TelegramConfig, TelegramMode, WebhookConfig};
use wharf::telegram::Telegram;
use wharf::telegram::emulator::{Emulator, FaultKind};
use wharf::telegram::limits::RateLimits;

use crate::common::*;

pub(crate) const TOKEN: &str = "123456:TEST-TOKEN-secret";
pub(crate) const WAIT: Duration = Duration::from_secs(30);

/// A runtime connected to a fresh emulator through the Telegram front end.
pub(crate) struct Bot {
    pub h: Harness,
    pub emu: Emulator,
    _tg: Telegram,
}

async fn bot_with(plugins: &str, limits: RateLimits) -> Bot {
    bot_in_mode(plugins, limits, false).await
}

async fn bot_in_mode(plugins: &str, limits: RateLimits, webhook: bool) -> Bot {
    bot_configured(plugins, limits, webhook, |_| {}).await
}

/// A bot whose `[telegram]` settings `tweak` adjusts.
pub(crate) async fn bot_configured(
    plugins: &str,
    limits: RateLimits,
    webhook: bool,
    tweak: impl FnOnce(&mut TelegramConfig),
) -> Bot {
    let emu = Emulator::start(([127, 0, 0, 1], 0).into(), TOKEN).await.unwrap();
    emu.enforce_limits(Some(limits));
    let h = start(plugins).await;
    let mut cfg = TelegramConfig::polling(&emu.api_url());
    cfg.limits = limits;
    if webhook {
        // Any free port: bind, note it, release, let the front end bind it.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        cfg.mode = TelegramMode::Webhook;
        cfg.webhook =
            Some(WebhookConfig::new(([127, 0, 0, 1], port).into(), &format!("http://127.0.0.1:{port}/telegram/hook")));
    }
    tweak(&mut cfg);
    let tg = Telegram::start(h.rt.link(), &cfg, TOKEN).await.unwrap();
    Bot { h, emu, _tg: tg }
}

pub(crate) async fn bot(plugins: &str) -> Bot {
    bot_with(plugins, RateLimits::default()).await
}

pub(crate) fn echo_and_probe() -> String {
    plugin("echo", "echo", r#"grants = ["telegram.send"]"#) + &plugin("probe", "probe", ALL)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_round_trips_through_the_emulator() {
    let b = bot(&echo_and_probe()).await;
    b.emu.send_text(5, "/echo");
    assert!(b.emu.wait_sent(WAIT, |e| e.texts(5).len() == 1).await, "no answer: {:?}", b.emu.texts(5));
    let greeting = &b.emu.sent(5)[0];
    assert_eq!(greeting.text, "Send /echo TEXT and I will repeat it.");
    let button = &greeting.reply_markup.as_ref().unwrap()["inline_keyboard"][0][0];
    assert_eq!(button["callback_data"], "echo:ping");
    b.emu.press(5, greeting.message_id, "echo:ping");
    b.emu.send_text(5, "/echo@wharf_test_bot hi there");
    assert!(b.emu.wait_sent(WAIT, |e| e.texts(5).len() == 2).await);
    assert_eq!(b.emu.texts(5)[1], "hi there");
    b.h.idle().await;
    assert_eq!(b.emu.answered(), [("cbq-1".to_string(), Some("pong".to_string()))], "answered once, by the plugin");
    // A button nobody owns is still answered, so the user's spinner stops.
    b.emu.press(5, greeting.message_id, "gone:plugin");
    assert!(b.emu.wait_sent(WAIT, |e| e.answered().len() == 2).await);
    assert_eq!(b.emu.answered()[1], ("cbq-2".to_string(), None));
    assert_eq!(b.emu.requests("sendMessage"), 2);
    let menu: Vec<String> =
        b.emu.commands().as_array().unwrap().iter().map(|c| c["command"].as_str().unwrap().to_owned()).collect();
    assert_eq!(
        menu,
        ["echo", "rmw", "help"],
        "the menu lists the plugins' public commands (not the admin-only ones) and the host's /help"
    );
    b.h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugins_look_up_chat_members_through_telegram() {
    let b = bot(&echo_and_probe()).await;
    let cases = [
        (5, "administrator", "Administrator"),
        (6, "member", "Member"),
        (7, "creator", "Creator"),
        (8, "restricted", "Restricted"),
        (9, "left", "Left"),
        (10, "kicked", "Kicked"),
    ];
    for (chat, status, _) in cases {
        b.emu.set_member(chat, chat, status);
        b.emu.send_text(chat, "/member");
    }
    let deadline = std::time::Instant::now() + WAIT;
    while b.emu.requests("getChatMember") < cases.len() as u64 {
        assert!(std::time::Instant::now() < deadline, "lookups missing");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    b.h.idle().await;
    for (chat, _, want) in cases {
        let got = b.h.kv::<String>("probe", &format!("lookup:{chat}")).await;
        assert_eq!(got, Some(format!("Ok(MemberStatus::{want})")), "chat {chat}");
    }
    b.h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsupported_and_malformed_updates_are_counted_and_skipped() {
    let b = bot(&echo_and_probe()).await;
    // A kind the bot handles with content it does not (a location); kinds it did not ask
    // for in `allowed_updates` (a poll answer) never reach it, as with Telegram.
    b.emu.push_raw(serde_json::json!({"poll_answer": {"poll_id": "p", "option_ids": [], "user": {"id": 1, "is_bot": false, "first_name": "A"}}}));
    b.emu.push_raw(serde_json::json!({"message": {"message_id": 4, "date": 1_700_000_000,
        "chat": {"id": 5, "type": "private", "first_name": "U"}, "from": {"id": 5, "is_bot": false, "first_name": "U"},
        "location": {"latitude": 52.2, "longitude": 21.0}}}));
    b.emu.push_raw(serde_json::json!({"message": {"message_id": "not a number"}}));
    b.emu.send_text(5, "/echo still fine");
    assert!(b.emu.wait_sent(WAIT, |e| e.texts(5) == ["still fine"]).await);
    let m = b.h.rt.metrics();
    assert_eq!(
        (
            m.telegram_updates_count(wharf::metrics::UpdateOutcome::Unsupported),
            m.telegram_updates_count(wharf::metrics::UpdateOutcome::Malformed)
        ),
        (1, 1)
    );
    b.h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_and_server_errors_delay_but_deliver_without_busy_loops() {
    let b = bot(&echo_and_probe()).await;
    b.emu.inject(Some("sendMessage"), FaultKind::RetryAfter(1));
    b.emu.inject(Some("sendMessage"), FaultKind::Status(502, "Bad Gateway".into()));
    b.emu.inject(Some("sendMessage"), FaultKind::Status(500, "Internal Server Error".into()));
    let start = std::time::Instant::now();
    b.emu.send_text(5, "/echo persist");
    assert!(b.emu.wait_sent(WAIT, |e| e.texts(5) == ["persist"]).await);
    assert!(start.elapsed() >= Duration::from_secs(1), "retry_after was honoured");
    assert_eq!(b.emu.requests("sendMessage"), 4, "one try per fault, then success");
    let m = b.h.rt.metrics();
    assert_eq!(
        (
            m.telegram_sends(wharf::metrics::SendOutcome::RetryAfter),
            m.telegram_sends(wharf::metrics::SendOutcome::ServerError)
                + m.telegram_sends(wharf::metrics::SendOutcome::Network)
        ),
        (1, 2)
    );
    b.h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_user_is_marked_and_plugins_hear_of_it_instead_of_retries() {
    let b = bot(&echo_and_probe()).await;
    b.emu.block_silently(5);
    b.emu.send_text(5, "/echo are you there");
    b.emu.send_text(6, "/echo other chats go on");
    assert!(b.emu.wait_sent(WAIT, |e| e.texts(6).len() == 1).await);
    let deadline = std::time::Instant::now() + WAIT;
    while b.h.kv::<String>("probe", "member:5").await.is_none() {
        assert!(std::time::Instant::now() < deadline, "no member event");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(b.h.kv::<String>("probe", "member:5").await.as_deref(), Some("MemberStatus::Blocked"));
    assert_eq!(b.emu.requests("sendMessage"), 2, "the blocked send was not retried");
    let dead = b.h.rt.storage().dead_letters().await.unwrap();
    assert_eq!(dead.len(), 1);
    assert!(dead[0].2.contains("blocked"), "{}", dead[0].2);
    assert!(b.h.rt.storage().is_blocked(5).await.unwrap());
    b.h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_request_is_dead_lettered_with_its_reason_and_the_chat_goes_on() {
    let b = bot(&echo_and_probe()).await;
    b.emu.inject(Some("sendMessage"), FaultKind::Status(400, "Bad Request: can't parse entities".into()));
    b.emu.send_text(5, "/echo first");
    b.emu.send_text(5, "/echo second");
    assert!(b.emu.wait_sent(WAIT, |e| e.texts(5) == ["second"]).await, "{:?}", b.emu.texts(5));
    let dead = b.h.rt.storage().dead_letters().await.unwrap();
    assert_eq!(dead.len(), 1);
    assert!(dead[0].1.contains("first") && dead[0].2.contains("can't parse entities"), "{dead:?}");
    assert_eq!(b.emu.requests("sendMessage"), 2);
    b.h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflict_backs_off_instead_of_spinning_and_recovers() {
    let b = bot(&echo_and_probe()).await;
    let before = b.emu.requests("getUpdates");
    b.emu.inject(Some("getUpdates"), FaultKind::Status(409, "Conflict: terminated by other getUpdates request".into()));
    b.emu.send_text(5, "/echo after the conflict");
    assert!(b.emu.wait_sent(WAIT, |e| e.texts(5).len() == 1).await);
    let polls = b.emu.requests("getUpdates") - before;
    assert!(polls <= 4, "{polls} getUpdates calls around one conflict: a busy loop?");
    assert_eq!(b.h.rt.metrics().telegram_poll_errors(), 1);
    b.h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_are_acknowledged_only_after_they_are_stored() {
    let b = bot(&echo_and_probe()).await;
    for i in 0..20 {
        b.emu.send_text(100 + i, "/echo x");
    }
    assert!(b.emu.wait_sent(WAIT, |e| (100..120).all(|c| e.texts(c).len() == 1)).await);
    let offset = b.h.rt.storage().telegram_state("offset").await.unwrap();
    assert_eq!(offset, Some(21), "the stored offset is past the last update");
    b.h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_under_enforced_limits_meets_no_429() {
    // Telegram's own limits on both sides: 1,000 chats at 30 messages/s take ~33 s.
    let b = bot_with(&echo_and_probe(), RateLimits::default()).await;
    for chat in 1..=1000 {
        b.emu.send_text(chat, "/echo news");
    }
    assert!(b.emu.wait_sent(Duration::from_secs(120), |e| (1..=1000).all(|c| e.texts(c).len() == 1)).await);
    assert_eq!(b.emu.too_many(), 0, "the sender exceeded the limits");
    b.h.rt.shutdown().await;
}

/// The scripted conversation both front ends must handle alike.
async fn script(b: &Bot) -> (Vec<String>, Vec<(String, Option<String>)>, Option<i64>) {
    b.emu.send_text(5, "/echo");
    assert!(b.emu.wait_sent(WAIT, |e| e.texts(5).len() == 1).await);
    b.emu.press(5, b.emu.sent(5)[0].message_id, "echo:ping");
    b.emu.send_text(5, "/echo one");
    b.emu.send_text(5, "/set k v");
    b.emu.send_text(5, "/echo two");
    assert!(b.emu.wait_sent(WAIT, |e| e.texts(5).len() == 3 && e.answered().len() == 1).await);
    b.h.idle().await;
    (b.emu.texts(5), b.emu.answered(), b.h.kv::<String>("probe", "k").await.map(|v| v.len() as i64))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_and_webhook_deliver_the_same_conversation() {
    let polled = bot_in_mode(&echo_and_probe(), RateLimits::default(), false).await;
    let by_poll = script(&polled).await;
    let hooked = bot_in_mode(&echo_and_probe(), RateLimits::default(), true).await;
    let (url, secret) = hooked.emu.webhook().expect("the bot set its webhook");
    assert!(url.ends_with("/telegram/hook"));
    assert!(secret.is_some_and(|s| s.len() >= 32), "a secret token protects the webhook");
    let by_hook = script(&hooked).await;
    assert_eq!(by_poll, by_hook);
    assert_eq!(by_hook.0, ["Send /echo TEXT and I will repeat it.", "one", "two"]);
    assert_eq!(hooked.emu.requests("getUpdates"), 0, "webhook mode does not poll");
    assert!(hooked.emu.requests("webhook:delivered") >= 5);
    polled.h.rt.shutdown().await;
    hooked.h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_rejects_a_wrong_secret_and_skips_redelivered_updates() {
    let b = bot_in_mode(&echo_and_probe(), RateLimits::default(), true).await;
    let (url, secret) = b.emu.webhook().unwrap();
    let client = reqwest::Client::new();
    let update = serde_json::json!({"update_id": 900, "message": {"message_id": 1, "date": 1_700_000_000,
        "chat": {"id": 77, "type": "private", "first_name": "A"},
        "from": {"id": 77, "is_bot": false, "first_name": "A"}, "text": "/echo once"}});
    let wrong = client.post(&url).header("X-Telegram-Bot-Api-Secret-Token", "nope").json(&update).send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    for _ in 0..2 {
        let ok = client
            .post(&url)
            .header("X-Telegram-Bot-Api-Secret-Token", secret.clone().unwrap())
            .json(&update)
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), 200);
    }
    assert!(b.emu.wait_sent(WAIT, |e| e.texts(77).len() == 1).await);
    b.h.idle().await;
    assert_eq!(b.emu.texts(77), ["once"], "a redelivered update is handled once");
    assert_eq!(b.h.rt.metrics().telegram_updates_count(wharf::metrics::UpdateOutcome::Duplicate), 1);
    assert_eq!(b.h.rt.metrics().webhook_refusals(wharf::metrics::WebhookRefusal::Unauthorized), 1);
    b.h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn photos_by_url_and_file_id_reach_telegram() {
    let b = bot(&echo_and_probe()).await;
    b.emu.send_text(5, "/photo https://example.com/cat.png");
    b.emu.send_text(5, "/photo AgACAgIAAxk");
    assert!(b.emu.wait_sent(WAIT, |e| e.sent(5).len() == 2).await);
    let sent = b.emu.sent(5);
    assert_eq!(sent[0].photo.as_deref(), Some("https://example.com/cat.png"));
    assert_eq!(sent[1].photo.as_deref(), Some("AgACAgIAAxk"));
    assert!(sent.iter().all(|m| m.text == "a caption"));
    b.h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_never_shows_in_errors() {
    let h = start(&plugin("probe", "probe", ALL)).await;
    // Nothing listens on this port: the client error names the URL, which holds the token.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let cfg = TelegramConfig::polling(&format!("http://127.0.0.1:{port}/"));
    let err = Telegram::start(h.rt.link(), &cfg, TOKEN).await.err().expect("no server there");
    let msg = format!("{err:#}");
    assert!(msg.starts_with("getMe failed"), "{msg}");
    assert!(!msg.contains("TEST-TOKEN-secret"), "the token leaked: {msg}");
    // A wrong token is refused with Telegram's answer, also without the token.
    let emu = Emulator::start(([127, 0, 0, 1], 0).into(), "999:other").await.unwrap();
    let err =
        Telegram::start(h.rt.link(), &TelegramConfig::polling(&emu.api_url()), TOKEN).await.err().expect("wrong token");
    let msg = format!("{err:#}");
    assert!(msg.contains("Unauthorized") || msg.contains("token"), "{msg}");
    assert!(!msg.contains("TEST-TOKEN-secret"), "the token leaked: {msg}");
    h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_answers_delay_but_lose_nothing() {
    let b = bot(&echo_and_probe()).await;
    b.emu.inject(Some("sendMessage"), FaultKind::DelayMs(800));
    b.emu.inject(Some("getUpdates"), FaultKind::DelayMs(300));
    for chat in [5, 6, 7] {
        b.emu.send_text(chat, "/echo slow");
    }
    assert!(b.emu.wait_sent(WAIT, |e| [5, 6, 7].iter().all(|c| e.texts(*c) == ["slow"])).await);
    assert_eq!(b.emu.requests("sendMessage"), 3, "a slow answer is not a failure: no resend");
    b.h.rt.shutdown().await;
}
