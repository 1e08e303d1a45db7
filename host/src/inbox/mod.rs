//! Inbox entries on the wire: the host-owned, versioned format of an inbox row's
//! `payload`. The WIT's event types change with the WIT; this format changes only by a
//! new version, converted to and from the WIT types at the edges, and every format a
//! previous release wrote is still read.
//!
//! Version 1 (golden files `host/tests/golden/inbox_*.json`):
//! `{"v":1,"hops":0,"event":{"message":{…}}}`. `hops` counts the causal chain: an event
//! emitted while handling an entry has that entry's `hops` + 1 (0 when absent).
//! The format before versioning (release 0.1: the WIT event as serde wrote it, e.g.
//! `{"Message":{…}}`) reads as version 1 with `hops` 0.

use serde::{Deserialize, Serialize};

use crate::caps::bindings::wharf::bot::types as wit;

/// The version this release writes.
pub const VERSION: u32 = 1;

/// Why an inbox row cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Not JSON, or not an event of a known kind.
    #[error("not an inbox entry: {0}")]
    Malformed(#[from] serde_json::Error),
    /// Written by a newer release.
    #[error("inbox entry version {0} is unknown to this release (it reads versions up to {VERSION})")]
    UnknownVersion(u32),
}

/// One inbox entry: an event and how deep in a causal chain it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// Events between the original cause (an update, a timer) and this one.
    pub hops: u32,
    /// What happened.
    pub event: Event,
}

#[derive(Serialize)]
struct V1Out<'a> {
    v: u32,
    hops: u32,
    event: &'a Event,
}

#[derive(Deserialize)]
struct V1In {
    #[serde(default)]
    hops: u32,
    event: Event,
}

#[derive(Deserialize)]
struct Probe {
    #[serde(default)]
    v: Option<u32>,
}

impl Entry {
    /// An entry at the start of a chain (hops 0).
    pub fn new(event: impl Into<Event>) -> Self {
        Self { hops: 0, event: event.into() }
    }

    /// The event as plugins see it (the WIT type).
    pub fn into_wit(self) -> wit::Event {
        self.event.into()
    }

    /// The row payload, in the current version.
    pub fn encode(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(&V1Out { v: VERSION, hops: self.hops, event: &self.event })
    }

    /// Read a row payload of any version this release knows.
    pub fn decode(payload: &str) -> Result<Self, DecodeError> {
        match serde_json::from_str::<Probe>(payload)?.v {
            None => Ok(Self { hops: 0, event: serde_json::from_str(payload)? }),
            Some(VERSION) => {
                let v1: V1In = serde_json::from_str(payload)?;
                Ok(Self { hops: v1.hops, event: v1.event })
            }
            Some(v) => Err(DecodeError::UnknownVersion(v)),
        }
    }
}

/// A Telegram user.
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: i64,
    pub first_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language_code: Option<String>,
    #[serde(default)]
    pub is_bot: bool,
}

/// A chat's kind.
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatKind {
    #[serde(alias = "Private")]
    Private,
    #[serde(alias = "Group")]
    Group,
    #[serde(alias = "Supergroup")]
    Supergroup,
    #[serde(alias = "Channel")]
    Channel,
}

/// A chat.
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Chat {
    pub id: i64,
    pub kind: ChatKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// A bot command.
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Command {
    pub name: String,
    #[serde(default)]
    pub args: String,
}

/// A document attached to a message.
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Document {
    pub file_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// An incoming message.
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: i32,
    pub chat: Chat,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender: Option<User>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Command>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<i32>,
    #[serde(default)]
    pub date: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<Document>,
}

/// A button press.
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallbackQuery {
    pub id: String,
    pub sender: User,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat: Option<Chat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<i32>,
    pub data: String,
}

/// A member status.
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberStatus {
    #[serde(alias = "Blocked")]
    Blocked,
    #[serde(alias = "Unblocked")]
    Unblocked,
}

/// A change of the bot's membership in a chat.
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemberUpdate {
    pub chat: Chat,
    pub user: User,
    pub status: MemberStatus,
}

/// A timer came due.
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimerFired {
    pub name: String,
    #[serde(default)]
    pub payload: Vec<u8>,
    pub due_at: i64,
    #[serde(default)]
    pub repeating: bool,
}

/// An event a plugin emitted.
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CustomEvent {
    pub topic: String,
    #[serde(default)]
    pub payload: Vec<u8>,
    pub source: String,
}

/// Installed or upgraded (from a version).
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lifecycle {
    #[serde(alias = "Installed")]
    Installed,
    #[serde(alias = "Upgraded")]
    Upgraded(String),
}

/// What happened, one variant per entry kind.
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    #[serde(alias = "Message")]
    Message(Message),
    #[serde(alias = "Callback")]
    Callback(CallbackQuery),
    #[serde(alias = "Member")]
    Member(MemberUpdate),
    #[serde(alias = "Timer")]
    Timer(TimerFired),
    #[serde(alias = "Custom")]
    Custom(CustomEvent),
    #[serde(alias = "Lifecycle")]
    Lifecycle(Lifecycle),
}

mod convert;
