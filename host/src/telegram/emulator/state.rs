//! The emulator's world: users, chats and their members, queued updates, what the bot
//! sent, files users uploaded, injected faults and Telegram's rate limits.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Instant;

use axum::body::Bytes;

use crate::telegram::limits::Limiter;

use serde_json::{Value, json};

/// The bot's own user id in the emulator.
pub const BOT_ID: i64 = 7_000_000_001;
/// The bot's username in the emulator.
pub const BOT_USERNAME: &str = "wharf_test_bot";

/// A fault to inject into the next matching Bot API request.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct Fault {
    /// Method it applies to (`sendMessage`…); `None` for any method.
    pub method: Option<String>,
    /// What happens.
    pub kind: FaultKind,
}

/// Kinds of injected faults.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// 429 Too Many Requests with `retry_after` seconds.
    RetryAfter(u32),
    /// An error response with this status and description.
    Status(u16, String),
    /// Answer normally after this many milliseconds.
    DelayMs(u64),
}

/// One message the bot sent (or edited) in a chat.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Sent {
    /// Message id in the chat.
    pub message_id: i32,
    /// Text or caption.
    pub text: String,
    /// Inline keyboard as sent (`reply_markup`), if any.
    pub reply_markup: Option<Value>,
    /// Photo (file id or URL), if a photo.
    pub photo: Option<String>,
    /// The file, if a document (`text` is then its caption).
    pub document: Option<SentDocument>,
    /// Parse mode given.
    pub parse_mode: Option<String>,
    /// Times it was edited.
    pub edits: u32,
    /// Deleted by the bot.
    pub deleted: bool,
    /// When the emulator received it.
    #[serde(skip)]
    pub at: Option<Instant>,
}

impl Sent {
    /// The inline keyboard's buttons, row by row (none without a keyboard).
    pub fn buttons(&self) -> Vec<Vec<InlineButton>> {
        #[derive(serde::Deserialize)]
        struct Markup {
            #[serde(default)]
            inline_keyboard: Vec<Vec<InlineButton>>,
        }
        self.reply_markup
            .as_ref()
            .and_then(|m| serde_json::from_value::<Markup>(m.clone()).ok())
            .map_or_else(Vec::new, |m| m.inline_keyboard)
    }
}

/// A document the bot sent (`sendDocument`, uploaded as multipart).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SentDocument {
    /// The `file_id` the emulator gave it (`getFile` serves it).
    pub file_id: String,
    /// Its file name, as uploaded.
    pub file_name: String,
    /// Its contents.
    pub bytes: Vec<u8>,
}

impl SentDocument {
    /// The contents as text (lossy UTF-8), e.g. a CSV file.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

/// One button of an inline keyboard, as the bot sent it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
pub struct InlineButton {
    /// Its label.
    pub text: String,
    /// Data a press sends back to the bot (callback buttons).
    pub callback_data: Option<String>,
    /// Link it opens (URL buttons).
    pub url: Option<String>,
}

/// One thing the bot did, in the order the emulator received it (see
/// [`super::Emulator::activity`]).
#[derive(Clone, Debug)]
pub enum Activity {
    /// A message was sent, edited or deleted; `message` is its state now.
    Message {
        /// The chat it is in.
        chat: i64,
        /// The message as it is now.
        message: Sent,
    },
    /// A callback query was answered.
    Answer {
        /// Who pressed the button (`None` for a query the emulator did not make).
        user: Option<i64>,
        /// The popup text, if any.
        text: Option<String>,
    },
}

/// An entry of the bot's activity journal.
#[derive(Clone, Copy, Debug)]
pub(super) enum Touch {
    /// A message (chat, message id) was sent, edited or deleted.
    Message(i64, i32),
    /// `answered[i]` was added.
    Answer(usize),
}

/// A file a user uploaded, served by `getFile` and `/file/bot<token>/<path>`.
pub(super) struct StoredFile {
    pub unique_id: String,
    pub path: String,
    pub bytes: Bytes,
}

#[derive(Default)]
pub(super) struct World {
    pub token: String,
    pub next_update_id: i64,
    pub updates: VecDeque<Value>,
    pub webhook: Option<(String, Option<String>)>,
    pub sent: HashMap<i64, Vec<Sent>>,
    pub blocked: HashSet<i64>,
    /// Each (chat, user)'s membership (see `members`).
    pub members: HashMap<(i64, i64), super::members::Membership>,
    /// Groups and channels known by more than their id.
    pub chats: HashMap<i64, super::members::ChatRecord>,
    /// Chats whose member list the bot cannot see.
    pub hidden: HashSet<i64>,
    /// The update kinds the bot last asked for.
    pub allowed_updates: Option<Vec<String>>,
    pub faults: VecDeque<Fault>,
    pub limiter: Option<Limiter>,
    pub requests: HashMap<String, u64>,
    /// Requests being answered now, and the most seen at once, per method.
    pub in_flight: HashMap<String, u64>,
    pub max_in_flight: HashMap<String, u64>,
    /// Every send, edit, delete and callback answer is answered after this long.
    pub send_delay: Option<std::time::Duration>,
    pub too_many: u64,
    pub answered: Vec<(String, Option<String>)>,
    /// Who pressed each callback query the emulator made, by query id.
    pub pressers: HashMap<String, i64>,
    /// What the bot did, in the order received.
    pub journal: Vec<Touch>,
    pub commands: Value,
    pub next_callback: u64,
    pub files: HashMap<String, StoredFile>,
    /// Usernames of users who have one.
    pub usernames: HashMap<i64, String>,
}

impl World {
    pub fn new(token: &str) -> Self {
        Self { token: token.to_owned(), next_update_id: 1, ..Self::default() }
    }

