//! The subscription gate end to end, through the Bot API emulator: the gate runs first
//! and the echo plugin stands for the rest of the bot. Users join and leave a channel in
//! the emulator; the tests count the emulator's `getChatMember` calls to see the cache
//! at work, make Telegram fail or stall, and hide the members from the bot.

use std::sync::Arc;

use wharf::telegram::emulator::FaultKind;

use crate::common::*;
use crate::market::{ADMIN, ADMIN2, Market, WAIT, market_prepared, until};
use wharf::telegram::emulator::Emulator;

/// The channel.
const NEWS: i64 = -1_001_000_000_001;
/// What the prompt says.
const PROMPT: &str = "please join our channel";
const JOINED: &str = "I've joined";

/// The gate (first in the chain, with `gate` as extra settings lines) and echo.
fn tables(gate: &str, limits: &str) -> String {
    plugin("gate", "gate", "order = -10\ngrants = [\"kv\", \"telegram\", \"telegram.buttons\"]\n")
        + &format!("[plugins.gate.limits]\n{limits}\n")
        + "[plugins.gate.settings]\nchannels = [\"@wharf_news\"]\n"
        + gate
        + "\n"
        + &plugin("echo", "echo", "grants = [\"telegram.send\"]")
}

/// The channel, as Telegram knows it.
fn channel(emu: &Emulator) {
    emu.add_channel(NEWS, Some("wharf_news"), "Wharf News", None);
}

/// A bot with the gate and echo, the channel known to the emulator, idle.
async fn bot(gate: &str) -> Arc<Market> {
    bot_with(gate, "timeout_ms = 2000").await
}

async fn bot_with(gate: &str, limits: &str) -> Arc<Market> {
    let m = market_prepared(&Db::Sqlite, &tables(gate, limits), channel).await;
    m.h.idle().await;
    m
}

fn lookups(m: &Market) -> u64 {
    m.emu.requests("getChatMember")
}

