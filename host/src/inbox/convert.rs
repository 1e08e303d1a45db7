//! Conversions between the inbox wire types and the WIT (bindgen) event types. A WIT
//! change lands here; the wire format stays put.

use super::{
    CallbackQuery, Chat, ChatKind, Command, CustomEvent, Document, Event, Lifecycle, MemberStatus, MemberUpdate,
    Message, TimerFired, User,
};
use crate::caps::bindings::wharf::bot::types as wit;

impl From<wit::User> for User {
    fn from(u: wit::User) -> Self {
        let wit::User { id, first_name, last_name, username, language_code, is_bot } = u;
        Self { id, first_name, last_name, username, language_code, is_bot }
    }
}

impl From<User> for wit::User {
    fn from(u: User) -> Self {
        let User { id, first_name, last_name, username, language_code, is_bot } = u;
        Self { id, first_name, last_name, username, language_code, is_bot }
    }
}

impl From<wit::ChatKind> for ChatKind {
    fn from(k: wit::ChatKind) -> Self {
        match k {
            wit::ChatKind::Private => Self::Private,
            wit::ChatKind::Group => Self::Group,
            wit::ChatKind::Supergroup => Self::Supergroup,
            wit::ChatKind::Channel => Self::Channel,
        }
    }
}

impl From<ChatKind> for wit::ChatKind {
    fn from(k: ChatKind) -> Self {
        match k {
            ChatKind::Private => Self::Private,
            ChatKind::Group => Self::Group,
            ChatKind::Supergroup => Self::Supergroup,
            ChatKind::Channel => Self::Channel,
        }
    }
}

impl From<wit::Chat> for Chat {
    fn from(c: wit::Chat) -> Self {
        Self { id: c.id, kind: c.kind.into(), title: c.title }
    }
}

impl From<Chat> for wit::Chat {
    fn from(c: Chat) -> Self {
        Self { id: c.id, kind: c.kind.into(), title: c.title }
    }
}

impl From<wit::Document> for Document {
    fn from(d: wit::Document) -> Self {
        let wit::Document { file_id, file_name, mime_type, size } = d;
        Self { file_id, file_name, mime_type, size }
    }
}

impl From<Document> for wit::Document {
    fn from(d: Document) -> Self {
        let Document { file_id, file_name, mime_type, size } = d;
        Self { file_id, file_name, mime_type, size }
    }
}

impl From<wit::Message> for Message {
    fn from(m: wit::Message) -> Self {
        Self {
            id: m.id,
            chat: m.chat.into(),
            sender: m.sender.map(Into::into),
            text: m.text,
            command: m.command.map(|c| Command { name: c.name, args: c.args }),
            reply_to: m.reply_to,
            date: m.date,
            document: m.document.map(Into::into),
        }
    }
}

impl From<Message> for wit::Message {
    fn from(m: Message) -> Self {
        Self {
            id: m.id,
            chat: m.chat.into(),
            sender: m.sender.map(Into::into),
            text: m.text,
            command: m.command.map(|c| wit::Command { name: c.name, args: c.args }),
            reply_to: m.reply_to,
            date: m.date,
            document: m.document.map(Into::into),
        }
    }
}

impl From<wit::CallbackQuery> for CallbackQuery {
    fn from(c: wit::CallbackQuery) -> Self {
        Self { id: c.id, sender: c.sender.into(), chat: c.chat.map(Into::into), message_id: c.message_id, data: c.data }
    }
}

impl From<CallbackQuery> for wit::CallbackQuery {
    fn from(c: CallbackQuery) -> Self {
        Self { id: c.id, sender: c.sender.into(), chat: c.chat.map(Into::into), message_id: c.message_id, data: c.data }
    }
}

impl From<wit::MemberUpdate> for MemberUpdate {
    fn from(m: wit::MemberUpdate) -> Self {
        let status = match m.status {
            wit::MemberStatus::Blocked => MemberStatus::Blocked,
            wit::MemberStatus::Unblocked => MemberStatus::Unblocked,
        };
        Self { chat: m.chat.into(), user: m.user.into(), status }
    }
}

impl From<MemberUpdate> for wit::MemberUpdate {
    fn from(m: MemberUpdate) -> Self {
        let status = match m.status {
            MemberStatus::Blocked => wit::MemberStatus::Blocked,
            MemberStatus::Unblocked => wit::MemberStatus::Unblocked,
        };
        Self { chat: m.chat.into(), user: m.user.into(), status }
    }
}

impl From<wit::Event> for Event {
    fn from(e: wit::Event) -> Self {
        match e {
            wit::Event::Message(m) => Self::Message(m.into()),
            wit::Event::Callback(c) => Self::Callback(c.into()),
            wit::Event::Member(m) => Self::Member(m.into()),
            wit::Event::Timer(t) => {
                Self::Timer(TimerFired { name: t.name, payload: t.payload, due_at: t.due_at, repeating: t.repeating })
            }
            wit::Event::Custom(c) => Self::Custom(CustomEvent { topic: c.topic, payload: c.payload, source: c.source }),
            wit::Event::Lifecycle(wit::Lifecycle::Installed) => Self::Lifecycle(Lifecycle::Installed),
            wit::Event::Lifecycle(wit::Lifecycle::Upgraded(from)) => Self::Lifecycle(Lifecycle::Upgraded(from)),
        }
    }
}

impl From<Event> for wit::Event {
    fn from(e: Event) -> Self {
        match e {
            Event::Message(m) => Self::Message(m.into()),
            Event::Callback(c) => Self::Callback(c.into()),
            Event::Member(m) => Self::Member(m.into()),
            Event::Timer(t) => Self::Timer(wit::TimerFired {
                name: t.name,
                payload: t.payload,
                due_at: t.due_at,
                repeating: t.repeating,
            }),
            Event::Custom(c) => Self::Custom(wit::CustomEvent { topic: c.topic, payload: c.payload, source: c.source }),
            Event::Lifecycle(Lifecycle::Installed) => Self::Lifecycle(wit::Lifecycle::Installed),
            Event::Lifecycle(Lifecycle::Upgraded(from)) => Self::Lifecycle(wit::Lifecycle::Upgraded(from)),
        }
    }
}
