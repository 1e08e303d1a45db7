//! One outbox row → one Bot API request, and how its answer is classified: delivered
//! (with the message a handle now names), retry after Telegram's `retry_after`, retry
//! with backoff (5xx, network), blocked (403), or refused for good (400, unreadable row,
//! a handle that was never delivered).

use std::time::Duration;

use teloxide_core::payloads::{
    AnswerCallbackQuerySetters, EditMessageTextSetters, SendDocumentSetters, SendMessageSetters, SendPhotoSetters,
};
use teloxide_core::requests::{Request, Requester};
use teloxide_core::types::{
    CallbackQueryId, ChatId, FileId, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, MessageId,
    ParseMode as TgParseMode, ReplyParameters,
};
use teloxide_core::{ApiError, RequestError};

use super::Front;
use super::outbox_call::{ButtonAction, Keyboard, MessageRef, OutboxCall, ParseMode, ReadError, ReplyTo};
use crate::metrics::SendOutcome;
use crate::storage::{OutboxRow, SentMessage};

/// How one delivery attempt ended.
#[derive(Debug)]
pub(super) enum Delivery {
    /// Sent; a send with a handle says which message it became.
    Delivered(Option<SentMessage>),
    /// 429: try this chat again after the pause.
    RetryAfter(Duration),
    /// 5xx, network, storage: try again with backoff.
    Transient(String),
    /// 403: the user blocked the bot (or the bot left the chat).
    Blocked(String),
    /// Refused for good: dead-letter with the reason.
    Rejected(String),
}

fn parse_mode(pm: Option<ParseMode>) -> Option<TgParseMode> {
    pm.map(|pm| match pm {
        ParseMode::Html => TgParseMode::Html,
        ParseMode::MarkdownV2 => TgParseMode::MarkdownV2,
    })
}

fn keyboard(kb: &Keyboard) -> Result<InlineKeyboardMarkup, String> {
    let mut rows = Vec::with_capacity(kb.inline_keyboard.len());
    for row in &kb.inline_keyboard {
        let mut buttons = Vec::with_capacity(row.len());
        for b in row {
            buttons.push(match &b.action {
                ButtonAction::Callback(data) => InlineKeyboardButton::callback(b.text.clone(), data.clone()),
                ButtonAction::Url(url) => {
                    let url = reqwest::Url::parse(url).map_err(|e| format!("bad button URL: {e}"))?;
                    InlineKeyboardButton::url(b.text.clone(), url)
                }
            });
        }
        rows.push(buttons);
    }
    Ok(InlineKeyboardMarkup::new(rows))
}

fn reply(to: Option<ReplyTo>) -> Option<ReplyParameters> {
    to.map(|r| ReplyParameters::new(MessageId(r.message_id)).allow_sending_without_reply())
}

/// The Telegram message id `target` names in `chat`; a handle must have been delivered
/// to that chat.
async fn resolve(front: &Front, chat: i64, target: MessageRef) -> Result<MessageId, Delivery> {
    match target {
        MessageRef::Id(id) => Ok(MessageId(id)),
        MessageRef::Handle(h) => match front.storage.sent_message(h).await {
            Ok(Some(m)) if m.chat_id == chat => Ok(MessageId(m.message_id)),
            Ok(Some(_)) => Err(Delivery::Rejected(format!("message handle {h} belongs to another chat"))),
            Ok(None) => Err(Delivery::Rejected(format!("message handle {h} was never delivered"))),
            Err(e) => Err(Delivery::Transient(format!("cannot resolve message handle {h}: {e}"))),
        },
    }
}

/// Send `row` once; `call` is the row read (`row.call()`), or why it cannot be.
pub(super) async fn deliver(front: &Front, row: &OutboxRow, call: Result<OutboxCall, ReadError>) -> Delivery {
    let call = match call {
        Ok(c) => c,
        Err(e) => return Delivery::Rejected(e.to_string()),
    };
    let started = std::time::Instant::now();
    let result = send(front, &call).await;
    front.metrics.telegram_request(call.method(), started.elapsed());
    match result {
        Ok(message_id) => {
            front.metrics.telegram_send(call.method(), SendOutcome::Ok);
            let sent = call.handle().zip(message_id).map(|(handle, message_id)| SentMessage {
                handle,
                plugin: row.plugin.clone(),
                chat_id: call.chat_id().unwrap_or(row.chat_id),
                message_id,
            });
            Delivery::Delivered(sent)
        }
        Err(d) => d,
    }
}

