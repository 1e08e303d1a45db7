//! # gate: use the bot only after joining its channels
//!
//! Runs first in the chain (give it the lowest `order`). For a user who is not in the
//! configured channels it stops messages and button presses and answers with a button
//! per channel and "I've joined", which checks again without the cache. Admins, exempt
//! commands (`/start`, `/help` by default), timers and events pass untouched.
//!
//! | module | what it does |
//! |---|---|
//! | [`settings`] | `[plugins.gate.settings]`, checked at load |
//! | [`rules`] | who passes, cache freshness, what several channels add up to (pure) |
//! | [`check`] | channel resolution, cached lookups, failed-lookup reports |
//! | [`health`] | whether the bot can see the members; admin alerts |
//! | [`reply`] | the prompt, `/subscribe`, the other answers |
//! | [`panel`] | admin views and actions for `/admin`, `wharf admin` and the dashboard (the `admin` export) |
//!
//! Grants: `kv`, `telegram` (sends and member lookups) and `telegram.buttons` (to see
//! other plugins' button presses before them; without it only messages are gated).
//! It subscribes to `telegram.chat-member` (Telegram's `chat_member` updates, sent for
//! channels where the bot is an administrator): a change drops the cached answer.

pub mod check;
pub mod health;
pub mod panel;
pub mod reply;
pub mod rules;
pub mod settings;

use wharf_sdk::log::Event as BusinessEvent;
use wharf_sdk::prelude::*;
use wharf_sdk::{kv, telegram};

use rules::{Action, Verdict};
use settings::Gate;

/// The plugin.
pub struct GatePlugin;

/// The callback namespace.
pub const PREFIX: &str = "gate";

/// The host's topic of `chat_member` updates, and the only source trusted on it.
pub const MEMBER_TOPIC: &str = "telegram.chat-member";
/// The source of the host's Telegram events.
pub const TELEGRAM: &str = "telegram";

impl Plugin for GatePlugin {
    fn describe() -> Manifest {
        // A bad settings table stops the plugin from loading, with the reason (without
        // `channels` the host refuses it anyway: the setting is required).
        let configured = wharf_sdk::settings::get::<serde_json::Value>("channels").ok().flatten().is_some();
        if configured && let Err(e) = Gate::load() {
            panic!("invalid [plugins.gate.settings]: {e}");
        }
        Manifest::new("gate", env!("CARGO_PKG_VERSION"))
            .command("subscribe", "Your subscription to the bot's channels")
            .callback_prefix(PREFIX)
            .topic(MEMBER_TOPIC)
            .setting("channels", "Channels to join: [\"@username\", \"-1001234567890\"]", true)
            .setting("require", "\"all\" (default) or \"any\" of the channels", false)
            .setting("cache_minutes", "How long a membership is trusted (default 10)", false)
            .setting("negative_cache_seconds", "How long a missing membership is trusted (default 60)", false)
            .setting("fail", "When Telegram cannot say: \"open\" (default) lets users in, \"closed\" stops them", false)
            .setting("exempt_commands", "Commands anyone may use (default [\"start\", \"help\"])", false)
            .setting("message", "The text above the channel buttons", false)
    }

    fn handle(event: Event, ctx: Context) -> Result<Flow, HandlerError> {
        let gate = Gate::load().map_err(HandlerError::InvalidInput)?;
        match event {
            Event::Lifecycle(_) => {
                health::probe(&gate, ctx.now_ms)?;
                Ok(Flow::Continue)
            }
            Event::Custom(c) if c.topic == MEMBER_TOPIC && c.source == TELEGRAM => {
                forget(&c.payload)?;
                Ok(Flow::Continue)
            }
            Event::Message(m) => on_message(&gate, &m, &ctx),
            Event::Callback(cb) => on_press(&gate, &cb, &ctx),
            _ => Ok(Flow::Continue),
        }
    }
}

wharf_sdk::export_plugin!(GatePlugin);
wharf_sdk::export_admin!(GatePlugin);

/// A `chat_member` change: the cached answer for that user and chat is dropped, so the
/// next message looks it up again.
fn forget(payload: &[u8]) -> Result<(), HandlerError> {
    #[derive(serde::Deserialize)]
    struct Change {
        chat_id: i64,
        user_id: i64,
    }
    let Ok(c) = serde_json::from_slice::<Change>(payload) else { return Ok(()) };
    kv::delete(&format!("m:{}:{}", c.user_id, c.chat_id))?;
    Ok(())
}

