//! `wharf:bot/telegram`: calls are validated, rendered as typed outbox calls and buffered in
//! the turn's outbox; they leave for Telegram only after the turn commits. Lookups
//! (`get-chat-member`, `chat-member`, `get-chat`, `download-file`) are live calls within
//! the call's time budget (`chat-member` and `get-chat` within three quarters of what is
//! left of it, so the plugin has time to act on the answer).
//! Sends get a handle; edits and deletes must name one of the plugin's own messages
//! (see `caps::messages`). In an observer's `observe` every call of the `telegram.send`
//! group is `access-denied` (`PluginState::observing`). A document's bytes travel in its
//! outbox row, so documents are capped per file and per turn ([`TelegramQuotas`]).

use wasmtime::Result;
use wasmtime::component::{HasData, Linker};

use super::bindings::wharf::bot::telegram::{
    self as wit, ChatInfo, Error, Host, MemberInfo, MemberStatus, MessageHandle, Outgoing, Photo,
};
use super::budget::Kind;
use super::{Access, PluginState, Requirement};
use crate::config::Grant;
use crate::storage::NewOutbox;
use crate::telegram::outbox_call::{
    AnswerCallbackQuery, DeleteMessage, DocumentFile, EditMessageText, OutboxCall, SendDocument, SendMessage, SendPhoto,
};
use crate::validate::{self, Rendered};

type TgResult<T> = Result<std::result::Result<T, Error>>;

/// Per-turn limits on Telegram calls.
#[derive(Clone, Copy, Debug)]
pub struct TelegramQuotas {
    /// Most calls queued by one turn (never more than a turn has message handles).
    pub max_turn_outbox: usize,
    /// Largest document one `send-document` may queue, in bytes.
    pub max_document_bytes: usize,
    /// Most document bytes one turn may queue (they are stored in the outbox rows).
    pub max_turn_document_bytes: usize,
}

impl Default for TelegramQuotas {
    fn default() -> Self {
        Self { max_turn_outbox: 100, max_document_bytes: 1 << 20, max_turn_document_bytes: 4 << 20 }
    }
}

/// Longest document file name, in characters.
const MAX_FILE_NAME: usize = 128;

/// A document's file name: 1-128 characters, no path separators, control characters or
/// dot-only names (Telegram shows it as is; a path would be meaningless).
fn file_name(name: &str) -> std::result::Result<(), String> {
    let n = name.chars().count();
    if n == 0 || n > MAX_FILE_NAME {
        return Err(format!("file name must be 1-{MAX_FILE_NAME} characters, got {n}"));
    }
    if name.chars().any(|c| c.is_control() || c == '/' || c == '\\') || name.trim_matches('.').is_empty() {
        return Err("file name may not contain '/', '\\' or control characters, nor be only dots".into());
    }
    Ok(())
}

/// Member lookups and file downloads have grants of their own; everything else
/// (sending, editing, deleting, answering callbacks) needs `telegram.send`. The grant
/// `telegram` covers all three (see `PluginSpec::has`).
pub(super) fn requirement(func: &str) -> Requirement {
    Requirement::Grant(match func {
        "get-chat-member" | "chat-member" | "get-chat" => Grant::TelegramMembers,
        "download-file" => Grant::TelegramFiles,
        _ => Grant::TelegramSend,
    })
}

/// `telegram` as the running plugin may use it in one host call: its access to each
/// group of functions with a grant of its own.
pub(crate) struct Telegram<'a> {
    state: &'a mut PluginState,
    /// Sending, editing, deleting, answering callbacks.
    send: Access,
    /// `get-chat-member`, `chat-member`, `get-chat`.
    members: Access,
    /// `download-file`.
    files: Access,
    quotas: TelegramQuotas,
}

impl PluginState {
    /// The `telegram` view for this host call.
    pub(super) fn telegram(&mut self) -> Telegram<'_> {
        Telegram {
            send: if self.observing { Access::Observing } else { self.write_access(requirement("send-message")) },
            members: self.access(requirement("get-chat-member")),
            files: self.access(requirement("download-file")),
            quotas: self.host.quotas.telegram,
            state: self,
        }
    }
}

/// [`HasData`] for linking `telegram` to [`Telegram`] views.
pub(super) struct TelegramCap;