/// Make the request; the message id for sends.
async fn send(front: &Front, call: &OutboxCall) -> Result<Option<i32>, Delivery> {
    let bot = &front.bot;
    let kb = |k: &Option<Keyboard>| k.as_ref().map(keyboard).transpose().map_err(Delivery::Rejected);
    let method = call.method();
    let fail = |e: RequestError| classify(front, method, e);
    match call {
        OutboxCall::SendMessage(p) => {
            let mut r = bot.send_message(ChatId(p.chat_id), p.text.clone());
            if let Some(pm) = parse_mode(p.parse_mode) {
                r = r.parse_mode(pm);
            }
            if let Some(k) = kb(&p.reply_markup)? {
                r = r.reply_markup(k);
            }
            if let Some(rp) = reply(p.reply_parameters) {
                r = r.reply_parameters(rp);
            }
            if p.disable_notification {
                r = r.disable_notification(true);
            }
            r.send().await.map(|m| Some(m.id.0)).map_err(fail)
        }
        OutboxCall::SendPhoto(p) => {
            let file = match reqwest::Url::parse(&p.photo) {
                Ok(url) if p.photo.starts_with("http") => InputFile::url(url),
                _ => InputFile::file_id(FileId(p.photo.clone())),
            };
            let mut r = bot.send_photo(ChatId(p.chat_id), file);
            if let Some(caption) = &p.caption {
                r = r.caption(caption.clone());
            }
            if let Some(pm) = parse_mode(p.parse_mode) {
                r = r.parse_mode(pm);
            }
            if let Some(k) = kb(&p.reply_markup)? {
                r = r.reply_markup(k);
            }
            if let Some(rp) = reply(p.reply_parameters) {
                r = r.reply_parameters(rp);
            }
            r.send().await.map(|m| Some(m.id.0)).map_err(fail)
        }
        OutboxCall::SendDocument(p) => {
            let file = InputFile::memory(p.document.data.clone()).file_name(p.document.file_name.clone());
            let mut r = bot.send_document(ChatId(p.chat_id), file);
            if let Some(caption) = &p.caption {
                r = r.caption(caption.clone());
            }
            if let Some(pm) = parse_mode(p.parse_mode) {
                r = r.parse_mode(pm);
            }
            if let Some(k) = kb(&p.reply_markup)? {
                r = r.reply_markup(k);
            }
            if let Some(rp) = reply(p.reply_parameters) {
                r = r.reply_parameters(rp);
            }
            r.send().await.map(|m| Some(m.id.0)).map_err(fail)
        }
        OutboxCall::EditMessageText(p) => {
            let id = resolve(front, p.chat_id, p.target).await?;
            let mut r = bot.edit_message_text(ChatId(p.chat_id), id, p.text.clone());
            if let Some(pm) = parse_mode(p.parse_mode) {
                r = r.parse_mode(pm);
            }
            if let Some(k) = kb(&p.reply_markup)? {
                r = r.reply_markup(k);
            }
            r.send().await.map(|_| None).or_else(|e| not_modified(front, method, e))
        }
        OutboxCall::DeleteMessage(p) => {
            let id = resolve(front, p.chat_id, p.target).await?;
            bot.delete_message(ChatId(p.chat_id), id).send().await.map(|_| None).map_err(fail)
        }
        OutboxCall::AnswerCallbackQuery(p) => {
            let mut r = bot.answer_callback_query(CallbackQueryId(p.callback_query_id.clone()));
            if let Some(t) = &p.text {
                r = r.text(t.clone());
            }
            if p.show_alert {
                r = r.show_alert(true);
            }
            r.send().await.map(|_| None).map_err(fail)
        }
    }
}

/// An edit that changes nothing has done its job.
fn not_modified(front: &Front, method: &'static str, e: RequestError) -> Result<Option<i32>, Delivery> {
    match e {
        RequestError::Api(ApiError::MessageNotModified) => Ok(None),
        e => Err(classify(front, method, e)),
    }
}

/// How a refused request is handled, counted under `method` with its outcome.
fn classify(front: &Front, method: &'static str, e: RequestError) -> Delivery {
    let outcome = match &e {
        RequestError::RetryAfter(_) => SendOutcome::RetryAfter,
        RequestError::Api(ApiError::MessageNotModified) => SendOutcome::Ok,
        RequestError::Network(_) | RequestError::Io(_) => SendOutcome::Network,
        _ => SendOutcome::ServerError,
    };
    let delivery = classify_error(front, e);
    let outcome = match &delivery {
        Delivery::Blocked(_) => SendOutcome::Forbidden,
        Delivery::Rejected(_) => SendOutcome::ClientError,
        _ => outcome,
    };
    front.metrics.telegram_send(method, outcome);
    delivery
}

fn classify_error(front: &Front, e: RequestError) -> Delivery {
    let text = front.redact(&e.to_string());
    match e {
        RequestError::RetryAfter(s) => Delivery::RetryAfter(s.duration()),
        RequestError::Api(ApiError::MessageNotModified) => Delivery::Delivered(None),
        RequestError::Api(ApiError::BotBlocked | ApiError::UserDeactivated | ApiError::BotKicked) => {
            Delivery::Blocked(text)
        }
        RequestError::Api(_) if text.starts_with("Bad Request") || text.contains("Bad Request:") => {
            Delivery::Rejected(text)
        }
        RequestError::Api(_) if text.contains("Forbidden") => Delivery::Blocked(text),
        RequestError::MigrateToChatId(_) => Delivery::Rejected(text),
        _ => Delivery::Transient(text),
    }
}
