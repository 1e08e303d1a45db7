//! Building events by hand: the event types of the WIT interface, plus shorthands for
//! the common ones (used by tests and by the Telegram front end).

pub use crate::caps::bindings::wharf::bot::types::{
    CallbackQuery, Chat, ChatKind, Command, Context, CustomEvent, Document, Event, Flow, Lifecycle, MemberStatus,
    MemberUpdate, Message, TimerFired, User,
};

/// A user with just an id and a first name.
pub fn user(id: i64) -> User {
    User { id, first_name: format!("user{id}"), last_name: None, username: None, language_code: None, is_bot: false }
}

/// A private chat with `user_id`.
pub fn private_chat(user_id: i64) -> Chat {
    Chat { id: user_id, kind: ChatKind::Private, title: None }
}

/// A text message from `user_id` in their private chat; `/cmd args` is parsed as a command.
pub fn text(user_id: i64, text: &str) -> Event {
    Event::Message(Message {
        id: 1,
        chat: private_chat(user_id),
        sender: Some(user(user_id)),
        text: Some(text.to_owned()),
        command: parse_command(text),
        reply_to: None,
        date: 0,
        document: None,
    })
}

/// A document (file) `file_id` named `file_name` from `user_id` in their private chat,
/// with an optional caption (parsed for a command like text).
pub fn document(user_id: i64, file_id: &str, file_name: &str, caption: Option<&str>) -> Event {
    Event::Message(Message {
        id: 1,
        chat: private_chat(user_id),
        sender: Some(user(user_id)),
        text: caption.map(str::to_owned),
        command: caption.and_then(parse_command),
        reply_to: None,
        date: 0,
        document: Some(Document {
            file_id: file_id.to_owned(),
            file_name: Some(file_name.to_owned()),
            mime_type: None,
            size: None,
        }),
    })
}

/// A press of a button carrying `data` (with the owning plugin's prefix, e.g. `echo:ping`).
pub fn callback(user_id: i64, data: &str) -> Event {
    Event::Callback(CallbackQuery {
        id: format!("cb-{user_id}"),
        sender: user(user_id),
        chat: Some(private_chat(user_id)),
        message_id: Some(1),
        data: data.to_owned(),
    })
}

/// Parse `/name@bot args` into a command.
pub fn parse_command(text: &str) -> Option<Command> {
    let rest = text.strip_prefix('/')?;
    let (head, args) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let name = head.split('@').next().unwrap_or_default().to_ascii_lowercase();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    Some(Command { name, args: args.trim().to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands() {
        let c = parse_command("/Start@WharfBot  ref_42 ").unwrap();
        assert_eq!((c.name.as_str(), c.args.as_str()), ("start", "ref_42"));
        assert!(parse_command("hello").is_none());
        assert!(parse_command("/").is_none());
        assert!(parse_command("/ä").is_none());
    }
}
