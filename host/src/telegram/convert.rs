//! Telegram updates → Wharf events. Text messages and captions (with commands, including
//! `/cmd@botname` and `/start PAYLOAD`), documents (files, with or without a caption),
//! callback queries, `my_chat_member` and `chat_member` changes are supported; anything
//! else is skipped. A `my_chat_member` change is a member event of its chat (its lane);
//! only in a private chat does it mean the user blocked or unblocked the bot
//! ([`block_mark`]). A `chat_member` change (someone joined, left, was restricted… in a
//! chat where the bot is an administrator; Telegram sends these only when asked, see
//! [`ALLOWED_UPDATES`]) becomes a custom event on topic [`CHAT_MEMBER_TOPIC`] from
//! source `telegram`, in the chat's lane, for the plugins that subscribe:
//! `{"chat_id":-1001,"user_id":42,"status":"member","is_member":true}` (`status` one of
//! creator, administrator, member, restricted, left, kicked; `is_member` as
//! `telegram.chat-member` reports it).

use teloxide_core::types::{
    AllowedUpdate, Chat as TgChat, ChatKind as TgChatKind, ChatMemberKind, ChatMemberUpdated, MaybeInaccessibleMessage,
    Message as TgMessage, PublicChatKind, Update, UpdateKind, User as TgUser,
};

use crate::event::{
    CallbackQuery, Chat, ChatKind, CustomEvent, Document, Event, MemberStatus, MemberUpdate, Message, User,
    parse_command,
};

/// The topic of `chat_member` updates, delivered as custom events from source
/// [`HOST_SOURCE`] (plugins cannot emit topics under `telegram.`).
pub const CHAT_MEMBER_TOPIC: &str = "telegram.chat-member";
/// The `source` of custom events the host makes from Telegram updates.
pub const HOST_SOURCE: &str = "telegram";

/// The update kinds the bot asks Telegram for (`allowed_updates` of `getUpdates` and
/// `setWebhook`): the ones [`convert`] handles. Telegram sends `chat_member` only when
/// it is listed.
pub const ALLOWED_UPDATES: [AllowedUpdate; 4] =
    [AllowedUpdate::Message, AllowedUpdate::CallbackQuery, AllowedUpdate::MyChatMember, AllowedUpdate::ChatMember];

/// A `chat_member` change as the payload of a [`CHAT_MEMBER_TOPIC`] event.
fn chat_member_payload(u: &ChatMemberUpdated) -> Vec<u8> {
    let (status, is_member) = match &u.new_chat_member.kind {
        ChatMemberKind::Owner(_) => ("creator", true),
        ChatMemberKind::Administrator(_) => ("administrator", true),
        ChatMemberKind::Member(_) => ("member", true),
        ChatMemberKind::Restricted(r) => ("restricted", r.is_member),
        ChatMemberKind::Left => ("left", false),
        ChatMemberKind::Banned(_) => ("kicked", false),
    };
    let user = i64::try_from(u.new_chat_member.user.id.0).unwrap_or(i64::MAX);
    serde_json::json!({ "chat_id": u.chat.id.0, "user_id": user, "status": status, "is_member": is_member })
        .to_string()
        .into_bytes()
}

