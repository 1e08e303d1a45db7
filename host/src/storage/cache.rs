//! A read-through cache of KV values with their versions, kept coherent by the
//! committer. It may be stale only when another process wrote the database (several
//! replicas on PostgreSQL): a turn that read a stale entry fails validation at commit,
//! its read keys are evicted, and the re-run reads the database. So the cache can make
//! a turn retry, never commit on stale data.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

/// Most entries held; the cache is cleared when it grows past this.
const CAPACITY: usize = 200_000;

#[derive(Clone)]
struct Entry {
    value: Option<Vec<u8>>,
    /// Version to validate against (0 = absent).
    version: i64,
    /// Commit sequence this entry reflects; newer entries replace older ones only.
    as_of: i64,
}

#[derive(Default)]
pub(super) struct KvCache {
    map: Mutex<HashMap<(String, String), Entry>>,
    /// Last commit sequence applied by this process.
    seq: AtomicI64,
}

impl KvCache {
    pub fn get(&self, ns: &str, key: &str) -> Option<(Option<Vec<u8>>, i64)> {
        let map = self.map.lock().ok()?;
        map.get(&(ns.to_owned(), key.to_owned())).map(|e| (e.value.clone(), e.version))
    }

    /// The commit sequence to tag a database read that starts now.
    pub fn read_stamp(&self) -> i64 {
        self.seq.load(Ordering::Acquire)
    }

    /// Remember a value read from the database at `stamp`.
    pub fn fill(&self, ns: &str, key: &str, value: Option<Vec<u8>>, version: i64, stamp: i64) {
        self.put(ns, key, Entry { value, version, as_of: stamp });
    }

    /// Record a committed write (or delete) at commit sequence `seq`.
    pub fn committed(&self, ns: &str, key: &str, value: Option<Vec<u8>>, seq: i64) {
        let version = if value.is_some() { seq } else { 0 };
        self.put(ns, key, Entry { value, version, as_of: seq });
    }

    /// A commit at `seq` finished.
    pub fn advance(&self, seq: i64) {
        self.seq.fetch_max(seq, Ordering::AcqRel);
    }

    pub fn evict(&self, ns: &str, key: &str) {
        if let Ok(mut map) = self.map.lock() {
            map.remove(&(ns.to_owned(), key.to_owned()));
        }
    }

    fn put(&self, ns: &str, key: &str, entry: Entry) {
        let Ok(mut map) = self.map.lock() else { return };
        if map.len() >= CAPACITY {
            map.clear();
        }
        let k = (ns.to_owned(), key.to_owned());
        match map.get(&k) {
            Some(old) if old.as_of > entry.as_of => {}
            _ => {
                map.insert(k, entry);
            }
        }
    }
}
