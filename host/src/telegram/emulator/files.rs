//! Documents in the emulator: a user uploads a file (a `message` update with a
//! `document`), the bot asks `getFile` for its path and downloads the bytes from
//! `/file/bot<token>/<path>`, as with Telegram.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::Shared;
use super::api::{Reply, bad};
use super::state::World;

impl Shared {
    /// `user` sends `bytes` as the document `file_name` in `chat`, with an optional
    /// caption (a caption starting with `/` gets its command entity).
    pub(super) fn send_document(
        &self,
        user: i64,
        chat: i64,
        file_name: &str,
        bytes: Vec<u8>,
        caption: Option<&str>,
    ) -> (i64, String) {
        let size = bytes.len();
        let (file_id, unique_id) = {
            let mut w = self.world();
            let id = w.store_file(file_name, bytes);
            let unique = w.files.get(&id).map(|f| f.unique_id.clone()).unwrap_or_default();
            (id, unique)
        };
        let mut message = json!({
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": World::chat_json(chat),
            "from": World::user_json(user),
            "document": {
                "file_id": file_id,
                "file_unique_id": unique_id,
                "file_name": file_name,
                "mime_type": mime_type(file_name),
                "file_size": size,
            },
        });
        if let Some(c) = caption {
            message["caption"] = json!(c);
            if c.starts_with('/') {
                let len = c.split_whitespace().next().map_or(0, |w| w.encode_utf16().count());
                message["caption_entities"] = json!([{ "type": "bot_command", "offset": 0, "length": len }]);
            }
        }
        (self.push(json!({ "message": message })), file_id)
    }
}

/// What a Telegram client would say the file is, from its extension.
fn mime_type(file_name: &str) -> &'static str {
    let ext = file_name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "txt" => "text/plain",
        "csv" => "text/csv",
        "json" => "application/json",
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "zip" => "application/zip",
        _ => "application/octet-stream",
    }
}

/// Bot API `getFile`.
pub(super) fn get_file(shared: &Shared, p: &Map<String, Value>) -> Reply {
    let Some(id) = p.get("file_id").and_then(Value::as_str) else { return bad("file_id is empty") };
    let w = shared.world();
    let Some(f) = w.files.get(id) else { return bad("invalid file id") };
    Reply::Ok(json!({
        "file_id": id,
        "file_unique_id": f.unique_id,
        "file_size": f.bytes.len(),
        "file_path": f.path,
    }))
}

/// `GET /file/bot<token>/<path>`: the file's bytes, 401 for a wrong token, 404 for an
/// unknown path.
pub(super) async fn download(State(shared): State<Arc<Shared>>, Path((bot, path)): Path<(String, String)>) -> Response {
    let bytes = {
        let mut w = shared.world();
        if bot.strip_prefix("bot") != Some(w.token.as_str()) {
            return Reply::Err(401, "Unauthorized".into(), None).into_response();
        }
        *w.requests.entry("file".into()).or_default() += 1;
        w.files.values().find(|f| f.path == path).map(|f| f.bytes.clone())
    };
    match bytes {
        Some(b) => ([(header::CONTENT_TYPE, "application/octet-stream")], b).into_response(),
        None => Reply::Err(StatusCode::NOT_FOUND.as_u16(), "Not Found".into(), None).into_response(),
    }
}
