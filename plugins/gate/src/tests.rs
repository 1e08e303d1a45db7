//! The gate on the SDK's fake host: who passes, the prompt, the cache and its TTLs,
//! "I've joined", failed lookups under `fail`, admin alerts, other plugins' buttons.

use wharf_sdk::telegram::{ChatInfo, MemberInfo, MemberStatus, TelegramError};
use wharf_sdk::testing::{Harness, custom, json, private_chat, user};
use wharf_sdk::{CallbackQuery, Event, Flow};

use super::GatePlugin;
use crate::reply;

const NEWS: i64 = -1_001_000_000_001;
const ADMIN: i64 = 1000;
const U: i64 = 7;

fn gate(extra: serde_json::Value) -> Harness<GatePlugin> {
    let mut settings = json!({"channels": ["@wharf_news"]});
    if let (Some(s), Some(e)) = (settings.as_object_mut(), extra.as_object()) {
        s.extend(e.clone());
    }
    let mut bot = Harness::<GatePlugin>::new().with_admins(&[ADMIN]).with_settings(settings);
    bot.add_chat(ChatInfo {
        id: NEWS,
        title: Some("Wharf News".into()),
        username: Some("wharf_news".into()),
        invite_link: None,
    });
    bot
}

/// A press of another plugin's button, as the host hands it to a plugin granted
/// `telegram.buttons`: full data, no message id.
fn foreign_press(user_id: i64, data: &str) -> Event {
    Event::Callback(CallbackQuery {
        id: format!("cb-{user_id}"),
        sender: user(user_id),
        chat: Some(private_chat(user_id)),
        message_id: None,
        data: data.into(),
    })
}

fn kinds(bot: &Harness<GatePlugin>) -> Vec<String> {
    bot.business_events().into_iter().map(|e| e.kind).collect()
}

#[test]
fn members_pass_and_the_others_get_the_channel_and_the_recheck_button() {
    let mut bot = gate(json!({}));
    let cases = [
        (MemberStatus::Creator, true, true),
        (MemberStatus::Administrator, true, true),
        (MemberStatus::Member, true, true),
        (MemberStatus::Restricted, true, true),
        (MemberStatus::Restricted, false, false),
        (MemberStatus::Left, false, false),
        (MemberStatus::Kicked, false, false),
    ];
    for (i, (status, is_member, pass)) in cases.into_iter().enumerate() {
        let who = 100 + i64::try_from(i).unwrap();
        bot.set_member_info(NEWS, who, MemberInfo { status, is_member });
        let flow = bot.say(who, "/shop").unwrap();
        assert_eq!(flow == Flow::Continue, pass, "{status:?} is_member={is_member}");
        if !pass {
            let m = bot.messages(who).pop().unwrap();
            assert!(m.text.contains("• Wharf News"), "{}", m.text);
            assert_eq!(m.buttons(), ["📢 Wharf News", reply::JOINED]);
        }
    }
    assert_eq!(kinds(&bot).iter().filter(|k| *k == "gate.not_subscribed").count(), 3);
}

#[test]
fn answers_are_cached_with_two_ttls_and_the_button_bypasses_the_cache() {
    let mut bot = gate(json!({}));
    bot.set_member(NEWS, U, MemberStatus::Left);
    assert_eq!(bot.say(U, "hello").unwrap(), Flow::Stop);
    assert_eq!(bot.lookups(), 1);
    assert_eq!(bot.say(U, "hello").unwrap(), Flow::Stop);
    assert_eq!(bot.lookups(), 1, "a refusal is trusted for 60 s");
    assert_eq!(kinds(&bot), ["gate.not_subscribed"], "a cached refusal is not recorded again");

    // The user joins; the cache still says no, the button asks again.
    bot.set_member(NEWS, U, MemberStatus::Member);
    assert_eq!(bot.say(U, "hello").unwrap(), Flow::Stop);
    assert_eq!(bot.click(U, reply::JOINED).unwrap(), Flow::Stop);
    assert_eq!(bot.lookups(), 2);
    assert_eq!(bot.answers().last().unwrap().text.as_deref(), Some("✅ Thank you!"));
    assert!(bot.texts(U).contains(&reply::THANKS.to_owned()), "the prompt became the thanks");
    assert_eq!(bot.say(U, "hello").unwrap(), Flow::Continue);
    assert_eq!(bot.lookups(), 2, "a pass is cached");
    bot.set_now(bot.now() + 9 * 60_000);
    assert_eq!(bot.say(U, "hello").unwrap(), Flow::Continue);
    assert_eq!(bot.lookups(), 2, "still within 10 minutes");
    bot.set_now(bot.now() + 60_000);
    bot.set_member(NEWS, U, MemberStatus::Left);
    assert_eq!(bot.say(U, "hello").unwrap(), Flow::Stop, "after 10 minutes Telegram is asked again");
    assert_eq!(bot.lookups(), 3);
    assert!(kinds(&bot).contains(&"gate.joined".to_owned()));
}

#[test]
fn a_chat_member_update_drops_the_cached_answer() {
    let mut bot = gate(json!({}));
    bot.set_member(NEWS, U, MemberStatus::Member);
    assert_eq!(bot.say(U, "hi").unwrap(), Flow::Continue);
    bot.set_member(NEWS, U, MemberStatus::Left);
    let payload = json!({"chat_id": NEWS, "user_id": U, "status": "left", "is_member": false}).to_string();
    // Anyone may emit other topics, but only the host's source counts.
    bot.send(custom("telegram.chat-member", payload.as_bytes(), "mallory")).unwrap();
    assert_eq!(bot.say(U, "hi").unwrap(), Flow::Continue, "a forged change changes nothing");
    bot.send(custom("telegram.chat-member", payload.as_bytes(), "telegram")).unwrap();
    assert_eq!(bot.say(U, "hi").unwrap(), Flow::Stop);
    assert_eq!(bot.lookups(), 2);
}

