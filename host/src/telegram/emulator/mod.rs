//! A Telegram Bot API emulator served on loopback, for tests and local runs.
//!
//! The bot talks to it through the real Bot API client over HTTP (documents it sends
//! arrive as multipart uploads and are kept, name and bytes, in [`Sent::document`]). The control side
//! (this module's [`Emulator`] methods, or `/control/…` over HTTP) acts as users: send
//! text and commands, upload documents, press buttons, block the bot, join and leave
//! channels (`members`: statuses, `getChat`, `chat_member` updates); reads what the
//! bot sent to each chat, or everything it did in order ([`Emulator::activity`], with
//! [`Emulator::changed`] to wait for more); and injects faults (429 with `retry_after`, 403, 409, 5xx,
//! delays), delays every send, enforces Telegram's rate limits, and counts how many
//! requests per method it was answering at once.
//!
//! Control routes (JSON bodies; each answers with the new `update_id`):
//!
//! | route | body |
//! |---|---|
//! | `POST /control/message` | `{"user_id", "chat_id"?, "text"}` |
//! | `POST /control/document` | `{"user_id", "chat_id"?, "file_name", "content", "caption"?}`; `content` is the file as a UTF-8 string; also answers `file_id` |
//! | `POST /control/press` | `{"user_id", "message_id", "data"}` |
//! | `POST /control/member` | `{"chat_id", "user_id", "status", "is_member"?}`: a `chat_member` update |
//! | `GET /control/sent/{chat}` | — (what the bot sent to `chat`) |
//! | `POST /control/fault` | a [`Fault`] |
//!
//! Uploaded files are served as Telegram does: `getFile` gives a `file_path`, and
//! `GET /file/bot<token>/<file_path>` the bytes.

mod api;
mod files;
mod members;
mod state;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::sync::Notify;

pub use state::{Activity, BOT_ID, BOT_USERNAME, Fault, FaultKind, InlineButton, Sent, SentDocument};

use crate::telegram::limits::{Limiter, RateLimits};
use state::{Touch, World};

pub(super) struct Shared {
    world: Mutex<World>,
    new_update: Notify,
    sent_changed: Notify,
}

impl Shared {
    fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn push(&self, update: Value) -> i64 {
        let id = self.world().push_update(update);
        self.new_update.notify_waiters();
        id
    }

    fn send_text_in(&self, user: i64, chat: i64, text: &str) -> i64 {
        let mut message = json!({
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": World::chat_json(chat),
            "from": World::user_json(user),
            "text": text,
        });
        if text.starts_with('/') {
            let len = text.split_whitespace().next().map_or(0, |c| c.encode_utf16().count());
            message["entities"] = json!([{ "type": "bot_command", "offset": 0, "length": len }]);
        }
        self.push(json!({ "message": message }))
    }

    fn press(&self, user: i64, message_id: i32, data: &str) -> i64 {
        let (text, id) = {
            let mut w = self.world();
            w.next_callback += 1;
            let id = w.next_callback;
            w.pressers.insert(format!("cbq-{id}"), user);
            let text =
                w.sent.get(&user).and_then(|l| l.iter().find(|m| m.message_id == message_id)).map(|m| m.text.clone());
            (text.unwrap_or_default(), id)
        };
        self.push(json!({ "callback_query": {
            "id": format!("cbq-{id}"),
            "from": World::user_json(user),
            "chat_instance": format!("ci-{user}"),
            "data": data,
            "message": {
                "message_id": message_id,
                "date": 1_700_000_000,
                "chat": World::chat_json(user),
                "from": World::bot_json(),
                "text": text,
            },
        }}))
    }
}

/// A running emulator. Dropping it stops the server.
pub struct Emulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    server: tokio::task::JoinHandle<()>,
    pusher: tokio::task::JoinHandle<()>,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.server.abort();
        self.pusher.abort();
    }
}

