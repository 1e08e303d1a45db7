//! The Telegram `/admin` menu: plugins' admin views and actions as buttons, for the
//! bot's admins in a private chat. `turn::chain` hands it every event first
//! ([`intercept`]); it takes only
//!
//! - `/admin` (from a non-admin: "This command is for admins."; from an admin in a
//!   group: a pointer to the private chat);
//! - presses of its buttons (callback data `wharf:m:…`, see `data`);
//! - an admin's plain message (or `/cancel`) in a private chat while a conversation
//!   there is asking for a parameter (any other command ends that conversation and goes
//!   on to the plugins as usual).
//!
//! Everything else passes untouched, so plugins' own buttons and messages, and other
//! users' chats, are served as before. What the menu does is added to the turn: its
//! screens (presses edit the pressed message in place, answers to questions get a new
//! message), its conversation (KV namespace `_menu`, key `chat:CHAT`, read with its
//! version so the commit validates it), and for a confirmed action the inbox row that
//! runs it (`Console::act`'s row: exactly once per request id, its reply sent to the
//! admin by the action's own turn). A view runs here, read-only, with the plugin's time
//! limit; nothing else slow happens in the turn.

mod data;
mod screens;
mod state;

use super::Shared;
use super::plugin::PluginSet;
use crate::caps::TurnState;
use crate::caps::bindings::wharf::bot::types::{CallbackQuery, ChatKind, Event, Message};
use crate::inbox::AdminAct;
use crate::panel::params;
use crate::panel::{PanelPlugin, Surface, Who};
use crate::storage::{NewInbox, NewOutbox};
use crate::telegram::outbox_call::{
    AnswerCallbackQuery, EditMessageText, MessageRef, OutboxCall, ParseMode, SendMessage,
};
use data::{Kind, Press};
use screens::Screen;
use state::{Change, Conv, Input, Next, Stage};

/// The menu's KV namespace (host-reserved: plugin names start with a letter).
const NS: &str = "_menu";
/// `Console`'s KV namespace for actions' replies, and its key (see `runtime::panel`).
const REPLY_NS: &str = super::panel::REPLY_NS;

fn conv_key(chat: i64) -> String {
    format!("chat:{chat}")
}

/// What the menu made of an event.
pub(crate) enum Menu {
    /// Not the menu's: the plugins get it.
    Pass,
    /// Handled; the turn holds the menu's effects and no plugin sees the event.
    Consumed,
    /// Storage failed; the turn is retried.
    Fault(String),
}

/// Handle `event` if it is the menu's, adding what it does to `turn`.
pub(crate) async fn intercept(shared: &Shared, set: &PluginSet, event: &Event, turn: &mut TurnState) -> Menu {
    let done = match event {
        Event::Message(m) => message(shared, set, m, turn).await,
        Event::Callback(cb) if data::is_menu(&cb.data) => press(shared, set, cb, turn).await,
        _ => return Menu::Pass,
    };
    match done {
        Ok(true) => Menu::Consumed,
        Ok(false) => Menu::Pass,
        Err(reason) => Menu::Fault(reason),
    }
}

/// Where a screen goes.
enum Target {
    /// A new message in this chat.
    Send(i64),
    /// Edit this message (the pressed one) in place.
    Edit(i64, i32),
}

/// The chat's conversation with the version read (0: none). A stored conversation that
/// cannot be read counts as none (it is overwritten or expires).
async fn load(shared: &Shared, chat: i64, turn: &mut TurnState) -> Result<(Option<Conv>, i64), String> {
    let key = conv_key(chat);
    let (found, version) = shared.host.storage.kv_get(NS, &key).await.map_err(|e| format!("reading the menu: {e}"))?;
    let conv = found.as_deref().and_then(|b| serde_json::from_slice::<Conv>(b).ok());
    turn.reads.entry((NS.to_owned(), key)).or_insert((version, found));
    Ok((conv, version))
}

