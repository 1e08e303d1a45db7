//! The outbox's wire format: one typed, versioned Bot API call per outbox row.
//!
//! A row is `{"v": 2, "method": "sendMessage", "params": {…}}`; `params` uses the Bot
//! API's own field names, so a row reads like the request it becomes. Version 1 (the
//! previous release) is the same shape without `v`, without `handle` on sends and with
//! only `message_id` as an edit/delete target; it is still read. Version 3 added
//! `sendDocument` (the file's bytes in the row, base64); a row carries the oldest version
//! that reads it ([`OutboxCall::version`]), so only documents are written as 3 and a host
//! of the previous release dead-letters just those, saying the row is too new. A row
//! that does not parse (or comes from a newer version) is a [`ReadError`]: the sender
//! dead-letters it with that reason, it is never dropped.
//!
//! Golden files: `host/tests/golden/outbox_*.json` (one per variant) and
//! `host/tests/golden/outbox_v1_rows.json` (rows written by the previous release).

use serde::{Deserialize, Serialize};

/// The newest version this host writes and reads.
pub const VERSION: u32 = 3;

/// One Bot API call waiting in the outbox.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", content = "params")]
pub enum OutboxCall {
    /// `sendMessage`.
    #[serde(rename = "sendMessage")]
    SendMessage(SendMessage),
    /// `sendPhoto`.
    #[serde(rename = "sendPhoto")]
    SendPhoto(SendPhoto),
    /// `sendDocument` (since version 3).
    #[serde(rename = "sendDocument")]
    SendDocument(SendDocument),
    /// `editMessageText`.
    #[serde(rename = "editMessageText")]
    EditMessageText(EditMessageText),
    /// `deleteMessage`.
    #[serde(rename = "deleteMessage")]
    DeleteMessage(DeleteMessage),
    /// `answerCallbackQuery`.
    #[serde(rename = "answerCallbackQuery")]
    AnswerCallbackQuery(AnswerCallbackQuery),
}

/// How Telegram parses the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ParseMode {
    /// `HTML`.
    #[serde(rename = "HTML")]
    Html,
    /// `MarkdownV2`.
    MarkdownV2,
}

/// An inline keyboard (`reply_markup`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keyboard {
    /// Rows of buttons.
    pub inline_keyboard: Vec<Vec<Button>>,
}

/// One inline button.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    /// Label.
    pub text: String,
    /// What pressing it does.
    #[serde(flatten)]
    pub action: ButtonAction,
}

/// What a button does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ButtonAction {
    /// Sends this callback data (already carrying the plugin's prefix).
    #[serde(rename = "callback_data")]
    Callback(String),
    /// Opens this `http(s)://` or `tg://` URL.
    #[serde(rename = "url")]
    Url(String),
}

/// The message a send replies to (`reply_parameters`); sent even if it is gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyTo {
    /// Message id in the same chat.
    pub message_id: i32,
}

/// Which message an edit or delete is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MessageRef {
    /// A Telegram message id (`"message_id": N`).
    #[serde(rename = "message_id")]
    Id(i32),
    /// The host-assigned handle of a send (`"handle": N`), resolved to the Telegram
    /// message id once that send was delivered.
    #[serde(rename = "handle")]
    Handle(i64),
}

/// `sendMessage` parameters.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SendMessage {
    /// Target chat.
    pub chat_id: i64,
    /// Text.
    pub text: String,
    /// Parse mode, if not plain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parse_mode: Option<ParseMode>,
    /// Inline keyboard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_markup: Option<Keyboard>,
    /// Message replied to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_parameters: Option<ReplyTo>,
    /// Host-assigned handle: once delivered, the message id is recorded under it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handle: Option<i64>,
    /// Deliver without a notification sound (the log sink's routine digests).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disable_notification: bool,
}

/// `sendPhoto` parameters.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SendPhoto {
    /// Target chat.
    pub chat_id: i64,
    /// A Telegram file id, or an `http(s)://` URL Telegram fetches.
    pub photo: String,
    /// Caption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// Parse mode of the caption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parse_mode: Option<ParseMode>,
    /// Inline keyboard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_markup: Option<Keyboard>,
    /// Message replied to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_parameters: Option<ReplyTo>,
    /// Host-assigned handle, as for [`SendMessage::handle`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handle: Option<i64>,
}

/// `sendDocument` parameters: the file travels in the row.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SendDocument {
    /// Target chat.
    pub chat_id: i64,
    /// The file, uploaded with the request.
    pub document: DocumentFile,
    /// Caption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// Parse mode of the caption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parse_mode: Option<ParseMode>,
    /// Inline keyboard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_markup: Option<Keyboard>,
    /// Message replied to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_parameters: Option<ReplyTo>,
    /// Host-assigned handle, as for [`SendMessage::handle`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handle: Option<i64>,
}

/// A file to upload: its name and contents (base64 in the row).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentFile {
    /// File name shown in the chat.
    pub file_name: String,
    /// Contents.
    #[serde(with = "base64_bytes")]
    pub data: Vec<u8>,
}

/// Bytes as a standard base64 string.
mod base64_bytes {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        STANDARD.decode(text.as_bytes()).map_err(serde::de::Error::custom)
    }
}

