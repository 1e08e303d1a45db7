//! `wharf:bot/kv`: the running plugin's own namespace. Reads consult this call's
//! writes, then the turn's, then the turn's read cache, then storage (recording the
//! version seen). Writes are buffered until commit.

use wasmtime::Result;
use wasmtime::component::{HasData, Linker};

use super::bindings::wharf::bot::kv::{self as wit, Error, Host, KeyPage};
use super::{Access, PluginState, Requirement};
use crate::config::Grant;

type KvResult<T> = Result<std::result::Result<T, Error>>;

/// Per-turn limits on KV writes.
#[derive(Clone, Copy, Debug)]
pub struct KvQuotas {
    /// Longest key, in bytes.
    pub max_key_bytes: usize,
    /// Largest value, in bytes.
    pub max_value_bytes: usize,
    /// Most bytes written by one turn.
    pub max_turn_write_bytes: usize,
    /// Most distinct keys written by one turn.
    pub max_turn_writes: usize,
}

impl Default for KvQuotas {
    fn default() -> Self {
        Self { max_key_bytes: 512, max_value_bytes: 1 << 20, max_turn_write_bytes: 8 << 20, max_turn_writes: 10_000 }
    }
}

/// Importing any `kv` function needs the `kv` grant.
pub(super) fn requirement(_func: &str) -> Requirement {
    Requirement::Grant(Grant::Kv)
}

/// `kv` as the running plugin may use it in one host call.
pub(crate) struct Kv<'a> {
    state: &'a mut PluginState,
    access: Access,
    quotas: KvQuotas,
}

impl PluginState {
    /// The `kv` view for this host call.
    pub(super) fn kv(&mut self) -> Kv<'_> {
        Kv { access: self.access(requirement("")), quotas: self.host.quotas.kv, state: self }
    }
}

/// [`HasData`] for linking `kv` to [`Kv`] views.
pub(super) struct KvCap;

impl HasData for KvCap {
    type Data<'a> = Kv<'a>;
}

/// Link `wharf:bot/kv` (the current version) to [`Kv`] views.
pub(super) fn add_to_linker(linker: &mut Linker<PluginState>) -> Result<()> {
    wit::add_to_linker::<_, KvCap>(linker, PluginState::kv)
}

impl Kv<'_> {
    /// `access-denied` unless the running plugin may use `kv` now.
    fn allowed(&self) -> std::result::Result<(), Error> {
        self.access.check(self.state.current().name(), "").map_err(|_| Error::AccessDenied)
    }

    fn ns(&self) -> String {
        self.state.current().name().as_str().to_owned()
    }

    fn check_key(&self, key: &str) -> std::result::Result<(), Error> {
        let max = self.quotas.max_key_bytes;
        if key.is_empty() || key.len() > max {
            return Err(Error::InvalidInput(format!("key must be 1-{max} bytes, got {}", key.len())));
        }
        Ok(())
    }

    /// The value of `key` in the running plugin's namespace as this turn sees it.
    async fn read(&mut self, key: &str) -> Result<Option<Vec<u8>>> {
        let k = (self.ns(), key.to_owned());
        let s = &mut *self.state;
        if let Some(v) = s.call.writes.get(&k).or_else(|| s.turn.applied.writes.get(&k)) {
            return Ok(v.clone());
        }
        if let Some((_, v)) = s.turn.reads.get(&k) {
            return Ok(v.clone());
        }
        let (value, version) = match s.host.storage.kv_get(&k.0, &k.1).await {
            Ok(found) => found,
            Err(e) => return Err(s.fault(format_args!("kv read: {e}"))),
        };
        s.turn.reads.insert(k, (version, value.clone()));
        Ok(value)
    }

    /// Buffer a write within the per-turn quotas, then check the KV quota across turns
    /// (which may read sizes from storage); a refused write leaves the call as it was.
    async fn write(&mut self, key: &str, value: Option<Vec<u8>>) -> KvResult<()> {
        if self.state.read_only {
            return Ok(Err(Error::AccessDenied));
        }
        if let Err(e) = self.check_key(key) {
            return Ok(Err(e));
        }
        let q = self.quotas;
        if let Some(v) = value.as_ref().filter(|v| v.len() > q.max_value_bytes) {
            return Ok(Err(Error::InvalidInput(format!("value is {} bytes; at most {}", v.len(), q.max_value_bytes))));
        }
        let (max_writes, max_bytes) = (q.max_turn_writes, q.max_turn_write_bytes);
        let k = (self.ns(), key.to_owned());
        let s = &mut *self.state;
        let before = s.call.writes.insert(k.clone(), value);
        let t = s.turn.totals(&s.call);
        let refused = if t.writes > max_writes || t.write_bytes > max_bytes {
            Err(Error::InvalidInput(format!("turn writes at most {max_writes} keys and {max_bytes} bytes")))
        } else {
            s.charge_kv(key).await?
        };
        if refused.is_err() {
            match before {
                Some(v) => s.call.writes.insert(k, v),
                None => s.call.writes.remove(&k),
            };
        }
        Ok(refused)
    }

    /// Apply `write` to every entry, all or nothing.
    async fn write_all(&mut self, entries: Vec<(String, Option<Vec<u8>>)>) -> KvResult<()> {
        if let Err(e) = self.allowed() {
            return Ok(Err(e));
        }
        let before = self.state.call.writes.clone();
        for (k, v) in entries {
            if let Err(e) = self.write(&k, v).await? {
                self.state.call.writes = before;
                return Ok(Err(e));
            }
        }
        Ok(Ok(()))
    }
}

