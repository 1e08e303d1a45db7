//! [`Harness`]: one plugin on the fake host, driven event by event.

use std::cell::RefCell;
use std::marker::PhantomData;
use std::rc::Rc;

use serde_json::Value;

use super::records::{LogLine, Shown, Timer};
use super::state::{Installed, State, Turn};
use super::{checks, make};
use crate::{Context, Event, Flow, HandlerError, Manifest, Plugin, TimerFired};

/// Where the manual clock of a new harness starts (2023-11-14 22:13:20 UTC).
pub const T0: i64 = 1_700_000_000_000;

/// Most timers one [`Harness::advance`] fires (a plugin that re-arms a timer forever
/// still ends).
const MAX_FIRED: usize = 100_000;

/// A plugin `P` on an in-process fake host: send it events, then look at what it did.
///
/// Each [`send`](Self::send) is one turn, as on the host: the plugin's KV writes,
/// messages, timers, emitted events and business events are kept if `handle` returns
/// `Ok` and all dropped if it returns `Err` (or panics). Time is a manual clock starting
/// at [`T0`]; [`advance`](Self::advance) moves it and fires the timers that come due.
///
/// The host calls of the SDK's helpers (`kv`, `telegram`, `scheduler`, …) go to this
/// harness while it runs plugin code; outside it they panic with a message. Only one
/// harness serves a thread at a time (tests run on threads of their own).
pub struct Harness<P> {
    pub(super) state: Rc<RefCell<State>>,
    pub(super) turn_id: i64,
    /// The plugin's `observe`, for a harness made by `Harness::observer`.
    pub(super) observe: Option<super::observe::ObserveFn>,
    plugin: PhantomData<fn() -> P>,
}

impl<P: Plugin> Default for Harness<P> {
    fn default() -> Self {
        Self::new()
    }
}

impl<P: Plugin> Harness<P> {
    /// Load the plugin: call `describe()` and check the manifest as the host does.
    ///
    /// # Panics
    /// If the manifest breaks a rule the host enforces (the plugin would not load), or
    /// `describe()` makes a host call other than `config` and `log`.
    pub fn new() -> Self {
        let mut harness =
            Self { state: Rc::new(RefCell::new(State::new(T0))), turn_id: 0, observe: None, plugin: PhantomData };
        harness.load();
        harness
    }

    /// Run `describe()` (with only `config` and `log`) and check the manifest, as the
    /// host does when it loads or reloads the plugin.
    fn load(&mut self) {
        let manifest = {
            let _on = Installed::new(&self.state);
            self.state.borrow_mut().in_describe = true;
            let m = P::describe();
            self.state.borrow_mut().in_describe = false;
            m
        };
        if let Err(e) = checks::manifest(&manifest) {
            panic!("the host would not load this plugin: manifest {e}");
        }
        self.state.borrow_mut().manifest = manifest;
    }

    /// Set the plugin's settings (`[plugins.NAME.settings]`) to the JSON object
    /// `settings` (e.g. `json!({"currency": "PLN"})`) and load the plugin again, as the
    /// host does after a config change.
    ///
    /// # Panics
    /// If `settings` is not a JSON object.
    pub fn with_settings(mut self, settings: Value) -> Self {
        let Value::Object(map) = settings else { panic!("settings must be a JSON object, got {settings}") };
        self.state.borrow_mut().settings = map;
        self.load();
        self
    }

    /// Set one setting and load the plugin again.
    pub fn set_setting(&mut self, key: &str, value: Value) {
        self.state.borrow_mut().settings.insert(key.to_owned(), value);
        self.load();
    }

    /// Set the bot's admins (`admins` in `config.toml`); `Context::is_admin` and
    /// `settings::admins()` follow them.
    pub fn with_admins(mut self, admins: &[i64]) -> Self {
        self.state.borrow_mut().admins = admins.to_vec();
        self.load();
        self
    }

