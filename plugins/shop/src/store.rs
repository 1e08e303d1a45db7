//! Where the shop's logic reads and writes its records: a key-value [`Store`] of JSON
//! values. [`KvStore`] is the plugin's KV namespace; [`MemStore`] keeps the catalog,
//! import and numbering logic unit-tested natively.

use std::collections::BTreeMap;

use serde::{Serialize, de::DeserializeOwned};
use wharf_sdk::Error;
use wharf_sdk::kv;

/// A key-value store of JSON values.
pub trait Store: Sized {
    /// The bytes under `key`.
    fn get_raw(&self, key: &str) -> Result<Option<Vec<u8>>, Error>;
    /// Store `value` under `key`.
    fn set_raw(&mut self, key: &str, value: Vec<u8>) -> Result<(), Error>;
    /// Remove `key`.
    fn delete(&mut self, key: &str) -> Result<(), Error>;
    /// Up to `limit` keys starting with `prefix`, ascending, after `after`.
    fn list(&self, prefix: &str, after: Option<&str>, limit: u32) -> Result<Vec<String>, Error>;

    /// Add `delta` to the decimal counter under `key` (absent is 0); the new value.
    fn increment(&mut self, key: &str, delta: i64) -> Result<i64, Error> {
        let now: i64 = self.get(key)?.unwrap_or(0);
        let next = now.checked_add(delta).ok_or_else(|| Error::Other(format!("counter {key} overflows")))?;
        self.set(key, &next)?;
        Ok(next)
    }

    /// The JSON value under `key`.
    fn get<T>(&self, key: &str) -> Result<Option<T>, Error>
    where
        T: DeserializeOwned,
    {
        let Some(bytes) = self.get_raw(key)? else { return Ok(None) };
        serde_json::from_slice(&bytes).map(Some).map_err(|e| Error::Other(format!("record {key}: {e}")))
    }

    /// Store `value` as JSON under `key`.
    fn set<T>(&mut self, key: &str, value: &T) -> Result<(), Error>
    where
        T: Serialize + ?Sized,
    {
        let bytes = serde_json::to_vec(value).map_err(|e| Error::Other(format!("record {key}: {e}")))?;
        self.set_raw(key, bytes)
    }

    /// Every key starting with `prefix`, ascending.
    fn keys(&self, prefix: &str) -> Result<Vec<String>, Error> {
        let mut out: Vec<String> = Vec::new();
        loop {
            let page = self.list(prefix, out.last().map(String::as_str), 1000)?;
            if page.is_empty() {
                return Ok(out);
            }
            out.extend(page);
        }
    }

    /// The values of every key starting with `prefix`, in key order.
    fn values<T>(&self, prefix: &str) -> Result<Vec<T>, Error>
    where
        T: DeserializeOwned,
    {
        let mut out = Vec::new();
        for key in self.keys(prefix)? {
            if let Some(v) = self.get(&key)? {
                out.push(v);
            }
        }
        Ok(out)
    }
}

/// The plugin's KV namespace.
#[derive(Debug, Default, Clone, Copy)]
pub struct KvStore;

impl Store for KvStore {
    fn get_raw(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        kv::get_bytes(key)
    }

    fn set_raw(&mut self, key: &str, value: Vec<u8>) -> Result<(), Error> {
        kv::set_bytes(key, &value)
    }

    fn delete(&mut self, key: &str) -> Result<(), Error> {
        kv::delete(key)
    }

    fn list(&self, prefix: &str, after: Option<&str>, limit: u32) -> Result<Vec<String>, Error> {
        Ok(kv::page(prefix, after, limit)?.keys)
    }

    fn increment(&mut self, key: &str, delta: i64) -> Result<i64, Error> {
        kv::increment(key, delta)
    }

    fn values<T>(&self, prefix: &str) -> Result<Vec<T>, Error>
    where
        T: DeserializeOwned,
    {
        // A page of values per host call.
        wharf_sdk::kv::values(prefix)
    }
}

/// An in-memory [`Store`] for tests.
#[derive(Debug, Default, Clone)]
pub struct MemStore(pub BTreeMap<String, Vec<u8>>);

impl Store for MemStore {
    fn get_raw(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        Ok(self.0.get(key).cloned())
    }

    fn set_raw(&mut self, key: &str, value: Vec<u8>) -> Result<(), Error> {
        self.0.insert(key.to_owned(), value);
        Ok(())
    }

    fn delete(&mut self, key: &str) -> Result<(), Error> {
        self.0.remove(key);
        Ok(())
    }

    fn list(&self, prefix: &str, after: Option<&str>, limit: u32) -> Result<Vec<String>, Error> {
        Ok(self
            .0
            .range::<str, _>((std::ops::Bound::Included(prefix), std::ops::Bound::Unbounded))
            .map(|(k, _)| k)
            .take_while(|k| k.starts_with(prefix))
            .filter(|k| after.is_none_or(|a| k.as_str() > a))
            .take(limit as usize)
            .cloned()
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_listings() {
        let mut s = MemStore::default();
        assert_eq!(s.increment("next:item", 1).unwrap(), 1);
        assert_eq!(s.increment("next:item", 2).unwrap(), 3);
        // Stored as a decimal integer, as the host's `increment` keeps counters.
        assert_eq!(s.get_raw("next:item").unwrap().unwrap(), b"3");
        for i in 0..2_500u32 {
            s.set(&format!("k:{i:05}"), &i).unwrap();
        }
        assert_eq!(s.keys("k:").unwrap().len(), 2_500);
        assert_eq!(s.values::<u32>("k:0000").unwrap(), (0..10).collect::<Vec<_>>());
    }
}
