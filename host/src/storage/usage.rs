//! KV usage per namespace (bytes of keys plus values, and the number of keys), for the
//! per-plugin KV quotas. The `kv_usage` table is updated in the commit transaction that
//! writes the keys, from the stored sizes of the keys written (a [`Ledger`] per batch),
//! so it is exact on both backends and holds across turns and restarts. The commit also
//! refuses, as a conflict, a turn that would grow a namespace past its quota: the turn
//! runs again and the capability then refuses the write with an error the plugin sees.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use sqlx::{AnyConnection, Row};

use super::commit::TurnCommit;
use super::{Backend, Storage, StorageError};

/// Rows per statement.
const CHUNK: usize = 200;

/// What a namespace holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KvUsage {
    /// Bytes of keys plus values.
    pub bytes: u64,
    /// Keys.
    pub keys: u64,
}

/// A namespace's quota.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KvQuota {
    /// Most bytes of keys plus values.
    pub bytes: u64,
    /// Most keys.
    pub keys: u64,
}

/// Quotas by namespace, and the usage this process last committed or read.
#[derive(Debug, Default)]
pub(super) struct UsageBook {
    quotas: Mutex<HashMap<String, KvQuota>>,
    cached: Mutex<HashMap<String, KvUsage>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Stored size of a key with a value of `len` bytes.
fn size(key: &str, len: usize) -> i64 {
    i64::try_from(key.len() + len).unwrap_or(i64::MAX)
}

/// The usage a batch starts from and what its admitted turns change.
pub(super) struct Ledger {
    /// Stored size of each key the batch writes (`None` = absent), as of the turns
    /// admitted so far.
    sizes: HashMap<(String, String), Option<i64>>,
    /// Usage (bytes, keys) of each namespace written, as of the turns admitted so far.
    usage: HashMap<String, (i64, i64)>,
    /// Change per namespace, to store.
    delta: HashMap<String, (i64, i64)>,
    quotas: HashMap<String, KvQuota>,
}

impl Ledger {
    /// Read the stored sizes of every key the batch writes and their namespaces' usage.
    pub async fn load(conn: &mut AnyConnection, book: &UsageBook, turns: &[&TurnCommit]) -> Result<Self, sqlx::Error> {
        let keys: HashSet<(&str, &str)> =
            turns.iter().flat_map(|t| t.writes.iter().map(|(ns, k, _)| (ns.as_str(), k.as_str()))).collect();
        let keys: Vec<(&str, &str)> = keys.into_iter().collect();
        let mut sizes: HashMap<(String, String), Option<i64>> =
            keys.iter().map(|(n, k)| (((*n).to_owned(), (*k).to_owned()), None)).collect();
        for chunk in keys.chunks(CHUNK) {
            let filter = (0..chunk.len())
                .map(|i| format!("(ns = ${} AND key = ${})", 2 * i + 1, 2 * i + 2))
                .collect::<Vec<_>>()
                .join(" OR ");
            let sql = format!("SELECT ns, key, CAST(length(value) AS BIGINT) FROM kv WHERE {filter}");
            let mut q = sqlx::query(&sql);
            for (ns, key) in chunk {
                q = q.bind(*ns).bind(*key);
            }
            for row in q.fetch_all(&mut *conn).await? {
                let (ns, key, len): (String, String, i64) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
                let stored = size(&key, usize::try_from(len).unwrap_or(0));
                sizes.insert((ns, key), Some(stored));
            }
        }
        let namespaces: Vec<&str> = keys.iter().map(|(n, _)| *n).collect::<HashSet<_>>().into_iter().collect();
        let mut usage: HashMap<String, (i64, i64)> = namespaces.iter().map(|n| ((*n).to_owned(), (0, 0))).collect();
        for chunk in namespaces.chunks(CHUNK) {
            let list = (1..=chunk.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
            let sql = format!("SELECT ns, bytes, keys FROM kv_usage WHERE ns IN ({list})");
            let mut q = sqlx::query(&sql);
            for ns in chunk {
                q = q.bind(*ns);
            }
            for row in q.fetch_all(&mut *conn).await? {
                usage.insert(row.try_get(0)?, (row.try_get(1)?, row.try_get(2)?));
            }
        }
        let quotas = lock(&book.quotas).clone();
        Ok(Self { sizes, usage, delta: HashMap::new(), quotas })
    }

    /// Whether `turn` keeps every namespace it grows within its quota; if so, count it.
    pub fn admit(&mut self, turn: &TurnCommit) -> bool {
        let mut delta: HashMap<&str, (i64, i64)> = HashMap::new();
        for (ns, key, value) in &turn.writes {
            let old = self.sizes.get(&(ns.clone(), key.clone())).copied().flatten();
            let new = value.as_ref().map(|v| size(key, v.len()));
            let d = delta.entry(ns.as_str()).or_default();
            d.0 += new.unwrap_or(0) - old.unwrap_or(0);
            d.1 += i64::from(new.is_some()) - i64::from(old.is_some());
        }
        for (ns, (bytes, keys)) in &delta {
            let Some(q) = self.quotas.get(*ns) else { continue };
            let (used_bytes, used_keys) = self.usage.get(*ns).copied().unwrap_or_default();
            let over_bytes = *bytes > 0 && to_u64(used_bytes + bytes) > q.bytes;
            let over_keys = *keys > 0 && to_u64(used_keys + keys) > q.keys;
            if over_bytes || over_keys {
                return false;
            }
        }
        for (ns, key, value) in &turn.writes {
            self.sizes.insert((ns.clone(), key.clone()), value.as_ref().map(|v| size(key, v.len())));
        }
        for (ns, (bytes, keys)) in delta {
            let u = self.usage.entry(ns.to_owned()).or_default();
            *u = (u.0 + bytes, u.1 + keys);
            let d = self.delta.entry(ns.to_owned()).or_default();
            *d = (d.0 + bytes, d.1 + keys);
        }
        true
    }

    /// Add the admitted turns' changes to `kv_usage`.
    pub fn store(&self, script: &mut super::script::Script) {
        use super::script::Val;
        for (ns, (bytes, keys)) in self.delta.iter().filter(|(_, d)| **d != (0, 0)) {
            script.push(
                "INSERT INTO kv_usage (ns, bytes, keys) VALUES ($1, $2, $3) ON CONFLICT (ns) DO UPDATE \
                 SET bytes = kv_usage.bytes + excluded.bytes, keys = kv_usage.keys + excluded.keys",
                vec![Val::Text(ns.clone()), Val::Int(*bytes), Val::Int(*keys)],
            );
        }
    }

    /// Usage of the namespaces written, once the batch is committed.
    pub fn totals(&self) -> Vec<(String, KvUsage)> {
        self.usage.iter().map(|(ns, (b, k))| (ns.clone(), KvUsage { bytes: to_u64(*b), keys: to_u64(*k) })).collect()
    }
}

impl UsageBook {
    /// Remember a committed batch's usage.
    pub fn committed(&self, totals: Vec<(String, KvUsage)>) {
        lock(&self.cached).extend(totals);
    }
}

impl Storage {
    /// Set the KV quota of each namespace (replacing earlier ones); commits that would
    /// grow a namespace past its quota are refused as conflicts.
    pub fn set_kv_quotas(&self, quotas: impl IntoIterator<Item = (String, KvQuota)>) {
        *lock(&self.inner.usage.quotas) = quotas.into_iter().collect();
    }

