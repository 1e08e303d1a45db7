//! Storage for the Telegram front end: the getUpdates offset (committed together with
//! the updates it acknowledges), blocked users, outbox delivery (per-chat heads, chat
//! leases, sent-message handles) and dead letters.

use sqlx::{Executor, Row};

use super::commit::{NewInbox, begin, finish};
use super::queries::{OutboxRow, insert_inbox};
use super::script::{self, Script, Tx, Val};
use super::{Storage, StorageError};

/// A delivered send that carried a handle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentMessage {
    /// The host-assigned handle.
    pub handle: i64,
    /// The plugin that sent it.
    pub plugin: String,
    /// Its chat.
    pub chat_id: i64,
    /// Telegram's message id.
    pub message_id: i32,
}

/// The last mark per user among `marks` (in update order).
fn last_marks(marks: &[(i64, bool)]) -> Vec<(i64, bool)> {
    let mut last: Vec<(i64, bool)> = Vec::with_capacity(marks.len());
    for &(user, blocked) in marks.iter().rev() {
        if !last.iter().any(|(u, _)| *u == user) {
            last.push((user, blocked));
        }
    }
    last
}

/// Mark or unmark users as having blocked the bot; the last mark per user wins.
pub(super) async fn apply_marks(
    conn: &mut sqlx::AnyConnection,
    marks: &[(i64, bool)],
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    for (user, blocked) in last_marks(marks) {
        let (sql, args) = block_mark(user, blocked, now_ms);
        conn.execute(script::bind(sqlx::query(sql), &args)).await?;
    }
    Ok(())
}

/// The statement that marks `user` as having blocked the bot, or clears the mark.
fn block_mark(user: i64, blocked: bool, now_ms: i64) -> (&'static str, Vec<Val>) {
    if blocked {
        (
            "INSERT INTO blocked_users (user_id, at_ms) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING",
            vec![Val::Int(user), Val::Int(now_ms)],
        )
    } else {
        ("DELETE FROM blocked_users WHERE user_id = $1", vec![Val::Int(user)])
    }
}

