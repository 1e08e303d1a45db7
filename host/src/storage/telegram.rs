//! Storage for the Telegram front end: the getUpdates offset (committed together with
//! the updates it acknowledges), blocked users, outbox delivery and dead letters.

use sqlx::{Executor, Row};

use super::commit::{NewInbox, begin, finish};
use super::queries::{OutboxRow, insert_inbox};
use super::{Storage, StorageError};

impl Storage {
    /// A named value of the Telegram front end (e.g. `offset`).
    pub async fn telegram_state(&self, key: &str) -> Result<Option<i64>, StorageError> {
        let row = sqlx::query("SELECT value FROM telegram_state WHERE key = $1")
            .bind(key)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    /// Queue received updates and move the getUpdates offset past them, atomically: an
    /// update is acknowledged to Telegram only once it is in the inbox.
    pub async fn accept_updates(&self, entries: &[NewInbox], offset: i64, now_ms: i64) -> Result<(), StorageError> {
        let mut conn = self.inner.writer.lock().await;
        begin(&mut conn, self.backend()).await?;
        let result = async {
            for e in entries {
                insert_inbox(&mut conn, e, now_ms).await?;
            }
            sqlx::query(
                "INSERT INTO telegram_state (key, value) VALUES ('offset', $1) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(offset)
            .execute(&mut *conn)
            .await?;
            Ok(())
        }
        .await;
        Ok(finish(&mut conn, result).await?)
    }

    /// Outbox rows to deliver, oldest first.
    pub async fn outbox_head(&self, limit: i64) -> Result<Vec<OutboxRow>, StorageError> {
        let rows = sqlx::query("SELECT id, chat_id, plugin, payload FROM outbox ORDER BY id LIMIT $1")
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(OutboxRow::from_row).collect()
    }

    /// A row was delivered.
    pub async fn outbox_delivered(&self, id: i64) -> Result<(), StorageError> {
        let mut conn = self.inner.writer.lock().await;
        conn.execute(sqlx::query("DELETE FROM outbox WHERE id = $1").bind(id)).await?;
        Ok(())
    }

    /// Telegram refused a row for good: move it to the dead letters with the reason, and
    /// queue `also` (e.g. a member event) in the same transaction.
    pub async fn outbox_dead(
        &self,
        row: &OutboxRow,
        reason: &str,
        also: Option<NewInbox>,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        let mut conn = self.inner.writer.lock().await;
        begin(&mut conn, self.backend()).await?;
        let result = async {
            sqlx::query(
                "INSERT INTO outbox_dead (id, chat_id, plugin, payload, reason, at_ms) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(row.id)
            .bind(row.chat_id)
            .bind(row.plugin.as_str())
            .bind(row.payload.as_str())
            .bind(reason)
            .bind(now_ms)
            .execute(&mut *conn)
            .await?;
            sqlx::query("DELETE FROM outbox WHERE id = $1").bind(row.id).execute(&mut *conn).await?;
            if let Some(e) = &also {
                insert_inbox(&mut conn, e, now_ms).await?;
            }
            Ok(())
        }
        .await;
        Ok(finish(&mut conn, result).await?)
    }

    /// Dead letters: (chat, payload, reason), oldest first.
    pub async fn dead_letters(&self) -> Result<Vec<(i64, String, String)>, StorageError> {
        let rows =
            sqlx::query("SELECT chat_id, payload, reason FROM outbox_dead ORDER BY id").fetch_all(self.pool()).await?;
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?))).collect()
    }

    /// Record that `user` blocked (or unblocked) the bot.
    pub async fn set_blocked(&self, user: i64, blocked: bool, now_ms: i64) -> Result<(), StorageError> {
        let mut conn = self.inner.writer.lock().await;
        let q = if blocked {
            sqlx::query("INSERT INTO blocked_users (user_id, at_ms) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING")
                .bind(user)
                .bind(now_ms)
        } else {
            sqlx::query("DELETE FROM blocked_users WHERE user_id = $1").bind(user)
        };
        conn.execute(q).await?;
        Ok(())
    }

    /// Which of `users` blocked the bot.
    pub async fn blocked_among(&self, users: &[i64]) -> Result<std::collections::HashSet<i64>, StorageError> {
        let mut out = std::collections::HashSet::new();
        for chunk in users.chunks(200) {
            let list = (1..=chunk.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
            let sql = format!("SELECT user_id FROM blocked_users WHERE user_id IN ({list})");
            let mut q = sqlx::query(&sql);
            for u in chunk {
                q = q.bind(*u);
            }
            for row in q.fetch_all(self.pool()).await? {
                out.insert(row.try_get(0)?);
            }
        }
        Ok(out)
    }

    /// Whether `user` blocked the bot.
    pub async fn is_blocked(&self, user: i64) -> Result<bool, StorageError> {
        let row = sqlx::query("SELECT 1 FROM blocked_users WHERE user_id = $1")
            .bind(user)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.is_some())
    }
}
