//! `wharf:bot/kv`: the running plugin's own namespace. Reads consult this call's
//! writes, then the turn's, then the turn's read cache, then storage (recording the
//! version seen). Writes are buffered until commit.

use wasmtime::Result;

use super::bindings::wharf::bot::kv::{Error, Host, KeyPage};
use super::{PluginState, Requirement};
use crate::config::Grant;

type KvResult<T> = Result<std::result::Result<T, Error>>;

impl PluginState {
    fn ns(&self) -> String {
        self.current().name().as_str().to_owned()
    }

    fn check_key(&self, key: &str) -> std::result::Result<(), Error> {
        let max = self.host.quotas.max_key_bytes;
        if key.is_empty() || key.len() > max {
            return Err(Error::InvalidInput(format!("key must be 1-{max} bytes, got {}", key.len())));
        }
        Ok(())
    }

    fn deny_if_describing(&self) -> std::result::Result<(), Error> {
        if self.describing { Err(Error::AccessDenied) } else { Ok(()) }
    }

    /// The value of `key` in the running plugin's namespace as this turn sees it.
    async fn kv_read(&mut self, key: &str) -> Result<Option<Vec<u8>>> {
        let k = (self.ns(), key.to_owned());
        if let Some(v) = self.call.writes.get(&k).or_else(|| self.turn.applied.writes.get(&k)) {
            return Ok(v.clone());
        }
        if let Some((_, v)) = self.turn.reads.get(&k) {
            return Ok(v.clone());
        }
        let (value, version) = match self.host.storage.kv_get(&k.0, &k.1).await {
            Ok(found) => found,
            Err(e) => return Err(self.fault(format_args!("kv read: {e}"))),
        };
        self.turn.reads.insert(k, (version, value.clone()));
        Ok(value)
    }

    /// Buffer a write within the per-turn quotas, then check the KV quota across turns
    /// (which may read sizes from storage); a refused write leaves the call as it was.
    async fn kv_write(&mut self, key: &str, value: Option<Vec<u8>>) -> KvResult<()> {
        if let Err(e) = self.check_key(key) {
            return Ok(Err(e));
        }
        let q = &self.host.quotas;
        if let Some(v) = value.as_ref().filter(|v| v.len() > q.max_value_bytes) {
            return Ok(Err(Error::InvalidInput(format!("value is {} bytes; at most {}", v.len(), q.max_value_bytes))));
        }
        let (max_writes, max_bytes) = (q.max_turn_writes, q.max_turn_write_bytes);
        let k = (self.ns(), key.to_owned());
        let before = self.call.writes.insert(k.clone(), value);
        let t = self.turn.totals(&self.call);
        let refused = if t.writes > max_writes || t.write_bytes > max_bytes {
            Err(Error::InvalidInput(format!("turn writes at most {max_writes} keys and {max_bytes} bytes")))
        } else {
            self.charge_kv(key).await?
        };
        if refused.is_err() {
            match before {
                Some(v) => self.call.writes.insert(k, v),
                None => self.call.writes.remove(&k),
            };
        }
        Ok(refused)
    }
}

/// Importing any `kv` function needs the `kv` grant.
pub(super) fn requirement(_func: &str) -> Requirement {
    Requirement::Grant(Grant::Kv)
}

impl Host for PluginState {
    async fn get(&mut self, key: String) -> KvResult<Option<Vec<u8>>> {
        if let Err(e) = self.deny_if_describing().and_then(|()| self.check_key(&key)) {
            return Ok(Err(e));
        }
        Ok(Ok(self.kv_read(&key).await?))
    }

    async fn set(&mut self, key: String, value: Vec<u8>) -> KvResult<()> {
        if let Err(e) = self.deny_if_describing() {
            return Ok(Err(e));
        }
        self.kv_write(&key, Some(value)).await
    }

    async fn delete(&mut self, key: String) -> KvResult<()> {
        if let Err(e) = self.deny_if_describing() {
            return Ok(Err(e));
        }
        self.kv_write(&key, None).await
    }

