//! Durable state behind one API for SQLite (embedded default) and PostgreSQL.
//!
//! Reads go through a few read connections (`readers`). All writes go through one writer connection, so on
//! SQLite there is exactly one writer and on both backends a batch of turns commits in
//! one transaction ("group commit"): each turn's read set is validated first and the turn
//! is applied only if nothing it read changed (optimistic concurrency). No lock is held
//! while plugin code runs; the write transaction only spans validation and the writes.
//! Writes go out as a write script (`script`): on SQLite one round trip to sqlx's connection
//! thread per transaction, since each round trip (two thread wake-ups) costs more CPU
//! than the SQL itself.
//!
//! | module | what |
//! | --- | --- |
//! | `commit` | turns' commits: read-set checks, the group-commit task |
//! | `bulk` | multi-row statements of a batch |
//! | `script` | write scripts: a transaction's statements sent together |
//! | `delivered` | the sender's delivery records, batched |
//! | `event_log` | business and host events: recording, reading |
//! | `dashboard` | the web dashboard's dead letters (list, retry, discard) and event-log pages |
//! | `event_query` | the event log by filters (`wharf logs`), counts, retention |
//! | `lanes` | lane leases and heads for the dispatcher |
//! | `plugin_state` | plugins the breaker disabled (kept across restarts), queue lag, ping |
//! | `telegram` | offset, blocked users, outbox heads and leases, dead letters |
//! | `signals` | what the alert rules read; the firing alerts, changed with their announcements |
//! | `readers` | the read connections (sqlx's pool pings each one it gets back) |
//! | `queries`, `usage`, `cache`, `webhook` | reads, KV quotas, read cache, webhook intake |

mod bulk;
mod cache;
mod commit;
mod dashboard;
mod delivered;
mod event_log;
mod event_query;
mod lanes;
mod plugin_state;
mod queries;
mod readers;
mod script;
mod signals;
mod telegram;
mod usage;
mod webhook;

use std::str::FromStr;
use std::sync::Arc;

use sqlx::any::{AnyConnectOptions, AnyRow};
use sqlx::{AnyConnection, ConnectOptions, Connection, Executor};

use tokio::sync::{Mutex, mpsc};

pub use commit::{CommitOutcome, KeyRead, NewInbox, NewOutbox, RangeRead, TimerOp, TurnCommit};
pub use dashboard::{DeadLetter, DeadQueue, EventPage};
pub use event_log::{EventLogRow, NewLogEvent, SeenUser};
pub use event_query::{CountBy, CountKey, EventFilter, QUARTER_HOUR_MS};
pub use plugin_state::{DisabledPlugin, QueueDepth, QueueLag};
pub use queries::{InboxRow, OutboxRow, TimerRow};
pub use signals::{AlertRecord, AlertRow, AlertWrite};
pub use telegram::SentMessage;
pub use usage::{KvQuota, KvUsage};

/// A storage failure (I/O, SQL, migration). Never the plugin's fault.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The database returned an error.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// Schema migration failed.
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The committer task stopped (the runtime is shutting down).
    #[error("storage is shut down")]
    Closed,
}

/// Which database is behind the URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite in WAL mode.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// Read connections at most.
const READERS: usize = 8;

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Storage {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Backend,
    readers: readers::Readers,
    writer: Mutex<AnyConnection>,
    cache: cache::KvCache,
    usage: usage::UsageBook,
    commits: mpsc::Sender<commit::Pending>,
    deliveries: mpsc::Sender<delivered::Delivered>,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Storage").field("backend", &self.inner.backend).finish_non_exhaustive()
    }
}

impl Storage {
    /// Connect, create the database file if needed, and run migrations.
    ///
    /// `sqlite:PATH` or `postgres://…`; for PostgreSQL an optional `schema` isolates the
    /// tables (used by tests to share one server).
    pub async fn open(url: &str, schema: Option<&str>) -> Result<Self, StorageError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") { Backend::Sqlite } else { Backend::Postgres };
        let url = match backend {
            Backend::Sqlite if !url.contains('?') => format!("{url}?mode=rwc"),
            _ => url.to_owned(),
        };
        if let (Backend::Sqlite, Some(path)) = (backend, url.strip_prefix("sqlite:")) {
            let path = path.split('?').next().unwrap_or_default();
            if let Some(dir) = std::path::Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
            }
        }
        let opts = AnyConnectOptions::from_str(&url)?.disable_statement_logging();
        let setup = setup_sql(backend, schema);
        let mut writer = AnyConnection::connect_with(&opts).await?;
        if let (Backend::Postgres, Some(schema)) = (backend, schema) {
            writer.execute(format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\"").as_str()).await?;
        }
        writer.execute(setup.as_str()).await?;
        match backend {
            Backend::Sqlite => sqlx::migrate!("../migrations/sqlite").run(&mut writer).await?,
            Backend::Postgres => sqlx::migrate!("../migrations/postgres").run(&mut writer).await?,
        }
        let readers = readers::Readers::new(opts, setup, READERS);
        let (tx, rx) = mpsc::channel(1024);
        let (delivered_tx, delivered_rx) = mpsc::channel(1024);
        let storage = Self {
            inner: Arc::new(Inner {
                backend,
                readers,
                writer: Mutex::new(writer),
                cache: cache::KvCache::default(),
                usage: usage::UsageBook::default(),
                commits: tx,
                deliveries: delivered_tx,
            }),
        };
        tokio::spawn(commit::run_committer(Arc::downgrade(&storage.inner), rx));
        tokio::spawn(delivered::run(Arc::downgrade(&storage.inner), delivered_rx));
        Ok(storage)
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.inner.backend
    }

    /// All rows of a read.
    pub(crate) async fn read_all(&self, q: readers::AnyQuery<'_>) -> Result<Vec<AnyRow>, StorageError> {
        Ok(self.inner.readers.get().await?.fetch_all(q).await?)
    }

    /// The first row of a read, if any.
    pub(crate) async fn read_optional(&self, q: readers::AnyQuery<'_>) -> Result<Option<AnyRow>, StorageError> {
        Ok(self.inner.readers.get().await?.fetch_optional(q).await?)
    }

    /// The first row of a read that always returns one.
    pub(crate) async fn read_one(&self, q: readers::AnyQuery<'_>) -> Result<AnyRow, StorageError> {
        Ok(self.inner.readers.get().await?.fetch_one(q).await?)
    }

    /// Commit one turn, batched with whatever other turns are ready.
    pub async fn commit(&self, turn: TurnCommit) -> Result<CommitOutcome, StorageError> {
        self.send_commit(turn, None).await
    }

    /// Commit a turn that `owner` ran under its lease on the entry's lane: applied only
    /// while `owner` still holds that lane ([`CommitOutcome::LeaseLost`] otherwise).
    pub async fn commit_as(&self, turn: TurnCommit, owner: &Arc<str>) -> Result<CommitOutcome, StorageError> {
        self.send_commit(turn, Some(owner.clone())).await
    }

    async fn send_commit(&self, turn: TurnCommit, owner: Option<Arc<str>>) -> Result<CommitOutcome, StorageError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.inner.commits.send(commit::Pending { turn, owner, reply: tx }).await.map_err(|_| StorageError::Closed)?;
        rx.await.map_err(|_| StorageError::Closed)?
    }
}

fn setup_sql(backend: Backend, schema: Option<&str>) -> String {
    match backend {
        Backend::Sqlite => {
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000;".into()
        }
        Backend::Postgres => match schema {
            Some(s) => format!("SET search_path TO \"{s}\""),
            None => "SELECT 1".into(),
        },
    }
}