/// What became of an update.
#[derive(Debug)]
pub enum Converted {
    /// An event for the inbox, in a lane (the chat id).
    Event { lane: i64, event: Box<Event> },
    /// A kind of update Wharf does not handle (counted, skipped).
    Unsupported(&'static str),
    /// JSON Telegram sent that the client could not parse (logged, skipped).
    Malformed,
}

fn user(u: &TgUser) -> User {
    User {
        id: i64::try_from(u.id.0).unwrap_or(i64::MAX),
        first_name: u.first_name.clone(),
        last_name: u.last_name.clone(),
        username: u.username.clone(),
        language_code: u.language_code.clone(),
        is_bot: u.is_bot,
    }
}

fn chat(c: &TgChat) -> Chat {
    let (kind, title) = match &c.kind {
        TgChatKind::Private(_) => (ChatKind::Private, None),
        TgChatKind::Public(p) => {
            let kind = match p.kind {
                PublicChatKind::Group => ChatKind::Group,
                PublicChatKind::Supergroup(_) => ChatKind::Supergroup,
                PublicChatKind::Channel(_) => ChatKind::Channel,
            };
            (kind, p.title.clone())
        }
    };
    Chat { id: c.id.0, kind, title }
}

fn document(d: &teloxide_core::types::Document) -> Document {
    Document {
        file_id: d.file.id.0.clone(),
        file_name: d.file_name.clone(),
        mime_type: d.mime_type.as_ref().map(ToString::to_string),
        // teloxide reports a missing size as u32::MAX.
        size: (d.file.size != u32::MAX).then_some(u64::from(d.file.size)),
    }
}

/// A message with text, a caption or a document; `None` for anything else.
fn message(m: &TgMessage, bot_username: &str) -> Option<Message> {
    let text = m.text().or_else(|| m.caption());
    let document = m.document().map(document);
    if text.is_none() && document.is_none() {
        return None;
    }
    // A command addressed to another bot (`/start@other_bot`) is not ours.
    let command = text.and_then(parse_command).filter(|_| {
        let head = text.and_then(|t| t.split_whitespace().next()).unwrap_or_default();
        head.split_once('@').is_none_or(|(_, to)| to.eq_ignore_ascii_case(bot_username))
    });
    Some(Message {
        id: m.id.0,
        chat: chat(&m.chat),
        sender: m.from.as_ref().map(user),
        text: text.map(str::to_owned),
        command,
        reply_to: m.reply_to_message().map(|r| r.id.0),
        date: m.date.timestamp(),
        document,
    })
}

/// Convert one update; `bot_username` decides which `/cmd@name` commands are ours.
pub fn convert(update: &Update, bot_username: &str) -> Converted {
    match &update.kind {
        UpdateKind::Message(m) => match message(m, bot_username) {
            Some(msg) => Converted::Event { lane: m.chat.id.0, event: Box::new(Event::Message(msg)) },
            None => Converted::Unsupported("message without text or document"),
        },
        UpdateKind::CallbackQuery(q) => {
            let Some(data) = q.data.clone() else { return Converted::Unsupported("callback without data") };
            let (chat_, message_id) = match &q.message {
                Some(MaybeInaccessibleMessage::Regular(m)) => (Some(chat(&m.chat)), Some(m.id.0)),
                Some(MaybeInaccessibleMessage::Inaccessible(m)) => (Some(chat(&m.chat)), Some(m.message_id.0)),
                None => (None, None),
            };
            let sender = user(&q.from);
            let lane = chat_.as_ref().map_or(sender.id, |c| c.id);
            let cb = CallbackQuery { id: q.id.to_string(), sender, chat: chat_, message_id, data };
            Converted::Event { lane, event: Box::new(Event::Callback(cb)) }
        }
        UpdateKind::MyChatMember(u) => {
            let status = if u.new_chat_member.kind.is_banned() || u.new_chat_member.kind.is_left() {
                MemberStatus::Blocked
            } else {
                MemberStatus::Unblocked
            };
            let event = Event::Member(MemberUpdate { chat: chat(&u.chat), user: user(&u.from), status });
            Converted::Event { lane: u.chat.id.0, event: Box::new(event) }
        }
        UpdateKind::ChatMember(u) => {
            let event = Event::Custom(CustomEvent {
                topic: CHAT_MEMBER_TOPIC.into(),
                payload: chat_member_payload(u),
                source: HOST_SOURCE.into(),
            });
            Converted::Event { lane: u.chat.id.0, event: Box::new(event) }
        }
        UpdateKind::Error(_) => Converted::Malformed,
        _ => Converted::Unsupported("update kind"),
    }
}

/// What an update says about a user having blocked the bot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockMark {
    /// The user (their private chat's id).
    pub user: i64,
    /// Blocked (`kicked` in their private chat), or talking to the bot again.
    pub blocked: bool,
}

