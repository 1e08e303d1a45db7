//! The admin log channel through the emulator: the documented format with secrets
//! masked, bursts merged into digests within the channel's 20 messages a minute, an
//! event committed before a crash arriving once, a refusing channel raising one alert
//! while everyone else is served, and hostile titles.

use std::time::{Duration, Instant};

use wharf::config::Config;
use wharf::telegram::Telegram;
use wharf::telegram::emulator::{Emulator, FaultKind};
use wharf::telegram::limits::RateLimits;
use wharf::{Runtime, RuntimeOptions};

use crate::common::*;
use crate::market::{self, ADMIN};
use crate::telegram::{TOKEN, WAIT, bot_configured};

/// The admin log channel.
const CHANNEL: i64 = -100_500;

/// The `[log_sink]` table for [`CHANNEL`].
fn sink(extra: &str) -> String {
    format!("[log_sink]\nchat_id = {CHANNEL}\n{extra}\n")
}

/// Every block of every message the channel got, in order.
fn blocks(emu: &Emulator) -> Vec<String> {
    emu.texts(CHANNEL).iter().flat_map(|t| t.split("\n\n").map(str::to_owned).collect::<Vec<_>>()).collect()
}

/// The block whose title line is `head`, once it arrived.
async fn block(emu: &Emulator, head: &str) -> String {
    let found = |e: &Emulator| blocks(e).into_iter().find(|b| b.lines().next() == Some(head));
    assert!(emu.wait_sent(WAIT, |e| found(e).is_some()).await, "no {head:?} in the channel: {:#?}", blocks(emu));
    found(emu).expect("just found")
}

