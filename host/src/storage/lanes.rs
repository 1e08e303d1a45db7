//! Lanes through the database: which lanes have queued entries, who holds each one
//! (a lease: owner id + end time), and each lane's head entries. The `lanes` table is
//! the authority, so several runtimes sharing one PostgreSQL serve each lane from one
//! place at a time; the triggers of migration 0004 keep its `pending` counts in the
//! transactions that insert and delete inbox rows.
//!
//! Lease times are database time, so runtimes on different machines agree on them.

use sqlx::{Executor, Row};

use super::queries::InboxRow;
use super::script::{Script, Tx, Val};
use super::{Backend, Storage, StorageError};

/// Lanes per statement (well under both backends' parameter and compound-select limits).
const CHUNK: usize = 32;

/// The database's clock in Unix milliseconds, as SQL.
fn now_sql(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)",
        Backend::Postgres => "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
    }
}

fn list(n: usize, start: usize) -> String {
    (start..start + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

impl InboxRow {
    /// From `SELECT id, lane, target, payload, created_ms …`.
    pub(super) fn from_row(r: &sqlx::any::AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: r.try_get(0)?,
            lane: r.try_get(1)?,
            target: r.try_get(2)?,
            payload: r.try_get(3)?,
            created_ms: r.try_get(4)?,
        })
    }
}

impl Storage {
    /// Up to `limit` lanes with queued entries that no runtime holds (or whose lease ran
    /// out), the longest waiting first.
    pub async fn lanes_waiting(&self, limit: i64) -> Result<Vec<i64>, StorageError> {
        let sql = format!(
            "SELECT lane FROM lanes WHERE pending > 0 AND (owner IS NULL OR lease_until < {}) \
             ORDER BY served, lane LIMIT $1",
            now_sql(self.backend())
        );
        let rows = self.read_all(sqlx::query(&sql).bind(limit)).await?;
        Ok(rows.iter().map(|r| r.try_get(0)).collect::<Result<_, _>>()?)
    }

    /// Take the lease, for `lease_ms`, on up to `limit` lanes with queued entries that no
    /// runtime holds (or whose lease ran out), the longest waiting first: one statement.
    /// Returns the lanes now held.
    pub async fn claim_waiting(&self, owner: &str, limit: i64, lease_ms: i64) -> Result<Vec<i64>, StorageError> {
        let now = now_sql(self.backend());
        // PostgreSQL: replicas claiming at once skip each other's rows instead of waiting.
        let lock = if self.backend() == Backend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
        let sql = format!(
            "UPDATE lanes SET owner = $1, lease_until = {now} + $2 WHERE lane IN (\
               SELECT lane FROM lanes WHERE pending > 0 AND (owner IS NULL OR lease_until < {now}) \
               ORDER BY served, lane LIMIT $3{lock}) \
             AND pending > 0 AND (owner IS NULL OR lease_until < {now}) RETURNING lane"
        );
        let mut conn = self.inner.writer.lock().await;
        let rows = sqlx::query(&sql).bind(owner).bind(lease_ms).bind(limit).fetch_all(&mut *conn).await?;
        Ok(rows.iter().map(|r| r.try_get(0)).collect::<Result<_, _>>()?)
    }

    /// Give back `owner`'s leases on those of `lanes` that have no queued entry left,
    /// forgetting them: one statement. Returns those lanes; the others still have
    /// entries and stay held.
    pub async fn release_drained(&self, owner: &str, lanes: &[i64]) -> Result<Vec<i64>, StorageError> {
        let mut out = Vec::with_capacity(lanes.len());
        let mut conn = self.inner.writer.lock().await;
        for chunk in lanes.chunks(CHUNK) {
            let sql = format!(
                "DELETE FROM lanes WHERE owner = $1 AND pending <= 0 AND lane IN ({}) RETURNING lane",
                list(chunk.len(), 2)
            );
            let mut q = sqlx::query(&sql).bind(owner);
            for lane in chunk {
                q = q.bind(*lane);
            }
            for row in q.fetch_all(&mut *conn).await? {
                out.push(row.try_get(0)?);
            }
        }
        Ok(out)
    }

    /// Take the lease on those of `lanes` that are free, expired or already `owner`'s,
    /// for `lease_ms`. Returns the lanes now held.
    pub async fn claim_lanes(&self, owner: &str, lanes: &[i64], lease_ms: i64) -> Result<Vec<i64>, StorageError> {
        let now = now_sql(self.backend());
        let mut held = Vec::with_capacity(lanes.len());
        let mut conn = self.inner.writer.lock().await;
        for chunk in lanes.chunks(CHUNK) {
            let sql = format!(
                "UPDATE lanes SET owner = $1, lease_until = {now} + $2 WHERE lane IN ({}) \
                 AND (owner IS NULL OR owner = $1 OR lease_until < {now}) RETURNING lane",
                list(chunk.len(), 3)
            );
            let mut q = sqlx::query(&sql).bind(owner).bind(lease_ms);
            for lane in chunk {
                q = q.bind(*lane);
            }
            for row in q.fetch_all(&mut *conn).await? {
                held.push(row.try_get(0)?);
            }
        }
        Ok(held)
    }

