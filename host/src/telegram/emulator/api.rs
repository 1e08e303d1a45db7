//! The Bot API surface of the emulator: `/bot<token>/<method>` with Telegram's JSON
//! shapes, `{"ok":true,"result":…}` or `{"ok":false,"error_code",…}`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::Shared;
use super::state::{FaultKind, Sent, SentDocument, Touch, World};

type Params = Map<String, Value>;

/// A Bot API reply.
pub(super) enum Reply {
    Ok(Value),
    Err(u16, String, Option<u32>),
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        match self {
            Self::Ok(result) => axum::Json(json!({ "ok": true, "result": result })).into_response(),
            Self::Err(code, description, retry_after) => {
                let mut body = json!({ "ok": false, "error_code": code, "description": description });
                if let Some(s) = retry_after {
                    body["parameters"] = json!({ "retry_after": s });
                }
                let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
                (status, axum::Json(body)).into_response()
            }
        }
    }
}

pub(super) fn bad(desc: &str) -> Reply {
    Reply::Err(400, format!("Bad Request: {desc}"), None)
}

/// A file uploaded with a multipart request: its field's file name and bytes.
pub(super) struct Upload {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// Read parameters from a JSON, form or multipart body, or the query string. A file
/// part shows in the parameters as `uploaded:NAME:LEN`; its bytes are in the uploads,
/// by field name.
async fn params(req: Request) -> (Params, std::collections::HashMap<String, Upload>) {
    let mut uploads = std::collections::HashMap::new();
    let mut out: Params = req
        .uri()
        .query()
        .map(|q| url_pairs(q).into_iter().map(|(k, v)| (k, Value::String(v))).collect())
        .unwrap_or_default();
    let ctype = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    if ctype.starts_with("multipart/form-data") {
        if let Ok(mut mp) = Multipart::from_request(req, &()).await {
            while let Ok(Some(field)) = mp.next_field().await {
                let name = field.name().unwrap_or_default().to_owned();
                let file = field.file_name().map(str::to_owned);
                let Ok(bytes) = field.bytes().await else { break };
                let value = match file {
                    Some(f) => {
                        let value = format!("uploaded:{f}:{}", bytes.len());
                        uploads.insert(name.clone(), Upload { file_name: f, bytes: bytes.to_vec() });
                        value
                    }
                    None => String::from_utf8_lossy(&bytes).into_owned(),
                };
                out.insert(name, Value::String(value));
            }
        }
        return (out, uploads);
    }
    let Ok(body) = axum::body::to_bytes(req.into_body(), 10 << 20).await else { return (out, uploads) };
    if ctype.starts_with("application/json") {
        if let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(&body) {
            out.extend(m);
        }
    } else if !body.is_empty() {
        for (k, v) in url_pairs(&String::from_utf8_lossy(&body)) {
            out.insert(k, Value::String(v));
        }
    }
    (out, uploads)
}

/// The file uploaded for parameter `name`: the part named by an `attach://PART` value
/// (how teloxide sends files), or the part named `name`.
fn attached(p: &Params, name: &str, uploads: &mut std::collections::HashMap<String, Upload>) -> Option<Upload> {
    let part = string(p, name).and_then(|v| v.strip_prefix("attach://").map(str::to_owned));
    uploads.remove(part.as_deref().unwrap_or(name))
}

fn url_pairs(s: &str) -> Vec<(String, String)> {
    reqwest::Url::parse(&format!("http://x/?{s}"))
        .map(|u| u.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
        .unwrap_or_default()
}

pub(super) fn int(p: &Params, k: &str) -> Option<i64> {
    match p.get(k)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn string(p: &Params, k: &str) -> Option<String> {
    match p.get(k)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// A JSON value given either as JSON or as a JSON string (form/multipart bodies).
fn object(p: &Params, k: &str) -> Option<Value> {
    match p.get(k)? {
        Value::String(s) => serde_json::from_str(s).ok(),
        Value::Null => None,
        v => Some(v.clone()),
    }
}

fn message_json(chat_id: i64, m: &Sent) -> Value {
    let mut v = json!({
        "message_id": m.message_id,
        "date": 1_700_000_000,
        "chat": World::chat_json(chat_id),
        "from": World::bot_json(),
    });
    if let Some(photo) = &m.photo {
        v["photo"] = json!([{ "file_id": photo, "file_unique_id": "u", "width": 1, "height": 1 }]);
        if !m.text.is_empty() {
            v["caption"] = json!(m.text);
        }
    } else if let Some(doc) = &m.document {
        v["document"] = json!({
            "file_id": doc.file_id,
            "file_unique_id": format!("u-{}", doc.file_id),
            "file_name": doc.file_name,
            "file_size": doc.bytes.len(),
        });
        if !m.text.is_empty() {
            v["caption"] = json!(m.text);
        }
    } else {
        v["text"] = json!(m.text);
    }
    if let Some(rm) = &m.reply_markup {
        v["reply_markup"] = rm.clone();
    }
    v
}

pub(super) async fn handle(
    State(shared): State<Arc<Shared>>,
    Path((bot, method)): Path<(String, String)>,
    req: Request,
) -> Reply {
    let (p, mut uploads) = params(req).await;
    // Telegram matches method names case-insensitively (teloxide sends `GetMe`).
    let method = canonical(&method);
    let fault = {
        let mut w = shared.world();
        if bot.strip_prefix("bot") != Some(w.token.as_str()) {
            return Reply::Err(401, "Unauthorized".into(), None);
        }
        *w.requests.entry(method.clone()).or_default() += 1;
        let now = w.in_flight.entry(method.clone()).or_default();
        *now += 1;
        let now = *now;
        let max = w.max_in_flight.entry(method.clone()).or_default();
        *max = (*max).max(now);
        w.take_fault(&method)
    };
    let _in_flight = InFlight { shared: &shared, method: &method };
    let delay = shared.world().send_delay.filter(|_| is_send(&method));
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    match fault {
        Some(FaultKind::RetryAfter(s)) => {
            return Reply::Err(429, format!("Too Many Requests: retry after {s}"), Some(s));
        }
        Some(FaultKind::Status(code, desc)) => return Reply::Err(code, desc, None),
        Some(FaultKind::DelayMs(ms)) => tokio::time::sleep(Duration::from_millis(ms)).await,
        None => {}
    }
    match method.as_str() {
        "getMe" => {
            let mut me = World::bot_json();
            for (k, v) in [
                ("can_join_groups", true),
                ("can_read_all_group_messages", false),
                ("supports_inline_queries", false),
                ("can_connect_to_business", false),
                ("has_main_web_app", false),
            ] {
                me[k] = json!(v);
            }
            Reply::Ok(me)
        }
        "getUpdates" => get_updates(&shared, &p).await,
        "sendMessage" | "sendPhoto" => send(&shared, &method, &p, None),
        "sendDocument" => match attached(&p, "document", &mut uploads) {
            Some(file) => send(&shared, &method, &p, Some(file)),
            None => bad("there is no document in the request"),
        },
        "editMessageText" | "editMessageReplyMarkup" => edit(&shared, &method, &p),
        "deleteMessage" => {
            let (chat, id) = (int(&p, "chat_id").unwrap_or(0), int(&p, "message_id").unwrap_or(0));
            let mut w = shared.world();
            match w.sent.get_mut(&chat).and_then(|l| l.iter_mut().find(|m| i64::from(m.message_id) == id && !m.deleted))
            {
                Some(m) => {
                    m.deleted = true;
                    let touch = Touch::Message(chat, m.message_id);
                    w.journal.push(touch);
                    drop(w);
                    shared.sent_changed.notify_waiters();
                    Reply::Ok(json!(true))
                }
                None => bad("message to delete not found"),
            }
        }
        "answerCallbackQuery" => {
            let Some(id) = string(&p, "callback_query_id") else { return bad("query is too old") };
            {
                let mut w = shared.world();
                w.answered.push((id, string(&p, "text")));
                let touch = Touch::Answer(w.answered.len() - 1);
                w.journal.push(touch);
            }
            shared.sent_changed.notify_waiters();
            Reply::Ok(json!(true))
        }
        "getFile" => super::files::get_file(&shared, &p),
        "getChatMember" => super::members::get_chat_member(&shared, &p),
        "getChat" => super::members::get_chat(&shared, &p),
        "setMyCommands" => {
            shared.world().commands = object(&p, "commands").unwrap_or(Value::Null);
            Reply::Ok(json!(true))
        }
        "setWebhook" => {
            let Some(url) = string(&p, "url") else { return bad("bad webhook: URL is empty") };
            let mut w = shared.world();
            w.note_allowed(&p);
            w.webhook = Some((url, string(&p, "secret_token")));
            drop(w);
            shared.new_update.notify_waiters();
            Reply::Ok(json!(true))
        }
        "deleteWebhook" => {
            shared.world().webhook = None;
            Reply::Ok(json!(true))
        }
        "getWebhookInfo" => {
            let w = shared.world();
            let url = w.webhook.as_ref().map_or(String::new(), |(u, _)| u.clone());
            Reply::Ok(json!({ "url": url, "has_custom_certificate": false, "pending_update_count": w.updates.len() }))
        }
        _ => Reply::Err(404, "Not Found: method not found".into(), None),
    }
}

/// Methods the bot uses to send (the ones a send delay applies to).
fn is_send(method: &str) -> bool {
    matches!(
        method,
        "sendMessage" | "sendPhoto" | "sendDocument" | "editMessageText" | "deleteMessage" | "answerCallbackQuery"
    )
}

/// Counts a request as in flight until it is answered.
struct InFlight<'a> {
    shared: &'a Shared,
    method: &'a str,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Some(n) = self.shared.world().in_flight.get_mut(self.method) {
            *n = n.saturating_sub(1);
        }
    }
}

/// The Bot API's spelling of a method name given in any case.
fn canonical(method: &str) -> String {
    const METHODS: [&str; 16] = [
        "getMe",
        "getUpdates",
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "editMessageText",
        "editMessageReplyMarkup",
        "deleteMessage",
        "answerCallbackQuery",
        "getChatMember",
        "getChat",
        "getFile",
        "setMyCommands",
        "setWebhook",
        "deleteWebhook",
        "getWebhookInfo",
    ];
    METHODS.iter().find(|m| m.eq_ignore_ascii_case(method)).map_or_else(|| method.to_owned(), |m| (*m).to_owned())
}

async fn get_updates(shared: &Shared, p: &Params) -> Reply {
    let offset = int(p, "offset").unwrap_or(0);
    let limit = usize::try_from(int(p, "limit").unwrap_or(100).clamp(1, 100)).unwrap_or(100);
    let timeout = Duration::from_secs(u64::try_from(int(p, "timeout").unwrap_or(0).clamp(0, 50)).unwrap_or(0));
    let deadline = Instant::now() + timeout;
    loop {
        let notified = shared.new_update.notified();
        {
            let mut w = shared.world();
            if w.webhook.is_some() {
                return Reply::Err(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first".into(),
                    None,
                );
            }
            // Everything below the offset is confirmed and forgotten, and kinds the bot
            // did not ask for are never delivered.
            w.note_allowed(p);
            while w.updates.front().is_some_and(|u| u["update_id"].as_i64().unwrap_or(0) < offset) {
                w.updates.pop_front();
            }
            let updates = std::mem::take(&mut w.updates);
            w.updates = updates.into_iter().filter(|u| w.allows(u)).collect();
            let batch: Vec<Value> = w.updates.iter().take(limit).cloned().collect();
            if !batch.is_empty() || Instant::now() >= deadline {
                return Reply::Ok(Value::Array(batch));
            }
        }
        let _ = tokio::time::timeout_at(deadline.into(), notified).await;
    }
}

/// `sendMessage`, `sendPhoto`, or `sendDocument` with its uploaded `file`.
fn send(shared: &Shared, method: &str, p: &Params, file: Option<Upload>) -> Reply {
    let Some(chat) = int(p, "chat_id") else { return bad("chat_id is empty") };
    let photo = (method == "sendPhoto").then(|| string(p, "photo")).flatten();
    if method == "sendPhoto" && photo.is_none() {
        return bad("there is no photo in the request");
    }
    let media = photo.is_some() || file.is_some();
    let text = string(p, if media { "caption" } else { "text" }).unwrap_or_default();
    if !media && text.is_empty() {
        return bad("message text is empty");
    }
    let max = if media { 1024 } else { 4096 };
    if text.encode_utf16().count() > max {
        return bad(if media { "message caption is too long" } else { "message is too long" });
    }
    if file.as_ref().is_some_and(|f| f.bytes.is_empty()) {
        return bad("file must be non-empty");
    }
    let mut w = shared.world();
    if chat > 0 && w.blocked.contains(&chat) {
        return Reply::Err(403, "Forbidden: bot was blocked by the user".into(), None);
    }
    if chat < 0 && w.blocked.contains(&chat) {
        return Reply::Err(403, "Forbidden: bot is not a member of the channel chat".into(), None);
    }
    if let Err(s) = w.charge(chat, Instant::now()) {
        return Reply::Err(429, format!("Too Many Requests: retry after {s}"), Some(s));
    }
    // A document the bot sends is kept like one a user uploaded (`getFile` serves it).
    let document = file.map(|f| {
        let file_id = w.store_file(&f.file_name, f.bytes.clone());
        SentDocument { file_id, file_name: f.file_name, bytes: f.bytes }
    });
    let log = w.sent.entry(chat).or_default();
    let m = Sent {
        message_id: i32::try_from(log.len() + 1).unwrap_or(i32::MAX),
        text,
        reply_markup: object(p, "reply_markup"),
        photo,
        document,
        parse_mode: string(p, "parse_mode"),
        edits: 0,
        deleted: false,
        at: Some(Instant::now()),
    };
    let reply = message_json(chat, &m);
    let touch = Touch::Message(chat, m.message_id);
    log.push(m);
    w.journal.push(touch);
    drop(w);
    shared.sent_changed.notify_waiters();
    Reply::Ok(reply)
}

fn edit(shared: &Shared, method: &str, p: &Params) -> Reply {
    let (chat, id) = (int(p, "chat_id").unwrap_or(0), int(p, "message_id").unwrap_or(0));
    let mut w = shared.world();
    let Some(m) =
        w.sent.get_mut(&chat).and_then(|l| l.iter_mut().find(|m| i64::from(m.message_id) == id && !m.deleted))
    else {
        return bad("message to edit not found");
    };
    let markup = object(p, "reply_markup");
    let text = if method == "editMessageText" { string(p, "text").unwrap_or_default() } else { m.text.clone() };
    if text == m.text && markup == m.reply_markup {
        return bad(
            "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
        );
    }
    m.text = text;
    m.reply_markup = markup;
    m.edits += 1;
    let reply = message_json(chat, m);
    let touch = Touch::Message(chat, m.message_id);
    w.journal.push(touch);
    drop(w);
    shared.sent_changed.notify_waiters();
    Reply::Ok(reply)
}
