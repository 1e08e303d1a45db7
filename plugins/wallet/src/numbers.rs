//! Numbers people see, 1, 2, 3… per kind of record (`deposit`), kept with the record and
//! apart from its id (ids are the turns that made the records; keys, buttons and
//! idempotency keys keep using them).
//!
//! Keys: `next:{kind}` → the last number given (a decimal integer, as the host's
//! `increment` keeps counters); `no:{kind}:{number}` → the id of the record with it.

use crate::book::Store;

fn counter_key(kind: &str) -> String {
    format!("next:{kind}")
}

fn index_key(kind: &str, number: i64) -> String {
    format!("no:{kind}:{number:020}")
}

fn read_i64<S: Store>(s: &S, key: &str) -> Result<Option<i64>, String> {
    let Some(bytes) = s.get(key)? else { return Ok(None) };
    let text = std::str::from_utf8(&bytes).map_err(|e| format!("{key}: {e}"))?;
    text.trim().parse().map(Some).map_err(|e| format!("{key}: {e}"))
}

/// Give the record `id` of `kind` the next number; returns it.
pub fn assign<S: Store>(s: &mut S, kind: &str, id: i64) -> Result<i64, String> {
    let number = read_i64(s, &counter_key(kind))?.unwrap_or(0) + 1;
    s.set(&counter_key(kind), number.to_string().into_bytes())?;
    s.set(&index_key(kind, number), id.to_string().into_bytes())?;
    Ok(number)
}

/// The id of the record of `kind` numbered `number`.
pub fn find<S: Store>(s: &S, kind: &str, number: i64) -> Result<Option<i64>, String> {
    read_i64(s, &index_key(kind, number))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::MemStore;

    #[test]
    fn each_kind_counts_from_one() {
        let mut s = MemStore::default();
        assert_eq!(assign(&mut s, "deposit", 8_812).unwrap(), 1);
        assert_eq!(assign(&mut s, "deposit", 9_001).unwrap(), 2);
        assert_eq!(assign(&mut s, "refund", 9_002).unwrap(), 1);
        assert_eq!(find(&s, "deposit", 2).unwrap(), Some(9_001));
        assert_eq!(find(&s, "deposit", 3).unwrap(), None);
        assert_eq!(find(&s, "refund", 1).unwrap(), Some(9_002));
        assert_eq!(s.0["next:deposit"], b"2");
    }
}
