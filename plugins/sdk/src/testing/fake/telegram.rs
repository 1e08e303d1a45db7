//! `wharf:bot/telegram` in the fake host: sends are checked like the host checks them,
//! get a handle and a message id at once, and show in the chat's messages; edits and
//! deletes must name one of the plugin's own messages; lookups answer from what the test
//! registered.

pub(crate) use crate::bindings::wharf::bot::telegram::{
    ChatInfo, Error, MemberInfo, MemberStatus, MessageRef, Outgoing, Photo,
};

use crate::telegram::MessageHandle;
use crate::testing::state::{State, effect};
use crate::testing::{Answer, Call, SentFile, Shown, checks};

/// What the host tells an observer whose `observe` tries to message Telegram.
pub(crate) const OBSERVING: &str =
    "observe() may not send, edit or delete messages or answer button presses (an observer only looks)";

/// `access-denied` in an observer's `observe`, checked before anything else as the
/// host does.
fn not_observing(s: &State) -> Result<(), Error> {
    if s.turn.observing {
        return Err(Error::AccessDenied(OBSERVING.into()));
    }
    if s.turn.read_only {
        return Err(Error::AccessDenied("an admin view is read-only".into()));
    }
    Ok(())
}

/// Room for one more call in this turn (none in an observer's `observe`).
fn room(s: &State) -> Result<(), Error> {
    not_observing(s)?;
    if s.turn.outbox >= checks::MAX_PER_TURN {
        return Err(Error::InvalidInput(format!("a turn may queue at most {} Telegram calls", checks::MAX_PER_TURN)));
    }
    Ok(())
}

fn check(s: &State, chat_id: i64, msg: &Outgoing, max: usize, allow_empty: bool) -> Result<(), Error> {
    not_observing(s)?;
    checks::chat_id(chat_id).map_err(Error::InvalidInput)?;
    let prefix = s.manifest.callback_prefix.as_deref();
    checks::outgoing(msg, prefix, max, allow_empty).map_err(Error::InvalidInput)?;
    room(s)
}

/// What a send carries besides its text.
enum Media<'a> {
    None,
    Photo(&'a Photo),
    Document(SentFile),
}

fn queue_send(s: &mut State, chat_id: i64, message: &Outgoing, media: Media<'_>) -> MessageHandle {
    let handle = MessageHandle(s.next_handle);
    s.next_handle += 1;
    let message_id = s.message_id();
    s.turn.outbox += 1;
    let mut shown = Shown::new(chat_id, handle, message_id, message, None);
    let call = match media {
        Media::None => Call::Send { chat_id, handle, message_id, message: message.clone() },
        Media::Photo(p) => {
            shown.photo = Some(p.clone());
            Call::SendPhoto { chat_id, handle, message_id, photo: p.clone(), caption: message.clone() }
        }
        Media::Document(file) => {
            shown.document = Some(file.clone());
            Call::SendDocument { chat_id, handle, message_id, document: file, caption: message.clone() }
        }
    };
    s.fx.outbox.push(call);
    s.fx.shown.push(shown);
    handle
}

/// The position in `shown` of the plugin's message `target` in `chat_id`.
fn own(s: &State, chat_id: i64, target: MessageRef) -> Result<usize, Error> {
    let found = s.fx.shown.iter().position(|m| {
        m.chat_id == chat_id
            && match target {
                MessageRef::Handle(h) => m.handle.0 == h,
                MessageRef::Id(id) => m.message_id == id,
            }
    });
    found.ok_or_else(|| {
        let what = match target {
            MessageRef::Handle(h) => format!("handle {h}"),
            MessageRef::Id(id) => format!("message {id}"),
        };
        Error::AccessDenied(format!("{what} in chat {chat_id} is not a message this plugin sent"))
    })
}

pub(crate) fn send_message(chat_id: i64, message: &Outgoing) -> Result<i64, Error> {
    effect("telegram.send-message", |s| {
        check(s, chat_id, message, checks::MAX_TEXT, false)?;
        Ok(queue_send(s, chat_id, message, Media::None).0)
    })
}

pub(crate) fn send_photo(chat_id: i64, photo: &Photo, caption: &Outgoing) -> Result<i64, Error> {
    effect("telegram.send-photo", |s| {
        check(s, chat_id, caption, checks::MAX_CAPTION, true)?;
        checks::photo(photo).map_err(Error::InvalidInput)?;
        Ok(queue_send(s, chat_id, caption, Media::Photo(photo)).0)
    })
}

