//! Events as the host builds them from Telegram updates, for tests.

use crate::{CallbackQuery, Chat, ChatKind, Command, CustomEvent, Document, Event, MemberUpdate, Message, User};

/// A user as the bundled Bot API emulator (`wharf chat`, `wharf test`) shows them: first
/// name `User {id}`, language `en`.
pub fn user(id: i64) -> User {
    User {
        id,
        first_name: format!("User {id}"),
        last_name: None,
        username: None,
        language_code: Some("en".into()),
        is_bot: false,
    }
}

/// The private chat with user `user_id` (its id is the user's).
pub fn private_chat(user_id: i64) -> Chat {
    Chat { id: user_id, kind: ChatKind::Private, title: None }
}

/// A supergroup (Telegram's group ids are negative, e.g. `-100123`).
pub fn group(chat_id: i64, title: &str) -> Chat {
    Chat { id: chat_id, kind: ChatKind::Supergroup, title: Some(title.to_owned()) }
}

/// `/name@bot args` as the host parses it: the name lower-cased without the bot's name,
/// the arguments trimmed; `None` if the text does not start with a command.
pub fn parse_command(text: &str) -> Option<Command> {
    let rest = text.strip_prefix('/')?;
    let (head, args) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let name = head.split('@').next().unwrap_or_default().to_ascii_lowercase();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    Some(Command { name, args: args.trim().to_owned() })
}

/// A message `text` from `sender` in `chat` (a command is parsed out of it).
pub fn message_in(chat: Chat, sender: User, text: &str) -> Message {
    Message {
        id: 1,
        chat,
        sender: Some(sender),
        text: Some(text.to_owned()),
        command: parse_command(text),
        reply_to: None,
        date: 0,
        document: None,
    }
}

/// A text message from user `user_id` in their private chat.
pub fn text(user_id: i64, text: &str) -> Event {
    Event::Message(message_in(private_chat(user_id), user(user_id), text))
}

/// A file `file_id` named `file_name` sent by user `user_id` in their private chat, with
/// an optional caption (parsed for a command like text). Register its contents with
/// [`Harness::add_file`](super::Harness::add_file), or use
/// [`Harness::upload`](super::Harness::upload), which does both.
pub fn document(user_id: i64, file_id: &str, file_name: &str, caption: Option<&str>) -> Event {
    let mut m = message_in(private_chat(user_id), user(user_id), caption.unwrap_or_default());
    if caption.is_none() {
        m.text = None;
    }
    m.document = Some(Document {
        file_id: file_id.to_owned(),
        file_name: Some(file_name.to_owned()),
        mime_type: None,
        size: None,
    });
    Event::Message(m)
}

/// A press by user `user_id` of a button carrying `data` (as the plugin wrote it, without
/// the host's prefix) on message `message_id` of their private chat.
pub fn press(user_id: i64, message_id: i32, data: &str) -> Event {
    Event::Callback(CallbackQuery {
        id: format!("cb-{user_id}-{message_id}"),
        sender: user(user_id),
        chat: Some(private_chat(user_id)),
        message_id: Some(message_id),
        data: data.to_owned(),
    })
}

/// A custom event on `topic` from plugin `source`.
pub fn custom(topic: &str, payload: &[u8], source: &str) -> Event {
    Event::Custom(CustomEvent { topic: topic.to_owned(), payload: payload.to_vec(), source: source.to_owned() })
}

/// User `user_id` blocked (`blocked = true`) or restarted the bot in their private chat.
pub fn member(user_id: i64, blocked: bool) -> Event {
    let status = if blocked { crate::MemberStatus::Blocked } else { crate::MemberStatus::Unblocked };
    Event::Member(MemberUpdate { chat: private_chat(user_id), user: user(user_id), status })
}
