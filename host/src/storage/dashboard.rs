//! What the web dashboard reads and changes beyond turns: the dead letters of both
//! queues (list, retry, discard) and the event log a page at a time (filters as
//! `wharf logs` has them, plus a level, paged by row id).
//!
//! Retrying moves a dead letter back into its queue as a new row (at the end of its
//! lane or chat) in one transaction with its removal from the dead letters, so a
//! retry twice queues it once. Discarding deletes it.

use sqlx::Row;

use super::commit::{begin, finish};
use super::event_log::{EVENT_COLUMNS, EventLogRow};
use super::event_query::like_pattern;
use super::script::{Val, bind};
use super::{Backend, Storage, StorageError};
use crate::config::{KindGlob, LogLevel};

/// Which dead letters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeadQueue {
    /// Inbox entries this version could not read (`inbox_dead`).
    Inbox,
    /// Telegram calls refused for good (`outbox_dead`).
    Outbox,
}

impl DeadQueue {
    fn table(self) -> &'static str {
        match self {
            Self::Inbox => "inbox_dead",
            Self::Outbox => "outbox_dead",
        }
    }

    /// `inbox` or `outbox`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Inbox => "inbox",
            Self::Outbox => "outbox",
        }
    }
}

/// One dead letter.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DeadLetter {
    /// Its id (the queue row's id).
    pub id: i64,
    /// Lane (inbox) or chat (outbox).
    pub chat: i64,
    /// Target plugin (inbox, if any) or the plugin that queued it (outbox).
    pub plugin: Option<String>,
    /// The row as stored.
    pub payload: String,
    /// Why it died.
    pub reason: String,
    /// When (Unix ms).
    pub at_ms: i64,
}

/// A page of the event log: newest first, older than `before` (a row id).
#[derive(Clone, Debug, Default)]
pub struct EventPage {
    /// Kinds matching this glob.
    pub kind: Option<KindGlob>,
    /// Recorded by this plugin (`wharf` for the host).
    pub plugin: Option<String>,
    /// About this user.
    pub user_id: Option<i64>,
    /// At least this severe.
    pub level: Option<LogLevel>,
    /// Only plugins' events (business events), not the host's (`wharf`).
    pub business: bool,
    /// Only rows with a smaller id.
    pub before: Option<i64>,
}

impl Storage {
    /// The newest `limit` dead letters of `queue`, newest first.
    pub async fn dead_list(&self, queue: DeadQueue, limit: i64) -> Result<Vec<DeadLetter>, StorageError> {
        let cols = match queue {
            DeadQueue::Inbox => "id, lane, target, payload, reason, at_ms",
            DeadQueue::Outbox => "id, chat_id, plugin, payload, reason, at_ms",
        };
        let sql = format!("SELECT {cols} FROM {} ORDER BY id DESC LIMIT $1", queue.table());
        let rows = self.read_all(sqlx::query(&sql).bind(limit)).await?;
        rows.iter()
            .map(|r| {
                Ok(DeadLetter {
                    id: r.try_get(0)?,
                    chat: r.try_get(1)?,
                    plugin: r.try_get(2)?,
                    payload: r.try_get(3)?,
                    reason: r.try_get(4)?,
                    at_ms: r.try_get(5)?,
                })
            })
            .collect()
    }