    /// Connect the bot as `@username` with user id `id`: `settings::bot()` returns it
    /// (on the host, once Telegram is connected; without this, `None`).
    pub fn with_bot(self, id: i64, username: &str) -> Self {
        self.state.borrow_mut().bot = Some(crate::settings::BotIdentity { id, username: username.to_owned() });
        self
    }

    /// Mark `user` as first seen by the bot at `at_ms` (`settings::user_first_seen`), e.g. a
    /// user who talked to the bot before the plugin was installed. Users are also marked
    /// by every turn handling their private message, button press or member update.
    pub fn seen(&mut self, user: i64, at_ms: i64) {
        self.state.borrow_mut().first_seen.insert(user, at_ms);
    }

    /// The manifest `describe()` returned.
    pub fn manifest(&self) -> Manifest {
        self.state.borrow().manifest.clone()
    }

    /// The manual clock, in Unix milliseconds.
    pub fn now(&self) -> i64 {
        self.state.borrow().now_ms
    }

    /// Set the clock (no timer fires; see [`advance`](Self::advance)).
    pub fn set_now(&mut self, now_ms: i64) {
        self.state.borrow_mut().now_ms = now_ms;
    }

    /// Move the clock `ms` forward, firing every timer that comes due on the way, in due
    /// order, each as a turn with the clock at its due time (a repeating job fires once
    /// per interval passed). Returns how many fired; stops at the first turn that
    /// failed and returns its error (that timer is used up, as on the host).
    ///
    /// # Panics
    /// If more than 100 000 timers fire (a job that never ends).
    pub fn advance(&mut self, ms: u64) -> Result<usize, HandlerError> {
        let end = self.now().saturating_add(i64::try_from(ms).unwrap_or(i64::MAX));
        let mut fired = 0;
        while let Some(timer) = self.next_due(end) {
            fired += 1;
            assert!(fired <= MAX_FIRED, "more than {MAX_FIRED} timers fired in one advance");
            let event = Event::Timer(TimerFired {
                name: timer.name.clone(),
                payload: timer.payload.clone(),
                due_at: timer.due_ms,
                repeating: timer.interval_ms.is_some(),
            });
            let lane = timer.chat_id.unwrap_or(0);
            self.turn(event, lane, 0, true)?;
        }
        self.set_now(end.max(self.now()));
        Ok(fired)
    }

    /// Take the earliest timer due by `end` off the list (a repeating job stays, one
    /// interval later) and set the clock to its due time.
    fn next_due(&mut self, end: i64) -> Option<Timer> {
        let mut s = self.state.borrow_mut();
        let next = s.fx.timers.values().filter(|t| t.due_ms <= end).min_by_key(|t| t.due_ms)?.clone();
        s.now_ms = s.now_ms.max(next.due_ms);
        match next.interval_ms.and_then(|i| i64::try_from(i).ok()) {
            Some(every) => {
                if let Some(t) = s.fx.timers.get_mut(&next.name) {
                    t.due_ms = next.due_ms.saturating_add(every);
                }
            }
            None => {
                s.fx.timers.remove(&next.name);
            }
        }
        Some(next)
    }

    /// Handle `event` as one turn and return what `handle` returned. The turn's chat is
    /// the event's (none for custom and lifecycle events). Events the plugin emits on
    /// topics it subscribes to are handled next, as later turns.
    ///
    /// For a harness made by [`Harness::observer`], an update (message, button press,
    /// member update) goes to `handle` only if it is the plugin's own (a command its
    /// manifest declares, a press of its buttons; otherwise `send` returns `continue`),
    /// then to `observe` as a turn of its own, as on the host (see
    /// [`Harness::observer`]).
    ///
    /// # Panics
    /// If the host would never hand the plugin this event (a button press without a
    /// callback prefix, a custom event on a topic it does not subscribe to), or the
    /// plugin requires a setting the harness does not have.
    pub fn send(&mut self, event: Event) -> Result<Flow, HandlerError> {
        let lane = lane_of(&event);
        if let Some(observe) = self.observe
            && super::observe::observed(&event)
        {
            return self.send_observed(observe, event, lane);
        }
        self.turn(event, lane, 0, false)
    }

