//! Observers on the fake host: [`Harness::observer`] runs a plugin's `handle` and
//! `observe` the way the host does, [`Harness::observe`] calls `observe` alone.

use super::harness::{Harness, Rollback, context, lane_of};
use super::records::LogLine;
use super::state::{Installed, Turn};
use crate::{Context, Event, Flow, HandlerError, Observer, Plugin};

/// An observer's `observe`.
pub(super) type ObserveFn = fn(Event, Context) -> Result<(), String>;

/// Whether the host hands `event` to observers: the updates from Telegram.
pub(super) fn observed(event: &Event) -> bool {
    matches!(event, Event::Message(_) | Event::Callback(_) | Event::Member(_))
}

impl<P: Plugin + Observer> Harness<P> {
    /// Load an observer (a plugin exported with `export_observer_plugin!`) and run it as
    /// the host does: [`send`](Self::send) and the helpers built on it ([`say`](Self::say),
    /// [`click`](Self::click), …) hand an update (message, button press, member update)
    /// to `handle` only when it is the plugin's own (a command its manifest declares, a
    /// press of its buttons), then to `observe` as a turn of its own, with the same
    /// context. `observe` may not send, edit or delete messages or answer presses
    /// (`AccessDenied`); its effects are kept when it returns `Ok`. An `Err` from it is
    /// kept as an error log line (see [`observe`](Self::observe) to get it); a press it
    /// observes carries the whole callback data, `prefix:` included.
    ///
    /// # Panics
    /// As [`Harness::new`].
    pub fn observer() -> Self {
        let mut harness = Self::new();
        harness.observe = Some(<P as Observer>::observe);
        harness
    }

    /// Hand `event` to `observe` alone, as one turn in the event's chat: its effects are
    /// kept on `Ok` and dropped on `Err` (or a panic); messages to Telegram are denied.
    /// Events it emits on topics the plugin subscribes to go to `handle` next, outside
    /// any chat (the host runs them in the observer's own lane).
    pub fn observe(&mut self, event: Event) -> Result<(), String> {
        let lane = lane_of(&event);
        self.turn_id += 1;
        self.observe_as(<P as Observer>::observe, event, lane, self.turn_id)
    }
}

impl<P: Plugin> Harness<P> {
    /// An update for an observer harness: `handle` if it is the plugin's own, then
    /// `observe` with the same turn id; `send` returns what `handle` returned.
    pub(super) fn send_observed(&mut self, observe: ObserveFn, event: Event, lane: i64) -> Result<Flow, HandlerError> {
        self.turn_id += 1;
        let turn_id = self.turn_id;
        let (own, seen) = {
            let s = self.state.borrow();
            let m = &s.manifest;
            match &event {
                Event::Message(msg) => {
                    let own = msg.command.as_ref().is_some_and(|c| m.commands.iter().any(|d| d.name == c.name));
                    (own, event.clone())
                }
                Event::Callback(cb) => {
                    let mut whole = cb.clone();
                    if let Some(prefix) = &m.callback_prefix {
                        whole.data = format!("{prefix}:{}", cb.data);
                    }
                    (m.callback_prefix.is_some(), Event::Callback(whole))
                }
                _ => (false, event.clone()),
            }
        };
        let handled = if own { self.turn_as(event, lane, 0, false, turn_id) } else { Ok(Flow::Continue) };
        if let Err(e) = self.observe_as(observe, seen, lane, turn_id) {
            let message = format!("observe failed: {e}");
            self.state.borrow_mut().logs.push(LogLine { level: crate::log::Level::Error, message, fields: Vec::new() });
        }
        handled
    }

