//! The outbox sender: delivers committed outbox rows in order per chat, paced by
//! Telegram's rate limits. 429 pauses the chat for `retry_after`; 5xx and network
//! errors retry with backoff and jitter; 403 "blocked" marks the user and emits a
//! member event instead of retrying; other 400s go to the dead letters with the reason.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use teloxide_core::payloads::{
    AnswerCallbackQuerySetters, EditMessageTextSetters, SendMessageSetters, SendPhotoSetters,
};
use teloxide_core::requests::{Request, Requester};
use teloxide_core::types::{
    CallbackQueryId, ChatId, FileId, InlineKeyboardMarkup, InputFile, MessageId, ParseMode, ReplyParameters,
};
use teloxide_core::{ApiError, RequestError};

use super::Front;
use super::backoff::Backoff;
use super::limits::Limiter;
use crate::event::{Event, MemberStatus, MemberUpdate, private_chat, user};
use crate::storage::{NewInbox, OutboxRow};

/// The sender stays this far under the configured rates, so clock jitter between it and
/// Telegram never turns into a 429.
const MARGIN: f64 = 0.97;

/// How one delivery attempt ended.
#[derive(Debug)]
enum Delivery {
    Delivered,
    RetryAfter(Duration),
    Transient(String),
    Blocked(String),
    Rejected(String),
}

pub(super) async fn run(front: Arc<Front>) {
    let mut limiter = Limiter::new(front.limits.scaled(MARGIN));
    let mut paused: HashMap<i64, Instant> = HashMap::new();
    let mut retries: HashMap<i64, Backoff> = HashMap::new();
    loop {
        let ready = front.outbox_ready.notified();
        let rows = match front.storage.outbox_head(500).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(target: "wharf.telegram", error = %e, "cannot read the outbox");
                front.backoff.lock().await.wait().await;
                continue;
            }
        };
        let mut chats: Vec<i64> = rows.iter().map(|r| r.chat_id).filter(|c| *c > 0).collect();
        chats.sort_unstable();
        chats.dedup();
        let mut blocked = front.storage.blocked_among(&chats).await.unwrap_or_default();
        let mut held: HashSet<i64> = HashSet::new();
        let mut next_try: Option<Instant> = None;
        let mut global_wait = Duration::ZERO;
        for row in rows {
            let chat = row.chat_id;
            if held.contains(&chat) {
                continue;
            }
            let now = Instant::now();
            if let Some(until) = paused.get(&chat).copied().filter(|t| *t > now) {
                held.insert(chat);
                next_try = Some(next_try.map_or(until, |n| n.min(until)));
                continue;
            }
            if blocked.contains(&chat) {
                dead(&front, &row, "the user blocked the bot", None).await;
                continue;
            }
            let (chat_wait, g) = limiter.wait(chat, now);
            if !g.is_zero() {
                global_wait = g;
                break;
            }
            if !chat_wait.is_zero() {
                held.insert(chat);
                let at = now + chat_wait;
                next_try = Some(next_try.map_or(at, |n| n.min(at)));
                continue;
            }
            limiter.take(chat);
            match deliver(&front, &row).await {
                Delivery::Delivered => {
                    retries.remove(&chat);
                    front.metrics.incr("telegram.sent");
                    if let Err(e) = front.storage.outbox_delivered(row.id).await {
                        tracing::warn!(target: "wharf.telegram", error = %e, "sent, but cannot mark it; it may be sent again");
                    }
                }
                Delivery::RetryAfter(d) => {
                    front.metrics.incr("telegram.retry_after");
                    tracing::warn!(target: "wharf.telegram", chat_id = chat, seconds = d.as_secs(), "rate-limited by Telegram");
                    paused.insert(chat, Instant::now() + d);
                    held.insert(chat);
                }
                Delivery::Transient(reason) => {
                    front.metrics.incr("telegram.transient_errors");
                    let delay = retries
                        .entry(chat)
                        .or_insert_with(|| Backoff::new(Duration::from_millis(200), Duration::from_secs(60)))
                        .delay();
                    tracing::warn!(target: "wharf.telegram", chat_id = chat, %reason, retry_in_ms = delay.as_millis() as u64, "send failed; will retry");
                    paused.insert(chat, Instant::now() + delay);
                    held.insert(chat);
                }
                Delivery::Blocked(reason) => {
                    front.metrics.incr("telegram.blocked");
                    let event = Event::Member(MemberUpdate {
                        chat: private_chat(chat),
                        user: user(chat),
                        status: MemberStatus::Blocked,
                    });
                    let entry = NewInbox::entry(
                        chat,
                        None,
                        &crate::inbox::Entry::new(event),
                        Some(format!("blocked:{chat}:{}", row.id)),
                    )
                    .ok();
                    blocked.insert(chat);
                    if let Err(e) = front.storage.set_blocked(chat, true, front.clock.now_ms()).await {
                        tracing::warn!(target: "wharf.telegram", error = %e, "cannot mark the user blocked");
                    }
                    dead(&front, &row, &reason, entry).await;
                    (front.wake)();
                }
                Delivery::Rejected(reason) => {
                    front.metrics.incr("telegram.rejected");
                    dead(&front, &row, &reason, None).await;
                }
            }
        }
        let wait = if !global_wait.is_zero() {
            global_wait
        } else {
            next_try.map_or(Duration::from_secs(1), |t| t.saturating_duration_since(Instant::now()))
        };
        if !wait.is_zero() {
            tokio::select! {
                () = ready => {}
                () = tokio::time::sleep(wait.min(Duration::from_secs(1))) => {}
            }
        }
    }
}