async fn message(shared: &Shared, set: &PluginSet, m: &Message, turn: &mut TurnState) -> Result<bool, String> {
    let Some(sender) = &m.sender else { return Ok(false) };
    let admin = shared.admins.contains(&sender.id);
    let opens = m.command.as_ref().is_some_and(|c| c.name == "admin");
    let private = m.chat.kind == ChatKind::Private && m.chat.id != 0;
    if opens && !admin {
        turn.applied.outbox.push(NewOutbox::host_text(m.chat.id, super::answers::ADMINS_ONLY));
        return Ok(true);
    }
    if opens && !private {
        turn.applied.outbox.push(NewOutbox::host_text(m.chat.id, "Send /admin in a private chat with me."));
        return Ok(true);
    }
    if !admin || !private {
        return Ok(false);
    }
    let now_ms = turn.now_ms;
    let (stored, version) = load(shared, m.chat.id, turn).await?;
    let live = stored.filter(|c| c.expires_ms > now_ms && c.user == sender.id);
    let input = match (&live, &m.command) {
        _ if opens => Input::Open,
        (Some(c), Some(cmd)) if c.asking() && cmd.name == "cancel" => Input::Cancel,
        (Some(c), Some(_)) if c.asking() => {
            // A new command ends the conversation; the plugins get the command.
            turn.applied.writes.insert((NS.to_owned(), conv_key(m.chat.id)), None);
            return Ok(false);
        }
        (Some(c), None) if c.asking() => Input::Text(m.text.clone().unwrap_or_default()),
        _ => return Ok(false),
    };
    let plugins = super::panel::listing(shared, set);
    let step = state::step(&plugins, live, sender.id, input, now_ms, &mut fresh);
    apply(shared, set, &plugins, step.next, step.conv, version, Target::Send(m.chat.id), sender.id, turn).await?;
    Ok(true)
}

async fn press(shared: &Shared, set: &PluginSet, cb: &CallbackQuery, turn: &mut TurnState) -> Result<bool, String> {
    let user = cb.sender.id;
    let chat = cb.chat.as_ref().map_or(user, |c| c.id);
    let answer = |text: Option<String>| {
        let call = OutboxCall::AnswerCallbackQuery(AnswerCallbackQuery {
            callback_query_id: cb.id.clone(),
            text,
            show_alert: false,
        });
        NewOutbox { chat_id: chat, plugin: "wharf".into(), call }
    };
    if !shared.admins.contains(&user) {
        turn.applied.outbox.push(answer(Some(super::answers::ADMINS_ONLY.into())));
        return Ok(true);
    }
    let Some(press) = Press::decode(&cb.data) else {
        turn.applied.outbox.push(answer(Some(state::STALE.into())));
        return Ok(true);
    };
    let now_ms = turn.now_ms;
    let (stored, version) = load(shared, chat, turn).await?;
    let live = stored.filter(|c| c.expires_ms > now_ms && c.user == user);
    let plugins = super::panel::listing(shared, set);
    let step = state::step(&plugins, live, user, Input::Press(press), now_ms, &mut fresh);
    let target = match cb.message_id {
        Some(id) => Target::Edit(chat, id),
        None => Target::Send(chat),
    };
    apply(shared, set, &plugins, step.next, step.conv, version, target, user, turn).await?;
    // Answered after the screen, so the spinner stops once the menu changed.
    turn.applied.outbox.push(answer(step.toast));
    Ok(true)
}

/// A fresh nonce or request id (32 hex digits).
fn fresh() -> String {
    super::Console::new_request()
}

