//! The read connections: a few connections of the storage's own, handed out without
//! sqlx's pool.
//!
//! sqlx's pool tests every connection given back to it with a ping, from a task it
//! spawns. On SQLite a ping is a round trip to the connection's thread (two thread
//! wake-ups), as costly as the read itself, after every read. [`Readers`] takes a
//! connection back as it is:
//! - a statement that failed because the connection broke (I/O, protocol, a crashed
//!   SQLite worker) drops that connection; the next read opens a fresh one;
//! - a read cancelled half-way leaves the connection to sqlx's own recovery (the next
//!   statement on it first waits for the interrupted one), as the pool's ping would.
//!
//! At most `max` connections exist; a read waits for a free one.

use std::sync::{Mutex, PoisonError};

use sqlx::any::{AnyArguments, AnyConnectOptions, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, ConnectOptions, Executor};
use tokio::sync::{Semaphore, SemaphorePermit};

/// A query ready to run on a reader.
pub(crate) type AnyQuery<'q> = Query<'q, Any, AnyArguments<'q>>;

/// Up to `max` read connections, opened on demand.
pub(crate) struct Readers {
    free: Mutex<Vec<AnyConnection>>,
    permits: Semaphore,
    opts: AnyConnectOptions,
    /// Run on every new connection (pragmas, search path).
    setup: String,
}

impl Readers {
    pub fn new(opts: AnyConnectOptions, setup: String, max: usize) -> Self {
        Self { free: Mutex::default(), permits: Semaphore::new(max.max(1)), opts, setup }
    }

    /// A connection for one or more reads; given back when the [`Reader`] is dropped.
    pub async fn get(&self) -> Result<Reader<'_>, sqlx::Error> {
        let permit = self.permits.acquire().await.map_err(|_| sqlx::Error::PoolClosed)?;
        let idle = self.free.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => {
                let mut conn = self.opts.connect().await?;
                conn.execute(self.setup.as_str()).await?;
                conn
            }
        };
        Ok(Reader { readers: self, conn: Some(conn), _permit: permit })
    }
}

/// One read connection, held until dropped.
pub(crate) struct Reader<'a> {
    readers: &'a Readers,
    /// `None` once the connection broke (it is then not given back).
    conn: Option<AnyConnection>,
    _permit: SemaphorePermit<'a>,
}

impl Reader<'_> {
    /// The connection, for statements the helpers below do not cover. Pass their result
    /// through [`Reader::check`].
    pub fn conn(&mut self) -> Result<&mut AnyConnection, sqlx::Error> {
        self.conn.as_mut().ok_or(sqlx::Error::PoolClosed)
    }

    /// Pass a statement's result through, dropping the connection if it broke.
    pub fn check<T>(&mut self, result: Result<T, sqlx::Error>) -> Result<T, sqlx::Error> {
        if let Err(e) = &result
            && broken(e)
        {
            self.conn = None;
        }
        result
    }

    pub async fn fetch_all(&mut self, q: AnyQuery<'_>) -> Result<Vec<AnyRow>, sqlx::Error> {
        let result = q.fetch_all(self.conn()?).await;
        self.check(result)
    }

    pub async fn fetch_optional(&mut self, q: AnyQuery<'_>) -> Result<Option<AnyRow>, sqlx::Error> {
        let result = q.fetch_optional(self.conn()?).await;
        self.check(result)
    }

    pub async fn fetch_one(&mut self, q: AnyQuery<'_>) -> Result<AnyRow, sqlx::Error> {
        let result = q.fetch_one(self.conn()?).await;
        self.check(result)
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.readers.free.lock().unwrap_or_else(PoisonError::into_inner).push(conn);
        }
    }
}

/// Whether an error means the connection itself is unusable (not just the statement):
/// I/O, protocol, a crashed SQLite worker, or PostgreSQL's connection exceptions (class
/// 08) and operator intervention (class 57, e.g. the backend was terminated).
fn broken(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::Tls(_) | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|c| c.starts_with("08") || c.starts_with("57")),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::str::FromStr;
    use std::task::Poll;

    use sqlx::Row;

    use super::*;

    fn readers(url: &str) -> Readers {
        sqlx::any::install_default_drivers();
        Readers::new(AnyConnectOptions::from_str(url).unwrap(), "SELECT 1".into(), 2)
    }

    async fn one(readers: &Readers, sql: &'static str) -> Result<i64, sqlx::Error> {
        readers.get().await?.fetch_one(sqlx::query(sql)).await?.try_get(0)
    }

    /// A read dropped half-way (its future polled once, then dropped) leaves a connection
    /// that answers the next read correctly.
    #[tokio::test]
    async fn a_cancelled_read_leaves_a_usable_connection() {
        let dir = tempfile::tempdir().unwrap();
        let readers = readers(&format!("sqlite:{}?mode=rwc", dir.path().join("r.db").display()));
        {
            let mut reader = readers.get().await.unwrap();
            let slow = "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 3000000) \
                        SELECT COUNT(*) FROM c";
            let mut read = Box::pin(reader.fetch_all(sqlx::query(slow)));
            std::future::poll_fn(|cx| {
                let _ = read.as_mut().poll(cx);
                Poll::Ready(())
            })
            .await;
        }
        assert_eq!(readers.free.lock().unwrap().len(), 1, "the connection was given back");
        assert_eq!(one(&readers, "SELECT 7").await.unwrap(), 7);
        assert_eq!(one(&readers, "SELECT 8").await.unwrap(), 8);
    }

    /// A PostgreSQL connection terminated by the server fails one read and is replaced;
    /// the next read works. Runs when `WHARF_TEST_DATABASE_URL` is set.
    #[tokio::test]
    async fn a_terminated_connection_is_replaced() {
        let Ok(url) = std::env::var("WHARF_TEST_DATABASE_URL") else { return };
        let readers = readers(&url);
        let pid = one(&readers, "SELECT CAST(pg_backend_pid() AS BIGINT)").await.unwrap();
        let mut admin = AnyConnectOptions::from_str(&url).unwrap().connect().await.unwrap();
        sqlx::query("SELECT pg_terminate_backend(CAST($1 AS INTEGER))").bind(pid).execute(&mut admin).await.unwrap();
        // The server closes the connection; the read on it fails and drops it.
        assert!(one(&readers, "SELECT 1").await.is_err());
        assert!(readers.free.lock().unwrap().is_empty(), "the broken connection was not given back");
        let again = one(&readers, "SELECT CAST(pg_backend_pid() AS BIGINT)").await.unwrap();
        assert_ne!(again, pid, "a fresh connection serves the next read");
    }
}