    async fn exists(&mut self, key: String) -> KvResult<bool> {
        if let Err(e) = self.deny_if_describing().and_then(|()| self.check_key(&key)) {
            return Ok(Err(e));
        }
        Ok(Ok(self.kv_read(&key).await?.is_some()))
    }

    async fn list_keys(&mut self, prefix: String, cursor: Option<String>, limit: u32) -> KvResult<KeyPage> {
        if let Err(e) = self.deny_if_describing() {
            return Ok(Err(e));
        }
        let limit = usize::try_from(limit.clamp(1, 1000)).unwrap_or(1000);
        let ns = self.ns();
        let in_range = |k: &(String, String)| {
            k.0 == ns && k.1.starts_with(&prefix) && cursor.as_ref().is_none_or(|c| k.1.as_str() > c.as_str())
        };
        // Buffered writes in range, this call's over the turn's.
        let mut buffered = std::collections::BTreeMap::new();
        for (k, v) in self.turn.applied.writes.iter().chain(self.call.writes.iter()).filter(|(k, _)| in_range(k)) {
            buffered.insert(k.1.clone(), v.is_some());
        }
        let deleted = buffered.values().filter(|present| !**present).count();
        // One more than needed, to know whether another page exists.
        let db_limit = i64::try_from(limit + deleted + 1).unwrap_or(i64::MAX);
        let seen = match self.host.storage.kv_keys(&ns, &prefix, cursor.as_deref(), db_limit).await {
            Ok(keys) => keys,
            Err(e) => return Err(self.fault(format_args!("kv list: {e}"))),
        };
        let db_full = i64::try_from(seen.len()).unwrap_or(i64::MAX) == db_limit;
        let mut keys: std::collections::BTreeSet<String> = seen.iter().cloned().collect();
        for (k, present) in buffered {
            if present {
                keys.insert(k);
            } else {
                keys.remove(&k);
            }
        }
        self.turn.ranges.push(crate::storage::RangeRead { ns, prefix, after: cursor, limit: db_limit, seen });
        let more = keys.len() > limit || db_full;
        let keys: Vec<String> = keys.into_iter().take(limit).collect();
        let cursor = if more { keys.last().cloned() } else { None };
        Ok(Ok(KeyPage { keys, cursor }))
    }

    async fn increment(&mut self, key: String, delta: i64) -> KvResult<i64> {
        if let Err(e) = self.deny_if_describing().and_then(|()| self.check_key(&key)) {
            return Ok(Err(e));
        }
        let current = match self.kv_read(&key).await? {
            None => 0,
            Some(bytes) => match std::str::from_utf8(&bytes).ok().and_then(|s| s.trim().parse::<i64>().ok()) {
                Some(n) => n,
                None => return Ok(Err(Error::InvalidInput(format!("value under {key:?} is not a decimal integer")))),
            },
        };
        let Some(next) = current.checked_add(delta) else {
            return Ok(Err(Error::InvalidInput(format!("{current} + {delta} overflows a 64-bit integer"))));
        };
        Ok(self.kv_write(&key, Some(next.to_string().into_bytes())).await?.map(|()| next))
    }

    async fn get_many(&mut self, keys: Vec<String>) -> KvResult<Vec<Option<Vec<u8>>>> {
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            match self.get(key).await? {
                Ok(v) => out.push(v),
                Err(e) => return Ok(Err(e)),
            }
        }
        Ok(Ok(out))
    }

    async fn set_many(&mut self, entries: Vec<(String, Vec<u8>)>) -> KvResult<()> {
        if let Err(e) = self.deny_if_describing() {
            return Ok(Err(e));
        }
        let before = self.call.writes.clone();
        for (k, v) in entries {
            if let Err(e) = self.kv_write(&k, Some(v)).await? {
                self.call.writes = before;
                return Ok(Err(e));
            }
        }
        Ok(Ok(()))
    }

    async fn delete_many(&mut self, keys: Vec<String>) -> KvResult<()> {
        if let Err(e) = self.deny_if_describing() {
            return Ok(Err(e));
        }
        let before = self.call.writes.clone();
        for k in keys {
            if let Err(e) = self.kv_write(&k, None).await? {
                self.call.writes = before;
                return Ok(Err(e));
            }
        }
        Ok(Ok(()))
    }
}