    /// A text message from `user` in their private chat (`/cmd args` is a command).
    pub fn say(&mut self, user: i64, text: &str) -> Result<Flow, HandlerError> {
        let mut m = make::message_in(make::private_chat(user), make::user(user), text);
        m.id = self.state.borrow_mut().message_id();
        self.send(Event::Message(m))
    }

    /// User `user` sends a file `file_name` with `contents` in their private chat, with
    /// an optional caption; the plugin can download it.
    pub fn upload(
        &mut self,
        user: i64,
        file_name: &str,
        contents: &[u8],
        caption: Option<&str>,
    ) -> Result<Flow, HandlerError> {
        let file_id = format!("file-{}", self.state.borrow_mut().message_id());
        self.add_file(&file_id, contents);
        self.send(make::document(user, &file_id, file_name, caption))
    }

    /// User `user` presses the button labelled `label` on the newest of the plugin's
    /// messages in their private chat that has one.
    ///
    /// # Panics
    /// If no message there has a callback button labelled `label`.
    pub fn click(&mut self, user: i64, label: &str) -> Result<Flow, HandlerError> {
        self.click_in(user, user, label)
    }

    /// User `user` presses the button labelled `label` on the newest of the plugin's
    /// messages in chat `chat_id` that has one.
    ///
    /// # Panics
    /// If no message there has a callback button labelled `label`.
    pub fn click_in(&mut self, chat_id: i64, user: i64, label: &str) -> Result<Flow, HandlerError> {
        let messages = self.messages(chat_id);
        let Some((message_id, data)) =
            messages.iter().rev().find_map(|m| m.callback_data(label).map(|d| (m.message_id, d)))
        else {
            let shown: Vec<Vec<String>> = messages.iter().map(Shown::buttons).collect();
            panic!("no button {label:?} in chat {chat_id}; the buttons there: {shown:?}")
        };
        let mut event = make::press(user, message_id, &data);
        if let Event::Callback(cb) = &mut event
            && chat_id != user
        {
            cb.chat = Some(crate::Chat { id: chat_id, kind: crate::ChatKind::Supergroup, title: None });
        }
        self.send(event)
    }

    /// Run `f` with this harness as the host, outside any turn (nothing is rolled back),
    /// e.g. to call a plugin's helper functions or prepare KV data with the SDK.
    pub fn run<T>(&mut self, f: impl FnOnce() -> T) -> T {
        let _on = Installed::new(&self.state);
        f()
    }

    fn turn(&mut self, event: Event, lane: i64, hops: u32, own_timer: bool) -> Result<Flow, HandlerError> {
        self.turn_id += 1;
        self.turn_as(event, lane, hops, own_timer, self.turn_id)
    }

    /// `turn` with the turn id given (an observer's `observe` shares its update's).
    pub(super) fn turn_as(
        &mut self,
        event: Event,
        lane: i64,
        hops: u32,
        own_timer: bool,
        turn_id: i64,
    ) -> Result<Flow, HandlerError> {
        self.check_route(&event);
        let ctx = {
            let mut s = self.state.borrow_mut();
            s.turn = Turn { lane, own_timer, hops, ..Turn::default() };
            context(&s, &event, lane, turn_id)
        };
        let before = self.state.borrow().fx.clone();
        let emitted_before = before.emitted.len();
        let rollback = Rollback { state: &self.state, before: Some(before) };
        let seen = Seen { state: &self.state, event: event.clone() };
        let result = {
            let _on = Installed::new(&self.state);
            P::handle(event, ctx)
        };
        drop(seen);
        rollback.finish(result.is_ok());
        if result.is_ok() {
            self.deliver_emitted(emitted_before, lane, hops);
        }
        result
    }