    /// Extend every lease `owner` holds by `lease_ms` from now. Returns how many.
    pub async fn renew_leases(&self, owner: &str, lease_ms: i64) -> Result<u64, StorageError> {
        let sql = format!("UPDATE lanes SET lease_until = {} + $2 WHERE owner = $1", now_sql(self.backend()));
        let mut conn = self.inner.writer.lock().await;
        Ok(conn.execute(sqlx::query(&sql).bind(owner).bind(lease_ms)).await?.rows_affected())
    }

    /// Give back `owner`'s leases on `lanes`: a lane with entries left goes behind every
    /// waiting lane; a lane without entries is forgotten.
    pub async fn release_lanes(&self, owner: &str, lanes: &[i64]) -> Result<(), StorageError> {
        let mut script = Script::default();
        for chunk in lanes.chunks(CHUNK) {
            let ids: Vec<Val> = chunk.iter().map(|l| Val::Int(*l)).collect();
            let sql = format!(
                "UPDATE lanes SET owner = NULL, lease_until = 0, \
                 served = (SELECT COALESCE(MAX(served), 0) + 1 FROM lanes) WHERE owner = $1 AND lane IN ({})",
                list(chunk.len(), 2)
            );
            script.push(sql, std::iter::once(Val::Text(owner.to_owned())).chain(ids.iter().cloned()).collect());
            let sql = format!(
                "DELETE FROM lanes WHERE pending <= 0 AND owner IS NULL AND lane IN ({})",
                list(chunk.len(), 1)
            );
            script.push(sql, ids);
        }
        let mut conn = self.inner.writer.lock().await;
        Ok(script.run(&mut conn, self.backend(), Tx::Whole).await?)
    }

    /// Give back every lease `owner` holds (at shutdown).
    pub async fn release_all_lanes(&self, owner: &str) -> Result<(), StorageError> {
        let mut conn = self.inner.writer.lock().await;
        conn.execute(sqlx::query("UPDATE lanes SET owner = NULL, lease_until = 0 WHERE owner = $1").bind(owner))
            .await?;
        conn.execute("DELETE FROM lanes WHERE pending <= 0 AND owner IS NULL").await?;
        Ok(())
    }

    /// Drop every lease, whoever holds it. Only for a database one runtime serves alone
    /// (SQLite): a runtime that starts knows any other holder is gone.
    pub async fn reset_leases(&self) -> Result<(), StorageError> {
        let mut conn = self.inner.writer.lock().await;
        conn.execute("UPDATE lanes SET owner = NULL, lease_until = 0 WHERE owner IS NOT NULL").await?;
        conn.execute("DELETE FROM lanes WHERE pending <= 0").await?;
        Ok(())
    }

    /// The first `limit` entries of each of `lanes`, oldest first within a lane, read
    /// through the (lane, id) index: a few queries for many lanes.
    pub async fn lane_heads(&self, lanes: &[i64], limit: u32) -> Result<Vec<InboxRow>, StorageError> {
        let mut out = Vec::new();
        for chunk in lanes.chunks(CHUNK) {
            let sql = (1..=chunk.len())
                .map(|i| {
                    format!(
                        "SELECT * FROM (SELECT id, lane, target, payload, created_ms FROM inbox \
                         WHERE lane = ${i} ORDER BY id LIMIT {limit}) AS h{i}"
                    )
                })
                .collect::<Vec<_>>()
                .join(" UNION ALL ");
            let mut q = sqlx::query(&sql);
            for lane in chunk {
                q = q.bind(*lane);
            }
            for row in self.read_all(q).await? {
                out.push(InboxRow::from_row(&row)?);
            }
        }
        Ok(out)
    }

    /// Whether any lane has queued entries.
    pub async fn inbox_has_work(&self) -> Result<bool, StorageError> {
        Ok(self.read_optional(sqlx::query("SELECT 1 FROM lanes WHERE pending > 0 LIMIT 1")).await?.is_some())
    }

    /// Move an entry that cannot be read to `inbox_dead` with the reason (once, however
    /// often it is called).
    pub async fn inbox_dead_letter(&self, id: i64, reason: &str, now_ms: i64) -> Result<(), StorageError> {
        let mut conn = self.inner.writer.lock().await;
        super::commit::begin(&mut conn, self.backend()).await?;
        let result = async {
            sqlx::query(
                "INSERT INTO inbox_dead (id, lane, target, payload, reason, at_ms) \
                 SELECT id, lane, target, payload, $2, $3 FROM inbox WHERE id = $1",
            )
            .bind(id)
            .bind(reason)
            .bind(now_ms)
            .execute(&mut *conn)
            .await?;
            sqlx::query("DELETE FROM inbox WHERE id = $1").bind(id).execute(&mut *conn).await?;
            Ok(())
        }
        .await;
        Ok(super::commit::finish(&mut conn, result).await?)
    }

    /// Dead inbox entries: (lane, payload, reason), oldest first.
    pub async fn inbox_dead(&self) -> Result<Vec<(i64, String, String)>, StorageError> {
        let rows = self.read_all(sqlx::query("SELECT lane, payload, reason FROM inbox_dead ORDER BY id")).await?;
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?))).collect()
    }
}
