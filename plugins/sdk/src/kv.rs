//! Typed access to the plugin's own key-value namespace.
//!
//! Values are stored as JSON, so anything `serde` can (de)serialize fits. Reads within a
//! turn are consistent; writes are buffered and commit with the turn (or not at all).

use serde::{Serialize, de::DeserializeOwned};

use crate::Error;
use crate::bindings::wharf::bot::kv as raw;

pub use raw::KeyPage;

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

/// Remove `key`.
pub fn delete(key: &str) -> Result<(), Error> {
    raw::delete(key)?;
    Ok(())
}

/// Add `delta` to the integer counter under `key` and return the new value.
pub fn increment(key: &str, delta: i64) -> Result<i64, Error> {
    Ok(raw::increment(key, delta)?)
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