impl Emulator {
    /// Serve on `addr` (use port 0 for any free port) for bot token `token`.
    pub async fn start(addr: SocketAddr, token: &str) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            world: Mutex::new(World::new(token)),
            new_update: Notify::new(),
            sent_changed: Notify::new(),
        });
        let app = Router::new()
            .route("/{bot}/{method}", get(api::handle).post(api::handle))
            .route("/file/{bot}/{*path}", get(files::download))
            .route("/control/message", post(control_message))
            .route("/control/document", post(control_document))
            .route("/control/press", post(control_press))
            .route("/control/sent/{chat}", get(control_sent))
            .route("/control/fault", post(control_fault))
            .route("/control/member", post(members::control_member))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let pusher = tokio::spawn(push_to_webhook(shared.clone()));
        Ok(Self { shared, addr, server, pusher })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The Bot API base URL to give the client (`http://127.0.0.1:PORT/`).
    pub fn api_url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    fn push(&self, update: Value) -> i64 {
        self.shared.push(update)
    }

    /// Number the next updates after `update_id` (a bot that already saw updates up to
    /// it from an earlier emulator would skip lower ids, as it would with Telegram).
    pub fn continue_after(&self, update_id: i64) {
        let mut w = self.shared.world();
        w.next_update_id = w.next_update_id.max(update_id + 1);
    }

    /// Updates queued that the bot has not confirmed yet (by asking `getUpdates` with a
    /// higher offset, which it does after storing them): 0 once everything sent so far
    /// is in the bot's inbox.
    pub fn unconfirmed(&self) -> usize {
        self.shared.world().updates.len()
    }

    /// `user` sends `text` in their private chat (commands get their entity).
    pub fn send_text(&self, user: i64, text: &str) -> i64 {
        self.shared.send_text_in(user, user, text)
    }

    /// `user` sends `text` in chat `chat`.
    pub fn send_text_in(&self, user: i64, chat: i64, text: &str) -> i64 {
        self.shared.send_text_in(user, chat, text)
    }

    /// `user` uploads `bytes` as the document `file_name` in their private chat, with an
    /// optional caption. The bot can fetch the file with `getFile` and download it.
    pub fn send_document(&self, user: i64, file_name: &str, bytes: Vec<u8>, caption: Option<&str>) -> i64 {
        self.shared.send_document(user, user, file_name, bytes, caption).0
    }

    /// `user` presses a button carrying `data` under message `message_id` of their chat.
    pub fn press(&self, user: i64, message_id: i32, data: &str) -> i64 {
        self.shared.press(user, message_id, data)
    }

    /// Raw update JSON (for malformed or unsupported updates); returns its id.
    pub fn push_raw(&self, update: Value) -> i64 {
        self.push(update)
    }

    /// `user` blocks (or unblocks) the bot: sends become 403 and a `my_chat_member`
    /// update is queued.
    pub fn set_blocked(&self, user: i64, blocked: bool) -> i64 {
        {
            let mut w = self.shared.world();
            if blocked {
                w.blocked.insert(user);
            } else {
                w.blocked.remove(&user);
            }
        }
        let (old, new) = if blocked { ("member", "kicked") } else { ("kicked", "member") };
        let mut new_member = json!({ "user": World::bot_json(), "status": new });
        if blocked {
            new_member["until_date"] = json!(0);
        }
        let mut old_member = json!({ "user": World::bot_json(), "status": old });
        if !blocked {
            old_member["until_date"] = json!(0);
        }
        self.push(json!({ "my_chat_member": {
            "chat": World::chat_json(user),
            "from": World::user_json(user),
            "date": 1_700_000_000,
            "old_chat_member": old_member,
            "new_chat_member": new_member,
        }}))
    }

    /// Block sends to `user` without telling the bot (as when the block happened while
    /// the bot was offline); for a group or channel, the bot is not a member there.
    pub fn block_silently(&self, user: i64) {
        self.shared.world().blocked.insert(user);
    }

    /// Give `user` a username (without `@`), carried by their updates from now on.
    pub fn set_username(&self, user: i64, username: &str) {
        self.shared.world().usernames.insert(user, username.to_owned());
    }

    /// What the bot sent to `chat`, oldest first.
    pub fn sent(&self, chat: i64) -> Vec<Sent> {
        self.shared.world().sent.get(&chat).cloned().unwrap_or_default()
    }

    /// How many messages the bot sent to `chat` (deleted ones included), without copying
    /// them: for waits that poll often.
    pub fn sent_count(&self, chat: i64) -> usize {
        self.shared.world().sent.get(&chat).map_or(0, Vec::len)
    }

    /// Texts the bot sent to `chat` (not deleted), oldest first.
    pub fn texts(&self, chat: i64) -> Vec<String> {
        self.sent(chat).into_iter().filter(|m| !m.deleted).map(|m| m.text).collect()
    }

    /// Wait until `cond` holds for what was sent, or `within` passes.
    pub async fn wait_sent<F>(&self, within: Duration, mut cond: F) -> bool
    where
        F: FnMut(&Self) -> bool,
    {
        let deadline = Instant::now() + within;
        loop {
            let changed = self.shared.sent_changed.notified();
            if cond(self) {
                return true;
            }
            if tokio::time::timeout_at(deadline.into(), changed).await.is_err() {
                return cond(self);
            }
        }
    }

    /// What the bot did from position `from` of its journal on (0: from the start), in
    /// the order the emulator received it, and the position to continue from. A message
    /// is given as it is now, so one edited twice appears twice in its latest state.
    pub fn activity(&self, from: usize) -> (Vec<Activity>, usize) {
        let w = self.shared.world();
        let touches = w.journal.get(from..).unwrap_or_default();
        let out = touches
            .iter()
            .filter_map(|t| match *t {
                Touch::Message(chat, id) => {
                    let message = w.sent.get(&chat)?.iter().find(|m| m.message_id == id)?.clone();
                    Some(Activity::Message { chat, message })
                }
                Touch::Answer(i) => {
                    let (query, text) = w.answered.get(i)?;
                    Some(Activity::Answer { user: w.pressers.get(query).copied(), text: text.clone() })
                }
            })
            .collect();
        (out, w.journal.len())
    }

    /// Completes at the bot's next send, edit, delete or callback answer. Create it
    /// before reading [`Emulator::activity`], so nothing that happens in between is missed.
    pub fn changed(&self) -> tokio::sync::futures::Notified<'_> {
        self.shared.sent_changed.notified()
    }

    /// Callback queries answered: (id, text).
    pub fn answered(&self) -> Vec<(String, Option<String>)> {
        self.shared.world().answered.clone()
    }

    /// Inject a fault into the next request to `method` (or any method).
    pub fn inject(&self, method: Option<&str>, kind: FaultKind) {
        self.shared.world().faults.push_back(Fault { method: method.map(str::to_owned), kind });
    }

    /// Enforce Telegram's rate limits (or stop enforcing with `None`).
    pub fn enforce_limits(&self, limits: Option<RateLimits>) {
        self.shared.world().limiter = limits.map(Limiter::new);
    }

    /// Requests received for `method` (`"file"` counts file downloads).
    pub fn requests(&self, method: &str) -> u64 {
        self.shared.world().requests.get(method).copied().unwrap_or(0)
    }

    /// Requests for `method` the emulator is answering now (e.g. a lookup it delays).
    pub fn in_flight(&self, method: &str) -> u64 {
        self.shared.world().in_flight.get(method).copied().unwrap_or(0)
    }

    /// Most requests for `method` the emulator was answering at the same moment.
    pub fn max_concurrent(&self, method: &str) -> u64 {
        self.shared.world().max_in_flight.get(method).copied().unwrap_or(0)
    }

    /// Answer every send, edit, delete and callback answer after `delay` (`None`: at once).
    pub fn set_send_delay(&self, delay: Option<Duration>) {
        self.shared.world().send_delay = delay;
    }

    /// 429 responses given for exceeded rate limits.
    pub fn too_many(&self) -> u64 {
        self.shared.world().too_many
    }

    /// The webhook set by the bot: (URL, secret token).
    pub fn webhook(&self) -> Option<(String, Option<String>)> {
        self.shared.world().webhook.clone()
    }

    /// The command menu set by the bot.
    pub fn commands(&self) -> Value {
        self.shared.world().commands.clone()
    }
}

