//! What the fake host recorded, as tests read it.

use serde::de::DeserializeOwned;

use crate::Error;
use crate::bindings::wharf::bot::log::{Field, Level};
use crate::telegram::{Button, ButtonAction, MessageHandle, Outgoing, ParseMode, Photo};

/// One Telegram call the plugin queued, in order.
#[derive(Debug, Clone)]
pub enum Call {
    /// `telegram::send` / `send_text`.
    Send {
        /// Chat it goes to.
        chat_id: i64,
        /// The handle the send returned.
        handle: MessageHandle,
        /// The Telegram message id the fake gave it at once (the host learns it on delivery).
        message_id: i32,
        /// The message.
        message: Outgoing,
    },
    /// `telegram::send_photo`.
    SendPhoto {
        /// Chat it goes to.
        chat_id: i64,
        /// The handle the send returned.
        handle: MessageHandle,
        /// The Telegram message id the fake gave it.
        message_id: i32,
        /// The photo.
        photo: Photo,
        /// Its caption (text may be empty).
        caption: Outgoing,
    },
    /// `telegram::send_document`.
    SendDocument {
        /// Chat it goes to.
        chat_id: i64,
        /// The handle the send returned.
        handle: MessageHandle,
        /// The Telegram message id the fake gave it.
        message_id: i32,
        /// The file.
        document: SentFile,
        /// Its caption (text may be empty).
        caption: Outgoing,
    },
    /// `telegram::edit` of one of the plugin's messages.
    Edit {
        /// Chat of the message.
        chat_id: i64,
        /// The message edited (a handle is resolved to its id).
        message_id: i32,
        /// New text and keyboard.
        message: Outgoing,
    },
    /// `telegram::delete` of one of the plugin's messages.
    Delete {
        /// Chat of the message.
        chat_id: i64,
        /// The message deleted.
        message_id: i32,
    },
    /// `telegram::answer_callback`.
    Answer(Answer),
}

/// A file the plugin sent as a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentFile {
    /// Its file name.
    pub file_name: String,
    /// Its contents.
    pub data: Vec<u8>,
}

impl SentFile {
    /// The contents as text (lossy UTF-8), e.g. a CSV export.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

/// An answer to a button press.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The callback query's id.
    pub callback_id: String,
    /// Notice shown to the user, if any.
    pub text: Option<String>,
    /// Shown as an alert rather than a toast.
    pub show_alert: bool,
}

/// A message the plugin sent, as the chat shows it now (edits applied).
#[derive(Debug, Clone)]
pub struct Shown {
    /// Its chat.
    pub chat_id: i64,
    /// The handle its send returned.
    pub handle: MessageHandle,
    /// Its Telegram message id.
    pub message_id: i32,
    /// Text (or caption).
    pub text: String,
    /// How `text` is formatted.
    pub parse_mode: ParseMode,
    /// Inline keyboard rows (empty for none).
    pub keyboard: Vec<Vec<Button>>,
    /// The photo, for a photo message.
    pub photo: Option<Photo>,
    /// The file, for a document.
    pub document: Option<SentFile>,
    /// How many times it was edited.
    pub edits: u32,
    /// Deleted by the plugin (kept here so tests can see it).
    pub deleted: bool,
}

impl Shown {
    pub(crate) fn new(
        chat_id: i64,
        handle: MessageHandle,
        message_id: i32,
        m: &Outgoing,
        photo: Option<Photo>,
    ) -> Self {
        Self {
            chat_id,
            handle,
            message_id,
            text: m.text.clone(),
            parse_mode: m.parse_mode,
            keyboard: m.keyboard.clone().unwrap_or_default(),
            photo,
            document: None,
            edits: 0,
            deleted: false,
        }
    }

    pub(crate) fn edit(&mut self, m: &Outgoing) {
        self.text = m.text.clone();
        self.parse_mode = m.parse_mode;
        self.keyboard = m.keyboard.clone().unwrap_or_default();
        self.edits += 1;
    }

    /// The labels of its buttons, row after row.
    pub fn buttons(&self) -> Vec<String> {
        self.keyboard.iter().flatten().map(|b| b.text.clone()).collect()
    }

    /// The callback data of the button labelled `label`, if it has one.
    pub fn callback_data(&self, label: &str) -> Option<String> {
        self.keyboard.iter().flatten().find(|b| b.text == label).and_then(|b| match &b.action {
            ButtonAction::Callback(data) => Some(data.clone()),
            ButtonAction::Url(_) => None,
        })
    }
}

/// A timer or repeating job the plugin set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timer {
    /// Its name.
    pub name: String,
    /// When it fires next, in Unix milliseconds.
    pub due_ms: i64,
    /// The interval of a repeating job.
    pub interval_ms: Option<u64>,
    /// Its payload.
    pub payload: Vec<u8>,
    /// The chat of the turn that set it (it fires there).
    pub chat_id: Option<i64>,
}

/// A custom event the plugin emitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Emitted {
    /// Its topic.
    pub topic: String,
    /// Its payload.
    pub payload: Vec<u8>,
    /// The chat of the turn that emitted it.
    pub chat_id: Option<i64>,
}

impl Emitted {
    /// The payload decoded from JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.payload).map_err(Error::from)
    }
}

/// A diagnostic line the plugin wrote.
#[derive(Debug, Clone)]
pub struct LogLine {
    /// Its level.
    pub level: Level,
    /// The message.
    pub message: String,
    /// Its fields.
    pub fields: Vec<Field>,
}
