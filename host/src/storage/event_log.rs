//! The event log: business events of turns (committed with them) and the host's own
//! events (written directly), secrets masked before they get here.

use std::collections::HashMap;

use indexmap::IndexMap;
use sqlx::AnyConnection;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::commit::{begin, finish};
use super::script::{Script, Val};
use super::{Storage, StorageError};
use crate::config::LogLevel;

/// A business or host event for the event log (secrets already masked).
#[derive(Clone, Debug)]
pub struct NewLogEvent {
    /// Emitting plugin (`wharf` for the host).
    pub plugin: String,
    /// Event kind, e.g. `purchase.succeeded`.
    pub kind: String,
    /// Severity.
    pub level: LogLevel,
    /// What the event calls itself in the admin channel.
    pub title: Option<String>,
    /// The emoji in front of the title.
    pub emoji: Option<String>,
    /// User concerned.
    pub user_id: Option<i64>,
    /// Fields in order (already masked).
    pub fields: Vec<(String, String)>,
}

impl NewLogEvent {
    /// An info event of the host (`wharf`) without fields.
    pub fn host(kind: &str, title: &str, emoji: &str) -> Self {
        Self {
            plugin: "wharf".into(),
            kind: kind.into(),
            level: LogLevel::Info,
            title: Some(title.into()),
            emoji: Some(emoji.into()),
            user_id: None,
            fields: Vec::new(),
        }
    }

    /// The same event at `level`.
    pub fn level(mut self, level: LogLevel) -> Self {
        self.level = level;
        self
    }

    /// The same event about `user`.
    pub fn user(mut self, user: i64) -> Self {
        self.user_id = Some(user);
        self
    }

    /// The same event with one more field.
    pub fn field(mut self, key: &str, value: impl Into<String>) -> Self {
        self.fields.push((key.into(), value.into()));
        self
    }
}

/// An event read back from the event log.
#[derive(Clone, Debug)]
pub struct EventLogRow {
    /// Row id (increasing).
    pub id: i64,
    /// When it was recorded (host clock, Unix ms).
    pub at_ms: i64,
    /// Plugin (`wharf` for the host).
    pub plugin: String,
    /// Kind.
    pub kind: String,
    /// Severity.
    pub level: LogLevel,
    /// Title, if the event gave one.
    pub title: Option<String>,
    /// Emoji, if the event gave one.
    pub emoji: Option<String>,
    /// User.
    pub user_id: Option<i64>,
    /// Fields in order (secrets masked).
    pub fields: IndexMap<String, String>,
}

/// The columns [`EventLogRow::from_row`] reads, in order.
pub(crate) const EVENT_COLUMNS: &str = "id, at_ms, plugin, kind, level, title, emoji, user_id, fields";

impl EventLogRow {
    /// A row selected with [`EVENT_COLUMNS`].
    pub(crate) fn from_row(r: &AnyRow) -> Result<Self, sqlx::Error> {
        let fields: String = r.try_get(8)?;
        Ok(Self {
            id: r.try_get(0)?,
            at_ms: r.try_get(1)?,
            plugin: r.try_get(2)?,
            kind: r.try_get(3)?,
            level: LogLevel::from_i64(r.try_get(4)?),
            title: r.try_get(5)?,
            emoji: r.try_get(6)?,
            user_id: r.try_get(7)?,
            fields: decode_fields(&fields),
        })
    }
}

/// Fields as a JSON object in their order.
pub(super) fn encode_fields(fields: &[(String, String)]) -> String {
    let map: IndexMap<&str, &str> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    serde_json::to_string(&map).unwrap_or_else(|_| "{}".into())
}

/// A stored fields object; anything unreadable (not written by this host) reads as no fields.
fn decode_fields(json: &str) -> IndexMap<String, String> {
    serde_json::from_str(json).unwrap_or_default()
}

