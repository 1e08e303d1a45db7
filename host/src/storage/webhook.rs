//! Storage for webhook deliveries: an update is queued once even if Telegram delivers it
//! again (after a crash between our commit and our 200).

use sqlx::Executor;

use super::commit::{NewInbox, begin, finish};
use super::queries::insert_inbox;
use super::{Storage, StorageError};

/// How long delivered update ids are remembered.
const REMEMBER_MS: i64 = 24 * 3600 * 1000;

impl Storage {
    /// Queue a webhook update unless `update_id` was queued in the last day, with what it
    /// says about a block (`mark`: (user, blocked)). Returns whether it was new.
    pub async fn accept_webhook_update(
        &self,
        update_id: i64,
        entry: Option<NewInbox>,
        mark: Option<(i64, bool)>,
        now_ms: i64,
    ) -> Result<bool, StorageError> {
        let mut conn = self.inner.writer.lock().await;
        begin(&mut conn, self.backend()).await?;
        let result = async {
            conn.execute(sqlx::query("DELETE FROM telegram_updates WHERE at_ms < $1").bind(now_ms - REMEMBER_MS)).await?;
            let fresh = conn
                .execute(
                    sqlx::query("INSERT INTO telegram_updates (update_id, at_ms) VALUES ($1, $2) ON CONFLICT (update_id) DO NOTHING")
                        .bind(update_id)
                        .bind(now_ms),
                )
                .await?
                .rows_affected()
                == 1;
            if fresh && let Some(e) = &entry {
                insert_inbox(&mut conn, e, now_ms).await?;
            }
            if fresh && let Some(m) = mark {
                super::telegram::apply_marks(&mut conn, &[m], now_ms).await?;
            }
            Ok(fresh)
        }
        .await;
        Ok(finish(&mut conn, result).await?)
    }
}