/// Events a digest accounts for: each block (×N counts N) and each "…and N more" line.
fn accounted(text: &str, title: &str) -> usize {
    text.split("\n\n")
        .map(|b| {
            let head = b.lines().next().unwrap_or_default();
            if head.starts_with(title) {
                head.rsplit_once(" ×").and_then(|(_, n)| n.parse().ok()).unwrap_or(1)
            } else {
                b.lines().filter_map(|l| l.strip_prefix("…and ")?.split(' ').next()?.parse::<usize>().ok()).sum()
            }
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purchase_and_deposit_events_reach_the_channel_in_the_documented_format_with_secrets_masked() {
    let plugins = market::plugins(&wasm("shop"), "") + &sink("timezone = \"Europe/Warsaw\"");
    let m = market::market_from(&Db::Sqlite, &plugins).await;
    m.emu.set_username(42, "alice");
    m.import("Warsaw | Mokotów | Gift cards | Steam 50 | 50 | STEAM-CODE-SECRET-0001\n").await;
    m.credit(42, "100").await;
    m.open_product(42, ["Warsaw", "Mokotów", "Gift cards", "Steam 50"]).await;
    m.tap(42, "Buy", "reserved for you").await;
    m.tap(42, "Confirm", "Your item:").await;
    let deposit = crate::wallet::request_deposit(&m, 43, "100", "PAYREF-2026-000123").await;
    let asked = |e: &Emulator| e.texts(ADMIN).iter().any(|t| t.contains(&format!("Deposit request #{deposit}")));
    assert!(m.emu.wait_sent(market::WAIT, asked).await, "the admin was not asked");
    m.tap(ADMIN, "Approve", &format!("Deposit #{deposit} approved")).await;

    // T0 (14/11/2023 22:13:20 UTC) in Warsaw.
    let purchase = block(&m.emu, "🛒 <b>Purchase successful</b>").await;
    assert_eq!(
        purchase,
        "🛒 <b>Purchase successful</b>\nUser: @alice (ID: <code>42</code>)\nOrder: #1\nProduct: Steam 50 (#1)\n\
         Price: 50 PLN\nItem: 1\nTime: <code>14/11/2023 23:13:20</code>"
    );
    let approved = block(&m.emu, "✅ <b>Deposit approved</b>").await;
    assert_eq!(
        approved,
        "✅ <b>Deposit approved</b>\nUser: ID <code>43</code>\nDeposit: #1\nAmount: 100 PLN\nMethod: blik\n\
         Approved by: 1000\nReference: PAYR•••0123\nTime: <code>14/11/2023 23:13:20</code>"
    );
    // Every other kind the flow recorded, exactly.
    let at = "Time: <code>14/11/2023 23:13:20</code>";
    for want in [
        format!("📦 <b>Stock imported</b>\nUser: ID <code>1000</code>\nItems: 1\nProducts: 1\n{at}"),
        format!(
            "➕ <b>Balance credited</b>\nUser: @alice (ID: <code>42</code>)\nAmount: 100 PLN\nBalance: 100 PLN\n\
             Reason: test money\nEntry: 1\nAdmin: 1000\n{at}"
        ),
        format!(
            "🔒 <b>Item reserved</b>\nUser: @alice (ID: <code>42</code>)\nProduct: Steam 50 (#1)\nPrice: 50 PLN\n{at}"
        ),
        format!(
            "➖ <b>Balance debited</b>\nUser: @alice (ID: <code>42</code>)\nAmount: 50 PLN\nBalance: 50 PLN\n\
             Reason: Order #1: Steam 50\nEntry: 2\n{at}"
        ),
        format!(
            "⏳ <b>Deposit awaiting approval</b>\nUser: ID <code>43</code>\nDeposit: #1\nAmount: 100 PLN\nMethod: blik\n\
             Reference: PAYR•••0123\n{at}"
        ),
    ] {
        let head = want.lines().next().unwrap();
        let user = want.lines().nth(1).unwrap();
        let found = blocks(&m.emu).into_iter().find(|b| b.starts_with(&format!("{head}\n{user}")));
        assert_eq!(found.as_deref(), Some(want.as_str()));
    }
    // Secrets never leave: not in the channel, not in the event log.
    let everything = m.emu.texts(CHANNEL).join("\n");
    assert!(!everything.contains("STEAM-CODE-SECRET") && !everything.contains("PAYREF-2026-000123"), "{everything}");
    let log = m.h.rt.storage().event_log().await.unwrap();
    let stored = format!("{log:?}");
    assert!(!stored.contains("STEAM-CODE-SECRET") && !stored.contains("PAYREF-2026-000123"));
    assert!(m.emu.sent(CHANNEL).iter().all(|s| s.parse_mode.as_deref() == Some("HTML")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_reports_new_and_returning_users_and_blocks() {
    let b = bot_configured(&echo_and_probe_with(&sink("")), RateLimits::default().scaled(100.0), false, |_| {}).await;
    b.emu.set_username(7, "bob");
    b.emu.send_text(7, "/start promo_1");
    let new = block(&b.emu, "👋 <b>New user</b>").await;
    assert!(
        new.starts_with("👋 <b>New user</b>\nUser: @bob (ID: <code>7</code>)\nUser: new\nStart payload: promo_1\n"),
        "{new}"
    );
    b.h.idle().await;
    b.emu.send_text(7, "/start");
    let back = block(&b.emu, "🔁 <b>User returned</b>").await;
    assert!(back.contains("\nUser: returning\n"), "{back}");
    b.emu.set_blocked(7, true);
    block(&b.emu, "🚫 <b>User blocked the bot</b>").await;
    b.emu.set_blocked(7, false);
    block(&b.emu, "🔓 <b>User unblocked the bot</b>").await;
    // Groups are not users starting the bot.
    b.emu.send_text_in(8, -42, "/start");
    b.emu.send_text(9, "/echo after");
    assert!(b.emu.wait_sent(WAIT, |e| e.texts(9) == ["after"]).await);
    b.h.idle().await;
    let log = b.h.rt.storage().event_log().await.unwrap();
    assert_eq!(log.iter().filter(|e| e.kind == "user.started").count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_reports_telegram_trouble_dead_letters_and_reloads() {
    let dir = tempfile::tempdir().unwrap();
    let probe = dir.path().join("probe.wasm");
    std::fs::copy(wasm("probe"), &probe).unwrap();
    let plugins = plugin("echo", "echo", r#"grants = ["telegram.send"]"#)
        + &format!("[plugins.probe]\npath = \"{}\"\n{ALL}\n", probe.display())
        + &sink("");
    let b = bot_configured(&plugins, RateLimits::default().scaled(100.0), false, |_| {}).await;
    let conflict = || FaultKind::Status(409, "Conflict: terminated by other getUpdates request".into());
    b.emu.inject(Some("getUpdates"), conflict());
    b.emu.inject(Some("getUpdates"), conflict());
    let trouble = block(&b.emu, "🔑 <b>Another instance polls this bot</b>").await;
    assert!(trouble.contains("\nError: ") && trouble.contains("Conflict"), "{trouble}");
    assert!(!trouble.contains(TOKEN) && !trouble.contains("TEST-TOKEN"), "the token never shows: {trouble}");
    b.emu.inject(Some("sendMessage"), FaultKind::Status(400, "Bad Request: can't parse entities".into()));
    b.emu.send_text(5, "/echo lost");
    let dead = block(&b.emu, "📪 <b>Message refused by Telegram</b>").await;
    assert!(dead.contains("\nPlugin: echo\nChat: 5\nReason: ") && dead.contains("can't parse entities"), "{dead}");
    std::fs::copy(wasm("probe_v2"), &probe).unwrap();
    b.h.rt.reload().await.unwrap();
    let reloaded = block(&b.emu, "🔄 <b>Plugin reloaded</b>").await;
    assert!(reloaded.contains("\nPlugin: probe\nVersion: "), "{reloaded}");
    std::fs::write(&probe, b"not a component").unwrap();
    b.h.rt.reload().await.unwrap();
    let rejected = block(&b.emu, "⚠️ <b>Plugin module rejected</b>").await;
    assert!(rejected.contains("\nPlugin: probe\nServing: version "), "{rejected}");
    b.h.idle().await;
    let log = b.h.rt.storage().event_log().await.unwrap();
    assert_eq!(log.iter().filter(|e| e.kind == "telegram.conflict").count(), 1, "a streak is recorded once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_300_events_is_merged_into_digests_within_the_channel_limit_and_nobody_waits() {
    // Telegram's own limits, enforced by the emulator: 20 messages a minute in a group.
    let plugins = echo_and_probe_with(&sink(""));
    let b = bot_configured(&plugins, RateLimits::default(), false, |_| {}).await;
    let started = Instant::now();
    for user in 1..=30 {
        b.emu.send_text(user, "/logs 10");
    }
    // Another chat is served while the channel is being fed.
    b.emu.send_text(99, "/echo still here");
    assert!(b.emu.wait_sent(WAIT, |e| e.texts(99) == ["still here"]).await, "{:?}", b.emu.texts(99));
    b.h.idle().await;
    let logged = b.h.rt.storage().event_log().await.unwrap();
    assert_eq!(logged.iter().filter(|e| e.kind == "probe.burst").count(), 300, "every turn committed its events");
    let digests_when_done = b.emu.sent_count(CHANNEL);
    assert!(digests_when_done < 30, "turns did not wait for the channel ({digests_when_done} digests so far)");
    let total = |e: &Emulator| e.texts(CHANNEL).iter().map(|t| accounted(t, "🧪 <b>Probe burst</b>")).sum::<usize>();
    assert!(b.emu.wait_sent(WAIT, |e| total(e) >= 300).await, "accounted for {} of 300", total(&b.emu));
    assert_eq!(total(&b.emu), 300, "each event accounted for exactly once");
    let sent = b.emu.sent(CHANNEL);
    assert!(sent.iter().all(|s| s.text.encode_utf16().count() <= 4096));
    let times: Vec<Instant> = sent.iter().filter_map(|s| s.at).collect();
    for (i, t) in times.iter().enumerate() {
        let in_a_minute = times[i..].iter().filter(|u| u.duration_since(*t) < Duration::from_secs(60)).count();
        assert!(in_a_minute <= 20, "{in_a_minute} messages within a minute");
    }
    assert_eq!(b.emu.too_many(), 0, "never over Telegram's limits");
    println!("300 events in {} digests, {:?}", sent.len(), started.elapsed());
}

fn echo_and_probe_with(extra: &str) -> String {
    crate::telegram::echo_and_probe() + extra
}

/// A runtime over the database in `dir` (the same file each time), with the manual clock.
async fn runtime_in(dir: &std::path::Path, plugins: &str) -> Runtime {
    let text = config_text(dir, &Db::Sqlite, plugins, "");
    let config = Config::parse(&text, dir).unwrap();
    let opts = RuntimeOptions { clock: wharf::clock::Clock::manual(T0), ..RuntimeOptions::default() };
    Runtime::start(&config, opts).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_committed_before_a_crash_reach_the_channel_once() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = plugin("probe", "probe", ALL) + &sink("");
    // No Telegram: the first digest stays in the outbox, so the sink holds the second
    // event back (one digest in flight at a time); then the process dies.
    let rt = runtime_in(dir.path(), &plugins).await;
    rt.enqueue(1, &wharf::event::text(1, "/logs 1")).await.unwrap();
    rt.wait_idle(Duration::from_secs(30)).await.unwrap();
    let deadline = Instant::now() + WAIT;
    while !rt.storage().outbox_waiting_for(CHANNEL).await.unwrap() {
        assert!(Instant::now() < deadline, "the first digest was never queued");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    rt.enqueue(2, &wharf::event::text(2, "/logs 1")).await.unwrap();
    rt.wait_idle(Duration::from_secs(30)).await.unwrap();
    drop(rt);

    let emu = Emulator::start(([127, 0, 0, 1], 0).into(), TOKEN).await.unwrap();
    let rt = runtime_in(dir.path(), &plugins).await;
    let tg = Telegram::start(rt.link(), &wharf::config::TelegramConfig::polling(&emu.api_url()), TOKEN).await.unwrap();
    let users = |e: &Emulator| blocks(e).iter().filter(|b| b.starts_with("🧪 <b>Probe burst</b>")).count();
    assert!(emu.wait_sent(WAIT, |e| users(e) >= 2).await, "{:#?}", blocks(&emu));
    // Let the sink look again: nothing more may come.
    rt.enqueue(3, &wharf::event::text(3, "/logs 1")).await.unwrap();
    assert!(emu.wait_sent(WAIT, |e| users(e) >= 3).await);
    let texts = blocks(&emu);
    for user in 1..=3 {
        let n = texts.iter().filter(|b| b.contains(&format!("User: ID <code>{user}</code>"))).count();
        assert_eq!(n, 1, "user {user}'s event arrived once: {texts:#?}");
    }
    drop(tg);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusing_channel_raises_one_alert_and_stalls_nothing() {
    let b = bot_configured(&echo_and_probe_with(&sink("")), RateLimits::default().scaled(100.0), false, |_| {}).await;
    // The bot is not a member of the channel: every send there is a 403.
    b.emu.block_silently(CHANNEL);
    b.emu.send_text(1, "/logs 1");
    let alert = |e: &Emulator| e.texts(ADMIN).iter().filter(|t| t.contains("admin log channel")).count();
    assert!(b.emu.wait_sent(WAIT, |e| alert(e) == 1).await, "admins were not told: {:?}", b.emu.texts(ADMIN));
    assert!(b.emu.texts(ADMIN)[0].contains(&CHANNEL.to_string()));
    // More events while it refuses: no second alert, and other chats are served at once.
    for user in 2..=5 {
        b.emu.send_text(user, "/logs 3");
    }
    b.emu.send_text(99, "/echo served");
    assert!(b.emu.wait_sent(WAIT, |e| e.texts(99) == ["served"]).await);
    b.h.idle().await;
    let log = b.h.rt.storage().event_log().await.unwrap();
    assert_eq!(log.iter().filter(|e| e.kind == "probe.burst").count(), 13, "the events are kept");
    assert_eq!(log.iter().filter(|e| e.kind == "log_sink.refused").count(), 1, "one refusal recorded");
    assert_eq!(alert(&b.emu), 1, "one alert");
    assert_eq!(b.emu.sent_count(CHANNEL), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_titles_fields_and_reveal_rules_are_clamped_and_escaped() {
    let b = bot_configured(&echo_and_probe_with(&sink("")), RateLimits::default().scaled(100.0), false, |_| {}).await;
    let hostile = format!("<b>x</b>&\u{202e}\n🚨 Plugin disabled {}", "y".repeat(5000));
    b.emu.send_text(7, &format!("/titled {hostile}"));
    let got = |e: &Emulator| blocks(e).into_iter().find(|b| b.starts_with("&lt;b&gt;x"));
    assert!(b.emu.wait_sent(WAIT, |e| got(e).is_some()).await, "{:?}", b.emu.texts(CHANNEL));
    let text = got(&b.emu).unwrap();
    let head = text.lines().next().unwrap();
    assert!(head.starts_with("&lt;b&gt;x&lt;/"), "the emoji is clipped to 8 characters and escaped: {head}");
    assert!(head.contains("<b>&lt;b&gt;x&lt;/b&gt;&amp;"), "markup in the title is shown, not rendered: {head}");
    assert!(head.chars().count() < 8 + 128 + 40, "the title is clipped: {head}");
    let reference = text.lines().find(|l| l.starts_with("Ref: ")).unwrap();
    assert_eq!(reference, "Ref: &lt;b&gt;x&lt;/b&gt;•••yyyyyyyy", "at most 8 characters at each end");
    assert!(!text.contains("Code:"), "a secret field is left out: {text}");
    assert!(text.lines().count() < 12, "no forged lines: {text}");
}
