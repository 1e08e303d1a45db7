//! What a turn tells the host about its users: who was seen (recorded with the turn, so
//! the log channel can show `@username` and `/start` can tell a new user from a returning
//! one) and the host's own business events about users: `user.started` (new or
//! returning), `user.blocked` and `user.unblocked`.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::caps::bindings::wharf::bot::types::{ChatKind, Event, MemberStatus, User};
use crate::config::LogLevel;
use crate::storage::{NewLogEvent, SeenUser, Storage};

/// Users remembered as recorded by this process, at most (then it starts over).
const MAX_REMEMBERED: usize = 100_000;

/// Users this process recorded, with the username recorded, so an update from a known
/// user with the same username writes nothing.
#[derive(Debug, Default)]
pub(crate) struct SeenUsers {
    known: Mutex<HashMap<i64, Option<String>>>,
}

impl SeenUsers {
    /// `user` if they need recording (new to this process, or a changed username).
    fn needs(&self, user: &User) -> Option<SeenUser> {
        let known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        match known.get(&user.id) {
            Some(name) if *name == user.username => None,
            _ => Some(SeenUser { id: user.id, username: user.username.clone() }),
        }
    }

    /// `users` were committed.
    pub(crate) fn committed(&self, users: &[SeenUser]) {
        if users.is_empty() {
            return;
        }
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        if known.len() + users.len() > MAX_REMEMBERED {
            known.clear();
        }
        for u in users {
            known.insert(u.id, u.username.clone());
        }
    }
}

/// The private-chat user behind `event`, if any (bots excluded).
fn private_user(event: &Event) -> Option<&User> {
    let (user, chat) = match event {
        Event::Message(m) => (m.sender.as_ref()?, &m.chat),
        Event::Callback(cb) => (&cb.sender, cb.chat.as_ref()?),
        Event::Member(m) => (&m.user, &m.chat),
        _ => return None,
    };
    (chat.kind == ChatKind::Private && !user.is_bot).then_some(user)
}

/// The users to record and the host's events for `event`.
pub(crate) async fn note(seen: &SeenUsers, storage: &Storage, event: &Event) -> (Vec<SeenUser>, Vec<NewLogEvent>) {
    let Some(user) = private_user(event) else { return (Vec::new(), Vec::new()) };
    let record: Vec<SeenUser> = seen.needs(user).into_iter().collect();
    let mut events = Vec::new();
    match event {
        Event::Message(m) if m.command.as_ref().is_some_and(|c| c.name == "start") => {
            let payload = m.command.as_ref().map(|c| c.args.trim()).unwrap_or_default();
            // Unknown on a storage error: the turn goes on, and the event says so.
            let first_seen = storage.user_first_seen(user.id).await;
            let (kind, title, emoji, is) = match first_seen {
                Ok(None) => ("user.started", "New user", "👋", "new"),
                Ok(Some(_)) => ("user.started", "User returned", "🔁", "returning"),
                Err(_) => ("user.started", "User started the bot", "👋", "unknown"),
            };
            let mut e = NewLogEvent::host(kind, title, emoji).user(user.id).field("user", is);
            if !payload.is_empty() {
                e = e.field("start_payload", payload.chars().take(64).collect::<String>());
            }
            events.push(e);
        }
        Event::Member(m) => {
            let e = match m.status {
                MemberStatus::Blocked => NewLogEvent::host("user.blocked", "User blocked the bot", "🚫"),
                MemberStatus::Unblocked => NewLogEvent::host("user.unblocked", "User unblocked the bot", "🔓"),
            };
            events.push(e.level(LogLevel::Info).user(user.id));
        }
        _ => {}
    }
    (record, events)
}
