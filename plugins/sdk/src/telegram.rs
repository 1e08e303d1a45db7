//! Sending messages: a builder for [`Outgoing`] and one for inline keyboards; editing
//! and deleting the messages the plugin sent; sending files ([`send_document`]) and
//! downloading files users sent ([`download`]).
//!
//! Sends are buffered by the host and leave only after the turn commits (grant
//! `telegram.send`). Each send returns a [`MessageHandle`]: keep it (it serializes, so
//! it can go into [`crate::kv`]) to [`edit`] or [`delete`] that message later. A plugin
//! can only edit or delete messages it sent itself. Downloads are live calls made during
//! the turn (grant `telegram.files`), and so are member and chat lookups ([`member`],
//! [`chat_member`], [`get_chat`]; grant `telegram.members`); `telegram` grants all three.

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::host::telegram as raw;

pub use crate::bindings::wharf::bot::telegram::{
    Button, ButtonAction, ChatInfo, Error as TelegramError, MemberInfo, MemberStatus, MessageRef, Outgoing, ParseMode,
    Photo,
};

/// Names a message this plugin sent, as returned by [`send`]; valid in this turn and
/// later ones. Serialized as a plain number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MessageHandle(pub i64);

impl From<MessageHandle> for MessageRef {
    fn from(h: MessageHandle) -> Self {
        Self::Handle(h.0)
    }
}

/// A Telegram message id, e.g. [`CallbackQuery::message_id`](crate::CallbackQuery) of a
/// press on one of this plugin's buttons.
impl From<i32> for MessageRef {
    fn from(id: i32) -> Self {
        Self::Id(id)
    }
}

/// Builder methods for [`Outgoing`].
pub trait OutgoingExt: Sized {
    /// Plain text.
    fn text(text: impl Into<String>) -> Self;
    /// Telegram HTML (escape user input with [`crate::escape::html`]).
    fn html(text: impl Into<String>) -> Self;
    /// Attach an inline keyboard.
    fn keyboard(self, keyboard: Keyboard) -> Self;
    /// Reply to a message.
    fn reply_to(self, message_id: i32) -> Self;
}

impl OutgoingExt for Outgoing {
    fn text(text: impl Into<String>) -> Self {
        Self { text: text.into(), parse_mode: ParseMode::Plain, keyboard: None, reply_to: None }
    }

    fn html(text: impl Into<String>) -> Self {
        Self { text: text.into(), parse_mode: ParseMode::Html, keyboard: None, reply_to: None }
    }

    fn keyboard(mut self, keyboard: Keyboard) -> Self {
        self.keyboard = Some(keyboard.build());
        self
    }

    fn reply_to(mut self, message_id: i32) -> Self {
        self.reply_to = Some(message_id);
        self
    }
}

/// Builds an inline keyboard row by row.
///
/// [`button`](Self::button) and [`url`](Self::url) add to the current row;
/// [`row`](Self::row) starts the next one:
///
/// ```
/// use wharf_sdk::prelude::*;
///
/// let kb = Keyboard::new().button("Buy", "buy:7").button("Back", "list").row().url("Help", "https://example.com");
/// let rows = kb.build();
/// assert_eq!(rows.len(), 2);
/// assert_eq!(rows[0].len(), 2);
/// ```
#[derive(Debug, Default, Clone)]
pub struct Keyboard {
    rows: Vec<Vec<Button>>,
}

impl Keyboard {
    /// An empty keyboard.
    pub fn new() -> Self {
        Self::default()
    }

    fn push(mut self, button: Button) -> Self {
        match self.rows.last_mut() {
            Some(row) => row.push(button),
            None => self.rows.push(vec![button]),
        }
        self
    }

    /// Add a callback button to the current row.
    pub fn button(self, text: impl Into<String>, data: impl Into<String>) -> Self {
        self.push(Button { text: text.into(), action: ButtonAction::Callback(data.into()) })
    }

    /// Add a URL button to the current row.
    pub fn url(self, text: impl Into<String>, url: impl Into<String>) -> Self {
        self.push(Button { text: text.into(), action: ButtonAction::Url(url.into()) })
    }

    /// Start a new row.
    pub fn row(mut self) -> Self {
        if self.rows.last().is_some_and(|r| !r.is_empty()) {
            self.rows.push(Vec::new());
        }
        self
    }

    /// The rows, without trailing empty ones.
    pub fn build(mut self) -> Vec<Vec<Button>> {
        self.rows.retain(|r| !r.is_empty());
        self.rows
    }
}

/// Send plain text to a chat, when you will not edit it (else use [`send`], which
/// returns the message's handle).
pub fn send_text(chat_id: i64, text: &str) -> Result<(), Error> {
    send(chat_id, &Outgoing::text(text)).map(drop)
}

/// Send a message built with [`OutgoingExt`]; returns its handle.
pub fn send(chat_id: i64, message: &Outgoing) -> Result<MessageHandle, Error> {
    Ok(MessageHandle(raw::send_message(chat_id, message)?))
}

/// Replace the text and keyboard of a message this plugin sent in `chat_id`: by its
/// [`MessageHandle`], or by its Telegram message id (`i32`, e.g. from a callback).
/// Another plugin's message is [`Error::AccessDenied`].
pub fn edit(chat_id: i64, target: impl Into<MessageRef>, message: &Outgoing) -> Result<(), Error> {
    Ok(raw::edit_message(chat_id, target.into(), message)?)
}