    pub fn user_json(id: i64) -> Value {
        json!({ "id": id, "is_bot": false, "first_name": format!("User {id}"), "language_code": "en" })
    }

    pub fn bot_json() -> Value {
        json!({ "id": BOT_ID, "is_bot": true, "first_name": "Wharf", "username": BOT_USERNAME })
    }

    pub fn chat_json(chat_id: i64) -> Value {
        if chat_id < 0 {
            json!({ "id": chat_id, "type": "group", "title": format!("Group {chat_id}") })
        } else {
            json!({ "id": chat_id, "type": "private", "first_name": format!("User {chat_id}") })
        }
    }

    /// Queue an update; returns its id.
    pub fn push_update(&mut self, mut body: Value) -> i64 {
        let id = self.next_update_id;
        self.next_update_id += 1;
        body["update_id"] = json!(id);
        for kind in ["message", "callback_query", "my_chat_member", "chat_member"] {
            let Some(from) = body.get_mut(kind).and_then(|m| m.get_mut("from")) else { continue };
            if let Some(name) = from.get("id").and_then(Value::as_i64).and_then(|u| self.usernames.get(&u)) {
                from["username"] = json!(name);
            }
        }
        self.updates.push_back(body);
        id
    }

    /// Keep an uploaded file; returns its `file_id`.
    pub fn store_file(&mut self, file_name: &str, bytes: Vec<u8>) -> String {
        let n = self.files.len() + 1;
        let ext = file_name.rsplit_once('.').map(|(_, e)| e).filter(|e| e.chars().all(|c| c.is_ascii_alphanumeric()));
        let path = ext.map_or_else(|| format!("documents/file_{n}"), |e| format!("documents/file_{n}.{e}"));
        let file_id = format!("BQACAgIAAxkBAAI{n:06}");
        let file = StoredFile { unique_id: format!("AgADdoc{n}"), path, bytes: Bytes::from(bytes) };
        self.files.insert(file_id.clone(), file);
        file_id
    }

    /// Take the first fault matching `method`.
    pub fn take_fault(&mut self, method: &str) -> Option<FaultKind> {
        let pos = self.faults.iter().position(|f| f.method.as_deref().is_none_or(|m| m == method))?;
        self.faults.remove(pos).map(|f| f.kind)
    }

    /// Charge one message to `chat_id`; `Err(seconds)` when a limit is exceeded.
    pub fn charge(&mut self, chat_id: i64, now: Instant) -> Result<(), u32> {
        let Some(limiter) = self.limiter.as_mut() else { return Ok(()) };
        let (chat, global) = limiter.wait(chat_id, now);
        let wait = chat.max(global);
        if !wait.is_zero() {
            self.too_many += 1;
            return Err(wait.as_secs_f64().ceil().max(1.0) as u32);
        }
        limiter.take(chat_id);
        Ok(())
    }
}
