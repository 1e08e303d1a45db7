//! Typed access to the plugin's own key-value namespace.
//!
//! Values are stored as JSON, so anything `serde` can (de)serialize fits ([`get_bytes`]
//! and [`set_bytes`] store raw bytes). Reads within a turn are consistent and see the
//! turn's own writes; writes are buffered and commit with the turn (or not at all).
//! Keys are 1-512 bytes, values at most 1 MiB. Keys list in ascending byte order, all at
//! once ([`keys`], [`values`]) or a page at a time ([`page`]).

use serde::{Serialize, de::DeserializeOwned};

use crate::Error;
use crate::host::kv as raw;

pub use crate::bindings::wharf::bot::kv::KeyPage;

/// Read and decode the JSON value under `key`.
pub fn get<T>(key: &str) -> Result<Option<T>, Error>
where
    T: DeserializeOwned,
{
    let Some(bytes) = raw::get(key)? else {
        return Ok(None);
    };
    decode(key, &bytes).map(Some)
}

fn decode<T>(key: &str, bytes: &[u8]) -> Result<T, Error>
where
    T: DeserializeOwned,
{
    serde_json::from_slice(bytes)
        .map_err(|e| Error::InvalidInput(format!("value under {key:?} is not the expected JSON: {e}")))
}

/// Encode `value` as JSON and store it under `key`.
pub fn set<T>(key: &str, value: &T) -> Result<(), Error>
where
    T: Serialize + ?Sized,
{
    let bytes = serde_json::to_vec(value)?;
    raw::set(key, &bytes)?;
    Ok(())
}

/// Read the value under `key` (or `T::default()`), change it with `f`, store it, return it.
pub fn update<T, F>(key: &str, f: F) -> Result<T, Error>
where
    T: Serialize + DeserializeOwned + Default,
    F: FnOnce(&mut T),
{
    let mut value = get::<T>(key)?.unwrap_or_default();
    f(&mut value);
    set(key, &value)?;
    Ok(value)
}

/// The raw bytes under `key`.
pub fn get_bytes(key: &str) -> Result<Option<Vec<u8>>, Error> {
    Ok(raw::get(key)?)
}

/// Store raw bytes under `key`.
pub fn set_bytes(key: &str, value: &[u8]) -> Result<(), Error> {
    Ok(raw::set(key, value)?)
}

/// The JSON values under several keys, in order (`None` where a key is absent).
pub fn get_many<T>(keys: &[String]) -> Result<Vec<Option<T>>, Error>
where
    T: DeserializeOwned,
{
    let values = raw::get_many(keys)?;
    keys.iter().zip(values).map(|(k, v)| v.map(|bytes| decode(k, &bytes)).transpose()).collect()
}

/// Store several values as JSON, all or none.
pub fn set_many<T>(entries: &[(&str, &T)]) -> Result<(), Error>
where
    T: Serialize + ?Sized,
{
    let encoded = entries
        .iter()
        .map(|(k, v)| Ok(((*k).to_owned(), serde_json::to_vec(v)?)))
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(raw::set_many(&encoded)?)
}

/// Remove several keys.
pub fn delete_many(keys: &[String]) -> Result<(), Error> {
    Ok(raw::delete_many(keys)?)
}

/// Whether `key` holds a value.
pub fn exists(key: &str) -> Result<bool, Error> {
    Ok(raw::exists(key)?)
}

/// Remove `key`.
pub fn delete(key: &str) -> Result<(), Error> {
    raw::delete(key)?;
    Ok(())
}

/// Add `delta` to the integer counter under `key` and return the new value.
pub fn increment(key: &str, delta: i64) -> Result<i64, Error> {
    Ok(raw::increment(key, delta)?)
}

/// One page of the keys starting with `prefix`: at most `limit` (1-1000) of them, in
/// ascending order, after the key `after` if given. The page's `cursor` is the `after`
/// of the next page (`None` on the last one).
///
/// ```
/// use wharf_sdk::kv;
///
/// /// A page of 20 orders after `after`, and where the next page starts.
/// fn orders_page(after: Option<&str>) -> Result<(Vec<String>, Option<String>), wharf_sdk::Error> {
///     let page = kv::page("order:", after, 20)?;
///     Ok((page.keys, page.cursor))
/// }
/// ```
pub fn page(prefix: &str, after: Option<&str>, limit: u32) -> Result<KeyPage, Error> {
    Ok(raw::list_keys(prefix, after, limit)?)
}

/// All keys starting with `prefix`, fetched page by page.
pub fn keys(prefix: &str) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = raw::list_keys(prefix, cursor.as_deref(), 1000)?;
        out.extend(page.keys);
        match page.cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(out),
        }
    }
}

/// Values of all keys starting with `prefix`, in key order, read a page (1000 keys) per
/// host call.
pub fn values<T>(prefix: &str) -> Result<Vec<T>, Error>
where
    T: DeserializeOwned,
{
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = raw::list_keys(prefix, cursor.as_deref(), 1000)?;
        for (key, bytes) in page.keys.iter().zip(raw::get_many(&page.keys)?) {
            if let Some(bytes) = bytes {
                out.push(decode(key, &bytes)?);
            }
        }
        match page.cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(out),
        }
    }
}
