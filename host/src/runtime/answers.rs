//! What the host answers itself, so the bot is never silent and admin commands stay
//! the admins':
//!
//! - `/help` (unless a plugin declares it): the commands this user may use, from the
//!   plugins' manifests (admin-only ones for admins only);
//! - an admin-only command from someone else: "This command is for admins." No plugin
//!   sees the message;
//! - `/start` with `[bot.start]`: the greeting and its buttons go out first, and the
//!   plugins still get `/start PAYLOAD` (deep links); a greeting button runs its command
//!   as if the user had typed it;
//! - in a private chat, a message that no plugin answered (sent something to the chat)
//!   or consumed (returned `stop`): `/start` gets the help text, a command no plugin
//!   declares a short pointer to `/help`, anything else the help text after "Sorry, I
//!   didn't understand that." With `[bot] fallback = "silent"` the host answers none of
//!   these (only `/help` and admin-only refusals);
//! - a command whose plugin the circuit breaker disabled: "not available right now"
//!   (private chats, whatever the fallback);
//! - `/reload [PLUGIN]` and `/plugins` from an admin (the host's, even if a plugin
//!   declares them): the reload runs in a task of its own (`runtime::manage`) and the
//!   admin gets its result in their private chat; `/plugins` lists the plugins and their
//!   state. From anyone else they are refused unless a plugin declares them.
//!
//! The host's messages are plain text (no parse mode), so plugins' descriptions need no
//! escaping.

use super::Shared;
use super::plugin::PluginSet;
use crate::caps::TurnState;
use crate::caps::bindings::wharf::bot::types::{CallbackQuery, ChatKind, Command, Event, Message};
use crate::config::Fallback;
use crate::storage::NewOutbox;
use crate::telegram::outbox_call::{AnswerCallbackQuery, Button, ButtonAction, Keyboard, OutboxCall, SendMessage};

/// Callback data of the greeting's buttons: `wharf:run:COMMAND` (plugins may not take
/// the `wharf` prefix).
const RUN: &str = "wharf:run:";
/// The reply to a non-admin's admin-only command.
pub(crate) const ADMINS_ONLY: &str = "This command is for admins.";
/// Telegram's limit on a message's text; the help text stays under it.
const MAX_TEXT: usize = 4096;

/// What to do with an event before the plugins see it.
pub(crate) enum Before {
    /// Route this event (the original, or the command a greeting button runs); queue
    /// these messages first.
    Route(Box<Event>, Vec<NewOutbox>),
    /// The host answered; no plugin sees the event.
    Answered(Vec<NewOutbox>),
}

pub(crate) fn before(shared: &Shared, set: &PluginSet, event: Event, now_ms: i64) -> Before {
    let (event, mut first) = match event {
        Event::Callback(cb) if cb.data.starts_with(RUN) => match pressed_start_button(&cb, now_ms) {
            Some(msg) => (Event::Message(msg), vec![answer_callback(&cb)]),
            None => return Before::Answered(vec![answer_callback(&cb)]),
        },
        other => (other, Vec::new()),
    };
    let Event::Message(msg) = &event else { return Before::Route(Box::new(event), first) };
    let Some(cmd) = &msg.command else { return Before::Route(Box::new(event), first) };
    let admin = is_admin(shared, msg);
    if HOST_ADMIN_COMMANDS.iter().any(|(n, _)| *n == cmd.name) {
        if admin {
            return Before::Answered(vec![admin_command(shared, set, msg, cmd)]);
        }
        if declared(set, &cmd.name).is_none() {
            return Before::Answered(vec![reply(msg, ADMINS_ONLY.into(), None)]);
        }
    }
    match declared(set, &cmd.name) {
        Some(true) if !admin => return Before::Answered(vec![reply(msg, ADMINS_ONLY.into(), None)]),
        Some(_) => {}
        None if cmd.name == "help" => return Before::Answered(vec![reply(msg, help_text(shared, set, admin), None)]),
        None if cmd.name == "dashboard" => {
            return Before::Answered(vec![reply(msg, super::observer::dashboard_reply(shared, msg, now_ms), None)]);
        }
        None => {}
    }
    let live = shared.live();
    if cmd.name == "start"
        && let Some(start) = &live.bot.start
    {
        let rows = start
            .buttons
            .iter()
            .map(|row| {
                row.iter()
                    .map(|b| Button {
                        text: b.text.clone(),
                        action: ButtonAction::Callback(format!("{RUN}{}", b.command)),
                    })
                    .collect()
            })
            .collect::<Vec<Vec<Button>>>();
        let keyboard = (!rows.is_empty()).then_some(Keyboard { inline_keyboard: rows });
        first.push(reply(msg, start.text.clone(), keyboard));
    }
    Before::Route(Box::new(event), first)
}