/// `editMessageText` parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EditMessageText {
    /// Chat of the message.
    pub chat_id: i64,
    /// The message.
    #[serde(flatten)]
    pub target: MessageRef,
    /// New text.
    pub text: String,
    /// Parse mode, if not plain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parse_mode: Option<ParseMode>,
    /// New inline keyboard (none removes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_markup: Option<Keyboard>,
}

/// `deleteMessage` parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteMessage {
    /// Chat of the message.
    pub chat_id: i64,
    /// The message.
    #[serde(flatten)]
    pub target: MessageRef,
}

/// `answerCallbackQuery` parameters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerCallbackQuery {
    /// The query answered.
    pub callback_query_id: String,
    /// Notification text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Show the text as an alert.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub show_alert: bool,
}

/// Why a row could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Written by a newer host.
    #[error("outbox row version {0} is newer than this host reads (up to {VERSION})")]
    TooNew(u32),
    /// Not a call this host knows.
    #[error("unreadable outbox row: {0}")]
    Malformed(#[from] serde_json::Error),
}

#[derive(Serialize)]
struct RowOut<'a> {
    v: u32,
    #[serde(flatten)]
    call: &'a OutboxCall,
}

#[derive(Deserialize)]
struct RowVersion {
    #[serde(default)]
    v: Option<u32>,
}

impl OutboxCall {
    /// The oldest row version that can hold this call (2, or 3 for a document).
    pub fn version(&self) -> u32 {
        match self {
            Self::SendDocument(_) => 3,
            _ => 2,
        }
    }

    /// The row text, marked with [`version`](Self::version).
    pub fn to_row(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(&RowOut { v: self.version(), call: self })
    }

    /// Read a row of any version up to [`VERSION`].
    pub fn from_row(text: &str) -> Result<Self, ReadError> {
        let v = serde_json::from_str::<RowVersion>(text)?.v.unwrap_or(1);
        if v > VERSION {
            return Err(ReadError::TooNew(v));
        }
        Ok(serde_json::from_str(text)?)
    }

    /// The Bot API method (the metrics' `method` label).
    pub fn method(&self) -> &'static str {
        match self {
            Self::SendMessage(_) => "sendMessage",
            Self::SendPhoto(_) => "sendPhoto",
            Self::SendDocument(_) => "sendDocument",
            Self::EditMessageText(_) => "editMessageText",
            Self::DeleteMessage(_) => "deleteMessage",
            Self::AnswerCallbackQuery(_) => "answerCallbackQuery",
        }
    }

    /// The chat the call is about (`None` for a callback answer).
    pub fn chat_id(&self) -> Option<i64> {
        match self {
            Self::SendMessage(p) => Some(p.chat_id),
            Self::SendPhoto(p) => Some(p.chat_id),
            Self::SendDocument(p) => Some(p.chat_id),
            Self::EditMessageText(p) => Some(p.chat_id),
            Self::DeleteMessage(p) => Some(p.chat_id),
            Self::AnswerCallbackQuery(_) => None,
        }
    }

    /// The handle a send records its message under.
    pub fn handle(&self) -> Option<i64> {
        match self {
            Self::SendMessage(p) => p.handle,
            Self::SendPhoto(p) => p.handle,
            Self::SendDocument(p) => p.handle,
            _ => None,
        }
    }

    /// The handle of an earlier send this call edits or deletes, if it names one (the
    /// send must be recorded before this call can be delivered).
    pub fn target_handle(&self) -> Option<i64> {
        let target = match self {
            Self::EditMessageText(p) => &p.target,
            Self::DeleteMessage(p) => &p.target,
            _ => return None,
        };
        match target {
            MessageRef::Handle(h) => Some(*h),
            MessageRef::Id(_) => None,
        }
    }

    /// The callback query this call answers, if it is an answer.
    pub fn answers(&self) -> Option<&str> {
        match self {
            Self::AnswerCallbackQuery(p) => Some(&p.callback_query_id),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_reads_version_one() {
        let call = OutboxCall::EditMessageText(EditMessageText {
            chat_id: 5,
            target: MessageRef::Handle(9),
            text: "t".into(),
            parse_mode: Some(ParseMode::Html),
            reply_markup: Some(Keyboard {
                inline_keyboard: vec![vec![Button { text: "b".into(), action: ButtonAction::Callback("p:x".into()) }]],
            }),
        });
        let row = call.to_row().unwrap();
        assert_eq!(OutboxCall::from_row(&row).unwrap(), call);
        let v1 = r#"{"method":"deleteMessage","params":{"chat_id":5,"message_id":3}}"#;
        assert_eq!(
            OutboxCall::from_row(v1).unwrap(),
            OutboxCall::DeleteMessage(DeleteMessage { chat_id: 5, target: MessageRef::Id(3) })
        );
        assert!(matches!(OutboxCall::from_row(r#"{"v":4,"method":"x"}"#), Err(ReadError::TooNew(4))));
        assert!(OutboxCall::from_row(r#"{"method":"sendMessage","params":{"chat_id":5,"text":7}}"#).is_err());
    }
}