impl HasData for TelegramCap {
    type Data<'a> = Telegram<'a>;
}

/// Link `wharf:bot/telegram` (the current version) to [`Telegram`] views.
pub(super) fn add_to_linker(linker: &mut Linker<PluginState>) -> Result<()> {
    wit::add_to_linker::<_, TelegramCap>(linker, PluginState::telegram)
}

impl Telegram<'_> {
    /// `access-denied` unless `access` allows the call; `in_describe` says what
    /// `describe()` may not do.
    fn allowed(&self, access: &Access, in_describe: &str) -> std::result::Result<(), Error> {
        access.check(self.state.current().name(), in_describe).map_err(Error::AccessDenied)
    }

    /// Queue `call` in the outbox, within the turn's quota and the plugin's budget.
    fn queue(&mut self, chat_id: i64, call: OutboxCall) -> std::result::Result<(), Error> {
        let max = self.quotas.max_turn_outbox.min(super::messages::HANDLES_PER_TURN - 1);
        let s = &mut *self.state;
        if s.turn.totals(&s.call).outbox >= max {
            return Err(Error::InvalidInput(format!("a turn may queue at most {max} Telegram calls")));
        }
        s.charge(Kind::Messages)?;
        let plugin = s.current().name().to_string();
        s.call.outbox.push(NewOutbox { chat_id, plugin, call });
        Ok(())
    }

    /// `invalid-input` unless a document of `len` bytes fits the per-file and per-turn caps.
    fn document_room(&self, len: usize) -> std::result::Result<(), Error> {
        let (max, turn_max) = (self.quotas.max_document_bytes, self.quotas.max_turn_document_bytes);
        if len == 0 || len > max {
            return Err(Error::InvalidInput(format!("a document must be 1-{max} bytes, got {len}")));
        }
        let s = &*self.state;
        let queued: usize = (s.turn.applied.outbox.iter().chain(&s.call.outbox))
            .map(|o| match &o.call {
                OutboxCall::SendDocument(d) => d.document.data.len(),
                _ => 0,
            })
            .sum();
        if queued + len > turn_max {
            return Err(Error::InvalidInput(format!(
                "a turn may queue at most {turn_max} bytes of documents; {queued} are queued and this one is {len}"
            )));
        }
        Ok(())
    }

    fn render(
        &self,
        chat_id: i64,
        msg: &Outgoing,
        max: usize,
        allow_empty: bool,
    ) -> std::result::Result<Rendered, Error> {
        validate::chat_id(chat_id).map_err(Error::InvalidInput)?;
        let prefix = self.state.current().callback_prefix.clone();
        validate::outgoing(msg, prefix.as_deref(), max, allow_empty).map_err(Error::InvalidInput)
    }
}

/// A member status in the WIT's terms.
fn wit_status(status: crate::telegram::members::Status) -> MemberStatus {
    use crate::telegram::members::Status;
    match status {
        Status::Creator => MemberStatus::Creator,
        Status::Administrator => MemberStatus::Administrator,
        Status::Member => MemberStatus::Member,
        Status::Restricted => MemberStatus::Restricted,
        Status::Left => MemberStatus::Left,
        Status::Kicked => MemberStatus::Kicked,
    }
}

/// A failed lookup in the WIT's terms.
fn lookup_error(e: crate::telegram::members::LookupError) -> Error {
    use crate::telegram::members::LookupError;
    match e {
        LookupError::Unavailable(m) => Error::Unavailable(m),
        LookupError::Invalid(m) => Error::InvalidInput(m),
        LookupError::Other(m) => Error::Other(m),
    }
}

impl Telegram<'_> {
    /// How long `chat-member` and `get-chat` wait for Telegram: three quarters of the
    /// call's remaining time, at most 10 s, so the plugin can still act on an
    /// `unavailable` answer before its own deadline.
    fn lookup_budget(&self) -> std::time::Duration {
        std::time::Duration::from_millis((self.state.remaining_ms().saturating_mul(3) / 4).min(10_000))
    }

    /// A debug line for a failed lookup (the error never carries the token).
    fn trace_lookup(&self, call: &str, error: Option<&crate::telegram::members::LookupError>) {
        if let Some(e) = error {
            let plugin = self.state.current().name();
            tracing::debug!(target: "wharf.telegram", %plugin, call, error = ?e, "lookup failed");
        }
    }
}

