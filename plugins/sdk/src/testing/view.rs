//! What a [`Harness`] shows of the plugin's work, and the fakes of Telegram's live calls
//! and of HTTP that a test sets up.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::Harness;
use super::records::{Answer, Call, Emitted, LogLine, SentFile, Shown, Timer};
use crate::Plugin;
use crate::bindings::wharf::bot::http::{Error as HttpError, Request, Response};
use crate::bindings::wharf::bot::log::TitledEvent;
use crate::telegram::{ChatInfo, MemberInfo, MemberStatus, TelegramError};

/// What the plugin did, and the fakes of Telegram's live calls and of HTTP.
impl<P: Plugin> Harness<P> {
    /// The plugin's messages in `chat_id` as the chat shows them (edits applied, deleted
    /// ones left out), oldest first.
    pub fn messages(&self, chat_id: i64) -> Vec<Shown> {
        self.state.borrow().fx.shown.iter().filter(|m| m.chat_id == chat_id && !m.deleted).cloned().collect()
    }

    /// The texts (and captions) of [`messages`](Self::messages).
    pub fn texts(&self, chat_id: i64) -> Vec<String> {
        self.messages(chat_id).into_iter().map(|m| m.text).collect()
    }

    /// The files the plugin sent to `chat_id` as documents, oldest first.
    pub fn documents(&self, chat_id: i64) -> Vec<SentFile> {
        self.messages(chat_id).into_iter().filter_map(|m| m.document).collect()
    }

    /// The text of the newest message in `chat_id`, if any.
    pub fn last_text(&self, chat_id: i64) -> Option<String> {
        self.messages(chat_id).pop().map(|m| m.text)
    }

    /// Every Telegram call queued so far, in order (since the last
    /// [`take_outbox`](Self::take_outbox)).
    pub fn outbox(&self) -> Vec<Call> {
        self.state.borrow().fx.outbox.clone()
    }

    /// The Telegram calls queued so far; the list starts empty again (the chats keep
    /// their messages).
    pub fn take_outbox(&mut self) -> Vec<Call> {
        std::mem::take(&mut self.state.borrow_mut().fx.outbox)
    }

    /// Answers to button presses, in order.
    pub fn answers(&self) -> Vec<Answer> {
        self.state.borrow().fx.answers.clone()
    }

    /// The JSON value under `key` in the plugin's KV namespace.
    ///
    /// # Panics
    /// If the value is not JSON of type `T`.
    pub fn kv<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        let bytes = self.kv_bytes(key)?;
        match serde_json::from_slice(&bytes) {
            Ok(v) => Some(v),
            Err(e) => panic!("the value under {key:?} is not the expected JSON: {e}"),
        }
    }

    /// The raw value under `key`.
    pub fn kv_bytes(&self, key: &str) -> Option<Vec<u8>> {
        self.state.borrow().fx.kv.get(key).cloned()
    }

    /// The keys starting with `prefix`, ascending.
    pub fn kv_keys(&self, prefix: &str) -> Vec<String> {
        self.state.borrow().fx.kv.keys().filter(|k| k.starts_with(prefix)).cloned().collect()
    }

    /// Store `value` as JSON under `key`, as `kv::set` would.
    ///
    /// # Panics
    /// If `value` cannot be serialized.
    pub fn set_kv<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) {
        let bytes = serde_json::to_vec(value).unwrap_or_else(|e| panic!("cannot serialize the value for {key:?}: {e}"));
        self.state.borrow_mut().fx.kv.insert(key.to_owned(), bytes);
    }

    /// The plugin's timers and repeating jobs, soonest first.
    pub fn timers(&self) -> Vec<Timer> {
        let mut t: Vec<Timer> = self.state.borrow().fx.timers.values().cloned().collect();
        t.sort_by_key(|t| (t.due_ms, t.name.clone()));
        t
    }

    /// Custom events the plugin emitted, in order.
    pub fn emitted(&self) -> Vec<Emitted> {
        self.state.borrow().fx.emitted.clone()
    }

    /// Business events the plugin recorded, in order.
    pub fn business_events(&self) -> Vec<TitledEvent> {
        self.state.borrow().fx.business.clone()
    }

    /// Diagnostic lines the plugin wrote (kept even from failed turns, as on the host).
    pub fn logs(&self) -> Vec<LogLine> {
        self.state.borrow().logs.clone()
    }

    /// Give the file `file_id` these contents for `telegram::download`.
    pub fn add_file(&mut self, file_id: &str, contents: &[u8]) {
        self.state.borrow_mut().files.insert(file_id.to_owned(), contents.to_vec());
    }

    /// Make `telegram::member(chat_id, user_id)` answer `status` (`Left` otherwise), and
    /// `telegram::chat_member` the same with the `is_member` it implies (true for
    /// creator, administrator and member; a restricted user is not in the chat: see
    /// [`set_member_info`](Self::set_member_info)).
    pub fn set_member(&mut self, chat_id: i64, user_id: i64, status: MemberStatus) {
        let is_member = matches!(status, MemberStatus::Creator | MemberStatus::Administrator | MemberStatus::Member);
        self.set_member_info(chat_id, user_id, MemberInfo { status, is_member });
    }

    /// Make the member lookups of `user_id` in `chat_id` answer `info`.
    pub fn set_member_info(&mut self, chat_id: i64, user_id: i64, info: MemberInfo) {
        self.state.borrow_mut().members.insert((chat_id, user_id), info);
    }

    /// Make `telegram::get_chat` know `chat` (by its id, and by `@username` if it has one).
    pub fn add_chat(&mut self, chat: ChatInfo) {
        let mut s = self.state.borrow_mut();
        s.chats.retain(|c| c.id != chat.id);
        s.chats.push(chat);
    }

    /// Make every member and chat lookup fail with `error` (e.g.
    /// `TelegramError::Unavailable`), or answer again with `None`.
    pub fn fail_lookups(&mut self, error: Option<TelegramError>) {
        self.state.borrow_mut().lookup_error = error;
    }

    /// How many member lookups (`member`, `chat_member`) the plugin made so far.
    pub fn lookups(&self) -> u64 {
        self.state.borrow().lookups
    }

    /// Answer the plugin's HTTP requests with `respond` (without one, requests fail).
    pub fn on_http(&mut self, respond: impl FnMut(&Request) -> Result<Response, HttpError> + 'static) {
        self.state.borrow_mut().http = Some(Box::new(respond));
    }
}
