//! Where the analytics read and write: a key-value [`Store`] of JSON values. [`KvStore`]
//! is the plugin's KV namespace; [`MemStore`] keeps the counting and the views
//! unit-tested natively (and lets a test look at every stored value).

use std::collections::BTreeMap;

use serde::{Serialize, de::DeserializeOwned};
use wharf_sdk::{Error, kv};

/// Most keys read or written per host call.
pub const BATCH: usize = 500;

/// A key-value store of JSON values, read and written in batches.
pub trait Store {
    /// The values under `keys`, in order (`None` where absent).
    fn get_many<T: DeserializeOwned>(&mut self, keys: &[String]) -> Result<Vec<Option<T>>, Error>;
    /// Store every `(key, value)`.
    fn put_many<T: Serialize>(&mut self, entries: &[(String, T)]) -> Result<(), Error>;
    /// Remove `keys`.
    fn delete_many(&mut self, keys: &[String]) -> Result<(), Error>;
    /// Up to `limit` (1-1000) keys starting with `prefix` after `after`, ascending, and
    /// the cursor of the next page.
    fn page(&mut self, prefix: &str, after: Option<&str>, limit: u32) -> Result<(Vec<String>, Option<String>), Error>;

    /// The value under `key`.
    fn get<T: DeserializeOwned>(&mut self, key: &str) -> Result<Option<T>, Error> {
        Ok(self.get_many(&[key.to_owned()])?.pop().flatten())
    }

    /// Store `value` under `key`.
    fn put<T: Serialize>(&mut self, key: &str, value: T) -> Result<(), Error> {
        self.put_many(&[(key.to_owned(), value)])
    }

    /// Every key starting with `prefix`, ascending.
    fn keys(&mut self, prefix: &str) -> Result<Vec<String>, Error> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let (keys, next) = self.page(prefix, after.as_deref(), 1000)?;
            out.extend(keys);
            match next {
                Some(n) => after = Some(n),
                None => return Ok(out),
            }
        }
    }

    /// The values under many keys, [`BATCH`] per call.
    fn get_all<T: DeserializeOwned>(&mut self, keys: &[String]) -> Result<Vec<Option<T>>, Error> {
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(BATCH) {
            out.extend(self.get_many(chunk)?);
        }
        Ok(out)
    }

    /// Remove many keys, [`BATCH`] per call.
    fn delete_all(&mut self, keys: &[String]) -> Result<(), Error> {
        for chunk in keys.chunks(BATCH) {
            self.delete_many(chunk)?;
        }
        Ok(())
    }
}

/// The plugin's KV namespace (grant `kv`).
#[derive(Debug, Default)]
pub struct KvStore;

impl Store for KvStore {
    fn get_many<T: DeserializeOwned>(&mut self, keys: &[String]) -> Result<Vec<Option<T>>, Error> {
        kv::get_many(keys)
    }

    fn put_many<T: Serialize>(&mut self, entries: &[(String, T)]) -> Result<(), Error> {
        let refs: Vec<(&str, &T)> = entries.iter().map(|(k, v)| (k.as_str(), v)).collect();
        kv::set_many(&refs)
    }

    fn delete_many(&mut self, keys: &[String]) -> Result<(), Error> {
        kv::delete_many(keys)
    }

    fn page(&mut self, prefix: &str, after: Option<&str>, limit: u32) -> Result<(Vec<String>, Option<String>), Error> {
        let page = kv::page(prefix, after, limit)?;
        Ok((page.keys, page.cursor))
    }
}

/// An in-memory store (JSON bytes by key), for native tests.
#[derive(Debug, Default, Clone)]
pub struct MemStore {
    /// Every key and its JSON bytes.
    pub map: BTreeMap<String, Vec<u8>>,
}

impl Store for MemStore {
    fn get_many<T: DeserializeOwned>(&mut self, keys: &[String]) -> Result<Vec<Option<T>>, Error> {
        keys.iter()
            .map(|k| {
                self.map
                    .get(k)
                    .map(|b| serde_json::from_slice(b).map_err(|e| Error::Other(format!("{k}: {e}"))))
                    .transpose()
            })
            .collect()
    }

    fn put_many<T: Serialize>(&mut self, entries: &[(String, T)]) -> Result<(), Error> {
        for (k, v) in entries {
            self.map.insert(k.clone(), serde_json::to_vec(v)?);
        }
        Ok(())
    }

    fn delete_many(&mut self, keys: &[String]) -> Result<(), Error> {
        for k in keys {
            self.map.remove(k);
        }
        Ok(())
    }

    fn page(&mut self, prefix: &str, after: Option<&str>, limit: u32) -> Result<(Vec<String>, Option<String>), Error> {
        let limit = usize::try_from(limit.clamp(1, 1000)).unwrap_or(1000);
        let mut keys: Vec<String> = self
            .map
            .keys()
            .filter(|k| k.starts_with(prefix) && after.is_none_or(|a| k.as_str() > a))
            .take(limit + 1)
            .cloned()
            .collect();
        let more = keys.len() > limit;
        keys.truncate(limit);
        let next = if more { keys.last().cloned() } else { None };
        Ok((keys, next))
    }
}
