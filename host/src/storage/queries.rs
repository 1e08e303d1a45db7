//! Plain reads and the small write transactions outside turns (enqueueing events,
//! firing timers, recording plugin versions).

use sqlx::{AnyConnection, Executor, Row};

use super::commit::{NewInbox, begin, finish};
use super::{Storage, StorageError};

/// A queued event.
#[derive(Clone, Debug)]
pub struct InboxRow {
    /// Id (increasing in insertion order).
    pub id: i64,
    /// Lane (chat id, or 0).
    pub lane: i64,
    /// Target plugin, if any.
    pub target: Option<String>,
    /// Event JSON.
    pub payload: String,
    /// When it was queued (host clock, Unix ms).
    pub created_ms: i64,
}

/// A queued Telegram call.
#[derive(Clone, Debug)]
pub struct OutboxRow {
    /// Id.
    pub id: i64,
    /// Chat.
    pub chat_id: i64,
    /// Plugin that queued it.
    pub plugin: String,
    /// The call as stored (see [`crate::telegram::outbox_call`]).
    pub payload: String,
}

impl OutboxRow {
    /// From `SELECT id, chat_id, plugin, payload …`.
    pub(super) fn from_row(r: &sqlx::any::AnyRow) -> Result<Self, StorageError> {
        Ok(Self { id: r.try_get(0)?, chat_id: r.try_get(1)?, plugin: r.try_get(2)?, payload: r.try_get(3)? })
    }

    /// The typed call (rows of earlier versions included).
    pub fn call(&self) -> Result<crate::telegram::outbox_call::OutboxCall, crate::telegram::outbox_call::ReadError> {
        crate::telegram::outbox_call::OutboxCall::from_row(&self.payload)
    }
}

/// A timer that came due.
#[derive(Clone, Debug)]
pub struct TimerRow {
    /// Owner.
    pub plugin: String,
    /// Name.
    pub name: String,
    /// Lane.
    pub lane: i64,
    /// When it was due.
    pub due_ms: i64,
    /// Repeat interval.
    pub interval_ms: Option<i64>,
    /// Payload.
    pub payload: Vec<u8>,
}