fn on_message(gate: &Gate, m: &Message, ctx: &Context) -> Result<Flow, HandlerError> {
    let Some(user) = m.sender.as_ref().filter(|u| !u.is_bot) else { return Ok(Flow::Continue) };
    if let Some(cmd) = &m.command {
        if cmd.name == "subscribe" {
            let checked = check::check(gate, user.id, ctx.now_ms, true)?;
            telegram::send(m.chat.id, &reply::status(gate, &checked, ctx.is_admin))?;
            return Ok(Flow::Stop);
        }
        if gate.exempt_commands.contains(&cmd.name) {
            return Ok(Flow::Continue);
        }
    }
    if ctx.is_admin {
        return Ok(Flow::Continue);
    }
    let checked = check::check(gate, user.id, ctx.now_ms, false)?;
    match rules::action(checked.verdict, gate.fail) {
        Action::Let => Ok(Flow::Continue),
        Action::Prompt => {
            refused(&checked, user.id)?;
            telegram::send(m.chat.id, &reply::prompt(gate, &checked))?;
            Ok(Flow::Stop)
        }
        Action::CannotCheck => {
            telegram::send_text(m.chat.id, reply::CANNOT_CHECK)?;
            Ok(Flow::Stop)
        }
    }
}

fn on_press(gate: &Gate, cb: &CallbackQuery, ctx: &Context) -> Result<Flow, HandlerError> {
    if cb.data == reply::RECHECK {
        return recheck(gate, cb, ctx);
    }
    // Another plugin's button (seen with the grant `telegram.buttons`): its data keeps
    // its owner's prefix. Anything else of our own is stale: ignore it.
    if !cb.data.contains(':') || ctx.is_admin || cb.sender.is_bot {
        return Ok(Flow::Continue);
    }
    let checked = check::check(gate, cb.sender.id, ctx.now_ms, false)?;
    let chat = cb.chat.as_ref().map_or(cb.sender.id, |c| c.id);
    match rules::action(checked.verdict, gate.fail) {
        Action::Let => Ok(Flow::Continue),
        Action::Prompt => {
            refused(&checked, cb.sender.id)?;
            telegram::answer_callback_alert(&cb.id, reply::PRESS_REFUSED)?;
            telegram::send(chat, &reply::prompt(gate, &checked))?;
            Ok(Flow::Stop)
        }
        Action::CannotCheck => {
            telegram::answer_callback_alert(&cb.id, reply::CANNOT_CHECK)?;
            Ok(Flow::Stop)
        }
    }
}

/// "I've joined": look again without the cache.
fn recheck(gate: &Gate, cb: &CallbackQuery, ctx: &Context) -> Result<Flow, HandlerError> {
    let checked = check::check(gate, cb.sender.id, ctx.now_ms, true)?;
    match rules::action(checked.verdict, gate.fail) {
        Action::Let => {
            telegram::answer_callback(&cb.id, Some("✅ Thank you!"))?;
            if let (Some(chat), Some(id)) = (&cb.chat, cb.message_id) {
                telegram::edit(chat.id, id, &Outgoing::text(reply::THANKS))?;
            }
            if checked.verdict == Verdict::Pass {
                BusinessEvent::new("gate.joined")
                    .title("Joined the channels")
                    .emoji("📢")
                    .user(cb.sender.id)
                    .record()?;
            }
        }
        Action::Prompt => telegram::answer_callback_alert(&cb.id, &reply::still_missing(&checked))?,
        Action::CannotCheck => telegram::answer_callback_alert(&cb.id, reply::CANNOT_CHECK)?,
    }
    Ok(Flow::Stop)
}

/// A refusal found by a lookup now (not from the cache) is recorded as
/// `gate.not_subscribed`, apart from failed lookups; cached refusals are not repeated.
fn refused(checked: &check::Checked, user: i64) -> Result<(), HandlerError> {
    if !checked.found_missing() {
        return Ok(());
    }
    let names: Vec<&str> = checked.missing().iter().map(|l| l.name.as_str()).collect();
    BusinessEvent::new("gate.not_subscribed")
        .title("Stopped by the subscription gate")
        .emoji("🔒")
        .user(user)
        .field("missing", names.join(", "))
        .record()?;
    Ok(())
}

#[cfg(test)]
mod tests;
