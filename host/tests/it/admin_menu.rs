//! The Telegram `/admin` menu end to end, through the Bot API emulator: the third-party
//! fixture `console` (one view, one action; built from `plugins/fixtures/console`)
//! appears in the menu without host changes, its view shows what `Console::view` shows,
//! its action asks its parameters, is confirmed and runs once however often Yes is
//! pressed, and the admin gets the reply. Non-admins are refused, and the echo plugin's
//! own buttons and messages, in the admin's chat and in others', are served as before.
//!
//! The test reads the fixture's spec through `Console::plugins` and answers whatever it
//! asks (choices by their buttons, other kinds typed, optional ones skipped), so it holds
//! for any fixture with at least one view and one action.

use std::sync::Arc;
use std::time::Duration;

use wharf::panel::{Item, Output, ParamKind, Surface, Who, render};
use wharf::sink::format::escape;
use wharf::telegram::emulator::Sent;

use crate::common::*;
use crate::market::{ADMIN, Market, market_from, until};

/// The third-party fixture with an admin export.
const FIXTURE: &str = "console";
/// Someone who is not an admin.
const USER: i64 = 12;

async fn bot() -> Arc<Market> {
    let tables = plugin(FIXTURE, FIXTURE, r#"grants = ["kv", "telegram", "events", "scheduler"]"#)
        + &plugin("echo", "echo", r#"grants = ["telegram.send"]"#);
    let m = market_from(&Db::Sqlite, &tables).await;
    m.h.idle().await;
    m
}

/// The fixture's first view and first action, as the host lists them.
fn items(m: &Market) -> (Item, Item) {
    let listed = m.h.rt.console().plugins();
    let p = listed.iter().find(|p| p.plugin == FIXTURE).unwrap_or_else(|| panic!("{FIXTURE} is listed: {listed:?}"));
    (p.spec.views[0].clone(), p.spec.actions[0].clone())
}

/// A value an admin would type for `kind`.
fn sample(kind: &ParamKind) -> &'static str {
    match kind {
        ParamKind::Text | ParamKind::Choice(_) => "menu test",
        ParamKind::Integer => "3",
        ParamKind::Amount(_) => "1",
        ParamKind::Date => "2026-12-01",
        ParamKind::UserId => "42",
        ParamKind::Ids => "a1,b2",
    }
}

/// What the menu asks for parameter `i` of `item`, or `done` after the last one.
fn prompt(item: &Item, i: usize, done: &str) -> String {
    item.params.get(i).map_or_else(|| done.to_owned(), |p| format!("Send the {}", escape(&p.title)))
}

/// Answer every parameter the menu asks for `item` (the first question is on screen):
/// required choices by their first button, other required ones typed, optional ones
/// skipped. Returns the parameters given and the screen after the last answer.
async fn answer_all(m: &Market, item: &Item, done: &str) -> (Vec<(String, String)>, Option<Sent>) {
    let mut given = Vec::new();
    let mut last = None;
    for (i, p) in item.params.iter().enumerate() {
        let next = prompt(item, i + 1, done);
        last = Some(match &p.kind {
            _ if !p.required => m.tap(ADMIN, "Skip", &next).await,
            ParamKind::Choice(list) => {
                given.push((p.name.clone(), list[0].clone()));
                m.tap(ADMIN, &list[0], &next).await
            }
            kind => {
                given.push((p.name.clone(), sample(kind).to_owned()));
                m.say(ADMIN, sample(kind), &next).await
            }
        });
    }
    (given, last)
}

/// The `<pre>` body the menu shows for `out`.
fn shown(out: &Output) -> String {
    escape(render::text(&Output { blocks: out.blocks.clone(), next_page: None }).trim_end())
}

fn admin() -> Who {
    Who::telegram(ADMIN, Surface::Telegram)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fixture_appears_its_view_shows_and_its_action_runs_once() {
    let m = bot().await;
    let (view, action) = items(&m);
    let home = m.say(ADMIN, "/admin", "Choose a plugin").await;
    assert!(home.buttons().iter().flatten().any(|b| b.text == FIXTURE), "{:?}", home.buttons());
    let menu = m.tap(ADMIN, FIXTURE, "views show").await;
    assert_eq!(menu.message_id, home.message_id, "the menu is edited in place");

    // The view: its parameters, then what Console::view shows for them.
    let first = prompt(&view, 0, "<pre>");
    let asked = m.tap(ADMIN, &view.title, &first).await;
    assert_eq!(asked.message_id, home.message_id);
    let (given, _) = answer_all(&m, &view, "<pre>").await;
    let console = m.h.rt.console();
    let out = console.view(FIXTURE, &view.name, &given, None, &admin()).await.expect("the view runs");
    let body = shown(&out);
    let page = m.emu.sent(ADMIN).into_iter().rev().find(|s| s.text.contains("<pre>")).expect("the view is shown");
    assert!(page.text.contains(&body), "{:?} should show {body:?}", page.text);
    assert_eq!(page.parse_mode.as_deref(), Some("HTML"));
    if let Some(cursor) = &out.next_page {
        let next = console.view(FIXTURE, &view.name, &given, Some(cursor), &admin()).await.expect("page 2");
        m.tap(ADMIN, "Next page", &shown(&next)).await;
    }
    m.tap(ADMIN, "Back", "views show").await;

    // The action: its parameters, the confirmation, Yes pressed twice.
    m.tap(ADMIN, &action.title, &prompt(&action, 0, "Run it?")).await;
    answer_all(&m, &action, "Run it?").await;
    let (id, yes) = m.button(ADMIN, "Yes").expect("a Yes button");
    let reply = format!("{FIXTURE} · {}", action.name);
    let replied = |m: &Market| {
        let texts = m.emu.texts(ADMIN);
        texts.iter().filter(|t| t.starts_with(&format!("✅ {reply}")) || t.starts_with(&format!("⚠️ {reply}"))).count()
    };
    m.emu.press(ADMIN, id, &yes);
    m.emu.press(ADMIN, id, &yes);
    until("the admin gets the action's reply", || async { replied(&m) >= 1 }).await;
    until("the second press is answered", || async {
        m.emu.answered().iter().any(|(_, t)| t.as_deref().is_some_and(|t| t.contains("Already done")))
    })
    .await;
    m.h.idle().await;
    assert_eq!(replied(&m), 1, "one reply: {:#?}", m.emu.texts(ADMIN));
    let runs: Vec<_> = m
        .events()
        .await
        .into_iter()
        .filter(|(kind, _, f)| kind == "admin.action" && f["plugin"] == FIXTURE && f["action"] == action.name.as_str())
        .collect();
    assert_eq!(runs.len(), 1, "the action ran once: {runs:?}");
    assert_eq!(runs[0].1, Some(ADMIN), "recorded with the admin's id");
    assert!(m.emu.sent(ADMIN).iter().any(|s| s.text.contains("Queued")), "the menu said it was queued");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_admins_are_refused_and_plugins_keep_their_buttons_and_messages() {
    let m = bot().await;
    let refused = m.say(USER, "/admin", "This command is for admins.").await;
    // A forged menu button is refused too, with nothing shown.
    let before = m.emu.sent(USER).len();
    m.emu.press(USER, refused.message_id, "wharf:m:h:0");
    until("the forged press is answered", || async {
        m.emu.answered().iter().any(|(_, t)| t.as_deref() == Some("This command is for admins."))
    })
    .await;
    assert_eq!(m.emu.sent(USER).len(), before);
    // Echo's own command and button, for the user and for the admin.
    for who in [USER, ADMIN] {
        m.say(who, "/echo", "I will repeat it").await;
        let pongs = || m.emu.answered().iter().filter(|(_, t)| t.as_deref() == Some("pong")).count();
        let had = pongs();
        let (id, data) = m.button(who, "Ping").expect("echo's button");
        m.emu.press(who, id, &data);
        until("echo answers its button", || async { pongs() > had }).await;
    }
    // An admin in a group gets a pointer to the private chat.
    m.emu.send_text_in(ADMIN, -100_500, "/admin");
    until("the group gets the pointer", || async { m.emu.texts(-100_500).iter().any(|t| t.contains("private chat")) })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_takes_only_the_admins_next_message_and_ends_with_a_command() {
    let m = bot().await;
    let (view, action) = items(&m);
    // An item whose first question is typed (not a choice) shows the wrong-answer loop.
    let item = [&action, &view]
        .into_iter()
        .find(|i| i.params.first().is_some_and(|p| !matches!(p.kind, ParamKind::Choice(_))))
        .or_else(|| [&action, &view].into_iter().find(|i| !i.params.is_empty()))
        .expect("the fixture asks for something")
        .clone();
    m.say(ADMIN, "/admin", "Choose a plugin").await;
    m.tap(ADMIN, FIXTURE, "views show").await;
    let question = prompt(&item, 0, "");
    m.tap(ADMIN, &item.title, &question).await;
    // Another user's chat is served meanwhile, and their text is not an answer.
    m.say(USER, "/echo hello", "hello").await;
    if matches!(item.params[0].kind, ParamKind::Integer | ParamKind::UserId | ParamKind::Date | ParamKind::Amount(_)) {
        let again = m.say(ADMIN, "not a value", "⚠️").await;
        assert!(again.text.contains(&question), "asked again: {}", again.text);
    }
    let key = format!("chat:{ADMIN}");
    assert!(m.h.rt.storage().kv_get("_menu", &key).await.expect("kv").0.is_some(), "a conversation is open");
    // A new command ends it and goes to its plugin.
    m.say(ADMIN, "/echo mine", "mine").await;
    m.h.idle().await;
    assert!(m.h.rt.storage().kv_get("_menu", &key).await.expect("kv").0.is_none(), "the conversation ended");
    // Later text is nobody's answer: echo still answers its command after it, and the menu says nothing.
    let menu_said = |m: &Market| m.emu.texts(ADMIN).iter().filter(|t| t.contains("Send the")).count();
    let asked = menu_said(&m);
    m.emu.send_text(ADMIN, "42");
    m.say(ADMIN, "/echo after", "after").await;
    assert_eq!(menu_said(&m), asked);
    // /cancel ends a question; a stale button then does nothing.
    m.say(ADMIN, "/admin", "Choose a plugin").await;
    m.tap(ADMIN, FIXTURE, "views show").await;
    m.tap(ADMIN, &item.title, &question).await;
    let stale = m.button(ADMIN, "Cancel").expect("a Cancel button");
    m.say(ADMIN, "/cancel", "Cancelled.").await;
    m.emu.press(ADMIN, stale.0, &stale.1);
    until("the stale button is answered", || async {
        m.emu.answered().iter().any(|(_, t)| t.as_deref().is_some_and(|t| t.contains("expired")))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_expires_after_ten_minutes() {
    let m = bot().await;
    let (view, action) = items(&m);
    let item = [&view, &action].into_iter().find(|i| !i.params.is_empty()).expect("a parameter").clone();
    m.say(ADMIN, "/admin", "Choose a plugin").await;
    m.tap(ADMIN, FIXTURE, "views show").await;
    m.tap(ADMIN, &item.title, &prompt(&item, 0, "")).await;
    m.h.rt.clock().advance(Duration::from_secs(10 * 60 + 1));
    let before = m.emu.sent(ADMIN).len();
    m.emu.send_text(ADMIN, sample(&item.params[0].kind));
    m.say(ADMIN, "/echo later", "later").await;
    let new: Vec<String> = m.emu.sent(ADMIN)[before..].iter().map(|s| s.text.clone()).collect();
    assert_eq!(new, ["later"], "the expired question took nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_plugin_can_claim_the_menus_callback_prefix() {
    let tables = plugin("impostor", "impostor", r#"grants = ["telegram.send"]"#)
        + "[plugins.impostor.settings]\nprefix = \"wharf\"\ncommand = \"impostor\"\n";
    let err = try_start_with(&Db::Sqlite, &[ADMIN], &tables, "").await.err().expect("the impostor is refused");
    let err = format!("{err:#}");
    assert!(err.contains(r#"callback prefix "wharf" is the host's"#), "{err}");
}