#[test]
fn a_failed_lookup_follows_fail_and_is_counted_apart() {
    for (fail, flow) in [("open", Flow::Continue), ("closed", Flow::Stop)] {
        let mut bot = gate(json!({"fail": fail}));
        bot.say(ADMIN, "/subscribe").unwrap(); // resolves the channel
        bot.fail_lookups(Some(TelegramError::Unavailable("Telegram did not answer in time".into())));
        assert_eq!(bot.say(U, "hello").unwrap(), flow, "fail = {fail}");
        assert_eq!(kinds(&bot), ["gate.lookup_failed"], "fail = {fail}");
        let e = bot.business_events().pop().unwrap();
        assert!(e.fields.iter().any(|f| f.key == "reason" && f.value == "unavailable"), "{e:?}");
        if fail == "closed" {
            assert_eq!(bot.last_text(U).as_deref(), Some(reply::CANNOT_CHECK));
        } else {
            assert!(bot.texts(U).is_empty(), "fail open says nothing");
        }
        assert!(bot.texts(ADMIN).len() == 1, "an outage is not the admins' to fix");
    }
}

#[test]
fn a_channel_the_bot_cannot_see_alerts_the_admins_once() {
    let mut bot = gate(json!({}));
    bot.say(ADMIN, "hi").unwrap();
    bot.fail_lookups(Some(TelegramError::Other("Bad Request: member list is inaccessible".into())));
    let now = bot.now();
    bot.run(|| crate::health::probe(&crate::settings::Gate::load().unwrap(), now)).unwrap();
    assert_eq!(bot.say(U, "hello").unwrap(), Flow::Continue, "fail open");
    assert_eq!(bot.say(8, "hello").unwrap(), Flow::Continue);
    let alerts = bot.texts(ADMIN);
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert!(alerts[0].contains("member list is inaccessible") && alerts[0].contains("administrator"), "{}", alerts[0]);
    let k = kinds(&bot);
    assert_eq!(k.iter().filter(|k| *k == "gate.channel_inaccessible").count(), 1, "{k:?}");
    assert_eq!(k.iter().filter(|k| *k == "gate.lookup_failed").count(), 2, "{k:?}");
}

#[test]
fn admins_exempt_commands_and_events_pass_without_lookups() {
    let mut bot = gate(json!({"exempt_commands": ["start", "help", "price"]}));
    assert_eq!(bot.say(ADMIN, "/shop").unwrap(), Flow::Continue);
    assert_eq!(bot.say(U, "/start ref_1").unwrap(), Flow::Continue);
    assert_eq!(bot.say(U, "/price").unwrap(), Flow::Continue);
    assert_eq!(bot.send(foreign_press(ADMIN, "shop:buy:1")).unwrap(), Flow::Continue);
    assert_eq!(bot.lookups(), 0);
}

#[test]
fn another_plugins_button_is_stopped_with_a_popup_and_the_prompt() {
    let mut bot = gate(json!({}));
    assert_eq!(bot.send(foreign_press(U, "echo:ping")).unwrap(), Flow::Stop);
    let answer = bot.answers().pop().unwrap();
    assert!(answer.show_alert && answer.text.as_deref() == Some(reply::PRESS_REFUSED), "{answer:?}");
    assert!(bot.last_text(U).unwrap().contains("Wharf News"));
    bot.set_member(NEWS, 8, MemberStatus::Member);
    assert_eq!(bot.send(foreign_press(8, "echo:ping")).unwrap(), Flow::Continue);
}

#[test]
fn any_needs_one_channel_and_stops_looking_once_one_passes() {
    let mut bot = gate(json!({"channels": ["@wharf_news", "-1002000000002"], "require": "any"}));
    bot.set_member(-1_002_000_000_002, U, MemberStatus::Member);
    assert_eq!(bot.say(U, "hi").unwrap(), Flow::Continue);
    assert_eq!(bot.lookups(), 2, "the first said no, the second yes");
    assert_eq!(bot.say(U, "hi").unwrap(), Flow::Continue);
    assert_eq!(bot.lookups(), 2, "the cached yes decides");
    assert_eq!(bot.say(8, "hi").unwrap(), Flow::Stop);
    let prompt = bot.messages(8).pop().unwrap();
    assert!(prompt.text.contains("at least one"), "{}", prompt.text);
    // The channel given by id has no title or link from getChat here: no URL button.
    assert_eq!(prompt.buttons(), ["📢 Wharf News", reply::JOINED]);
}

#[test]
fn subscribe_shows_each_channel() {
    let mut bot = gate(json!({"channels": ["@wharf_news", "-1002000000002"]}));
    bot.set_member(NEWS, U, MemberStatus::Member);
    assert_eq!(bot.say(U, "/subscribe").unwrap(), Flow::Stop);
    let m = bot.messages(U).pop().unwrap();
    assert!(m.text.contains("✅ Wharf News — member\n❌ -1002000000002 — not joined (left)"), "{}", m.text);
    assert_eq!(m.buttons(), [reply::JOINED]);
}

#[test]
fn an_unknown_username_is_a_failed_lookup() {
    let mut bot = gate(json!({"channels": ["@no_such_chan"], "fail": "closed"}));
    assert_eq!(bot.say(U, "hi").unwrap(), Flow::Stop);
    assert_eq!(bot.last_text(U).as_deref(), Some(reply::CANNOT_CHECK));
    assert_eq!(bot.lookups(), 0);
    assert!(bot.texts(ADMIN)[0].contains("chat not found"), "{:?}", bot.texts(ADMIN));
}
