//! The referral plugin end to end, through the Bot API emulator as users use it: links
//! with the bot's username from `getMe`, binding new users only, commissions on manual
//! and crypto deposits credited once (also when two deposits land at once, or an event
//! comes twice), tiers and achievements at their thresholds, forged events ignored.

use std::sync::Arc;

use serde_json::{Value, json};
use wharf::event::{self, CustomEvent, Event};
use wharf::telegram::emulator::{BOT_USERNAME, Emulator};

use crate::common::*;
use crate::crypto::Deposits;
use crate::market::{ADMIN, ADMIN2, Market, WAIT, market_from};
use crate::wallet::request_deposit;

const A: i64 = 7;
const B: i64 = 8;
const C: i64 = 9;

/// A `wallet.deposit` event as if `source` emitted it.
fn deposit_event(payload: &Value, source: &str) -> Event {
    Event::Custom(CustomEvent {
        topic: "wallet.deposit".into(),
        payload: payload.to_string().into_bytes(),
        source: source.into(),
    })
}

/// The referral plugin's table; `settings` go under `[plugins.referral.settings]`.
fn referral_table(settings: &str) -> String {
    plugin("referral", "referral", r#"grants = ["kv", "telegram.send", "call:wallet"]"#)
        + "[plugins.referral.settings]\n"
        + settings
        + "\n"
}

/// The wallet and the referral plugin.
fn tables(settings: &str) -> String {
    plugin("wallet", "wallet", r#"grants = ["kv", "telegram.send", "events"]"#)
        + "[plugins.wallet.settings]\nmin_deposit = 100\n"
        + &referral_table(settings)
}

async fn bot(settings: &str) -> Arc<Market> {
    market_from(&Db::Sqlite, &tables(settings)).await
}

/// `user`'s referral code, from the link `/referral` shows.
async fn code(m: &Market, user: i64) -> String {
    let screen = m.say(user, "/referral", "Your referral link").await.text;
    let link = format!("https://t.me/{BOT_USERNAME}?start=ref_");
    let at = screen.find(&link).unwrap_or_else(|| panic!("no link to the bot in {screen}")) + link.len();
    screen[at..at + 7].to_owned()
}

/// Texts `chat` received containing `part`.
fn with(emu: &Emulator, chat: i64, part: &str) -> Vec<String> {
    emu.texts(chat).into_iter().filter(|t| t.contains(part)).collect()
}

/// Wait until the bot is idle and everything it queued was delivered (before checking
/// that something was not sent).
async fn drained(m: &Market) {
    m.h.idle().await;
    crate::market::until("the outbox drains", || async { m.h.outbox_len().await == 0 }).await;
}

/// Wait until `chat` has received `n` messages containing `part`; returns them.
async fn wait_for(m: &Market, chat: i64, part: &str, n: usize) -> Vec<String> {
    let ok = m.emu.wait_sent(WAIT, |e| with(e, chat, part).len() >= n).await;
    assert!(ok, "chat {chat} got fewer than {n} messages containing {part:?}: {:#?}", m.emu.texts(chat));
    with(&m.emu, chat, part)
}

/// The admin's Approve button of deposit request `number` (once it arrived): (message
/// id, data).
async fn approve_button(m: &Market, admin: i64, number: i64) -> (i32, String) {
    wait_for(m, admin, &format!("Deposit request #{number}</b>"), 1).await;
    let request = m
        .emu
        .sent(admin)
        .into_iter()
        .find(|s| s.text.contains(&format!("Deposit request #{number}</b>")))
        .unwrap_or_else(|| panic!("admin {admin} has no request #{number}"));
    let data = crate::market::buttons(&request).into_iter().find(|(t, _)| t.contains("Approve")).unwrap().1;
    (request.message_id, data)
}

/// A user's wallet entries (JSON), oldest first.
async fn entries(m: &Market, user: i64) -> Vec<Value> {
    let mut out = Vec::new();
    for k in m.keys("wallet", &format!("ent:{user}:")).await {
        out.push(m.kv::<Value>("wallet", &k).await.unwrap());
    }
    out
}

async fn kinds(m: &Market, prefix: &str) -> Vec<String> {
    m.events().await.into_iter().map(|(k, ..)| k).filter(|k| k.starts_with(prefix)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_referral_earns_three_percent_of_an_approved_deposit_once_and_a_replay_pays_nothing() {
    let m = bot("").await;
    let a = code(&m, A).await;
    let screen = m.emu.texts(A).into_iter().find(|t| t.contains("Your referral link")).unwrap();
    assert!(screen.contains("you get 3% of every deposit") && screen.contains("Referrals: 0"), "{screen}");

    m.say(B, &format!("/start ref_{a}"), "You joined with an invitation from User 7").await;
    let told = wait_for(&m, A, "New referral!", 1).await;
    assert!(told[0].contains("User 8 joined with your link"), "{told:?}");

    let number = request_deposit(&m, B, "100", "BLIK 123456").await;
    let (id, data) = approve_button(&m, ADMIN, number).await;
    m.after(A, "Referral bonus", || {
        m.emu.press(ADMIN, id, &data);
    })
    .await;
    m.h.idle().await;
    assert_eq!(wait_for(&m, B, "was approved", 1).await.len(), 1, "the referee is told about the deposit");
    let bonus = with(&m.emu, A, "Referral bonus");
    assert_eq!(bonus.len(), 1, "{bonus:?}");
    assert!(bonus[0].contains("+3 PLN") && bonus[0].contains("3% of a 100 PLN deposit by User 8"), "{}", bonus[0]);
    assert_eq!(m.balance(A).await, 300, "exactly 3 PLN");
    assert_eq!(m.balance(B).await, 10_000);
    let a_entries = entries(&m, A).await;
    assert_eq!(a_entries.len(), 1, "{a_entries:?}");
    let deposit = entries(&m, B).await.remove(0);
    let deposit_key = deposit["key"].as_str().unwrap().to_owned();
    assert_eq!(a_entries[0]["key"], format!("referral:{deposit_key}"));
    assert_eq!((a_entries[0]["amount"].as_i64(), a_entries[0]["category"].as_str()), (Some(300), Some("bonus")));
    assert_eq!(kinds(&m, "referral.").await, ["referral.bound", "referral.commission"]);

    // The wallet's event delivered again (as after a crash between delivery and commit):
    // one commission, no second message.
    let payload = json!({
        "user_id": B, "amount": deposit["amount"], "seq": deposit["seq"], "key": deposit_key,
        "reason": deposit["reason"], "currency": "PLN", "decimals": 2, "at_ms": deposit["at_ms"],
    });
    let replay = deposit_event(&payload, "wallet");
    m.h.rt
        .enqueue_many(&[(ADMIN, Some("referral".into()), replay.clone()), (A, Some("referral".into()), replay)])
        .await
        .unwrap();
    drained(&m).await;
    assert_eq!(m.balance(A).await, 300);
    assert_eq!(entries(&m, A).await.len(), 1);
    assert_eq!(with(&m.emu, A, "Referral bonus").len(), 1);
    assert_eq!(m.keys("referral", &format!("com:{A}:")).await.len(), 1);
    assert_eq!(kinds(&m, "referral.commission").await.len(), 1);

    // What A sees and what an admin sees.
    let screen = m.say(A, "/referral", "Your referral link").await.text;
    assert!(screen.contains("Referrals: 1\nEarned: 3 PLN\nTier: 🥉 Bronze"), "{screen}");
    assert!(screen.contains("Badges: 🤝 First referral · 💸 First commission"), "{screen}");
    let record = m.say(ADMIN, &format!("/referrals {A}"), "Referrals of user").await.text;
    assert!(record.contains("8 (User 8): 3 PLN from 1 deposit") && record.contains("3 PLN ✓"), "{record}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_referral_cycles_rebinding_and_returning_users_are_refused() {
    let m = bot("").await;
    let a = code(&m, A).await;
    m.say(A, &format!("/start ref_{a}"), "your own invitation link").await;
    m.say(B, &format!("/start ref_{a}"), "You joined with an invitation").await;
    let b = code(&m, B).await;
    // A invited B: A joining through B would close a cycle.
    m.say(A, &format!("/start ref_{b}"), "its owner joined with your invitation").await;
    // B is bound to A for good.
    let c = code(&m, C).await;
    m.say(B, &format!("/start ref_{c}"), "You already joined with an invitation").await;
    // A user who talked to the bot before is not new.
    m.say(10, "/wallet", "Your wallet").await;
    m.say(10, &format!("/start ref_{a}"), "Invitation links are for new users").await;
    m.say(11, "/start ref_0000000", "not valid").await;
    drained(&m).await;

    assert_eq!(m.kv::<Value>("referral", &format!("by:{B}")).await.unwrap()["referrer"], A);
    for user in [A, C, 10, 11] {
        assert!(m.kv::<Value>("referral", &format!("by:{user}")).await.is_none(), "user {user} was bound");
    }
    assert_eq!(m.kv::<Value>("referral", &format!("sum:{A}")).await.unwrap()["referees"], 1);
    assert!(m.kv::<Value>("referral", &format!("sum:{C}")).await.is_none());
    assert_eq!(with(&m.emu, A, "New referral!").len(), 1, "{:#?}", m.emu.texts(A));
    assert!(with(&m.emu, C, "New referral!").is_empty());
    assert_eq!(kinds(&m, "referral.bound").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_deposits_approved_at_once_pay_two_commissions_and_the_tier_changes_once() {
    let m = bot("").await;
    let a = code(&m, A).await;
    m.say(B, &format!("/start ref_{a}"), "You joined with an invitation").await;
    // 3% of 1,700 PLN is 51 PLN; two of them pass Silver's 100 PLN.
    let first = request_deposit(&m, B, "1700", "BLIK 1").await;
    let second = request_deposit(&m, B, "1700", "BLIK 2").await;
    let (id1, d1) = approve_button(&m, ADMIN, first).await;
    let (id2, d2) = approve_button(&m, ADMIN2, second).await;
    // Two admins, two chats: the approvals and the events they emit run at the same time.
    m.emu.press(ADMIN, id1, &d1);
    m.emu.press(ADMIN2, id2, &d2);
    assert!(m.emu.wait_sent(WAIT, |e| with(e, A, "Referral bonus").len() == 2).await, "{:#?}", m.emu.texts(A));
    m.h.idle().await;
    assert_eq!(m.balance(B).await, 340_000);
    assert_eq!(m.balance(A).await, 10_200, "two commissions of 51 PLN");
    assert_eq!(entries(&m, A).await.len(), 2);
    let summary = m.kv::<Value>("referral", &format!("sum:{A}")).await.unwrap();
    assert_eq!(summary, json!({"referees": 1, "earned": 10_200, "commissions": 2}));
    let tier = wait_for(&m, A, "New tier", 1).await;
    assert_eq!(tier.len(), 1, "{tier:?}");
    assert!(tier[0].contains("New tier: Silver!") && tier[0].contains("You have earned 102 PLN"), "{}", tier[0]);
    assert_eq!(wait_for(&m, A, "First commission", 1).await.len(), 1, "an achievement once");
    let events = m.events().await;
    let tiers: Vec<_> = events.iter().filter(|(k, ..)| k == "referral.tier").collect();
    assert_eq!(tiers.len(), 1, "{events:?}");
    assert_eq!((tiers[0].1, tiers[0].2["tier"].as_str()), (Some(A), Some("Silver")));
    let screen = m.say(A, "/referral", "Your referral link").await.text;
    assert!(screen.contains("Tier: 🥈 Silver\nProgress: ░░░░░░░░░░ 0% · 398 PLN to 🥇 Gold (500 PLN)"), "{screen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_referrals_unlock_their_achievement_once_and_top_masks_names() {
    let m = bot("").await;
    m.emu.set_username(A, "alice_referrer");
    let a = code(&m, A).await;
    for user in 100..111 {
        m.say(user, &format!("/start ref_{a}"), "You joined with an invitation").await;
    }
    m.h.idle().await;
    assert_eq!(wait_for(&m, A, "New referral!", 11).await.len(), 11);
    let ten = wait_for(&m, A, "Achievement unlocked", 2).await;
    assert_eq!(ten.len(), 2, "first referral and 10 referrals, once each: {ten:?}");
    assert!(ten[1].contains("👥 10 referrals"), "{}", ten[1]);
    let last = with(&m.emu, A, "Your referrals: 10.");
    assert_eq!(last.len(), 1);

    // The leaderboard counts earnings; names are masked unless their owner shows them.
    let number = request_deposit(&m, 100, "10", "BLIK 9").await;
    let (id, data) = approve_button(&m, ADMIN, number).await;
    m.after(A, "Referral bonus", || {
        m.emu.press(ADMIN, id, &data);
    })
    .await;
    let top = m.say(C, "/top", "Top referrers").await.text;
    assert!(top.contains("1. al••• · 0.30 PLN · 11 referrals") && !top.contains("alice"), "{top}");
    m.say(A, "/referral", "Your referral link").await;
    m.tap(A, "Show my name in /top", "Your referral link").await;
    let top = m.say(C, "/top", "Top referrers").await.text;
    assert!(top.contains("1. @alice_referrer · 0.30 PLN"), "{top}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crypto_deposit_by_a_referral_also_pays_the_referrer() {
    let d = Deposits::start_with("", &referral_table("")).await;
    let screen = d.say(A, "/referral", "Your referral link").await;
    let at = screen.find("?start=ref_").unwrap() + "?start=ref_".len();
    let a = screen[at..at + 7].to_owned();
    d.say(B, &format!("/start ref_{a}"), "You joined with an invitation").await;
    let address = d.address(B, "Bitcoin").await;
    let txid = d.btc.pay(&[(address.as_str(), 100_000)]);
    d.tick().await;
    d.btc.mine(2);
    d.tick().await;
    // floor(0.001 BTC × 400000 PLN) = 400 PLN; 3% of it is 12 PLN.
    d.expect(B, "Deposit credited: 400 PLN").await;
    let bonus = d.expect(A, "Referral bonus").await;
    assert!(bonus.contains("+12 PLN") && bonus.contains("400 PLN deposit by User 8"), "{bonus}");
    d.rt.wait_idle(IDLE).await.unwrap();
    assert_eq!(d.balance(A).await, 1_200);
    let a_entries = d.entries(A).await;
    assert_eq!(a_entries.len(), 1);
    assert_eq!(a_entries[0]["key"], format!("referral:crypto:BTC:{txid}:0"));
    assert_eq!(a_entries[0]["category"], "bonus");
    // More runs of the watcher pay nothing more.
    d.btc.mine(2);
    d.tick().await;
    d.tick().await;
    assert_eq!(d.balance(A).await, 1_200);
    assert_eq!(d.kinds("referral.commission").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_deposit_events_pay_nothing_and_a_flood_of_bad_links_holds_up_no_one_else() {
    let m = bot("").await;
    let a = code(&m, A).await;
    m.say(B, &format!("/start ref_{a}"), "You joined with an invitation").await;
    // Any plugin granted `events` may emit any topic: only the wallet's are believed.
    let payload = json!({"user_id": B, "amount": 1_000_000, "seq": 1, "key": "shop:fake:1"});
    let forged = deposit_event(&payload, "shop");
    m.h.rt.enqueue_many(&[(B, Some("referral".into()), forged)]).await.unwrap();
    // One user sends 300 bad links at once and another user /referral right after them:
    // that one is answered while the bad links are still being refused.
    let mut queued: Vec<(i64, Option<String>, Event)> =
        (0..300).map(|i| (66, None, event::text(66, &format!("/start ref_{:07}", i % 10)))).collect();
    queued.push((C, None, event::text(C, "/referral")));
    m.h.rt.enqueue_many(&queued).await.unwrap();
    wait_for(&m, C, "Your referral link", 1).await;
    let refused_then = with(&m.emu, 66, "not valid").len();
    assert!(refused_then < 300, "the other chat waited for the whole flood");
    m.h.idle().await;
    assert_eq!(m.balance(A).await, 0, "a forged deposit pays nothing");
    assert!(m.keys("referral", &format!("com:{A}:")).await.is_empty());
    assert!(m.kv::<Value>("referral", "by:66").await.is_none());
    assert!(m.emu.wait_sent(WAIT, |e| with(e, 66, "not valid").len() == 300).await, "every bad link is answered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_telegram_the_code_is_shown_without_a_link() {
    let h = start(&tables("")).await;
    h.say(A, "/referral").await;
    h.idle().await;
    let sent = h.sent(A).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(
        sent[0].contains("Your referral code</b>: <code>ref_") && sent[0].contains("once the bot is connected"),
        "{}",
        sent[0]
    );
}
