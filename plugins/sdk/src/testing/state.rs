//! The fake host's state: one per [`Harness`](super::Harness), reachable from the SDK's
//! host calls through a thread-local slot while the harness runs plugin code.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use serde_json::{Map, Value};

use super::{Answer, Call, Emitted, LogLine, Shown, Timer};
use crate::Manifest;
use crate::bindings::wharf::bot::config::BotIdentity;
use crate::bindings::wharf::bot::http::{Error as HttpError, Request, Response};
use crate::bindings::wharf::bot::log::TitledEvent;
use crate::bindings::wharf::bot::telegram::{ChatInfo, Error as TelegramError, MemberInfo};

/// An answer to an HTTP request, chosen by the test.
pub(crate) type HttpResponder = Box<dyn FnMut(&Request) -> Result<Response, HttpError>>;

/// Everything a turn may change; a failed turn puts back the copy taken before it.
#[derive(Clone, Default)]
pub(crate) struct Effects {
    pub(crate) kv: BTreeMap<String, Vec<u8>>,
    pub(crate) outbox: Vec<Call>,
    pub(crate) shown: Vec<Shown>,
    pub(crate) answers: Vec<Answer>,
    pub(crate) timers: BTreeMap<String, Timer>,
    pub(crate) emitted: Vec<Emitted>,
    pub(crate) business: Vec<TitledEvent>,
}

/// The turn being handled: where it runs and what it has queued so far.
#[derive(Clone, Debug, Default)]
pub(crate) struct Turn {
    /// The chat (lane) of the turn; 0 for none.
    pub(crate) lane: i64,
    /// The turn handles one of the plugin's own timers (timers it sets get a floor).
    pub(crate) own_timer: bool,
    /// Depth of the event chain the turn handles (an update or timer is 0; an event
    /// emitted by a turn is one deeper than that turn).
    pub(crate) hops: u32,
    /// The turn runs an observer's `observe`: messages to Telegram are denied.
    pub(crate) observing: bool,
    /// The turn runs an admin view: every write is `access-denied`.
    pub(crate) read_only: bool,
    pub(crate) outbox: usize,
    pub(crate) timers: usize,
    pub(crate) events: usize,
    pub(crate) business: usize,
}

/// The fake host.
pub(crate) struct State {
    pub(crate) fx: Effects,
    pub(crate) logs: Vec<LogLine>,
    pub(crate) settings: Map<String, Value>,
    pub(crate) admins: Vec<i64>,
    /// The bot's account (`config.bot`); none until a test sets it.
    pub(crate) bot: Option<BotIdentity>,
    /// When each user was first seen in a private chat (`config.user-first-seen`).
    pub(crate) first_seen: HashMap<i64, i64>,
    pub(crate) now_ms: i64,
    pub(crate) manifest: Manifest,
    pub(crate) files: HashMap<String, Vec<u8>>,
    pub(crate) members: HashMap<(i64, i64), MemberInfo>,
    /// Chats `telegram::get_chat` knows.
    pub(crate) chats: Vec<ChatInfo>,
    /// Every member and chat lookup fails with this, while set.
    pub(crate) lookup_error: Option<TelegramError>,
    /// Member lookups made.
    pub(crate) lookups: u64,
    pub(crate) http: Option<HttpResponder>,
    pub(crate) next_handle: i64,
    pub(crate) next_message_id: i32,
    pub(crate) turn: Turn,
    /// `describe()` is running: only `config` and `log` are available.
    pub(crate) in_describe: bool,
}

impl State {
    pub(crate) fn new(now_ms: i64) -> Self {
        Self {
            fx: Effects::default(),
            logs: Vec::new(),
            settings: Map::new(),
            admins: Vec::new(),
            bot: None,
            first_seen: HashMap::new(),
            now_ms,
            manifest: crate::ManifestExt::new("plugin", "0.0.0"),
            files: HashMap::new(),
            members: HashMap::new(),
            chats: Vec::new(),
            lookup_error: None,
            lookups: 0,
            http: None,
            next_handle: 1,
            next_message_id: 1,
            turn: Turn::default(),
            in_describe: false,
        }
    }

    /// Record the private-chat user of `event` as seen now, if they were not, as the host
    /// does when a turn commits.
    pub(crate) fn note_seen(&mut self, event: &crate::Event) {
        use crate::{ChatKind, Event};
        let user = match event {
            Event::Message(m) if m.chat.kind == ChatKind::Private => m.sender.as_ref(),
            Event::Callback(c) if c.chat.as_ref().is_none_or(|chat| chat.kind == ChatKind::Private) => Some(&c.sender),
            Event::Member(m) if m.chat.kind == ChatKind::Private => Some(&m.user),
            _ => None,
        };
        if let Some(u) = user.filter(|u| !u.is_bot) {
            let now = self.now_ms;
            self.first_seen.entry(u.id).or_insert(now);
        }
    }

    /// A fresh Telegram message id (unique across chats in the fake).
    pub(crate) fn message_id(&mut self) -> i32 {
        let id = self.next_message_id;
        self.next_message_id = self.next_message_id.saturating_add(1);
        id
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Rc<RefCell<State>>>> = const { RefCell::new(None) };
}

/// Makes `state` the fake host of this thread until dropped (then the previous one again).
pub(crate) struct Installed {
    previous: Option<Rc<RefCell<State>>>,
}

impl Installed {
    pub(crate) fn new(state: &Rc<RefCell<State>>) -> Self {
        let previous = CURRENT.with(|c| c.replace(Some(state.clone())));
        Self { previous }
    }
}

impl Drop for Installed {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT.with(|c| *c.borrow_mut() = previous);
    }
}

/// Run `f` on the fake host for the host call `call` (e.g. `kv.get`).
///
/// # Panics
/// Outside a [`Harness`](super::Harness) there is no host: the call panics, naming it.
pub(crate) fn with<T>(call: &str, f: impl FnOnce(&mut State) -> T) -> T {
    let state = CURRENT.with(|c| c.borrow().clone()).unwrap_or_else(|| {
        panic!(
            "wharf-sdk: the host call `{call}` was made outside a test harness. In a native build \
             the SDK talks to the fake host of `wharf_sdk::testing::Harness`: drive the plugin with \
             `Harness::send` (or wrap helper code in `Harness::run`)"
        )
    });
    let mut s = state.borrow_mut();
    f(&mut s)
}

/// Like [`with`], for a call with an effect, which `describe()` may not make (the host
/// does not link it for `describe()`, so the component would trap).
pub(crate) fn effect<T>(call: &str, f: impl FnOnce(&mut State) -> T) -> T {
    with(call, |s| {
        assert!(
            !s.in_describe,
            "wharf-sdk: describe() called `{call}`; the host gives describe() only `config` and `log` \
             (the component would trap)"
        );
        f(s)
    })
}
