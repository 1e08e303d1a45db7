//! `wharf:bot/telegram`: calls are validated, rendered as Bot API JSON and buffered in
//! the turn's outbox; they leave for Telegram only after the turn commits. Lookups
//! (`get-chat-member`, `download-file`) are live calls within the call's time budget.

use serde_json::{Map, Value, json};
use wasmtime::Result;

use super::PluginState;
use super::bindings::wharf::bot::telegram::{Error, Host, MemberStatus, Outgoing, Photo};
use crate::storage::NewOutbox;
use crate::validate;

type TgResult<T> = Result<std::result::Result<T, Error>>;

impl PluginState {
    fn queue(&mut self, chat_id: i64, method: &str, params: Map<String, Value>) -> std::result::Result<(), Error> {
        if self.describing {
            return Err(Error::AccessDenied("describe() may not send messages".into()));
        }
        let max = self.host.quotas.max_turn_outbox;
        if self.turn.totals(&self.call).outbox >= max {
            return Err(Error::InvalidInput(format!("a turn may queue at most {max} Telegram calls")));
        }
        let payload = json!({ "method": method, "params": params }).to_string();
        let plugin = self.current().name().to_string();
        self.call.outbox.push(NewOutbox { chat_id, plugin, payload });
        Ok(())
    }

    fn render(
        &self,
        chat_id: i64,
        msg: &Outgoing,
        text_key: &str,
        max: usize,
        allow_empty: bool,
    ) -> std::result::Result<Map<String, Value>, Error> {
        validate::chat_id(chat_id).map_err(Error::InvalidInput)?;
        let mut params = Map::new();
        params.insert("chat_id".into(), json!(chat_id));
        let prefix = self.current().callback_prefix.clone();
        validate::outgoing(msg, prefix.as_deref(), text_key, max, allow_empty, &mut params)
            .map_err(Error::InvalidInput)?;
        Ok(params)
    }
}

impl Host for PluginState {
    async fn send_message(&mut self, chat_id: i64, message: Outgoing) -> TgResult<()> {
        let r = self.render(chat_id, &message, "text", validate::MAX_TEXT, false);
        Ok(r.and_then(|p| self.queue(chat_id, "sendMessage", p)))
    }

    async fn send_photo(&mut self, chat_id: i64, photo: Photo, caption: Outgoing) -> TgResult<()> {
        let r = self.render(chat_id, &caption, "caption", validate::MAX_CAPTION, true).and_then(|mut p| {
            let photo = match photo {
                Photo::FileId(id) if !id.is_empty() && id.len() <= 256 => id,
                Photo::Url(url) => {
                    validate::url(&url, &["https", "http"]).map_err(|e| Error::InvalidInput(format!("photo {e}")))?;
                    url
                }
                _ => return Err(Error::InvalidInput("photo must be a file id or an http(s) URL".into())),
            };
            p.insert("photo".into(), json!(photo));
            Ok(p)
        });
        Ok(r.and_then(|p| self.queue(chat_id, "sendPhoto", p)))
    }

    async fn edit_message(&mut self, chat_id: i64, message_id: i32, message: Outgoing) -> TgResult<()> {
        let r = validate::message_id(message_id)
            .map_err(Error::InvalidInput)
            .and_then(|()| self.render(chat_id, &message, "text", validate::MAX_TEXT, false))
            .map(|mut p| {
                p.remove("reply_parameters");
                p.insert("message_id".into(), json!(message_id));
                p
            });
        Ok(r.and_then(|p| self.queue(chat_id, "editMessageText", p)))
    }

    async fn delete_message(&mut self, chat_id: i64, message_id: i32) -> TgResult<()> {
        let r = validate::chat_id(chat_id)
            .and_then(|()| validate::message_id(message_id))
            .map_err(Error::InvalidInput)
            .map(|()| {
                let mut p = Map::new();
                p.insert("chat_id".into(), json!(chat_id));
                p.insert("message_id".into(), json!(message_id));
                p
            });
        Ok(r.and_then(|p| self.queue(chat_id, "deleteMessage", p)))
    }

    async fn answer_callback(&mut self, callback_id: String, text: Option<String>, show_alert: bool) -> TgResult<()> {
        if callback_id.is_empty() || callback_id.len() > 128 {
            return Ok(Err(Error::InvalidInput("callback id must be 1-128 bytes".into())));
        }
        let mut p = Map::new();
        p.insert("callback_query_id".into(), json!(callback_id));
        if let Some(text) = text {
            let n = text.chars().count();
            if n > 200 {
                return Ok(Err(Error::InvalidInput(format!("callback answer is {n} characters; at most 200"))));
            }
            p.insert("text".into(), json!(text));
        }
        if show_alert {
            p.insert("show_alert".into(), json!(true));
        }
        let lane = self.turn.lane;
        Ok(self.queue(lane, "answerCallbackQuery", p))
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
