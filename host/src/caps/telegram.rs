//! `wharf:bot/telegram`: calls are validated, rendered as typed outbox calls and buffered in
//! the turn's outbox; they leave for Telegram only after the turn commits. Lookups
//! (`get-chat-member`, `download-file`) are live calls within the call's time budget.
//! Sends get a handle; edits and deletes must name one of the plugin's own messages
//! (see `caps::messages`).

use wasmtime::Result;

use super::bindings::wharf::bot::telegram::{self as wit, Error, Host, MemberStatus, MessageHandle, Outgoing, Photo};
use super::budget::Kind;
use super::{PluginState, Requirement};
use crate::config::Grant;
use crate::storage::NewOutbox;
use crate::telegram::outbox_call::{
    AnswerCallbackQuery, DeleteMessage, EditMessageText, OutboxCall, SendMessage, SendPhoto,
};
use crate::validate::{self, Rendered};

type TgResult<T> = Result<std::result::Result<T, Error>>;

impl PluginState {
    fn queue(&mut self, chat_id: i64, call: OutboxCall) -> std::result::Result<(), Error> {
        if self.describing {
            return Err(Error::AccessDenied("describe() may not send messages".into()));
        }
        let max = self.host.quotas.max_turn_outbox.min(super::messages::HANDLES_PER_TURN - 1);
        if self.turn.totals(&self.call).outbox >= max {
            return Err(Error::InvalidInput(format!("a turn may queue at most {max} Telegram calls")));
        }
        self.charge(Kind::Messages)?;
        let plugin = self.current().name().to_string();
        self.call.outbox.push(NewOutbox { chat_id, plugin, call });
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
        let prefix = self.current().callback_prefix.clone();
        validate::outgoing(msg, prefix.as_deref(), max, allow_empty).map_err(Error::InvalidInput)
    }
}

/// Member lookups and file downloads have grants of their own; everything else
/// (sending, editing, deleting, answering callbacks) needs `telegram.send`. The grant
/// `telegram` covers all three (see `PluginSpec::has`).
pub(super) fn requirement(func: &str) -> Requirement {
    Requirement::Grant(match func {
        "get-chat-member" => Grant::TelegramMembers,
        "download-file" => Grant::TelegramFiles,
        _ => Grant::TelegramSend,
    })
}

impl Host for PluginState {
    async fn send_message(&mut self, chat_id: i64, message: Outgoing) -> TgResult<MessageHandle> {
        let handle = self.next_handle();
        let r = self.render(chat_id, &message, validate::MAX_TEXT, false).map(|r| {
            OutboxCall::SendMessage(SendMessage {
                chat_id,
                text: r.text,
                parse_mode: r.parse_mode,
                reply_markup: r.keyboard,
                reply_parameters: r.reply_to,
                handle: Some(handle),
            })
        });
        Ok(r.and_then(|c| self.queue(chat_id, c)).map(|()| handle))
    }

    async fn send_photo(&mut self, chat_id: i64, photo: Photo, caption: Outgoing) -> TgResult<MessageHandle> {
        let handle = self.next_handle();
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

    async fn edit_message(&mut self, chat_id: i64, target: wit::MessageRef, message: Outgoing) -> TgResult<()> {
        let r = match self.render(chat_id, &message, validate::MAX_TEXT, false) {
            Ok(r) => self.own_message(chat_id, target).await?.map(|target| (target, r)),
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
        let target = match validate::chat_id(chat_id) {
            Ok(()) => self.own_message(chat_id, target).await?,
            Err(e) => Err(Error::InvalidInput(e)),
        };
        let call = target.map(|target| OutboxCall::DeleteMessage(DeleteMessage { chat_id, target }));
        Ok(call.and_then(|c| self.queue(chat_id, c)))
    }

    async fn answer_callback(&mut self, callback_id: String, text: Option<String>, show_alert: bool) -> TgResult<()> {
        if callback_id.is_empty() || callback_id.len() > 128 {
            return Ok(Err(Error::InvalidInput("callback id must be 1-128 bytes".into())));
        }
        if let Some(n) = text.as_ref().map(|t| t.chars().count()).filter(|n| *n > 200) {
            return Ok(Err(Error::InvalidInput(format!("callback answer is {n} characters; at most 200"))));
        }
        let lane = self.turn.lane;
        let call =
            OutboxCall::AnswerCallbackQuery(AnswerCallbackQuery { callback_query_id: callback_id, text, show_alert });
        Ok(self.queue(lane, call))
    }

    async fn get_chat_member(&mut self, chat_id: i64, user_id: i64) -> TgResult<MemberStatus> {
        use crate::telegram::members::{LookupError, Status};
        if self.describing {
            return Ok(Err(Error::AccessDenied("describe() may not call Telegram".into())));
        }
        let budget = std::time::Duration::from_millis(self.remaining_ms().min(10_000));
        Ok(match self.host.live.member_status(chat_id, user_id, budget).await {
            Ok(status) => Ok(match status {
                Status::Creator => MemberStatus::Creator,
                Status::Administrator => MemberStatus::Administrator,
                Status::Member => MemberStatus::Member,
                Status::Restricted => MemberStatus::Restricted,
                Status::Left => MemberStatus::Left,
                Status::Kicked => MemberStatus::Kicked,
            }),
            Err(LookupError::Unavailable(m)) => Err(Error::Unavailable(m)),
            Err(LookupError::Invalid(m)) => Err(Error::InvalidInput(m)),
            Err(LookupError::Other(m)) => Err(Error::Other(m)),
        })
    }

    async fn download_file(&mut self, file_id: String, max_bytes: u32) -> TgResult<Vec<u8>> {
        use crate::telegram::files::DownloadError;
        if self.describing {
            return Ok(Err(Error::AccessDenied("describe() may not call Telegram".into())));
        }
        let budget = std::time::Duration::from_millis(self.remaining_ms().min(10_000));
        let result = self.host.live.download(&file_id, max_bytes, budget).await;
        let plugin = self.current().name();
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