pub(crate) fn send_document(chat_id: i64, file_name: &str, data: &[u8], caption: &Outgoing) -> Result<i64, Error> {
    effect("telegram.send-document", |s| {
        check(s, chat_id, caption, checks::MAX_CAPTION, true)?;
        checks::file_name(file_name).map_err(Error::InvalidInput)?;
        if data.is_empty() || data.len() > checks::MAX_DOCUMENT {
            let (n, max) = (data.len(), checks::MAX_DOCUMENT);
            return Err(Error::InvalidInput(format!("a document must be 1-{max} bytes, got {n}")));
        }
        let queued: usize =
            s.fx.outbox
                .iter()
                .rev()
                .take(s.turn.outbox)
                .map(|c| match c {
                    Call::SendDocument { document, .. } => document.data.len(),
                    _ => 0,
                })
                .sum();
        if queued + data.len() > checks::MAX_TURN_DOCUMENTS {
            let max = checks::MAX_TURN_DOCUMENTS;
            return Err(Error::InvalidInput(format!(
                "a turn may queue at most {max} bytes of documents; {queued} are queued and this one is {}",
                data.len()
            )));
        }
        let file = SentFile { file_name: file_name.to_owned(), data: data.to_vec() };
        Ok(queue_send(s, chat_id, caption, Media::Document(file)).0)
    })
}

pub(crate) fn edit_message(chat_id: i64, target: MessageRef, message: &Outgoing) -> Result<(), Error> {
    effect("telegram.edit-message", |s| {
        check(s, chat_id, message, checks::MAX_TEXT, false)?;
        let at = own(s, chat_id, target)?;
        let shown = &mut s.fx.shown[at];
        let message_id = shown.message_id;
        shown.edit(message);
        s.turn.outbox += 1;
        s.fx.outbox.push(Call::Edit { chat_id, message_id, message: message.clone() });
        Ok(())
    })
}

pub(crate) fn delete_message(chat_id: i64, target: MessageRef) -> Result<(), Error> {
    effect("telegram.delete-message", |s| {
        not_observing(s)?;
        checks::chat_id(chat_id).map_err(Error::InvalidInput)?;
        room(s)?;
        let at = own(s, chat_id, target)?;
        let shown = &mut s.fx.shown[at];
        let message_id = shown.message_id;
        shown.deleted = true;
        s.turn.outbox += 1;
        s.fx.outbox.push(Call::Delete { chat_id, message_id });
        Ok(())
    })
}

pub(crate) fn answer_callback(callback_id: &str, text: Option<&str>, show_alert: bool) -> Result<(), Error> {
    effect("telegram.answer-callback", |s| {
        not_observing(s)?;
        if callback_id.is_empty() || callback_id.len() > 128 {
            return Err(Error::InvalidInput("callback id must be 1-128 bytes".into()));
        }
        if let Some(n) = text.map(|t| t.chars().count()).filter(|n| *n > 200) {
            return Err(Error::InvalidInput(format!("callback answer is {n} characters; at most 200")));
        }
        room(s)?;
        s.turn.outbox += 1;
        let answer = Answer { callback_id: callback_id.to_owned(), text: text.map(str::to_owned), show_alert };
        s.fx.outbox.push(Call::Answer(answer.clone()));
        s.fx.answers.push(answer);
        Ok(())
    })
}

/// The membership the test registered (Telegram answers `left` for a user it knows who
/// is not in the chat), or the failure it set; counts the lookup.
fn lookup(s: &mut State, chat_id: i64, user_id: i64) -> Result<MemberInfo, Error> {
    s.lookups += 1;
    if let Some(e) = &s.lookup_error {
        return Err(e.clone());
    }
    Ok(s.members
        .get(&(chat_id, user_id))
        .copied()
        .unwrap_or(MemberInfo { status: MemberStatus::Left, is_member: false }))
}

pub(crate) fn get_chat_member(chat_id: i64, user_id: i64) -> Result<MemberStatus, Error> {
    effect("telegram.get-chat-member", |s| lookup(s, chat_id, user_id).map(|m| m.status))
}

pub(crate) fn chat_member(chat_id: i64, user_id: i64) -> Result<MemberInfo, Error> {
    effect("telegram.chat-member", |s| lookup(s, chat_id, user_id))
}

pub(crate) fn get_chat(chat: &str) -> Result<ChatInfo, Error> {
    effect("telegram.get-chat", |s| {
        if let Some(e) = &s.lookup_error {
            return Err(e.clone());
        }
        let found = match chat.strip_prefix('@') {
            Some(name) => s.chats.iter().find(|c| c.username.as_deref().is_some_and(|u| u.eq_ignore_ascii_case(name))),
            None => chat.parse::<i64>().ok().and_then(|id| s.chats.iter().find(|c| c.id == id)),
        };
        found
            .cloned()
            .ok_or_else(|| Error::Other("Bad Request: chat not found (register it with Harness::add_chat)".into()))
    })
}

pub(crate) fn download_file(file_id: &str, max_bytes: u32) -> Result<Vec<u8>, Error> {
    effect("telegram.download-file", |s| {
        let Some(bytes) = s.files.get(file_id) else {
            return Err(Error::InvalidInput(format!(
                "file {file_id:?} not found (register it with Harness::add_file)"
            )));
        };
        let limit = max_bytes.min(checks::MAX_DOWNLOAD);
        if bytes.len() > usize::try_from(limit).unwrap_or(usize::MAX) {
            return Err(Error::InvalidInput(format!("the file is {} bytes; at most {limit} accepted", bytes.len())));
        }
        Ok(bytes.clone())
    })
}