async fn dead(front: &Front, row: &OutboxRow, reason: &str, also: Option<NewInbox>) {
    tracing::warn!(target: "wharf.telegram", chat_id = row.chat_id, plugin = %row.plugin, %reason, "message dead-lettered");
    if let Err(e) = front.storage.outbox_dead(row, reason, also, front.clock.now_ms()).await {
        tracing::error!(target: "wharf.telegram", error = %e, "cannot dead-letter a message");
    }
}

fn text(p: &Value, key: &str) -> String {
    p.get(key).and_then(Value::as_str).unwrap_or_default().to_owned()
}

fn parse_mode(p: &Value) -> Option<ParseMode> {
    match p.get("parse_mode").and_then(Value::as_str)? {
        "HTML" => Some(ParseMode::Html),
        "MarkdownV2" => Some(ParseMode::MarkdownV2),
        _ => None,
    }
}

fn keyboard(p: &Value) -> Result<Option<InlineKeyboardMarkup>, String> {
    match p.get("reply_markup") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v.clone()).map(Some).map_err(|e| format!("bad keyboard: {e}")),
    }
}

fn message_id(p: &Value) -> MessageId {
    MessageId(p.get("message_id").and_then(Value::as_i64).and_then(|n| i32::try_from(n).ok()).unwrap_or(0))
}

async fn deliver(front: &Front, row: &OutboxRow) -> Delivery {
    let call: Value = match serde_json::from_str(&row.payload) {
        Ok(v) => v,
        Err(e) => return Delivery::Rejected(format!("malformed outbox row: {e}")),
    };
    let p = &call["params"];
    let chat = ChatId(p.get("chat_id").and_then(Value::as_i64).unwrap_or(row.chat_id));
    let kb = match keyboard(p) {
        Ok(kb) => kb,
        Err(e) => return Delivery::Rejected(e),
    };
    let bot = &front.bot;
    let result = match call["method"].as_str().unwrap_or_default() {
        "sendMessage" => {
            let mut r = bot.send_message(chat, text(p, "text"));
            if let Some(pm) = parse_mode(p) {
                r = r.parse_mode(pm);
            }
            if let Some(kb) = kb {
                r = r.reply_markup(kb);
            }
            if let Some(id) = p["reply_parameters"]["message_id"].as_i64().and_then(|n| i32::try_from(n).ok()) {
                r = r.reply_parameters(ReplyParameters::new(MessageId(id)).allow_sending_without_reply());
            }
            r.send().await.map(drop)
        }
        "sendPhoto" => {
            let photo = text(p, "photo");
            let file = match reqwest::Url::parse(&photo) {
                Ok(url) if photo.starts_with("http") => InputFile::url(url),
                _ => InputFile::file_id(FileId(photo)),
            };
            let mut r = bot.send_photo(chat, file);
            if let Some(caption) = p.get("caption").and_then(Value::as_str) {
                r = r.caption(caption);
            }
            if let Some(pm) = parse_mode(p) {
                r = r.parse_mode(pm);
            }
            if let Some(kb) = kb {
                r = r.reply_markup(kb);
            }
            r.send().await.map(drop)
        }
        "editMessageText" => {
            let mut r = bot.edit_message_text(chat, message_id(p), text(p, "text"));
            if let Some(pm) = parse_mode(p) {
                r = r.parse_mode(pm);
            }
            if let Some(kb) = kb {
                r = r.reply_markup(kb);
            }
            r.send().await.map(drop)
        }
        "deleteMessage" => bot.delete_message(chat, message_id(p)).send().await.map(drop),
        "answerCallbackQuery" => {
            let mut r = bot.answer_callback_query(CallbackQueryId(text(p, "callback_query_id")));
            if let Some(t) = p.get("text").and_then(Value::as_str) {
                r = r.text(t);
            }
            if p.get("show_alert").and_then(Value::as_bool) == Some(true) {
                r = r.show_alert(true);
            }
            r.send().await.map(drop)
        }
        other => return Delivery::Rejected(format!("unknown outbox method {other:?}")),
    };
    match result {
        Ok(()) => Delivery::Delivered,
        Err(e) => classify(front, e),
    }
}

fn classify(front: &Front, e: RequestError) -> Delivery {
    let text = front.redact(&e.to_string());
    match e {
        RequestError::RetryAfter(s) => Delivery::RetryAfter(s.duration()),
        RequestError::Api(ApiError::MessageNotModified) => Delivery::Delivered,
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
