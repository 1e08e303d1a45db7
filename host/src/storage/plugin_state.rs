//! Plugins the circuit breaker disabled (`plugin_state`): kept across restarts, removed
//! when an admin re-enables the plugin or a different component of it loads.

use sqlx::{Executor, Row};

use super::{Storage, StorageError};

/// A plugin the circuit breaker disabled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisabledPlugin {
    /// The plugin.
    pub plugin: String,
    /// When it was disabled (host clock, Unix ms).
    pub disabled_at_ms: i64,
    /// Why (the breaker's notice, without the plugin's own text).
    pub reason: String,
    /// SHA-256 of the component that was disabled, hex.
    pub digest: String,
    /// Its manifest version.
    pub version: String,
}

/// How far behind a queue is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueDepth {
    /// Rows waiting.
    pub depth: i64,
    /// When the oldest was queued (host clock, Unix ms); `None` when empty.
    pub oldest_ms: Option<i64>,
}

/// The inbox's and the outbox's lag.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueLag {
    /// Updates and events waiting for a turn.
    pub inbox: QueueDepth,
    /// Calls waiting to be sent.
    pub outbox: QueueDepth,
}

impl Storage {
    /// Record that `d.plugin` is disabled (replacing an older record).
    pub async fn disable_plugin(&self, d: &DisabledPlugin) -> Result<(), StorageError> {
        let mut conn = self.inner.writer.lock().await;
        conn.execute(
            sqlx::query(
                "INSERT INTO plugin_state (plugin, disabled_at_ms, reason, digest, version) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (plugin) DO UPDATE SET disabled_at_ms = excluded.disabled_at_ms, \
                 reason = excluded.reason, digest = excluded.digest, version = excluded.version",
            )
            .bind(&d.plugin)
            .bind(d.disabled_at_ms)
            .bind(&d.reason)
            .bind(&d.digest)
            .bind(&d.version),
        )
        .await?;
        Ok(())
    }

    /// Forget that `plugin` is disabled; whether it was.
    pub async fn enable_plugin(&self, plugin: &str) -> Result<bool, StorageError> {
        let mut conn = self.inner.writer.lock().await;
        let done = conn.execute(sqlx::query("DELETE FROM plugin_state WHERE plugin = $1").bind(plugin)).await?;
        Ok(done.rows_affected() > 0)
    }

    /// Every disabled plugin, by name.
    pub async fn disabled_plugins(&self) -> Result<Vec<DisabledPlugin>, StorageError> {
        let rows = self
            .read_all(sqlx::query(
                "SELECT plugin, disabled_at_ms, reason, digest, version FROM plugin_state ORDER BY plugin",
            ))
            .await?;
        rows.iter()
            .map(|r| {
                Ok(DisabledPlugin {
                    plugin: r.try_get(0)?,
                    disabled_at_ms: r.try_get(1)?,
                    reason: r.try_get(2)?,
                    digest: r.try_get(3)?,
                    version: r.try_get(4)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StorageError::from)
    }

    /// Inbox and outbox rows with the oldest one's queue time each (for `/metrics` and
    /// `/readyz`).
    pub async fn queue_lag(&self) -> Result<QueueLag, StorageError> {
        let row = self
            .read_one(sqlx::query(
                "SELECT (SELECT COUNT(*) FROM inbox), (SELECT MIN(created_ms) FROM inbox), \
                 (SELECT COUNT(*) FROM outbox), (SELECT MIN(created_ms) FROM outbox)",
            ))
            .await?;
        Ok(QueueLag {
            inbox: QueueDepth { depth: row.try_get(0)?, oldest_ms: row.try_get(1)? },
            outbox: QueueDepth { depth: row.try_get(2)?, oldest_ms: row.try_get(3)? },
        })
    }

    /// Read the one-row commit sequence (is the database there?).
    pub async fn ping(&self) -> Result<(), StorageError> {
        self.read_one(sqlx::query("SELECT n FROM commit_seq")).await?;
        Ok(())
    }
}