impl Storage {
    /// A named value of the Telegram front end (e.g. `offset`).
    pub async fn telegram_state(&self, key: &str) -> Result<Option<i64>, StorageError> {
        let row = self.read_optional(sqlx::query("SELECT value FROM telegram_state WHERE key = $1").bind(key)).await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    /// Queue received updates, apply what they say about blocks (`marks`: (user,
    /// blocked) in update order) and move the getUpdates offset past them, atomically:
    /// an update is acknowledged to Telegram only once it is in the inbox.
    pub async fn accept_updates(
        &self,
        entries: &[NewInbox],
        marks: &[(i64, bool)],
        offset: i64,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        let rows: Vec<&NewInbox> = entries.iter().collect();
        let mut script = Script::default();
        super::bulk::insert_inbox(&mut script, &rows, now_ms);
        for (user, blocked) in last_marks(marks) {
            let (sql, args) = block_mark(user, blocked, now_ms);
            script.push(sql, args);
        }
        script.push(
            "INSERT INTO telegram_state (key, value) VALUES ('offset', $1) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            vec![Val::Int(offset)],
        );
        let mut conn = self.inner.writer.lock().await;
        Ok(script.run(&mut conn, self.backend(), Tx::Whole).await?)
    }

    /// Chats above `after` with queued outbox rows (at most `limit`, in id order), found by
    /// skipping through the `(chat_id, id)` index one chat at a time: the cost grows
    /// with the number of chats, not with the rows queued.
    pub async fn outbox_chats(&self, after: i64, limit: i64) -> Result<Vec<i64>, StorageError> {
        let rows = self
            .read_all(
                sqlx::query(
                    "WITH RECURSIVE c(chat, n) AS ( \
               SELECT MIN(chat_id), 1 FROM outbox WHERE chat_id > $1 \
               UNION ALL \
               SELECT (SELECT MIN(chat_id) FROM outbox WHERE chat_id > c.chat), c.n + 1 \
               FROM c WHERE c.chat IS NOT NULL AND c.n < $2 \
             ) SELECT chat FROM c WHERE chat IS NOT NULL",
                )
                .bind(after)
                .bind(limit),
            )
            .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    /// The oldest rows queued for `chat` after row `after`, in order.
    pub async fn outbox_chat_head(&self, chat: i64, after: i64, limit: i64) -> Result<Vec<OutboxRow>, StorageError> {
        Ok(self.outbox_chat_next(chat, after, limit).await?.0)
    }

    /// As [`Self::outbox_chat_head`], and whether the chat is a user who blocked the bot,
    /// in one query.
    pub async fn outbox_chat_next(
        &self,
        chat: i64,
        after: i64,
        limit: i64,
    ) -> Result<(Vec<OutboxRow>, bool), StorageError> {
        let rows = self
            .read_all(
                sqlx::query(
                    "SELECT id, chat_id, plugin, payload, \
             CAST(CASE WHEN EXISTS (SELECT 1 FROM blocked_users WHERE user_id = $1) THEN 1 ELSE 0 END AS BIGINT) \
             FROM outbox WHERE chat_id = $1 AND id > $2 ORDER BY id LIMIT $3",
                )
                .bind(chat)
                .bind(after)
                .bind(limit),
            )
            .await?;
        let blocked = match rows.first() {
            Some(r) => r.try_get::<i64, _>(4)? != 0,
            None => false,
        };
        Ok((rows.iter().map(OutboxRow::from_row).collect::<Result<_, _>>()?, blocked))
    }

    /// Queue a row given as stored text (e.g. as an earlier release wrote it); for tests
    /// and tooling. The sender reads it like any other row.
    pub async fn outbox_insert_raw(
        &self,
        chat_id: i64,
        plugin: &str,
        payload: &str,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        let mut conn = self.inner.writer.lock().await;
        conn.execute(
            sqlx::query("INSERT INTO outbox (chat_id, plugin, payload, created_ms) VALUES ($1, $2, $3, $4)")
                .bind(chat_id)
                .bind(plugin)
                .bind(payload)
                .bind(now_ms),
        )
        .await?;
        Ok(())
    }

    /// Take or renew the lease on `chat`'s outbox for `owner` until `until_ms`; false
    /// when another owner holds an unexpired lease.
    pub async fn claim_chat(&self, chat: i64, owner: &str, now_ms: i64, until_ms: i64) -> Result<bool, StorageError> {
        let mut conn = self.inner.writer.lock().await;
        let done = conn
            .execute(
                sqlx::query(
                    "INSERT INTO outbox_lease (chat_id, owner, until_ms) VALUES ($1, $2, $3) \
                     ON CONFLICT (chat_id) DO UPDATE SET owner = excluded.owner, until_ms = excluded.until_ms \
                     WHERE outbox_lease.owner = excluded.owner OR outbox_lease.until_ms < $4",
                )
                .bind(chat)
                .bind(owner)
                .bind(until_ms)
                .bind(now_ms),
            )
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Give up `owner`'s lease on `chat` (its outbox is empty for now).
    pub async fn release_chat(&self, chat: i64, owner: &str) -> Result<(), StorageError> {
        let mut conn = self.inner.writer.lock().await;
        conn.execute(sqlx::query("DELETE FROM outbox_lease WHERE chat_id = $1 AND owner = $2").bind(chat).bind(owner))
            .await?;
        Ok(())
    }

    /// Give up `owner`'s lease on `chat` if nothing is queued for it after row `after`
    /// (one statement). False when rows are queued, or the lease is not `owner`'s.
    pub async fn release_chat_if_drained(&self, chat: i64, owner: &str, after: i64) -> Result<bool, StorageError> {
        let mut conn = self.inner.writer.lock().await;
        let done = conn
            .execute(
                sqlx::query(
                    "DELETE FROM outbox_lease WHERE chat_id = $1 AND owner = $2 \
                     AND NOT EXISTS (SELECT 1 FROM outbox WHERE chat_id = $1 AND id > $3)",
                )
                .bind(chat)
                .bind(owner)
                .bind(after),
            )
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A row was delivered: remove it and, for a send with a handle, record which
    /// message it became, in one transaction (shared with other chats' deliveries
    /// reported meanwhile). Returns once that transaction committed.
    pub async fn outbox_delivered(&self, id: i64, sent: Option<&SentMessage>, now_ms: i64) -> Result<(), StorageError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let report = super::delivered::Delivered { id, sent: sent.cloned(), now_ms, reply };
        self.inner.deliveries.send(report).await.map_err(|_| StorageError::Closed)?;
        answer.await.map_err(|_| StorageError::Closed)?
    }

    /// Forget delivered messages recorded before `before_ms` (their handles no longer
    /// name a message, so a plugin can no longer edit or delete them). Returns how many.
    pub async fn forget_sent_messages(&self, before_ms: i64) -> Result<u64, StorageError> {
        let mut conn = self.inner.writer.lock().await;
        let done = conn.execute(sqlx::query("DELETE FROM sent_messages WHERE at_ms < $1").bind(before_ms)).await?;
        Ok(done.rows_affected())
    }

    /// The delivered message recorded under `handle`.
    pub async fn sent_message(&self, handle: i64) -> Result<Option<SentMessage>, StorageError> {
        let row = self
            .read_optional(
                sqlx::query("SELECT plugin, chat_id, message_id FROM sent_messages WHERE handle = $1").bind(handle),
            )
            .await?;
        row.map(|r| {
            let message_id: i64 = r.try_get(2)?;
            Ok(SentMessage {
                handle,
                plugin: r.try_get(0)?,
                chat_id: r.try_get(1)?,
                message_id: i32::try_from(message_id).unwrap_or(i32::MAX),
            })
        })
        .transpose()
    }

    /// Who sent the message recorded under `handle`, and where: (plugin, chat).
    pub async fn handle_owner(&self, handle: i64) -> Result<Option<(String, i64)>, StorageError> {
        Ok(self.sent_message(handle).await?.map(|m| (m.plugin, m.chat_id)))
    }

    /// Which plugin sent message `message_id` in `chat` (with a handle), if known.
    pub async fn message_owner(&self, chat_id: i64, message_id: i32) -> Result<Option<String>, StorageError> {
        let row = self
            .read_optional(
                sqlx::query("SELECT plugin FROM sent_messages WHERE chat_id = $1 AND message_id = $2")
                    .bind(chat_id)
                    .bind(i64::from(message_id)),
            )
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
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
        let rows = self.read_all(sqlx::query("SELECT chat_id, payload, reason FROM outbox_dead ORDER BY id")).await?;
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?))).collect()
    }

    /// Record that `user` blocked (or unblocked) the bot.
    pub async fn set_blocked(&self, user: i64, blocked: bool, now_ms: i64) -> Result<(), StorageError> {
        let (sql, args) = block_mark(user, blocked, now_ms);
        let mut conn = self.inner.writer.lock().await;
        conn.execute(script::bind(sqlx::query(sql), &args)).await?;
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
            for row in self.read_all(q).await? {
                out.insert(row.try_get(0)?);
            }
        }
        Ok(out)
    }

    /// Whether `user` blocked the bot.
    pub async fn is_blocked(&self, user: i64) -> Result<bool, StorageError> {
        let row = self.read_optional(sqlx::query("SELECT 1 FROM blocked_users WHERE user_id = $1").bind(user)).await?;
        Ok(row.is_some())
    }
}