/// Smallest string greater than every string starting with `prefix`, if one exists.
fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let mut next = u32::from(last) + 1;
        if next == 0xD800 {
            next = 0xE000;
        }
        if let Some(c) = char::from_u32(next) {
            chars.push(c);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

pub(super) async fn kv_range<'e, E>(
    ex: E,
    ns: &str,
    prefix: &str,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error>
where
    E: Executor<'e, Database = sqlx::Any>,
{
    let end = prefix_end(prefix);
    let mut sql = String::from("SELECT key FROM kv WHERE ns = $1 AND key >= $2");
    let mut n = 2;
    if end.is_some() {
        n += 1;
        sql.push_str(&format!(" AND key < ${n}"));
    }
    if after.is_some() {
        n += 1;
        sql.push_str(&format!(" AND key > ${n}"));
    }
    sql.push_str(&format!(" ORDER BY key LIMIT ${}", n + 1));
    let mut q = sqlx::query(&sql).bind(ns).bind(prefix);
    if let Some(end) = &end {
        q = q.bind(end.as_str());
    }
    if let Some(after) = after {
        q = q.bind(after);
    }
    let rows = q.bind(limit).fetch_all(ex).await?;
    rows.iter().map(|r| r.try_get::<String, _>(0)).collect()
}

pub(crate) async fn insert_inbox(conn: &mut AnyConnection, e: &NewInbox, now_ms: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO inbox (lane, target, payload, dedupe, created_ms) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (dedupe) DO NOTHING",
    )
    .bind(e.lane)
    .bind(e.target.as_deref())
    .bind(&e.payload)
    .bind(e.dedupe.as_deref())
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Storage {
    /// Value and version of a key (version 0 and `None` when absent), from the read
    /// cache when it has the key.
    pub async fn kv_get(&self, ns: &str, key: &str) -> Result<(Option<Vec<u8>>, i64), StorageError> {
        if let Some(hit) = self.inner.cache.get(ns, key) {
            return Ok(hit);
        }
        let stamp = self.inner.cache.read_stamp();
        let row = self
            .read_optional(sqlx::query("SELECT value, version FROM kv WHERE ns = $1 AND key = $2").bind(ns).bind(key))
            .await?;
        let (value, version) = match row {
            Some(r) => (Some(r.try_get(0)?), r.try_get(1)?),
            None => (None, 0),
        };
        self.inner.cache.fill(ns, key, value.clone(), version, stamp);
        Ok((value, version))
    }

    /// Value and version of a key read from the database itself, never the cache: for
    /// what another process may have written (a reply to an action `wharf admin` queued).
    pub async fn kv_get_fresh(&self, ns: &str, key: &str) -> Result<(Option<Vec<u8>>, i64), StorageError> {
        let row = self
            .read_optional(sqlx::query("SELECT value, version FROM kv WHERE ns = $1 AND key = $2").bind(ns).bind(key))
            .await?;
        Ok(match row {
            Some(r) => (Some(r.try_get(0)?), r.try_get(1)?),
            None => (None, 0),
        })
    }

    /// Keys of `ns` starting with `prefix`, ascending, after `after`, at most `limit`.
    pub async fn kv_keys(
        &self,
        ns: &str,
        prefix: &str,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<String>, StorageError> {
        let mut reader = self.inner.readers.get().await?;
        let keys = kv_range(reader.conn()?, ns, prefix, after, limit).await;
        Ok(reader.check(keys)?)
    }

    /// Append events to the inbox (one transaction, a few multi-row statements).
    pub async fn push_inbox(&self, entries: &[NewInbox], now_ms: i64) -> Result<(), StorageError> {
        let rows: Vec<&NewInbox> = entries.iter().collect();
        let mut script = super::script::Script::default();
        super::bulk::insert_inbox(&mut script, &rows, now_ms);
        let mut conn = self.inner.writer.lock().await;
        Ok(script.run(&mut conn, self.backend(), super::script::Tx::Whole).await?)
    }

    /// Up to `limit` inbox entries with id greater than `after`, oldest first (all lanes;
    /// the dispatcher reads per lane, see [`Storage::lane_heads`]).
    pub async fn inbox_after(&self, after: i64, limit: i64) -> Result<Vec<InboxRow>, StorageError> {
        let rows = self
            .read_all(
                sqlx::query(
                    "SELECT id, lane, target, payload, created_ms FROM inbox WHERE id > $1 ORDER BY id LIMIT $2",
                )
                .bind(after)
                .bind(limit),
            )
            .await?;
        Ok(rows.iter().map(InboxRow::from_row).collect::<Result<_, _>>()?)
    }

    /// Number of entries still in the inbox.
    pub async fn inbox_len(&self) -> Result<i64, StorageError> {
        Ok(self.read_one(sqlx::query("SELECT COUNT(*) FROM inbox")).await?.try_get(0)?)
    }

    /// Queued Telegram calls, oldest first (optionally for one chat).
    pub async fn outbox(&self, chat_id: Option<i64>) -> Result<Vec<OutboxRow>, StorageError> {
        let q = match chat_id {
            Some(c) => {
                sqlx::query("SELECT id, chat_id, plugin, payload FROM outbox WHERE chat_id = $1 ORDER BY id").bind(c)
            }
            None => sqlx::query("SELECT id, chat_id, plugin, payload FROM outbox ORDER BY id"),
        };
        let rows = self.read_all(q).await?;
        rows.iter().map(OutboxRow::from_row).collect()
    }

    /// Whether a plugin has a timer of that name.
    pub async fn timer_exists(&self, plugin: &str, name: &str) -> Result<bool, StorageError> {
        let row = self
            .read_optional(sqlx::query("SELECT 1 FROM timers WHERE plugin = $1 AND name = $2").bind(plugin).bind(name))
            .await?;
        Ok(row.is_some())
    }

    /// When the earliest timer is due.
    pub async fn next_timer_due(&self) -> Result<Option<i64>, StorageError> {
        let row = self.read_one(sqlx::query("SELECT MIN(due_ms) FROM timers")).await?;
        Ok(row.try_get::<Option<i64>, _>(0)?)
    }

    /// Move every timer due at `now_ms` into the inbox, in one transaction: one-shot
    /// timers are removed, jobs move to their next due time after `now_ms`. Returns how
    /// many fired. `payload` renders a fired timer as an inbox event.
    pub async fn fire_due_timers<F>(&self, now_ms: i64, payload: F) -> Result<usize, StorageError>
    where
        F: Fn(&TimerRow) -> String,
    {
        let mut conn = self.inner.writer.lock().await;
        begin(&mut conn, self.backend()).await?;
        let result = fire_due(&mut conn, now_ms, payload).await;
        Ok(finish(&mut conn, result).await?)
    }

    /// The recorded version of a plugin, if it ran here before.
    pub async fn plugin_version(&self, plugin: &str) -> Result<Option<String>, StorageError> {
        let row = self
            .read_optional(sqlx::query("SELECT version FROM plugin_versions WHERE plugin = $1").bind(plugin))
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }
}

async fn fire_due<F>(conn: &mut AnyConnection, now_ms: i64, payload: F) -> Result<usize, sqlx::Error>
where
    F: Fn(&TimerRow) -> String,
{
    let rows = sqlx::query(
        "SELECT plugin, name, lane, due_ms, interval_ms, payload FROM timers WHERE due_ms <= $1 ORDER BY due_ms LIMIT 500",
    )
    .bind(now_ms)
    .fetch_all(&mut *conn)
    .await?;
    let timers: Vec<TimerRow> = rows
        .iter()
        .map(|r| {
            Ok(TimerRow {
                plugin: r.try_get(0)?,
                name: r.try_get(1)?,
                lane: r.try_get(2)?,
                due_ms: r.try_get(3)?,
                interval_ms: r.try_get(4)?,
                payload: r.try_get(5)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    for t in &timers {
        let entry = NewInbox {
            lane: t.lane,
            target: Some(t.plugin.clone()),
            payload: payload(t),
            dedupe: Some(format!("timer:{}:{}:{}", t.plugin, t.name, t.due_ms)),
        };
        insert_inbox(conn, &entry, now_ms).await?;
        match t.interval_ms.filter(|i| *i > 0) {
            Some(every) => {
                let missed = (now_ms - t.due_ms) / every + 1;
                sqlx::query("UPDATE timers SET due_ms = $1 WHERE plugin = $2 AND name = $3")
                    .bind(t.due_ms + missed * every)
                    .bind(&t.plugin)
                    .bind(&t.name)
                    .execute(&mut *conn)
                    .await?;
            }
            None => {
                sqlx::query("DELETE FROM timers WHERE plugin = $1 AND name = $2")
                    .bind(&t.plugin)
                    .bind(&t.name)
                    .execute(&mut *conn)
                    .await?;
            }
        }
    }
    Ok(timers.len())
}

#[cfg(test)]
mod tests {
    #[test]
    fn prefix_end_is_the_next_string() {
        assert_eq!(super::prefix_end("ab").as_deref(), Some("ac"));
        assert_eq!(super::prefix_end(""), None);
        assert_eq!(super::prefix_end("a\u{10FFFF}").as_deref(), Some("b"));
    }
}