/// Delete a message this plugin sent in `chat_id` (by handle or message id, as [`edit`]).
pub fn delete(chat_id: i64, target: impl Into<MessageRef>) -> Result<(), Error> {
    Ok(raw::delete_message(chat_id, target.into())?)
}

/// Send a photo (a [`Photo::FileId`] seen before, or a [`Photo::Url`] Telegram fetches)
/// with a caption (`Outgoing::text("")` for none; at most 1024 characters) and
/// optionally a keyboard; returns its handle. Edits change the caption.
pub fn send_photo(chat_id: i64, photo: &Photo, caption: &Outgoing) -> Result<MessageHandle, Error> {
    Ok(MessageHandle(raw::send_photo(chat_id, photo, caption)?))
}

/// Send a file as a document: `file_name` (1-128 characters, no `/` or `\\`) with the
/// contents `data` (1 byte to 1 MiB; at most 4 MiB of documents per turn) and a caption
/// (`Outgoing::text("")` for none; at most 1024 characters), e.g. a CSV export. Buffered
/// like every send (grant `telegram.send`); returns its handle. Since wharf-sdk 0.2.2
/// (`wharf:bot@0.2.2`).
///
/// ```
/// use wharf_sdk::{prelude::*, telegram};
///
/// fn export(chat_id: i64, rows: &[(String, u64)]) -> Result<(), wharf_sdk::Error> {
///     let mut csv = String::from("name,count\n");
///     for (name, n) in rows {
///         csv.push_str(&format!("{name},{n}\n"));
///     }
///     telegram::send_document(chat_id, "export.csv", csv.as_bytes(), &Outgoing::text("Your export"))?;
///     Ok(())
/// }
/// ```
pub fn send_document(chat_id: i64, file_name: &str, data: &[u8], caption: &Outgoing) -> Result<MessageHandle, Error> {
    Ok(MessageHandle(raw::send_document(chat_id, file_name, data, caption)?))
}

/// User `user_id`'s membership in chat `chat_id` (a live Bot API call during the turn;
/// grant `telegram.members`), e.g. to check that a user joined a channel.
pub fn member(chat_id: i64, user_id: i64) -> Result<MemberStatus, Error> {
    Ok(raw::get_chat_member(chat_id, user_id)?)
}

/// User `user_id`'s membership in chat `chat_id` with Telegram's `is_member` flag (a
/// live Bot API call during the turn; grant `telegram.members`; wharf:bot 0.2.2). The bot
/// must be an administrator of a channel to see its members. Errors:
/// [`Error::Unavailable`] when Telegram cannot be asked now (not connected, no answer
/// in time, overloaded), [`Error::Other`] with Telegram's description when it refuses
/// (`Bad Request: member list is inaccessible`, `Bad Request: chat not found`).
///
/// ```
/// use wharf_sdk::telegram::{self, MemberStatus};
///
/// /// In the channel: creator, administrator, member, or restricted but still in it.
/// fn subscribed(channel: i64, user: i64) -> Result<bool, wharf_sdk::Error> {
///     let m = telegram::chat_member(channel, user)?;
///     Ok(m.is_member && m.status != MemberStatus::Left)
/// }
/// ```
pub fn chat_member(chat_id: i64, user_id: i64) -> Result<MemberInfo, Error> {
    Ok(raw::chat_member(chat_id, user_id)?)
}

/// A chat by `@username` or by its numeric id written as a string (a live Bot API call
/// like [`chat_member`], same grant and errors; wharf:bot 0.2.2): its id, title,
/// username and invite link. Resolve a channel's username once and keep its id.
pub fn get_chat(chat: &str) -> Result<ChatInfo, Error> {
    Ok(raw::get_chat(chat)?)
}

/// Download the contents of a file users sent, e.g. a message's
/// [`Document::file_id`](crate::Document), accepting at most `max_bytes` (the host
/// also caps it at 1 MiB). A larger file is an [`Error::InvalidInput`] naming its size
/// and the limit. Needs the grant `telegram.files` (or `telegram`).
///
/// ```
/// use wharf_sdk::{prelude::*, telegram};
///
/// fn lines_of(msg: &Message) -> Result<Vec<String>, wharf_sdk::Error> {
///     let Some(doc) = &msg.document else { return Ok(Vec::new()) };
///     let bytes = telegram::download(&doc.file_id, 64 * 1024)?;
///     Ok(String::from_utf8_lossy(&bytes).lines().map(str::to_owned).collect())
/// }
/// ```
pub fn download(file_id: &str, max_bytes: u32) -> Result<Vec<u8>, Error> {
    Ok(raw::download_file(file_id, max_bytes)?)
}

/// Stop a callback button's spinner, optionally showing a short notice (at most 200
/// characters).
pub fn answer_callback(callback_id: &str, text: Option<&str>) -> Result<(), Error> {
    Ok(raw::answer_callback(callback_id, text, false)?)
}

/// Like [`answer_callback`], with the notice shown as an alert the user must dismiss.
pub fn answer_callback_alert(callback_id: &str, text: &str) -> Result<(), Error> {
    Ok(raw::answer_callback(callback_id, Some(text), true)?)
}