/// Business events of `kind` recorded so far.
async fn count(m: &Market, kind: &str) -> usize {
    m.events().await.iter().filter(|(k, _, _)| k == kind).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_pass_and_everyone_else_gets_the_channel_and_the_join_button() {
    let m = bot("").await;
    m.emu.set_member(NEWS, 11, "member");
    m.emu.set_member(NEWS, 12, "left");
    m.emu.set_member(NEWS, 13, "kicked");
    m.emu.set_restricted(NEWS, 14, false);
    m.emu.set_restricted(NEWS, 15, true);
    m.emu.set_member(NEWS, 16, "administrator");
    for user in [11, 15, 16] {
        m.say(user, "/echo hello", "hello").await;
    }
    for user in [12, 13, 14] {
        let prompt = m.say(user, "/echo hello", PROMPT).await;
        assert!(prompt.text.contains("• Wharf News"), "{}", prompt.text);
        let rows = prompt.buttons();
        assert_eq!(rows[0][0].url.as_deref(), Some("https://t.me/wharf_news"), "{rows:?}");
        assert_eq!(rows[1][0].callback_data.as_deref(), Some("gate:recheck"), "{rows:?}");
        assert!(!m.emu.texts(user).contains(&"hello".to_owned()), "echo never saw it");
    }
    assert_eq!(m.emu.requests("getChat"), 1, "the username was resolved once");
    assert_eq!(count(&m, "gate.not_subscribed").await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joining_then_pressing_ive_joined_passes_and_the_cache_saves_lookups() {
    let m = bot("").await;
    m.emu.set_member(NEWS, 12, "left");
    m.say(12, "/echo one", PROMPT).await;
    let after_first = lookups(&m);
    m.say(12, "/echo two", PROMPT).await;
    assert_eq!(lookups(&m), after_first, "a refusal is cached for a minute");
    // Joining without a chat_member update: only the button can know.
    m.emu.set_member(NEWS, 12, "member");
    m.tap(12, JOINED, "Thank you for joining").await;
    assert_eq!(lookups(&m), after_first + 1, "the button looked again");
    assert!(m.emu.answered().iter().any(|(_, t)| t.as_deref() == Some("✅ Thank you!")));
    m.say(12, "/echo three", "three").await;
    m.say(12, "/echo four", "four").await;
    assert_eq!(lookups(&m), after_first + 1, "a pass is cached: no lookup for either message");
    assert_eq!(count(&m, "gate.joined").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_failing_lets_users_in_or_keeps_them_out_as_set() {
    for (fail, answer) in [("open", "through"), ("closed", "can't check your subscription")] {
        let m = bot(&format!("fail = \"{fail}\"")).await;
        m.say(ADMIN, "/subscribe", "Your subscriptions").await; // resolves the channel
        m.emu.set_member(NEWS, 12, "left");
        let before = lookups(&m);
        m.emu.inject(Some("getChatMember"), FaultKind::Status(502, "Bad Gateway".into()));
        m.say(12, "/echo through", answer).await;
        assert_eq!(lookups(&m), before + 1, "fail = {fail}");
        assert_eq!(count(&m, "gate.lookup_failed").await, 1, "fail = {fail}");
        assert_eq!(count(&m, "gate.not_subscribed").await, 0, "a failure is not a refusal (fail = {fail})");
        // Telegram answers again: the user is found not subscribed.
        m.say(12, "/echo again", PROMPT).await;
        assert_eq!(count(&m, "gate.not_subscribed").await, 1, "fail = {fail}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_are_exempt_and_so_are_start_and_help() {
    let m = bot("").await;
    let before = lookups(&m);
    m.say(ADMIN, "/echo mine", "mine").await;
    m.say(ADMIN2, "/echo ours", "ours").await;
    m.emu.send_text(12, "/start");
    m.say(12, "/help", "Here is what I can do").await;
    assert_eq!(lookups(&m), before, "nobody was looked up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_member_update_invalidates_the_cache_and_other_plugins_buttons_are_gated() {
    let m = bot("").await;
    until("the bot asks for chat_member updates", || async {
        m.emu.allowed_updates().is_some_and(|k| k.contains(&"chat_member".to_owned()))
    })
    .await;
    m.emu.set_member(NEWS, 11, "member");
    let how = m.say(11, "/echo", "I will repeat it").await;
    let cached = format!("m:11:{NEWS}");
    assert!(m.kv::<serde_json::Value>("gate", &cached).await.is_some(), "the pass is cached");
    let before = lookups(&m);

    m.emu.member_changed(NEWS, 11, "left", false);
    until("the change drops the cached pass", || async { m.kv::<serde_json::Value>("gate", &cached).await.is_none() })
        .await;
    // Echo's own button, pressed by someone who left: the gate stops it first.
    m.after(11, PROMPT, || {
        m.emu.press(11, how.message_id, "echo:ping");
    })
    .await;
    assert_eq!(lookups(&m), before + 1, "looked up again after the change");
    let answers = m.emu.answered();
    assert!(answers.iter().any(|(_, t)| t.as_deref().is_some_and(|t| t.contains("join the channel first"))));
    assert!(!answers.iter().any(|(_, t)| t.as_deref() == Some("pong")), "echo never saw the press");

    // Back in the channel (Telegram says so): the button works again, no "I've joined" needed.
    m.emu.member_changed(NEWS, 11, "member", true);
    until("the change drops the cached refusal", || async {
        m.kv::<serde_json::Value>("gate", &cached).await.is_none()
    })
    .await;
    m.emu.press(11, how.message_id, "echo:ping");
    let ok = m.emu.wait_sent(WAIT, |e| e.answered().iter().any(|(_, t)| t.as_deref() == Some("pong"))).await;
    assert!(ok, "echo answered the press: {:?}", m.emu.answered());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_whose_members_the_bot_cannot_see_alerts_the_admins_once() {
    let m = bot("").await;
    m.emu.hide_members(NEWS, true);
    m.say(12, "/echo let in", "let in").await; // fail = "open"
    m.say(13, "/echo me too", "me too").await;
    for admin in [ADMIN, ADMIN2] {
        let alerts: Vec<String> =
            m.emu.texts(admin).into_iter().filter(|t| t.contains("member list is inaccessible")).collect();
        assert_eq!(alerts.len(), 1, "admin {admin}: {alerts:?}");
        assert!(alerts[0].contains("administrator of the channel"), "{}", alerts[0]);
    }
    assert_eq!(count(&m, "gate.channel_inaccessible").await, 1);
    assert_eq!(count(&m, "gate.lookup_failed").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_chat_is_served_while_a_lookup_is_slow() {
    // A long budget, so the slow lookup is waited for rather than given up.
    let m = bot_with("", "timeout_ms = 20000").await;
    m.emu.set_member(NEWS, 11, "member");
    m.say(11, "/echo warm", "warm").await;
    m.emu.set_member(NEWS, 12, "left");
    m.emu.inject(Some("getChatMember"), FaultKind::DelayMs(6_000));
    m.emu.send_text(12, "/echo slow");
    until("12's lookup is under way", || async { m.emu.in_flight("getChatMember") == 1 }).await;
    m.say(11, "/echo fast", "fast").await;
    assert_eq!(m.emu.in_flight("getChatMember"), 1, "11 was answered while 12's lookup was still waiting");
    let ok = m.emu.wait_sent(WAIT, |e| e.texts(12).iter().any(|t| t.contains(PROMPT))).await;
    assert!(ok, "12 got the prompt in the end: {:?}", m.emu.texts(12));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugins_cannot_forge_the_hosts_member_topic() {
    // The probe fixture emits whatever topic it is told (and fails the turn when refused).
    let probe = plugin("probe", "probe", ALL);
    let m = market_prepared(&Db::Sqlite, &(tables("", "timeout_ms = 2000") + &probe), channel).await;
    m.h.idle().await;
    let refused = || m.h.rt.metrics().plugin_failures("probe", wharf::metrics::FailureReason::Refused);
    // A chat is served in order: once echo answered, the emit before it was handled.
    m.emu.send_text(ADMIN, "/emit probe.anything");
    m.say(ADMIN, "/echo one", "one").await;
    assert_eq!(refused(), 0, "other topics are fine");
    m.emu.send_text(ADMIN, "/emit telegram.chat-member");
    m.say(ADMIN, "/echo two", "two").await;
    assert_eq!(refused(), 1, "telegram.* is the host's");
}