#[derive(serde::Deserialize)]
struct MessageReq {
    user_id: i64,
    chat_id: Option<i64>,
    text: String,
}

async fn control_message(State(s): State<Arc<Shared>>, axum::Json(m): axum::Json<MessageReq>) -> axum::Json<Value> {
    axum::Json(json!({ "update_id": s.send_text_in(m.user_id, m.chat_id.unwrap_or(m.user_id), &m.text) }))
}

#[derive(serde::Deserialize)]
struct DocumentReq {
    user_id: i64,
    chat_id: Option<i64>,
    file_name: String,
    /// The file's contents as UTF-8 text.
    content: String,
    caption: Option<String>,
}

async fn control_document(State(s): State<Arc<Shared>>, axum::Json(d): axum::Json<DocumentReq>) -> axum::Json<Value> {
    let chat = d.chat_id.unwrap_or(d.user_id);
    let (update_id, file_id) =
        s.send_document(d.user_id, chat, &d.file_name, d.content.into_bytes(), d.caption.as_deref());
    axum::Json(json!({ "update_id": update_id, "file_id": file_id }))
}

#[derive(serde::Deserialize)]
struct PressReq {
    user_id: i64,
    message_id: i32,
    data: String,
}

async fn control_press(State(s): State<Arc<Shared>>, axum::Json(p): axum::Json<PressReq>) -> axum::Json<Value> {
    axum::Json(json!({ "update_id": s.press(p.user_id, p.message_id, &p.data) }))
}