/// Only a private chat's `my_chat_member` `kicked` marks its user as having blocked the
/// bot; the user's `member` status there or any later private message from them clears
/// the mark. Member changes in groups and channels mark nobody.
pub fn block_mark(update: &Update) -> Option<BlockMark> {
    match &update.kind {
        UpdateKind::MyChatMember(u) if u.chat.is_private() => {
            let kind = &u.new_chat_member.kind;
            let user = u.chat.id.0;
            if kind.is_banned() {
                Some(BlockMark { user, blocked: true })
            } else if kind.is_left() {
                None
            } else {
                Some(BlockMark { user, blocked: false })
            }
        }
        UpdateKind::Message(m) if m.chat.is_private() => Some(BlockMark { user: m.chat.id.0, blocked: false }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// teloxide parses updates from text (as over HTTP), not from a `Value`.
    fn update(json: serde_json::Value) -> Update {
        serde_json::from_str(&json.to_string()).unwrap()
    }

    fn text_update(text: &str) -> Update {
        update(serde_json::json!({"update_id": 1, "message": {
            "message_id": 5, "date": 1_700_000_000,
            "chat": {"id": 42, "type": "private", "first_name": "A"},
            "from": {"id": 42, "is_bot": false, "first_name": "A", "language_code": "pl"},
            "text": text}}))
    }

    #[test]
    fn commands_deep_links_and_other_bots() {
        let Converted::Event { lane, event } = convert(&text_update("/start@Wharf_Test_Bot ref_7"), "wharf_test_bot")
        else {
            panic!("not an event")
        };
        assert_eq!(lane, 42);
        let Event::Message(m) = *event else { panic!("not a message") };
        let cmd = m.command.unwrap();
        assert_eq!((cmd.name.as_str(), cmd.args.as_str()), ("start", "ref_7"));
        assert_eq!(m.sender.unwrap().language_code.as_deref(), Some("pl"));

        let Converted::Event { event, .. } = convert(&text_update("/start@other_bot"), "wharf_test_bot") else {
            panic!("not an event")
        };
        let Event::Message(m) = *event else { panic!("not a message") };
        assert!(m.command.is_none(), "a command for another bot is plain text to us");
    }

    fn document_update(caption: Option<&str>, size: Option<u32>) -> Update {
        let mut doc = serde_json::json!({"file_id": "BQACAgIAAxk", "file_unique_id": "AgAD",
            "file_name": "stock.txt", "mime_type": "text/plain"});
        if let Some(size) = size {
            doc["file_size"] = serde_json::json!(size);
        }
        let mut message = serde_json::json!({"message_id": 6, "date": 1_700_000_000,
            "chat": {"id": 42, "type": "private", "first_name": "A"},
            "from": {"id": 42, "is_bot": false, "first_name": "A"}, "document": doc});
        if let Some(c) = caption {
            message["caption"] = serde_json::json!(c);
        }
        update(serde_json::json!({"update_id": 4, "message": message}))
    }

    fn converted_message(u: &Update) -> Message {
        let Converted::Event { lane, event } = convert(u, "wharf_test_bot") else { panic!("not an event") };
        assert_eq!(lane, 42);
        let Event::Message(m) = *event else { panic!("not a message") };
        m
    }

    #[test]
    fn documents_carry_their_file_and_caption() {
        let m = converted_message(&document_update(Some("/import now"), Some(120)));
        let d = m.document.unwrap();
        assert_eq!(d.file_id, "BQACAgIAAxk");
        assert_eq!(d.file_name.as_deref(), Some("stock.txt"));
        assert_eq!(d.mime_type.as_deref(), Some("text/plain"));
        assert_eq!(d.size, Some(120));
        assert_eq!(m.text.as_deref(), Some("/import now"));
        assert_eq!(m.command.unwrap().name, "import", "a caption's command is parsed like text");

        let m = converted_message(&document_update(None, None));
        assert!(m.text.is_none() && m.command.is_none());
        assert_eq!(m.document.unwrap().size, None, "an unknown size stays unknown");
        assert!(converted_message(&text_update("hi")).document.is_none());
    }

    fn member_update(chat: serde_json::Value, status: &str) -> Update {
        let bot = serde_json::json!({"id": 7, "is_bot": true, "first_name": "B", "username": "b"});
        let mut new = serde_json::json!({"user": bot, "status": status});
        if status == "kicked" {
            new["until_date"] = serde_json::json!(0);
        }
        update(serde_json::json!({"update_id": 9, "my_chat_member": {
            "chat": chat, "from": {"id": 42, "is_bot": false, "first_name": "A"}, "date": 1_700_000_000,
            "old_chat_member": {"user": bot, "status": "member"}, "new_chat_member": new}}))
    }

    #[test]
    fn only_a_private_kick_marks_a_block() {
        let private = serde_json::json!({"id": 42, "type": "private", "first_name": "A"});
        let group = serde_json::json!({"id": -100, "type": "group", "title": "G"});
        let channel = serde_json::json!({"id": -1001, "type": "channel", "title": "C"});
        assert_eq!(block_mark(&member_update(private.clone(), "kicked")), Some(BlockMark { user: 42, blocked: true }));
        assert_eq!(block_mark(&member_update(private, "member")), Some(BlockMark { user: 42, blocked: false }));
        for chat in [group, channel] {
            for status in ["left", "kicked"] {
                let u = member_update(chat.clone(), status);
                assert_eq!(block_mark(&u), None, "{chat} {status}");
                let Converted::Event { lane, .. } = convert(&u, "b") else { panic!("not an event") };
                assert_eq!(Some(lane), chat["id"].as_i64(), "a member event of that chat");
            }
        }
        assert_eq!(block_mark(&text_update("hi")), Some(BlockMark { user: 42, blocked: false }));
    }

    #[test]
    fn chat_member_changes_are_custom_events_of_the_chat() {
        let channel = serde_json::json!({"id": -1001, "type": "channel", "title": "C"});
        let user = serde_json::json!({"id": 42, "is_bot": false, "first_name": "A"});
        let cases = [
            (serde_json::json!({"user": user, "status": "member"}), "member", true),
            (serde_json::json!({"user": user, "status": "left"}), "left", false),
            (serde_json::json!({"user": user, "status": "kicked", "until_date": 0}), "kicked", false),
        ];
        for (new, status, is_member) in cases {
            let u = update(serde_json::json!({"update_id": 11, "chat_member": {
                "chat": channel, "from": user, "date": 1_700_000_000,
                "old_chat_member": {"user": user, "status": "left"}, "new_chat_member": new}}));
            let Converted::Event { lane, event } = convert(&u, "b") else { panic!("not an event") };
            assert_eq!(lane, -1001);
            let Event::Custom(c) = *event else { panic!("not a custom event") };
            assert_eq!((c.topic.as_str(), c.source.as_str()), (CHAT_MEMBER_TOPIC, HOST_SOURCE));
            let payload: serde_json::Value = serde_json::from_slice(&c.payload).unwrap();
            assert_eq!(
                payload,
                serde_json::json!({"chat_id": -1001, "user_id": 42, "status": status, "is_member": is_member})
            );
            assert_eq!(block_mark(&u), None, "a chat_member change marks nobody");
        }
    }

    #[test]
    fn unsupported_and_malformed_are_told_apart() {
        let poll = update(
            serde_json::json!({"update_id": 2, "poll_answer": {"poll_id": "p", "option_ids": [], "user": {"id": 1, "is_bot": false, "first_name": "A"}}}),
        );
        assert!(matches!(convert(&poll, "b"), Converted::Unsupported(_)));
        let broken = update(serde_json::json!({"update_id": 3, "message": {"message_id": "not a number"}}));
        assert!(matches!(convert(&broken, "b"), Converted::Malformed));
    }
}
