//! What the alert rules read (dead letters, the oldest inbox and outbox rows, event
//! counts in a window) and the `alerts` table of firing alerts, changed together with
//! the alert's event-log row and admin messages in one transaction.

use sqlx::{AnyConnection, Row};

use super::commit::{begin, finish};
use super::event_log::{NewLogEvent, insert_event};
use super::{NewOutbox, Storage, StorageError};

/// A firing alert as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRow {
    /// The alert's name.
    pub alert: String,
    /// When it fired (host clock, Unix ms).
    pub since_ms: i64,
    /// When it was last sent.
    pub last_sent_ms: i64,
    /// The value last sent.
    pub value: Option<f64>,
    /// The threshold last sent.
    pub threshold: Option<f64>,
}

/// A change of the `alerts` table, applied only if the row is as the evaluator saw it
/// (so two replicas, or a check racing a restart, never send one change twice).
#[derive(Debug, Clone, PartialEq)]
pub enum AlertWrite {
    /// Insert the row, unless it exists.
    Fire {
        /// The alert.
        alert: String,
        /// Its value.
        value: Option<f64>,
        /// Its threshold.
        threshold: Option<f64>,
    },
    /// Move `last_sent_ms` from `prev_sent_ms` to now.
    Repeat {
        /// The alert.
        alert: String,
        /// `last_sent_ms` as read.
        prev_sent_ms: i64,
        /// The value now.
        value: Option<f64>,
    },
    /// Delete the row that fired at `since_ms`.
    Resolve {
        /// The alert.
        alert: String,
        /// `since_ms` as read.
        since_ms: i64,
    },
}

/// One alert change with what announces it.
#[derive(Debug, Clone)]
pub struct AlertRecord {
    /// The table change.
    pub write: AlertWrite,
    /// Its event-log row (the log sink takes it to the admin channel).
    pub event: NewLogEvent,
    /// Messages to admins (when there is no channel).
    pub outbox: Vec<NewOutbox>,
}

impl Storage {
    /// Dead letters (inbox and outbox) recorded after `since_ms`.
    pub async fn dead_letters_since(&self, since_ms: i64) -> Result<i64, StorageError> {
        let row = self
            .read_one(
                sqlx::query(
                    "SELECT (SELECT COUNT(*) FROM inbox_dead WHERE at_ms > $1) \
                     + (SELECT COUNT(*) FROM outbox_dead WHERE at_ms > $1)",
                )
                .bind(since_ms),
            )
            .await?;
        Ok(row.try_get(0)?)
    }

    /// Events per kind recorded in `(since_ms, until_ms]`.
    pub async fn event_counts(&self, since_ms: i64, until_ms: i64) -> Result<Vec<(String, i64)>, StorageError> {
        let rows = self
            .read_all(
                sqlx::query("SELECT kind, COUNT(*) FROM event_log WHERE at_ms > $1 AND at_ms <= $2 GROUP BY kind")
                    .bind(since_ms)
                    .bind(until_ms),
            )
            .await?;
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
    }

    /// The firing alerts.
    pub async fn firing_alerts(&self) -> Result<Vec<AlertRow>, StorageError> {
        let rows = self
            .read_all(sqlx::query("SELECT alert, since_ms, last_sent_ms, value, threshold FROM alerts ORDER BY alert"))
            .await?;
        let row = |r: &sqlx::any::AnyRow| -> Result<AlertRow, sqlx::Error> {
            Ok(AlertRow {
                alert: r.try_get(0)?,
                since_ms: r.try_get(1)?,
                last_sent_ms: r.try_get(2)?,
                value: r.try_get(3)?,
                threshold: r.try_get(4)?,
            })
        };
        Ok(rows.iter().map(row).collect::<Result<_, _>>()?)
    }

    /// Apply `records` in one transaction: each whose table change applies also gets its
    /// event-log row and outbox rows. Returns which applied.
    pub async fn record_alerts(&self, records: &[AlertRecord], now_ms: i64) -> Result<Vec<bool>, StorageError> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.inner.writer.lock().await;
        begin(&mut conn, self.backend()).await?;
        let result = async {
            let mut applied = Vec::with_capacity(records.len());
            for r in records {
                let ok = write_alert(&mut conn, &r.write, now_ms).await?;
                if ok {
                    insert_event(&mut conn, &r.event, now_ms).await?;
                    for o in &r.outbox {
                        let payload = o.call.to_row().map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
                        sqlx::query(
                            "INSERT INTO outbox (chat_id, plugin, payload, created_ms) VALUES ($1, $2, $3, $4)",
                        )
                        .bind(o.chat_id)
                        .bind(o.plugin.as_str())
                        .bind(payload)
                        .bind(now_ms)
                        .execute(&mut *conn)
                        .await?;
                    }
                }
                applied.push(ok);
            }
            Ok(applied)
        }
        .await;
        Ok(finish(&mut conn, result).await?)
    }
}

/// The table change; whether it applied.
async fn write_alert(conn: &mut AnyConnection, w: &AlertWrite, now_ms: i64) -> Result<bool, sqlx::Error> {
    let done = match w {
        AlertWrite::Fire { alert, value, threshold } => {
            sqlx::query(
                "INSERT INTO alerts (alert, since_ms, last_sent_ms, value, threshold) VALUES ($1, $2, $2, $3, $4) \
                 ON CONFLICT (alert) DO NOTHING",
            )
            .bind(alert.as_str())
            .bind(now_ms)
            .bind(*value)
            .bind(*threshold)
            .execute(&mut *conn)
            .await?
        }
        AlertWrite::Repeat { alert, prev_sent_ms, value } => {
            sqlx::query("UPDATE alerts SET last_sent_ms = $1, value = $2 WHERE alert = $3 AND last_sent_ms = $4")
                .bind(now_ms)
                .bind(*value)
                .bind(alert.as_str())
                .bind(*prev_sent_ms)
                .execute(&mut *conn)
                .await?
        }
        AlertWrite::Resolve { alert, since_ms } => {
            sqlx::query("DELETE FROM alerts WHERE alert = $1 AND since_ms = $2")
                .bind(alert.as_str())
                .bind(*since_ms)
                .execute(&mut *conn)
                .await?
        }
    };
    Ok(done.rows_affected() == 1)
}