impl Host for Kv<'_> {
    async fn get(&mut self, key: String) -> KvResult<Option<Vec<u8>>> {
        if let Err(e) = self.allowed().and_then(|()| self.check_key(&key)) {
            return Ok(Err(e));
        }
        Ok(Ok(self.read(&key).await?))
    }

    async fn set(&mut self, key: String, value: Vec<u8>) -> KvResult<()> {
        if let Err(e) = self.allowed() {
            return Ok(Err(e));
        }
        self.write(&key, Some(value)).await
    }

    async fn delete(&mut self, key: String) -> KvResult<()> {
        if let Err(e) = self.allowed() {
            return Ok(Err(e));
        }
        self.write(&key, None).await
    }

    async fn exists(&mut self, key: String) -> KvResult<bool> {
        if let Err(e) = self.allowed().and_then(|()| self.check_key(&key)) {
            return Ok(Err(e));
        }
        Ok(Ok(self.read(&key).await?.is_some()))
    }

    async fn list_keys(&mut self, prefix: String, cursor: Option<String>, limit: u32) -> KvResult<KeyPage> {
        if let Err(e) = self.allowed() {
            return Ok(Err(e));
        }
        let limit = usize::try_from(limit.clamp(1, 1000)).unwrap_or(1000);
        let ns = self.ns();
        let in_range = |k: &(String, String)| {
            k.0 == ns && k.1.starts_with(&prefix) && cursor.as_ref().is_none_or(|c| k.1.as_str() > c.as_str())
        };
        // Buffered writes in range, this call's over the turn's.
        let s = &mut *self.state;
        let mut buffered = std::collections::BTreeMap::new();
        for (k, v) in s.turn.applied.writes.iter().chain(s.call.writes.iter()).filter(|(k, _)| in_range(k)) {
            buffered.insert(k.1.clone(), v.is_some());
        }
        let deleted = buffered.values().filter(|present| !**present).count();
        // One more than needed, to know whether another page exists.
        let db_limit = i64::try_from(limit + deleted + 1).unwrap_or(i64::MAX);
        let seen = match s.host.storage.kv_keys(&ns, &prefix, cursor.as_deref(), db_limit).await {
            Ok(keys) => keys,
            Err(e) => return Err(s.fault(format_args!("kv list: {e}"))),
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
        s.turn.ranges.push(crate::storage::RangeRead { ns, prefix, after: cursor, limit: db_limit, seen });
        let more = keys.len() > limit || db_full;
        let keys: Vec<String> = keys.into_iter().take(limit).collect();
        let cursor = if more { keys.last().cloned() } else { None };
        Ok(Ok(KeyPage { keys, cursor }))
    }

    async fn increment(&mut self, key: String, delta: i64) -> KvResult<i64> {
        if let Err(e) = self.allowed().and_then(|()| self.check_key(&key)) {
            return Ok(Err(e));
        }
        let current = match self.read(&key).await? {
            None => 0,
            Some(bytes) => match std::str::from_utf8(&bytes).ok().and_then(|s| s.trim().parse::<i64>().ok()) {
                Some(n) => n,
                None => return Ok(Err(Error::InvalidInput(format!("value under {key:?} is not a decimal integer")))),
            },
        };
        let Some(next) = current.checked_add(delta) else {
            return Ok(Err(Error::InvalidInput(format!("{current} + {delta} overflows a 64-bit integer"))));
        };
        Ok(self.write(&key, Some(next.to_string().into_bytes())).await?.map(|()| next))
    }

    async fn get_many(&mut self, keys: Vec<String>) -> KvResult<Vec<Option<Vec<u8>>>> {
        if let Err(e) = self.allowed() {
            return Ok(Err(e));
        }
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
        self.write_all(entries.into_iter().map(|(k, v)| (k, Some(v))).collect()).await
    }

    async fn delete_many(&mut self, keys: Vec<String>) -> KvResult<()> {
        self.write_all(keys.into_iter().map(|k| (k, None)).collect()).await
    }
}
