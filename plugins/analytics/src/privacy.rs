//! Deleting: `/forgetme` removes every row about the user (and the cached day rollups
//! that counted them, which are summed again without them), and pruning removes the
//! days older than `keep_days` and the users not seen since, a bounded batch per run.

use serde_json::Value;
use wharf_sdk::Error;

use crate::model::{self, UserRecord, date, date_of, day_key, event_key, new_key, rollup_key, user_key};
use crate::store::Store;

/// Most keys one pruning run deletes (the next run goes on).
pub const PRUNE_BATCH: usize = 2_000;
/// User records one pruning run looks at.
const USERS_PER_RUN: u32 = 500;
/// Where the pruning of user records goes on from.
pub const CURSOR_KEY: &str = "prune:cursor";

/// Delete everything analytics keeps about `user`: their daily counts (updates and
/// business events) from `keep_days` back (or their first day, if earlier) to today,
/// the cohort mark, the record, and the cached rollups of those days. Returns how many
/// rows went (0: nothing was kept about them).
pub fn forget<S: Store>(s: &mut S, user: i64, now_ms: i64, keep_days: u32) -> Result<usize, Error> {
    let today = model::day_of(now_ms);
    let rec: Option<UserRecord> = s.get(&user_key(user))?;
    let from = (today - i64::from(keep_days)).min(rec.as_ref().map_or(today, |r| r.first));
    let days: Vec<i64> = (from..=today).collect();
    let keys: Vec<String> = days.iter().flat_map(|d| [day_key(*d, user), event_key(*d, user)]).collect();
    let found: Vec<Option<Value>> = s.get_all(&keys)?;
    let mut gone: Vec<String> = Vec::new();
    let mut rollups: Vec<String> = Vec::new();
    for (day, pair) in days.iter().zip(found.chunks(2).zip(keys.chunks(2))) {
        let (values, pair_keys) = pair;
        for (v, k) in values.iter().zip(pair_keys) {
            if v.is_some() {
                gone.push(k.clone());
            }
        }
        if values.iter().any(Option::is_some) {
            rollups.push(rollup_key(*day));
        }
    }
    if let Some(r) = &rec {
        gone.push(user_key(user));
        gone.push(new_key(r.first, user));
        rollups.push(rollup_key(r.first));
    }
    let rows = gone.len();
    gone.extend(rollups);
    s.delete_all(&gone)?;
    Ok(rows)
}

/// Delete up to [`PRUNE_BATCH`] rows older than `keep_days` (days before today minus
/// `keep_days`) and look at the next user records, deleting those last seen before
/// then. Returns true when it stopped at the batch limit (run it again).
pub fn prune<S: Store>(s: &mut S, now_ms: i64, keep_days: u32) -> Result<bool, Error> {
    let cutoff = date(model::day_of(now_ms) - i64::from(keep_days));
    let mut old: Vec<String> = Vec::new();
    'prefixes: for prefix in ["d:", "e:", "n:", "r:"] {
        let mut after: Option<String> = None;
        loop {
            let (keys, next) = s.page(prefix, after.as_deref(), 1000)?;
            for k in keys {
                if date_of(&k).is_none_or(|d| d >= cutoff.as_str()) {
                    continue 'prefixes;
                }
                old.push(k);
                if old.len() >= PRUNE_BATCH {
                    break 'prefixes;
                }
            }
            match next {
                Some(n) => after = Some(n),
                None => continue 'prefixes,
            }
        }
    }
    let full = old.len() >= PRUNE_BATCH;
    s.delete_all(&old)?;
    let cursor: Option<String> = s.get(CURSOR_KEY)?;
    let (keys, next) = s.page("u:", cursor.as_deref(), USERS_PER_RUN)?;
    let cutoff_day = model::day_of(now_ms) - i64::from(keep_days);
    let records: Vec<Option<UserRecord>> = s.get_all(&keys)?;
    let stale: Vec<String> = keys
        .iter()
        .zip(records)
        .filter(|(_, r)| r.as_ref().is_some_and(|r| r.last < cutoff_day))
        .map(|(k, _)| k.clone())
        .collect();
    s.delete_all(&stale)?;
    match next {
        Some(n) => s.put(CURSOR_KEY, n)?,
        None => s.delete_many(&[CURSOR_KEY.to_owned()])?,
    }
    Ok(full)
}