    /// Queue the dead letters `ids` of `queue` again (as new rows) and remove them from
    /// the dead letters; returns the lanes (inbox) or chats (outbox) they went back to,
    /// one per letter moved. Ids that are not dead letters are skipped.
    pub async fn dead_retry(&self, queue: DeadQueue, ids: &[i64], now_ms: i64) -> Result<Vec<i64>, StorageError> {
        let mut conn = self.inner.writer.lock().await;
        begin(&mut conn, self.backend()).await?;
        let result = async {
            let mut moved = Vec::new();
            for id in ids {
                let (pick, put) = match queue {
                    DeadQueue::Inbox => (
                        "SELECT lane FROM inbox_dead WHERE id = $1",
                        "INSERT INTO inbox (lane, target, payload, dedupe, created_ms) \
                         SELECT lane, target, payload, NULL, $2 FROM inbox_dead WHERE id = $1",
                    ),
                    DeadQueue::Outbox => (
                        "SELECT chat_id FROM outbox_dead WHERE id = $1",
                        "INSERT INTO outbox (chat_id, plugin, payload, created_ms) \
                         SELECT chat_id, plugin, payload, $2 FROM outbox_dead WHERE id = $1",
                    ),
                };
                let Some(row) = sqlx::query(pick).bind(*id).fetch_optional(&mut *conn).await? else { continue };
                moved.push(row.try_get::<i64, _>(0)?);
                sqlx::query(put).bind(*id).bind(now_ms).execute(&mut *conn).await?;
                let delete = format!("DELETE FROM {} WHERE id = $1", queue.table());
                sqlx::query(&delete).bind(*id).execute(&mut *conn).await?;
            }
            Ok(moved)
        }
        .await;
        Ok(finish(&mut conn, result).await?)
    }

    /// Delete the dead letters `ids` of `queue`; how many there were.
    pub async fn dead_discard(&self, queue: DeadQueue, ids: &[i64]) -> Result<u64, StorageError> {
        let mut conn = self.inner.writer.lock().await;
        begin(&mut conn, self.backend()).await?;
        let result = async {
            let mut n = 0;
            let delete = format!("DELETE FROM {} WHERE id = $1", queue.table());
            for id in ids {
                n += sqlx::query(&delete).bind(*id).execute(&mut *conn).await?.rows_affected();
            }
            Ok(n)
        }
        .await;
        Ok(finish(&mut conn, result).await?)
    }

    /// Up to `limit` events of `page`, newest first.
    pub async fn event_page(&self, page: &EventPage, limit: i64) -> Result<Vec<EventLogRow>, StorageError> {
        let (conds, mut args) = page.conditions(self.backend());
        let filter = if conds.is_empty() { String::new() } else { format!("WHERE {}", conds.join(" AND ")) };
        let sql = format!("SELECT {EVENT_COLUMNS} FROM event_log {filter} ORDER BY id DESC LIMIT ${}", args.len() + 1);
        args.push(Val::Int(limit));
        let rows = self.read_all(bind(sqlx::query(&sql), &args)).await?;
        Ok(rows.iter().map(EventLogRow::from_row).collect::<Result<_, _>>()?)
    }
}

impl EventPage {
    fn conditions(&self, backend: Backend) -> (Vec<String>, Vec<Val>) {
        let mut conds = Vec::new();
        let mut args = Vec::new();
        let mut push = |sql: &str, v: Val| {
            conds.push(sql.replace('?', &format!("${}", args.len() + 1)));
            args.push(v);
        };
        if let Some(glob) = &self.kind {
            let g = glob.as_str();
            match backend {
                _ if !g.contains('*') => push("kind = ?", Val::Text(g.to_owned())),
                Backend::Sqlite => push("kind GLOB ?", Val::Text(g.to_owned())),
                Backend::Postgres => push("kind LIKE ? ESCAPE '\\'", Val::Text(like_pattern(g))),
            }
        }
        if let Some(plugin) = &self.plugin {
            push("plugin = ?", Val::Text(plugin.clone()));
        }
        if let Some(user) = self.user_id {
            push("user_id = ?", Val::Int(user));
        }
        if let Some(level) = self.level {
            push("level >= ?", Val::Int(level as i64));
        }
        if let Some(before) = self.before {
            push("id < ?", Val::Int(before));
        }
        if self.business {
            conds.push("plugin <> 'wharf'".to_owned());
        }
        (conds, args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_numbers_its_conditions_in_order() {
        let page = EventPage {
            kind: Some(KindGlob::try_from("dashboard.*".to_owned()).unwrap()),
            level: Some(LogLevel::Warn),
            before: Some(10),
            ..EventPage::default()
        };
        let (conds, args) = page.conditions(Backend::Postgres);
        assert_eq!(conds, ["kind LIKE $1 ESCAPE '\\'", "level >= $2", "id < $3"]);
        assert_eq!(args, [Val::Text("dashboard.%".into()), Val::Int(3), Val::Int(10)]);
    }
}
