//! What the host answers itself, through the emulator as a user sees it: `/help` per
//! user, admin-only commands refused before any plugin runs, unknown commands, the
//! fallback, the `/start` greeting and its buttons, and the set checks an operator
//! sees at start (`[bot.start]` buttons, duplicate commands, renamed modules).

use wharf::Runtime;
use wharf::config::Config;

use crate::common::*;
use crate::telegram::{WAIT, bot};

const HELP: &str = "[bot]\nfallback = \"help\"\n";
const ADMIN: i64 = 1000;

/// echo, then probe counting its calls.
fn plugins(bot_table: &str) -> String {
    plugin("echo", "echo", r#"grants = ["telegram.send"]"#)
        + &plugin("probe", "probe", &format!("{ALL}\nsettings = {{ count_calls = \"yes\" }}"))
        + bot_table
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_lists_what_each_user_may_use() {
    let b = bot(&plugins(HELP)).await;
    b.emu.send_text(5, "/help");
    b.emu.send_text(ADMIN, "/help");
    assert!(b.emu.wait_sent(WAIT, |e| e.texts(5).len() == 1 && e.texts(ADMIN).len() == 1).await);
    let user = &b.emu.texts(5)[0];
    assert_eq!(
        user,
        "Here is what I can do:\n/echo — Repeat your words\n/rmw — Read-modify-write a shared counter\n/help — Show this list",
        "admin-only commands are hidden from users"
    );
    let admin = &b.emu.texts(ADMIN)[0];
    assert!(admin.starts_with(user.as_str()), "{admin}");
    assert!(
        admin.ends_with(
            "\n\nFor admins:\n/whoami — Who am I\n/reload — Reload config.toml and changed plugins\n\
             /plugins — List the plugins and their state\n/admin — Plugins' admin views and actions"
        ),
        "{admin}"
    );
    b.h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_command_from_a_user_never_reaches_the_plugin() {
    let b = bot(&plugins(HELP)).await;
    b.h.idle().await;
    let calls = b.h.kv::<i64>("probe", "calls").await.unwrap_or(0);
    b.emu.send_text(5, "/whoami");
    assert!(b.emu.wait_sent(WAIT, |e| e.texts(5).len() == 1).await);
    assert_eq!(b.emu.texts(5), ["This command is for admins."]);
    b.h.idle().await;
    assert_eq!(b.h.kv::<i64>("probe", "calls").await.unwrap_or(0), calls, "probe was not called");
    // The admin's goes through, and is counted: the counter would have shown a call.
    b.emu.send_text(ADMIN, "/whoami");
    assert!(b.emu.wait_sent(WAIT, |e| e.texts(ADMIN).len() == 1).await);
    assert!(b.emu.texts(ADMIN)[0].starts_with("admin=true"), "{:?}", b.emu.texts(ADMIN));
    b.h.idle().await;
    assert_eq!(b.h.kv::<i64>("probe", "calls").await.unwrap_or(0), calls + 1);
    b.h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_commands_and_unanswered_messages_get_an_answer_in_private_only() {
    let b = bot(&plugins(HELP)).await;
    b.emu.send_text(5, "/nope");
    b.emu.send_text(5, "hello?");
    b.emu.send_text(5, "/echo still works");
    assert!(b.emu.wait_sent(WAIT, |e| e.texts(5).len() == 3).await, "{:?}", b.emu.texts(5));
    let texts = b.emu.texts(5);
    assert_eq!(texts[0], "I don't know /nope. Send /help to see what I can do.");
    assert!(texts[1].starts_with("Sorry, I didn't understand that.\n\nHere is what I can do:\n/echo"), "{texts:?}");
    assert_eq!(texts[2], "still works", "an answered command gets no extra word from the host");
    // In a group, the host stays quiet about what nobody answered.
    b.emu.send_text_in(5, -100, "/nope");
    b.emu.send_text_in(5, -100, "chatter");
    b.emu.send_text_in(5, -100, "/echo group");
    assert!(b.emu.wait_sent(WAIT, |e| e.texts(-100).len() == 1).await);
    b.h.idle().await;
    assert_eq!(b.emu.texts(-100), ["group"]);
    b.h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_fallback_answers_nothing_nobody_answered() {
    let b = bot(&plugins("[bot]\nfallback = \"silent\"\n")).await;
    b.emu.send_text(5, "hello?");
    b.emu.send_text(5, "/nope");
    b.emu.send_text(5, "/help");
    assert!(b.emu.wait_sent(WAIT, |e| !e.texts(5).is_empty()).await);
    b.h.idle().await;
    let texts = b.emu.texts(5);
    assert_eq!(texts.len(), 1, "only /help is answered: {texts:?}");
    assert!(texts[0].starts_with("Here is what I can do:"), "{texts:?}");
    b.h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_greets_with_buttons_that_run_commands_and_plugins_still_get_the_payload() {
    let table = "[bot.start]\ntext = \"Welcome!\"\nbuttons = [[{ text = \"Echo\", command = \"echo\" }]]\n";
    let b = bot(&plugins(table)).await;
    b.h.idle().await;
    let calls = b.h.kv::<i64>("probe", "calls").await.unwrap_or(0);
    b.emu.send_text(5, "/start ref_42");
    assert!(b.emu.wait_sent(WAIT, |e| e.texts(5).len() == 1).await);
    let greeting = b.emu.sent(5)[0].clone();
    assert_eq!(greeting.text, "Welcome!");
    let button = &greeting.reply_markup.as_ref().unwrap()["inline_keyboard"][0][0];
    assert_eq!((button["text"].as_str(), button["callback_data"].as_str()), (Some("Echo"), Some("wharf:run:echo")));
    b.h.idle().await;
    assert_eq!(b.h.kv::<i64>("probe", "calls").await.unwrap_or(0), calls + 1, "the plugins got /start ref_42");
    // The button runs /echo as if the user had typed it; the spinner is stopped.
    b.emu.press(5, greeting.message_id, "wharf:run:echo");
    assert!(b.emu.wait_sent(WAIT, |e| e.texts(5).len() == 2 && e.answered().len() == 1).await);
    assert_eq!(b.emu.texts(5)[1], "Send /echo TEXT and I will repeat it.");
    b.h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_greeting_button_for_a_command_nobody_declares_stops_the_start() {
    let table = "[bot.start]\ntext = \"Hi\"\nbuttons = [[{ text = \"Shop\", command = \"shop\" }]]\n";
    let err = try_start_on(&Db::Sqlite, &plugins(table), "").await.err().expect("must not start");
    let msg = format!("{err:#}");
    assert!(msg.contains("[bot.start] button \"Shop\" runs /shop, which no enabled plugin declares"), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_config_warns_about_duplicate_commands_and_renamed_modules() {
    let dir = tempfile::tempdir().unwrap();
    let second =
        plugin("spare", "probe", &format!("{ALL}\nsettings = {{ prefix = \"spare\", topic = \"spare.ping\" }}"));
    let text = config_text(dir.path(), &Db::Sqlite, &(plugins(HELP) + &second), "");
    let config = Config::parse(&text, dir.path()).unwrap();
    let report = Runtime::check_plugins(&config).await.unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(
        report.warnings.iter().any(|w| w.starts_with("/rmw is declared by plugins probe and spare: probe runs first")),
        "{:?}",
        report.warnings
    );
    assert!(
        report.warnings.iter().any(|w| w.starts_with("[plugins.spare] loads a module that calls itself \"probe\"")),
        "{:?}",
        report.warnings
    );
}

#[test]
fn bot_table_mistakes_point_at_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let base = "[storage]\nurl = \"sqlite:x.db\"\n".to_owned();
    let err = Config::parse(&(base.clone() + "[bot]\nfallback = \"loud\"\n"), dir.path()).unwrap_err();
    assert!(err.contains("unknown variant `loud`, expected `help` or `silent`"), "{err}");
    let err = Config::parse(
        &(base + "[bot.start]\ntext = \"Hi\"\nbuttons = [[{ text = \"Go\", command = \"/go\" }]]\n"),
        dir.path(),
    )
    .unwrap_err();
    assert!(err.contains("command \"/go\" must be a command name without the slash"), "{err}");
}

/// A command whose plugin the circuit breaker disabled is answered by the host, even
/// with the silent fallback: the user is not left waiting for a plugin that will not
/// run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_of_a_disabled_plugin_is_not_met_with_silence() {
    let broken = plugin("probe", "probe", &format!("{ALL}\nsettings = {{ mode = \"trap\" }}"));
    // The probe traps on its `installed` event, so one failure disables it at start.
    let h = start_on(&Db::Sqlite, &broken, "max_failures = 1").await;
    h.idle().await;
    assert!(h.rt.is_disabled("probe"));
    h.say(5, "/rmw 1").await;
    h.say(5, "/nope").await;
    h.idle().await;
    assert_eq!(h.sent(5).await, ["/rmw is not available right now. Please try again later."], "silent otherwise");
    h.rt.shutdown().await;
}

/// Noisy neighbour: a user flooding the bot with unknown commands gets the host's
/// answers at their own chat's pace (Telegram's limits, enforced by the emulator), and
/// another user's command is answered meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_flooding_unknown_commands_does_not_hold_up_another() {
    let b = bot(&plugins(HELP)).await;
    for i in 0..300 {
        b.emu.send_text(5, &format!("/nope{i}"));
    }
    b.emu.send_text(6, "/echo still here");
    assert!(b.emu.wait_sent(WAIT, |e| e.texts(6).len() == 1).await, "user 6 got no answer");
    assert_eq!(b.emu.texts(6), ["still here"]);
    let flooded = b.emu.texts(5);
    assert!(flooded.len() < 300, "the flood is paced, not sent at once: {}", flooded.len());
    assert!(flooded.iter().all(|t| t.starts_with("I don't know /nope")), "{flooded:?}");
    assert_eq!(b.emu.too_many(), 0, "Telegram's limits held");
    b.h.rt.shutdown().await;
}