impl Host for Telegram<'_> {
    async fn send_message(&mut self, chat_id: i64, message: Outgoing) -> TgResult<MessageHandle> {
        if let Err(e) = self.allowed(&self.send, "describe() may not send messages") {
            return Ok(Err(e));
        }
        let handle = self.state.next_handle();
        let r = self.render(chat_id, &message, validate::MAX_TEXT, false).map(|r| {
            OutboxCall::SendMessage(SendMessage {
                chat_id,
                text: r.text,
                parse_mode: r.parse_mode,
                reply_markup: r.keyboard,
                reply_parameters: r.reply_to,
                handle: Some(handle),
                disable_notification: false,
            })
        });
        Ok(r.and_then(|c| self.queue(chat_id, c)).map(|()| handle))
    }

    async fn send_photo(&mut self, chat_id: i64, photo: Photo, caption: Outgoing) -> TgResult<MessageHandle> {
        if let Err(e) = self.allowed(&self.send, "describe() may not send messages") {
            return Ok(Err(e));
        }
        let handle = self.state.next_handle();
        let r = self.render(chat_id, &caption, validate::MAX_CAPTION, true).and_then(|r| {
            let photo = match photo {
                Photo::FileId(id) if !id.is_empty() && id.len() <= 256 => id,
                Photo::Url(url) => {
                    validate::url(&url, &["https", "http"]).map_err(|e| Error::InvalidInput(format!("photo {e}")))?;
                    url
                }
                _ => return Err(Error::InvalidInput("photo must be a file id or an http(s) URL".into())),
            };
            Ok(OutboxCall::SendPhoto(SendPhoto {
                chat_id,
                photo,
                caption: Some(r.text).filter(|t| !t.is_empty()),
                parse_mode: r.parse_mode,
                reply_markup: r.keyboard,
                reply_parameters: r.reply_to,
                handle: Some(handle),
            }))
        });
        Ok(r.and_then(|c| self.queue(chat_id, c)).map(|()| handle))
    }

    async fn send_document(
        &mut self,
        chat_id: i64,
        file_name: String,
        data: Vec<u8>,
        caption: Outgoing,
    ) -> TgResult<MessageHandle> {
        if let Err(e) = self.allowed(&self.send, "describe() may not send messages") {
            return Ok(Err(e));
        }
        let handle = self.state.next_handle();
        let r = self.render(chat_id, &caption, validate::MAX_CAPTION, true).and_then(|r| {
            self::file_name(&file_name).map_err(Error::InvalidInput)?;
            self.document_room(data.len())?;
            Ok(OutboxCall::SendDocument(SendDocument {
                chat_id,
                document: DocumentFile { file_name, data },
                caption: Some(r.text).filter(|t| !t.is_empty()),
                parse_mode: r.parse_mode,
                reply_markup: r.keyboard,
                reply_parameters: r.reply_to,
                handle: Some(handle),
            }))
        });
        Ok(r.and_then(|c| self.queue(chat_id, c)).map(|()| handle))
    }

    async fn edit_message(&mut self, chat_id: i64, target: wit::MessageRef, message: Outgoing) -> TgResult<()> {
        if let Err(e) = self.allowed(&self.send, "describe() may not edit or delete messages") {
            return Ok(Err(e));
        }
        let r = match self.render(chat_id, &message, validate::MAX_TEXT, false) {
            Ok(r) => self.state.own_message(chat_id, target).await?.map(|target| (target, r)),
            Err(e) => Err(e),
        };
        let call = r.map(|(target, r)| {
            OutboxCall::EditMessageText(EditMessageText {
                chat_id,
                target,
                text: r.text,
                parse_mode: r.parse_mode,
                reply_markup: r.keyboard,
            })
        });
        Ok(call.and_then(|c| self.queue(chat_id, c)))
    }

    async fn delete_message(&mut self, chat_id: i64, target: wit::MessageRef) -> TgResult<()> {
        if let Err(e) = self.allowed(&self.send, "describe() may not edit or delete messages") {
            return Ok(Err(e));
        }
        let target = match validate::chat_id(chat_id) {
            Ok(()) => self.state.own_message(chat_id, target).await?,
            Err(e) => Err(Error::InvalidInput(e)),
        };
        let call = target.map(|target| OutboxCall::DeleteMessage(DeleteMessage { chat_id, target }));
        Ok(call.and_then(|c| self.queue(chat_id, c)))
    }

    async fn answer_callback(&mut self, callback_id: String, text: Option<String>, show_alert: bool) -> TgResult<()> {
        if let Err(e) = self.allowed(&self.send, "describe() may not send messages") {
            return Ok(Err(e));
        }
        if callback_id.is_empty() || callback_id.len() > 128 {
            return Ok(Err(Error::InvalidInput("callback id must be 1-128 bytes".into())));
        }
        if let Some(n) = text.as_ref().map(|t| t.chars().count()).filter(|n| *n > 200) {
            return Ok(Err(Error::InvalidInput(format!("callback answer is {n} characters; at most 200"))));
        }
        let lane = self.state.turn.lane;
        let call =
            OutboxCall::AnswerCallbackQuery(AnswerCallbackQuery { callback_query_id: callback_id, text, show_alert });
        Ok(self.queue(lane, call))
    }

    async fn get_chat_member(&mut self, chat_id: i64, user_id: i64) -> TgResult<MemberStatus> {
        if let Err(e) = self.allowed(&self.members, "describe() may not call Telegram") {
            return Ok(Err(e));
        }
        let budget = std::time::Duration::from_millis(self.state.remaining_ms().min(10_000));
        Ok(self.state.host.live.member_status(chat_id, user_id, budget).await.map(wit_status).map_err(lookup_error))
    }

    async fn chat_member(&mut self, chat_id: i64, user_id: i64) -> TgResult<MemberInfo> {
        if let Err(e) = self.allowed(&self.members, "describe() may not call Telegram") {
            return Ok(Err(e));
        }
        let r = self.state.host.live.member_info(chat_id, user_id, self.lookup_budget()).await;
        self.trace_lookup("chat-member", r.as_ref().err());
        Ok(r.map(|m| MemberInfo { status: wit_status(m.status), is_member: m.is_member }).map_err(lookup_error))
    }

    async fn get_chat(&mut self, chat: String) -> TgResult<ChatInfo> {
        if let Err(e) = self.allowed(&self.members, "describe() may not call Telegram") {
            return Ok(Err(e));
        }
        let r = self.state.host.live.chat_info(&chat, self.lookup_budget()).await;
        self.trace_lookup("get-chat", r.as_ref().err());
        Ok(r.map(|c| ChatInfo { id: c.id, title: c.title, username: c.username, invite_link: c.invite_link })
            .map_err(lookup_error))
    }

    async fn download_file(&mut self, file_id: String, max_bytes: u32) -> TgResult<Vec<u8>> {
        use crate::telegram::files::DownloadError;
        if let Err(e) = self.allowed(&self.files, "describe() may not call Telegram") {
            return Ok(Err(e));
        }
        let budget = std::time::Duration::from_millis(self.state.remaining_ms().min(10_000));
        let result = self.state.host.live.download(&file_id, max_bytes, budget).await;
        let plugin = self.state.current().name();
        match &result {
            Ok(bytes) => tracing::debug!(target: "wharf.telegram", %plugin, bytes = bytes.len(), "file downloaded"),
            // Download errors never carry the token (see `telegram::files`).
            Err(e) => tracing::debug!(target: "wharf.telegram", %plugin, error = %e, "file download failed"),
        }
        Ok(result.map_err(|e| match e {
            DownloadError::Unavailable(m) => Error::Unavailable(m),
            DownloadError::Invalid(m) => Error::InvalidInput(m),
            DownloadError::Other(m) => Error::Other(m),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::file_name;

    #[test]
    fn document_file_names() {
        for good in ["stats.csv", "report 2026-01-01.txt", ".env", "ünïcödé.txt"] {
            assert_eq!(file_name(good), Ok(()), "{good}");
        }
        for bad in ["", ".", "..", "a/b.csv", "a\\b.csv", "tab\there", &"x".repeat(129)] {
            assert!(file_name(bad).is_err(), "{bad:?}");
        }
    }
}