/// After the plugins ran: in a private chat, a message nobody answered or consumed gets
/// a pointer to `/help` (an unknown command) or the fallback (anything else).
pub(crate) fn after(shared: &Shared, set: &PluginSet, event: &Event, consumed: bool, turn: &mut TurnState) {
    let Event::Message(msg) = event else { return };
    if consumed || msg.chat.kind != ChatKind::Private || msg.chat.id == 0 {
        return;
    }
    if turn.applied.outbox.iter().any(|o| o.chat_id == msg.chat.id) {
        return;
    }
    let silent = shared.live().bot.fallback == Fallback::Silent;
    let owner = msg.command.as_ref().and_then(|cmd| {
        set.plugins.iter().find(|p| p.manifest.commands.iter().any(|c| c.name == cmd.name)).map(|p| (cmd, p))
    });
    let text = match (&msg.command, owner) {
        // The plugin that owns the command is disabled: say so, whatever the fallback.
        (Some(_), Some((cmd, p))) if shared.breaker.is_open(p.name()) => {
            format!("/{} is not available right now. Please try again later.", cmd.name)
        }
        _ if silent => return,
        // A first contact nobody greeted: what the bot can do.
        (Some(cmd), None) if cmd.name == "start" => help_text(shared, set, is_admin(shared, msg)),
        (Some(cmd), None) => format!("I don't know /{}. Send /help to see what I can do.", cmd.name),
        (Some(_), Some(_)) => return,
        (None, _) => format!("Sorry, I didn't understand that.\n\n{}", help_text(shared, set, is_admin(shared, msg))),
    };
    turn.applied.outbox.push(reply(msg, text, None));
}

/// Whether a plugin declares `/name` (`Some(admin_only)`; the first plugin declaring it
/// decides).
fn declared(set: &PluginSet, name: &str) -> Option<bool> {
    set.plugins.iter().flat_map(|p| p.manifest.commands.iter()).find(|c| c.name == name).map(|c| c.admin_only)
}

fn is_admin(shared: &Shared, msg: &Message) -> bool {
    msg.sender.as_ref().is_some_and(|u| shared.admins.contains(&u.id))
}