/// Record one event on `conn` (inside the caller's transaction).
pub(super) async fn insert_event(conn: &mut AnyConnection, e: &NewLogEvent, now_ms: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO event_log (at_ms, plugin, kind, level, title, emoji, user_id, fields) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(now_ms)
    .bind(e.plugin.as_str())
    .bind(e.kind.as_str())
    .bind(e.level.as_i64())
    .bind(e.title.as_deref())
    .bind(e.emoji.as_deref())
    .bind(e.user_id)
    .bind(encode_fields(&e.fields))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The statement that records `rows`, for a turn's write script.
pub(super) fn insert_log(script: &mut Script, rows: &[&NewLogEvent], now_ms: i64) {
    for chunk in rows.chunks(super::bulk::CHUNK) {
        let sql = format!(
            "INSERT INTO event_log (at_ms, plugin, kind, level, title, emoji, user_id, fields) VALUES {}",
            super::bulk::tuples(chunk.len(), 8, 1)
        );
        let args = chunk
            .iter()
            .flat_map(|l| {
                [
                    Val::Int(now_ms),
                    Val::Text(l.plugin.clone()),
                    Val::Text(l.kind.clone()),
                    Val::Int(l.level.as_i64()),
                    Val::OptText(l.title.clone()),
                    Val::OptText(l.emoji.clone()),
                    Val::OptInt(l.user_id),
                    Val::Text(encode_fields(&l.fields)),
                ]
            })
            .collect();
        script.push(sql, args);
    }
}

impl Storage {
    /// Record the host's own events outside any turn (a reload, a dead letter, an alert).
    pub async fn record_events(&self, events: &[NewLogEvent], now_ms: i64) -> Result<(), StorageError> {
        if events.is_empty() {
            return Ok(());
        }
        let mut conn = self.inner.writer.lock().await;
        begin(&mut conn, self.backend()).await?;
        let result = async {
            for e in events {
                insert_event(&mut conn, e, now_ms).await?;
            }
            Ok(())
        }
        .await;
        Ok(finish(&mut conn, result).await?)
    }

    /// Every event, oldest first.
    pub async fn event_log(&self) -> Result<Vec<EventLogRow>, StorageError> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM event_log ORDER BY id");
        let rows = self.read_all(sqlx::query(&sql)).await?;
        Ok(rows.iter().map(EventLogRow::from_row).collect::<Result<_, _>>()?)
    }

    /// The newest event's id (0 when there is none).
    pub async fn last_event_id(&self) -> Result<i64, StorageError> {
        let row = self.read_one(sqlx::query("SELECT COALESCE(MAX(id), 0) FROM event_log")).await?;
        Ok(row.try_get(0)?)
    }

    /// The usernames of those of `users` the bot has seen with one.
    pub async fn usernames(&self, users: &[i64]) -> Result<HashMap<i64, String>, StorageError> {
        let mut out = HashMap::new();
        for chunk in users.chunks(super::bulk::CHUNK) {
            let list = (1..=chunk.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
            let sql = format!("SELECT user_id, username FROM users WHERE username IS NOT NULL AND user_id IN ({list})");
            let mut q = sqlx::query(&sql);
            for u in chunk {
                q = q.bind(*u);
            }
            for r in self.read_all(q).await? {
                out.insert(r.try_get(0)?, r.try_get(1)?);
            }
        }
        Ok(out)
    }

    /// When the bot first saw `user`, if it has.
    pub async fn user_first_seen(&self, user: i64) -> Result<Option<i64>, StorageError> {
        let row =
            self.read_optional(sqlx::query("SELECT first_seen_ms FROM users WHERE user_id = $1").bind(user)).await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    /// Whether `chat` has outbox rows waiting.
    pub async fn outbox_waiting_for(&self, chat: i64) -> Result<bool, StorageError> {
        let row = self.read_optional(sqlx::query("SELECT 1 FROM outbox WHERE chat_id = $1 LIMIT 1").bind(chat)).await?;
        Ok(row.is_some())
    }

    /// The newest dead letter to `chat`: its id and reason.
    pub async fn last_dead_for(&self, chat: i64) -> Result<Option<(i64, String)>, StorageError> {
        let row = self
            .read_optional(
                sqlx::query("SELECT id, reason FROM outbox_dead WHERE chat_id = $1 ORDER BY id DESC LIMIT 1")
                    .bind(chat),
            )
            .await?;
        Ok(row.map(|r| Ok::<_, sqlx::Error>((r.try_get(0)?, r.try_get(1)?))).transpose()?)
    }
}

/// A user seen in an update: recorded (or their username updated) with the turn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeenUser {
    /// Telegram user id.
    pub id: i64,
    /// Their username, if they have one.
    pub username: Option<String>,
}

/// The statements that record `users` as seen at `now_ms`, for a turn's write script.
pub(super) fn upsert_users(script: &mut Script, users: &[&SeenUser], now_ms: i64) {
    for u in users {
        script.push(
            "INSERT INTO users (user_id, username, first_seen_ms, last_seen_ms) VALUES ($1, $2, $3, $3) \
             ON CONFLICT (user_id) DO UPDATE SET username = excluded.username, last_seen_ms = excluded.last_seen_ms"
                .to_owned(),
            vec![Val::Int(u.id), Val::OptText(u.username.clone()), Val::Int(now_ms)],
        );
    }
}