    /// Run `observe(event)` as one turn in `lane` with turn id `turn_id`.
    fn observe_as(&mut self, observe: ObserveFn, event: Event, lane: i64, turn_id: i64) -> Result<(), String> {
        let ctx = {
            let mut s = self.state.borrow_mut();
            s.turn = Turn { lane, observing: true, ..Turn::default() };
            context(&s, &event, lane, turn_id)
        };
        let before = self.state.borrow().fx.clone();
        let emitted_before = before.emitted.len();
        let rollback = Rollback { state: &self.state, before: Some(before) };
        let result = {
            let _on = Installed::new(&self.state);
            observe(event, ctx)
        };
        rollback.finish(result.is_ok());
        if result.is_ok() {
            self.deliver_emitted(emitted_before, 0, 0);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{Harness, make};
    use crate::{events, kv, prelude::*, telegram};

    /// Counts what it observes per kind; `/stats` (its command) answers with the count;
    /// its button `again` is its own. Observed words: `fail` (an error after a write),
    /// `send` (tries to send), `emit` (an event on its own topic).
    struct Stats;

    impl Plugin for Stats {
        fn describe() -> Manifest {
            Manifest::new("stats", "1.0.0").command("stats", "Counts").callback_prefix("stats").topic("stats.echo")
        }

        fn handle(event: Event, ctx: Context) -> Result<Flow, HandlerError> {
            kv::update("handled", |n: &mut i64| *n += 1)?;
            match event {
                Event::Message(m) if m.command.as_ref().is_some_and(|c| c.name == "stats") => {
                    let n: i64 = kv::get("messages")?.unwrap_or(0);
                    telegram::send(
                        m.chat.id,
                        &Outgoing::text(format!("{n} messages")).keyboard(Keyboard::new().button("Again", "again")),
                    )?;
                    Ok(Flow::Stop)
                }
                Event::Custom(e) => {
                    kv::set("echo-chat", &ctx.chat_id)?;
                    kv::set("echo", &e.topic)?;
                    Ok(Flow::Continue)
                }
                _ => Ok(Flow::Continue),
            }
        }
    }

    impl Observer for Stats {
        fn observe(event: Event, ctx: Context) -> Result<(), String> {
            let key = match &event {
                Event::Message(m) => {
                    let text = m.text.clone().unwrap_or_default();
                    if text == "fail" {
                        kv::set("dirty", &true)?;
                        return Err("told to fail".into());
                    }
                    if text == "send" {
                        let answer = telegram::send_text(ctx.chat_id.unwrap_or(0), "no");
                        kv::set("send", &format!("{answer:?}"))?;
                    }
                    if text == "emit" {
                        events::emit("stats.echo", &1)?;
                    }
                    "messages".to_owned()
                }
                Event::Callback(cb) => format!("press:{}", cb.data),
                Event::Member(_) => "members".to_owned(),
                _ => "other".to_owned(),
            };
            kv::update(&key, |n: &mut i64| *n += 1)?;
            kv::set("last-turn", &ctx.turn_id)?;
            Ok(())
        }
    }

    crate::export_observer_plugin!(Stats);

    #[test]
    fn an_observer_harness_observes_every_update_and_handles_only_its_own() {
        let mut bot = Harness::<Stats>::observer();
        assert_eq!(bot.say(7, "hello"), Ok(Flow::Continue), "not its own: observed only");
        bot.send(make::member(7, true)).unwrap();
        assert_eq!(bot.say(7, "/other"), Ok(Flow::Continue));
        assert_eq!(bot.kv::<i64>("handled"), None);
        assert_eq!(bot.say(7, "/stats"), Ok(Flow::Stop), "its own command reaches handle");
        assert_eq!(bot.texts(7), ["2 messages"], "observe ran after handle for /stats");
        assert_eq!(bot.kv::<i64>("messages"), Some(3));
        assert_eq!(bot.kv::<i64>("members"), Some(1));
        assert_eq!(bot.kv::<i64>("last-turn"), Some(4), "observe shares the turn id of its update");
        bot.click(7, "Again").unwrap();
        assert_eq!(bot.kv::<i64>("handled"), Some(2), "its button reaches handle");
        assert_eq!(bot.kv::<i64>("press:stats:again"), Some(1), "observed with its whole callback data");
        // Another plugin's button: observed through `observe`.
        bot.observe(make::press(7, 99, "shop:buy")).unwrap();
        assert_eq!(bot.kv::<i64>("press:shop:buy"), Some(1));
    }

    #[test]
    fn observe_may_not_send_and_an_error_drops_its_writes() {
        let mut bot = Harness::<Stats>::observer();
        bot.say(7, "send").unwrap();
        let denied: String = bot.kv("send").unwrap();
        assert!(denied.starts_with("Err(AccessDenied(\"observe() may not send"), "{denied}");
        assert!(bot.texts(7).is_empty());
        assert_eq!(bot.say(7, "fail"), Ok(Flow::Continue), "send returns what handle returned");
        assert_eq!(bot.kv::<bool>("dirty"), None, "observe's writes were dropped");
        assert!(bot.logs().iter().any(|l| l.message == "observe failed: told to fail"));
        assert_eq!(bot.observe(make::text(7, "fail")), Err("told to fail".to_owned()));
    }

    #[test]
    fn events_observe_emits_reach_handle_outside_any_chat() {
        let mut bot = Harness::<Stats>::observer();
        bot.say(7, "emit").unwrap();
        assert_eq!(bot.kv::<String>("echo").as_deref(), Some("stats.echo"));
        assert_eq!(bot.kv::<Option<i64>>("echo-chat"), Some(None));
    }

    #[test]
    fn a_plain_harness_of_an_observer_calls_handle_only() {
        let mut bot = Harness::<Stats>::new();
        bot.say(7, "hello").unwrap();
        assert_eq!(bot.kv::<i64>("handled"), Some(1));
        assert_eq!(bot.kv::<i64>("messages"), None);
    }
}