/// The commands `admin` (or not) may use, one per line with its description; admin-only
/// ones in a section of their own. Clipped under Telegram's limit.
pub(crate) fn help_text(shared: &Shared, set: &PluginSet, admin: bool) -> String {
    let mut public: Vec<(String, String)> = Vec::new();
    let mut admins: Vec<(String, String)> = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for p in set.plugins.iter().filter(|p| !shared.breaker.is_open(p.name())) {
        for c in &p.manifest.commands {
            if seen.contains(&c.name.as_str()) {
                continue;
            }
            seen.push(&c.name);
            let line = (c.name.clone(), c.description.clone());
            if !c.admin_only {
                public.push(line);
            } else if admin {
                admins.push(line);
            }
        }
    }
    if !seen.contains(&"help") {
        public.push(("help".into(), "Show this list".into()));
    }
    if admin {
        let host = |n: &String| HOST_ADMIN_COMMANDS.iter().any(|(h, _)| h == n);
        public.retain(|(n, _)| !host(n));
        admins.retain(|(n, _)| !host(n));
        admins.retain(|(n, _)| n != "admin");
        admins.extend(HOST_ADMIN_COMMANDS.iter().map(|(n, d)| ((*n).to_owned(), (*d).to_owned())));
        // The host's `/admin` menu (`runtime::menu`) comes before any plugin.
        admins.push(("admin".to_owned(), "Plugins' admin views and actions".to_owned()));
    }
    let mut text = String::from("Here is what I can do:");
    let mut left = public.len() + admins.len();
    let sections = [(None, public), (Some("\n\nFor admins:"), admins)];
    for (title, lines) in sections {
        if lines.is_empty() {
            continue;
        }
        if let Some(t) = title {
            text.push_str(t);
        }
        for (name, description) in lines {
            let line = format!("\n/{name} — {description}");
            // Room for the "and N more" line.
            if text.chars().count() + line.chars().count() > MAX_TEXT - 40 {
                text.push_str(&format!("\n…and {left} more"));
                return text;
            }
            text.push_str(&line);
            left -= 1;
        }
    }
    text
}

/// Commands the host answers for admins, with their descriptions.
const HOST_ADMIN_COMMANDS: [(&str, &str); 2] =
    [("reload", "Reload config.toml and changed plugins"), ("plugins", "List the plugins and their state")];

/// An admin's `/reload [PLUGIN]` (queued for the reload task) or `/plugins`.
fn admin_command(shared: &Shared, set: &PluginSet, msg: &Message, cmd: &Command) -> NewOutbox {
    if cmd.name == "plugins" {
        return reply(msg, super::manage::plugins_text(shared), None);
    }
    let name = cmd.args.split_whitespace().next().map(str::to_owned);
    if let Some(n) = &name
        && set.get(n).is_none()
        && !shared.live().specs.iter().any(|s| s.name.as_str() == n)
    {
        return reply(msg, format!("There is no plugin {n}. /plugins lists them."), None);
    }
    let Some(admin) = msg.sender.as_ref().map(|u| u.id) else {
        return reply(msg, ADMINS_ONLY.into(), None);
    };
    shared.reload_asks.ask(super::manage::Ask { admin, plugin: name });
    let text = if msg.chat.id == admin {
        "🔄 Reloading… the result follows here."
    } else {
        "🔄 Reloading… I'll send you the result in our private chat."
    };
    reply(msg, text.into(), None)
}

/// The command message a greeting button stands for, from the user who pressed it, in
/// the chat of the greeting.
fn pressed_start_button(cb: &CallbackQuery, now_ms: i64) -> Option<Message> {
    let name = cb.data.strip_prefix(RUN)?;
    let chat = cb.chat.clone()?;
    Some(Message {
        id: cb.message_id.unwrap_or_default(),
        chat,
        sender: Some(cb.sender.clone()),
        text: Some(format!("/{name}")),
        command: Some(Command { name: name.to_owned(), args: String::new() }),
        reply_to: None,
        date: now_ms / 1000,
        document: None,
    })
}

fn answer_callback(cb: &CallbackQuery) -> NewOutbox {
    let call = OutboxCall::AnswerCallbackQuery(AnswerCallbackQuery {
        callback_query_id: cb.id.clone(),
        ..AnswerCallbackQuery::default()
    });
    NewOutbox { chat_id: cb.chat.as_ref().map_or(cb.sender.id, |c| c.id), plugin: "wharf".into(), call }
}

fn reply(msg: &Message, text: String, keyboard: Option<Keyboard>) -> NewOutbox {
    let call = OutboxCall::SendMessage(SendMessage {
        chat_id: msg.chat.id,
        text,
        reply_markup: keyboard,
        ..SendMessage::default()
    });
    NewOutbox { chat_id: msg.chat.id, plugin: "wharf".into(), call }
}