async fn control_sent(State(s): State<Arc<Shared>>, Path(chat): Path<i64>) -> axum::Json<Value> {
    axum::Json(json!(s.world().sent.get(&chat).cloned().unwrap_or_default()))
}

async fn control_fault(State(s): State<Arc<Shared>>, axum::Json(f): axum::Json<Fault>) -> axum::Json<Value> {
    s.world().faults.push_back(f);
    axum::Json(json!({ "ok": true }))
}

/// While a webhook is set, POST queued updates to it in order, each until it is
/// answered with 200 (as Telegram does), with the secret token header.
async fn push_to_webhook(shared: Arc<Shared>) {
    let client = reqwest::Client::new();
    loop {
        let waiting = shared.new_update.notified();
        let next = {
            let mut w = shared.world();
            let updates = std::mem::take(&mut w.updates);
            w.updates = updates.into_iter().filter(|u| w.allows(u)).collect();
            w.webhook.clone().and_then(|hook| w.updates.front().cloned().map(|u| (hook, u)))
        };
        let Some(((url, secret), update)) = next else {
            waiting.await;
            continue;
        };
        let mut req = client.post(&url).json(&update).timeout(Duration::from_secs(10));
        if let Some(s) = secret {
            req = req.header("X-Telegram-Bot-Api-Secret-Token", s);
        }
        let delivered = req.send().await.is_ok_and(|r| r.status().is_success());
        if delivered {
            let mut w = shared.world();
            if w.updates.front().is_some_and(|u| u["update_id"] == update["update_id"]) {
                w.updates.pop_front();
            }
            *w.requests.entry("webhook:delivered".into()).or_default() += 1;
        } else {
            *shared.world().requests.entry("webhook:failed".into()).or_default() += 1;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
