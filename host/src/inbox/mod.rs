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
//!
//! Version 2 (golden file `inbox_observation.json`) is version 1 plus `observe`: the
//! entry is an observation, an update handed to the observer it targets (its `observe`
//! export, not `handle`), with the facts of the turn that handled the update
//! ([`Observation`]). Only observations are written as version 2, so a release that
//! knows version 1 only sets them aside (dead letters) rather than handing an update to
//! an observer's `handle`.
//!
//! Version 3 (golden file `inbox_admin_act.json`) is not an event: it is an admin's
//! action ([`AdminAct`]) for the plugin the row targets, run through its `admin.act`
//! export: `{"v":3,"act":{"action":…,"params":[…],"who":{…},"request":…}}`. Read with
//! [`Row::decode`]; [`Entry::decode`] refuses it, so it never reaches a `handle`.

use serde::{Deserialize, Serialize};

use crate::caps::bindings::wharf::bot::types as wit;

/// The version this release writes (for observations; other entries are version 1).
pub const VERSION: u32 = 2;
/// The version of entries that are not observations.
const V1: u32 = 1;

/// Why an inbox row cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Not JSON, or not an event of a known kind.
    #[error("not an inbox entry: {0}")]
    Malformed(#[from] serde_json::Error),
    /// Written by a newer release.
    #[error("inbox entry version {0} is unknown to this release (it reads versions up to {ACT_VERSION})")]
    UnknownVersion(u32),
    /// An admin action where an event was expected.
    #[error("inbox entry is an admin action, not an event")]
    NotAnEvent,
}

/// The version of admin actions.
pub const ACT_VERSION: u32 = 3;

/// An admin's action, queued for the plugin the row targets (version 3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminAct {
    /// The action's name in the plugin's admin spec.
    pub action: String,
    /// Its parameters, as checked against the spec when queued.
    pub params: crate::panel::Params,
    /// Who asked, and where.
    pub who: crate::panel::Who,
    /// The request id: the reply is kept under it, and a request runs once.
    pub request: String,
}

/// What an inbox row holds.
#[derive(Clone, Debug, PartialEq)]
pub enum Row {
    /// An event (versions 0-2).
    Entry(Box<Entry>),
    /// An admin action (version 3).
    Act(AdminAct),
}

#[derive(Serialize, Deserialize)]
struct ActWire {
    v: u32,
    act: AdminAct,
}

impl Row {
    /// Read a row payload of any version this release knows.
    pub fn decode(payload: &str) -> Result<Self, DecodeError> {
        match serde_json::from_str::<Probe>(payload)?.v {
            Some(ACT_VERSION) => Ok(Self::Act(serde_json::from_str::<ActWire>(payload)?.act)),
            _ => Entry::decode(payload).map(|e| Self::Entry(Box::new(e))),
        }
    }
}

impl AdminAct {
    /// The row payload (version 3).
    pub fn encode(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(&ActWire { v: ACT_VERSION, act: self.clone() })
    }
}

/// One inbox entry: an event and how deep in a causal chain it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// Events between the original cause (an update, a timer) and this one.
    pub hops: u32,
    /// What happened.
    pub event: Event,
    /// Set when the entry is an observation (version 2): the update goes to the
    /// target's `observe`.
    pub observe: Option<Observation>,
}

/// The turn that handled an update, as an observer is told about it: its `context`
/// is the one the plugins got (same chat, `now-ms` and `turn-id`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    /// The lane (chat id, 0 for none) the update was handled in.
    pub lane: i64,
    /// The handled update's inbox id (its `turn-id`).
    pub turn_id: i64,
    /// Host time at the start of that turn, in Unix milliseconds.
    pub now_ms: i64,
}

#[derive(Serialize)]
struct Out<'a> {
    v: u32,
    hops: u32,
    event: &'a Event,
    #[serde(skip_serializing_if = "Option::is_none")]
    observe: Option<&'a Observation>,
}

#[derive(Deserialize)]
struct V1In {
    #[serde(default)]
    hops: u32,
    event: Event,
}

#[derive(Deserialize)]
struct V2In {
    #[serde(default)]
    hops: u32,
    event: Event,
    #[serde(default)]
    observe: Option<Observation>,
}

#[derive(Deserialize)]
struct Probe {
    #[serde(default)]
    v: Option<u32>,
}

impl Entry {
    /// An entry at the start of a chain (hops 0).
    pub fn new(event: impl Into<Event>) -> Self {
        Self { hops: 0, event: event.into(), observe: None }
    }

    /// An observation of `event` (at `hops`), handled in the turn `of`.
    pub fn observation(event: impl Into<Event>, hops: u32, of: Observation) -> Self {
        Self { hops, event: event.into(), observe: Some(of) }
    }

    /// The event as plugins see it (the WIT type).
    pub fn into_wit(self) -> wit::Event {
        self.event.into()
    }

    /// The row payload: version 2 for an observation, version 1 otherwise.
    pub fn encode(&self) -> Result<String, serde_json::Error> {
        let v = if self.observe.is_some() { VERSION } else { V1 };
        serde_json::to_string(&Out { v, hops: self.hops, event: &self.event, observe: self.observe.as_ref() })
    }

    /// Read a row payload of any version this release knows.
    pub fn decode(payload: &str) -> Result<Self, DecodeError> {
        match serde_json::from_str::<Probe>(payload)?.v {
            None => Ok(Self::new(serde_json::from_str::<Event>(payload)?)),
            Some(V1) => {
                let v1: V1In = serde_json::from_str(payload)?;
                Ok(Self { hops: v1.hops, event: v1.event, observe: None })
            }
            Some(VERSION) => {
                let v2: V2In = serde_json::from_str(payload)?;
                Ok(Self { hops: v2.hops, event: v2.event, observe: v2.observe })
            }
            Some(ACT_VERSION) => Err(DecodeError::NotAnEvent),
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