    /// Events of the last turn on topics the plugin subscribes to, as the next turns.
    pub(super) fn deliver_emitted(&mut self, from: usize, lane: i64, hops: u32) {
        let (name, topics, emitted) = {
            let s = self.state.borrow();
            (s.manifest.name.clone(), s.manifest.topics.clone(), s.fx.emitted[from..].to_vec())
        };
        for e in emitted.into_iter().filter(|e| topics.contains(&e.topic)) {
            let event = make::custom(&e.topic, &e.payload, &name);
            if let Err(err) = self.turn(event, lane, hops + 1, false) {
                let message = format!("handling the event on {:?} failed: {err:?}", e.topic);
                let level = crate::log::Level::Error;
                self.state.borrow_mut().logs.push(LogLine { level, message, fields: Vec::new() });
            }
        }
    }

    fn check_route(&self, event: &Event) {
        let s = self.state.borrow();
        let m = &s.manifest;
        match event {
            Event::Callback(_) => {
                assert!(
                    m.callback_prefix.is_some(),
                    "the host routes button presses only to a plugin with a callback prefix"
                )
            }
            Event::Custom(c) => assert!(
                m.topics.contains(&c.topic),
                "the host delivers custom events on {:?} only to plugins that list the topic in their manifest",
                c.topic
            ),
            _ => {}
        }
        if let Some(missing) = m.settings.iter().find(|spec| spec.required && !s.settings.contains_key(&spec.name)) {
            panic!("the plugin requires the setting {:?}: give it with Harness::with_settings", missing.name);
        }
    }
}

/// Records the turn's user as seen when the turn ends, whatever the plugin did (the host
/// records users with the turn's commit, which the other plugins' effects still make).
struct Seen<'a> {
    state: &'a Rc<RefCell<State>>,
    event: Event,
}

impl Drop for Seen<'_> {
    fn drop(&mut self) {
        if let Ok(mut s) = self.state.try_borrow_mut() {
            s.note_seen(&self.event);
        }
    }
}

/// The chat (lane) of a turn handling `event`: the event's, none (0) for custom and
/// lifecycle events and timers.
pub(super) fn lane_of(event: &Event) -> i64 {
    match event {
        Event::Message(m) => m.chat.id,
        Event::Callback(c) => c.chat.as_ref().map_or(c.sender.id, |chat| chat.id),
        Event::Member(m) => m.chat.id,
        Event::Timer(_) | Event::Custom(_) | Event::Lifecycle(_) => 0,
    }
}

/// Puts the effects back unless the turn succeeded, also when it panicked.
pub(super) struct Rollback<'a> {
    pub(super) state: &'a Rc<RefCell<State>>,
    pub(super) before: Option<super::state::Effects>,
}

impl Rollback<'_> {
    pub(super) fn finish(mut self, ok: bool) {
        if ok {
            self.before = None;
        }
    }
}

impl Drop for Rollback<'_> {
    fn drop(&mut self) {
        if let Some(before) = self.before.take() {
            self.state.borrow_mut().fx = before;
        }
    }
}

/// The context the host gives with `event` (see the host's `turn::context`).
pub(super) fn context(s: &State, event: &Event, lane: i64, turn_id: i64) -> Context {
    let user = match event {
        Event::Message(m) => m.sender.as_ref(),
        Event::Callback(c) => Some(&c.sender),
        Event::Member(m) => Some(&m.user),
        _ => None,
    };
    Context {
        chat_id: (lane != 0).then_some(lane),
        user_id: user.map(|u| u.id),
        is_admin: user.is_some_and(|u| s.admins.contains(&u.id)),
        language: user.and_then(|u| u.language_code.clone()),
        now_ms: s.now_ms,
        turn_id,
    }
}