/// Show `next` at `target` and store the conversation's change.
#[allow(clippy::too_many_arguments)]
async fn apply(
    shared: &Shared,
    set: &PluginSet,
    plugins: &[PanelPlugin],
    next: Next,
    mut change: Change,
    version: i64,
    target: Target,
    user: i64,
    turn: &mut TurnState,
) -> Result<(), String> {
    let chat = match target {
        Target::Send(c) | Target::Edit(c, _) => c,
    };
    let home = || screens::home(plugins, 0);
    let screen = match next {
        Next::Nothing => None,
        Next::Home(page) => Some(screens::home(plugins, page)),
        Next::Plugin(name, page) => Some(state::plugin(plugins, &name).map_or_else(home, |p| screens::plugin(p, page))),
        Next::Say(text) => Some(screens::say(&text)),
        Next::Ask(c, error) => Some(ask(plugins, &c, error.as_deref()).unwrap_or_else(home)),
        Next::Confirm(c) => Some(state::item(plugins, &c).map_or_else(home, |it| screens::confirm(&c, it))),
        Next::RunView(mut c, page) => {
            let Some(it) = state::item(plugins, &c) else { return Err("a view vanished from the menu".into()) };
            let who = Who::telegram(user, Surface::Telegram);
            let result =
                super::panel::view_on(shared, set, &c.plugin, &c.item, &c.answers, page.as_deref(), &who).await;
            let screen = screens::view(&c, it, &result);
            change = match result.ok().and_then(|o| o.next_page) {
                Some(cursor) => {
                    c.stage = Stage::Viewing(Some(cursor));
                    c.expires_ms = turn.now_ms + state::TTL_MS;
                    Change::Set(c)
                }
                None => Change::Clear,
            };
            Some(screen)
        }
        Next::Queue(c, request) => Some(queue(shared, plugins, &c, &request, user, turn).await?),
    };
    let key = (NS.to_owned(), conv_key(chat));
    match change {
        Change::Keep => {}
        Change::Clear if version == 0 => {}
        Change::Clear => {
            turn.applied.writes.insert(key, None);
        }
        Change::Set(c) => {
            let bytes = serde_json::to_vec(&c).map_err(|e| format!("encoding the menu: {e}"))?;
            turn.applied.writes.insert(key, Some(bytes));
        }
    }
    if let Some(screen) = screen {
        turn.applied.outbox.push(show(target, screen));
    }
    Ok(())
}

fn ask(plugins: &[PanelPlugin], c: &Conv, error: Option<&str>) -> Option<Screen> {
    let Stage::Asking(index) = c.stage else { return None };
    let it = state::item(plugins, c)?;
    Some(screens::ask(c, it, index, it.params.get(index)?, error))
}

fn show(target: Target, screen: Screen) -> NewOutbox {
    let call = match target {
        Target::Send(chat_id) => OutboxCall::SendMessage(SendMessage {
            chat_id,
            text: screen.text,
            parse_mode: Some(ParseMode::Html),
            reply_markup: screen.keyboard,
            ..SendMessage::default()
        }),
        Target::Edit(chat_id, id) => OutboxCall::EditMessageText(EditMessageText {
            chat_id,
            target: MessageRef::Id(id),
            text: screen.text,
            parse_mode: Some(ParseMode::Html),
            reply_markup: screen.keyboard,
        }),
    };
    let chat_id = call.chat_id().unwrap_or_default();
    NewOutbox { chat_id, plugin: "wharf".into(), call }
}

/// Queue the confirmed action as `Console::act` does (the same inbox row, deduplicated
/// by the request id, committed only while the request has no reply), without waiting:
/// the action's turn sends the admin its reply.
async fn queue(
    shared: &Shared,
    plugins: &[PanelPlugin],
    c: &Conv,
    request: &str,
    user: i64,
    turn: &mut TurnState,
) -> Result<Screen, String> {
    let Some(it) = state::item(plugins, c).filter(|_| c.kind == Kind::Action) else {
        return Ok(screens::say(state::STALE));
    };
    let values = match params::parse(it, &c.answers) {
        Ok(v) => v,
        Err(e) => return Ok(screens::say(&format!("⚠️ {e}"))),
    };
    let key = super::panel::reply_key(request);
    let (found, version) =
        shared.host.storage.kv_get(REPLY_NS, &key).await.map_err(|e| format!("reading an action's reply: {e}"))?;
    if found.is_some() {
        return Ok(screens::say("Already done."));
    }
    turn.reads.entry((REPLY_NS.to_owned(), key)).or_insert((version, None));
    let who = Who::telegram(user, Surface::Telegram);
    let act = AdminAct { action: c.item.clone(), params: values, who, request: request.to_owned() };
    let payload = act.encode().map_err(|e| format!("encoding an action: {e}"))?;
    turn.applied.inbox.push(NewInbox {
        lane: 0,
        target: Some(c.plugin.clone()),
        payload,
        dedupe: Some(format!("admin:{request}")),
    });
    tracing::info!(target: "wharf.admin", plugin = %c.plugin, action = %c.item, by = user, "admin action queued from the menu");
    Ok(screens::queued(c, it))
}