    /// What `ns` holds, as of the last commit.
    pub async fn kv_usage(&self, ns: &str) -> Result<KvUsage, StorageError> {
        if let Some(u) = lock(&self.inner.usage.cached).get(ns) {
            return Ok(*u);
        }
        let row = self.read_optional(sqlx::query("SELECT bytes, keys FROM kv_usage WHERE ns = $1").bind(ns)).await?;
        let usage = match row {
            Some(r) => KvUsage { bytes: to_u64(r.try_get(0)?), keys: to_u64(r.try_get(1)?) },
            None => KvUsage::default(),
        };
        // A commit that finished meanwhile has put a newer figure in; keep that one.
        Ok(*lock(&self.inner.usage.cached).entry(ns.to_owned()).or_insert(usage))
    }

    /// Stored sizes (key plus value bytes) of those of `keys` that exist in `ns`.
    pub async fn kv_sizes(&self, ns: &str, keys: &[String]) -> Result<HashMap<String, usize>, StorageError> {
        let mut out = HashMap::with_capacity(keys.len());
        for chunk in keys.chunks(CHUNK) {
            let list = (2..chunk.len() + 2).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
            let sql = format!("SELECT key, CAST(length(value) AS BIGINT) FROM kv WHERE ns = $1 AND key IN ({list})");
            let mut q = sqlx::query(&sql).bind(ns);
            for k in chunk {
                q = q.bind(k.as_str());
            }
            for row in self.read_all(q).await? {
                let (key, len): (String, i64) = (row.try_get(0)?, row.try_get(1)?);
                let stored = key.len() + usize::try_from(len).unwrap_or(0);
                out.insert(key, stored);
            }
        }
        Ok(out)
    }

    /// What `ns` holds, counted from the stored keys (to check the bookkeeping).
    pub async fn kv_usage_recount(&self, ns: &str) -> Result<KvUsage, StorageError> {
        let key_len = match self.backend() {
            Backend::Sqlite => "length(CAST(key AS BLOB))",
            Backend::Postgres => "octet_length(key)",
        };
        let sql = format!(
            "SELECT CAST(COALESCE(SUM({key_len} + length(value)), 0) AS BIGINT), COUNT(*) FROM kv WHERE ns = $1"
        );
        let row = self.read_one(sqlx::query(&sql).bind(ns)).await?;
        Ok(KvUsage { bytes: to_u64(row.try_get(0)?), keys: to_u64(row.try_get(1)?) })
    }
}
