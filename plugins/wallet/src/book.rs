//! The ledger itself, over any key-value [`Store`]: immutable entries, a balance that is
//! their sum and never negative, and idempotency keys. Kept free of host calls so it is
//! unit-tested natively against [`MemStore`].
//!
//! Keys: `acct:{user}` → [`Account`] (balance and entry count), `ent:{user}:{seq:010}` →
//! [`Entry`], `idem:{key}` → [`KeyUse`]. Entries and key uses written before categories
//! existed (no `category` field) still load: an entry gets the category inferred from its
//! key ([`Category::infer`]), and such a key is matched on user and amount alone, as it
//! was when it was written.

use serde::{Deserialize, Serialize, de::DeserializeOwned};

pub use crate::category::Category;

/// Largest amount one entry may move (10^15 minor units).
pub const MAX_AMOUNT: i64 = 1_000_000_000_000_000;
/// Longest reason, in characters.
pub const MAX_REASON: usize = 200;
/// Longest idempotency key, in bytes.
pub const MAX_KEY: usize = 128;

/// Where the book keeps its records.
pub trait Store {
    /// The bytes under `key`.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String>;
    /// Store `value` under `key`.
    fn set(&mut self, key: &str, value: Vec<u8>) -> Result<(), String>;
    /// Up to `limit` keys starting with `prefix`, ascending, after `after`.
    fn list(&self, prefix: &str, after: Option<&str>, limit: u32) -> Result<Vec<String>, String>;
}

/// One immutable ledger entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "StoredEntry")]
pub struct Entry {
    /// 1, 2, 3… within the user's ledger.
    pub seq: u64,
    /// Whose ledger.
    pub user: i64,
    /// Positive credit, negative debit.
    pub amount: i64,
    /// Balance right after.
    pub balance_after: i64,
    /// Why.
    pub reason: String,
    /// Idempotency key.
    pub key: String,
    /// Admin who made a manual entry.
    pub actor: Option<i64>,
    /// Unix milliseconds.
    pub at_ms: i64,
    /// What it is for (inferred for entries stored without one).
    pub category: Category,
}

/// An [`Entry`] as stored: rows written before categories existed have none.
#[derive(Deserialize)]
struct StoredEntry {
    seq: u64,
    user: i64,
    amount: i64,
    balance_after: i64,
    reason: String,
    key: String,
    actor: Option<i64>,
    at_ms: i64,
    #[serde(default)]
    category: Option<Category>,
}

impl From<StoredEntry> for Entry {
    fn from(e: StoredEntry) -> Self {
        let category = e.category.unwrap_or_else(|| Category::infer(&e.key, e.amount));
        Self {
            seq: e.seq,
            user: e.user,
            amount: e.amount,
            balance_after: e.balance_after,
            reason: e.reason,
            key: e.key,
            actor: e.actor,
            at_ms: e.at_ms,
            category,
        }
    }
}

/// A user's running totals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Sum of the entries.
    pub balance: i64,
    /// Number of entries.
    pub entries: u64,
}

/// What an idempotency key was used for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyUse {
    /// The user.
    pub user: i64,
    /// The signed amount.
    pub amount: i64,
    /// The entry it produced.
    pub seq: u64,
    /// The category asked for; absent in key uses written before categories existed,
    /// which match any category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
}

impl KeyUse {
    /// Whether `p` is the request this key was used for.
    fn same_request(&self, p: &Posting<'_>) -> bool {
        self.user == p.user && self.amount == p.amount && self.category.is_none_or(|c| c == p.category)
    }
}

/// Why a write was refused. Nothing was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BookError {
    /// Bad amount, reason or key.
    InvalidInput(String),
    /// The key was used for a different request (that request's entry).
    KeyReused(Box<Entry>),
    /// The balance does not cover the debit.
    Insufficient {
        /// What the user has.
        balance: i64,
        /// What was asked.
        needed: i64,
    },
    /// Storage failed or holds something unreadable.
    Other(String),
}

impl std::fmt::Display for BookError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InvalidInput(m) => write!(f, "invalid input: {m}"),
            Self::KeyReused(e) => write!(f, "idempotency key already used for entry {} of user {}", e.seq, e.user),
            Self::Insufficient { balance, needed } => {
                write!(f, "insufficient funds: balance {balance}, needed {needed}")
            }
            Self::Other(m) => f.write_str(m),
        }
    }
}

/// A write to post: a signed amount with its reason and key.
#[derive(Debug, Clone)]
pub struct Posting<'a> {
    /// Whose ledger.
    pub user: i64,
    /// Positive credit, negative debit.
    pub amount: i64,
    /// Why.
    pub reason: &'a str,
    /// Idempotency key.
    pub key: &'a str,
    /// Admin who made it.
    pub actor: Option<i64>,
    /// What it is for.
    pub category: Category,
}

/// What [`Book::reconcile`] found for one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reconciliation {
    /// The user.
    pub user: i64,
    /// The recorded balance.
    pub balance: i64,
    /// The sum of the entries.
    pub sum: i64,
    /// Entries read.
    pub entries: u64,
    /// Problems found (empty when the ledger reconciles).
    pub problems: Vec<String>,
}

/// The ledger over a store.
#[derive(Debug)]
pub struct Book<S> {
    store: S,
}

fn acct_key(user: i64) -> String {
    format!("acct:{user}")
}

fn entry_key(user: i64, seq: u64) -> String {
    format!("ent:{user}:{seq:010}")
}

impl<S> Book<S>
where
    S: Store,
{
    /// A book over `store`.
    pub fn new(store: S) -> Self {
        Self { store }
    }

    fn read<T>(&self, key: &str) -> Result<Option<T>, BookError>
    where
        T: DeserializeOwned,
    {
        let Some(bytes) = self.store.get(key).map_err(BookError::Other)? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes).map(Some).map_err(|e| BookError::Other(format!("record {key}: {e}")))
    }

    fn write<T>(&mut self, key: &str, value: &T) -> Result<(), BookError>
    where
        T: Serialize,
    {
        let bytes = serde_json::to_vec(value).map_err(|e| BookError::Other(e.to_string()))?;
        self.store.set(key, bytes).map_err(BookError::Other)
    }

    /// The user's totals.
    pub fn account(&self, user: i64) -> Result<Account, BookError> {
        Ok(self.read(&acct_key(user))?.unwrap_or_default())
    }

    /// The user's balance.
    pub fn balance(&self, user: i64) -> Result<i64, BookError> {
        Ok(self.account(user)?.balance)
    }

    /// Entry `seq` of the user.
    pub fn entry(&self, user: i64, seq: u64) -> Result<Option<Entry>, BookError> {
        self.read(&entry_key(user, seq))
    }

    /// Post a credit (positive) or debit (negative). Returns the entry and whether it is
    /// new (`false`: the key was used before for this same request: the same user,
    /// amount and category).
    pub fn post(&mut self, p: &Posting<'_>, at_ms: i64) -> Result<(Entry, bool), BookError> {
        self.post_announced(p, at_ms, |_| Ok(()))
    }

    /// [`post`](Self::post), calling `announce` with a new entry after every check and
    /// before anything is written: when it fails, nothing is written and its error is
    /// returned. Not called for a repeated request.
    pub fn post_announced<F>(&mut self, p: &Posting<'_>, at_ms: i64, announce: F) -> Result<(Entry, bool), BookError>
    where
        F: FnOnce(&Entry) -> Result<(), BookError>,
    {
        validate(p)?;
        let idem = format!("idem:{}", p.key);
        if let Some(used) = self.read::<KeyUse>(&idem)? {
            let entry = self
                .entry(used.user, used.seq)?
                .ok_or_else(|| BookError::Other(format!("entry {} of user {} is missing", used.seq, used.user)))?;
            if used.same_request(p) {
                return Ok((entry, false));
            }
            return Err(BookError::KeyReused(Box::new(entry)));
        }
        let mut acct = self.account(p.user)?;
        let next =
            acct.balance.checked_add(p.amount).ok_or_else(|| BookError::InvalidInput("balance overflow".into()))?;
        if next < 0 {
            return Err(BookError::Insufficient { balance: acct.balance, needed: -p.amount });
        }
        acct.balance = next;
        acct.entries += 1;
        let entry = Entry {
            seq: acct.entries,
            user: p.user,
            amount: p.amount,
            balance_after: next,
            reason: p.reason.to_owned(),
            key: p.key.to_owned(),
            actor: p.actor,
            at_ms,
            category: p.category,
        };
        announce(&entry)?;
        self.write(&entry_key(p.user, entry.seq), &entry)?;
        self.write(&acct_key(p.user), &acct)?;
        self.write(&idem, &KeyUse { user: p.user, amount: p.amount, seq: entry.seq, category: Some(p.category) })?;
        Ok((entry, true))
    }

    /// The user's latest `limit` entries, newest first.
    pub fn latest(&self, user: i64, limit: u32) -> Result<Vec<Entry>, BookError> {
        let acct = self.account(user)?;
        let mut out = Vec::new();
        let mut seq = acct.entries;
        while seq > 0 && out.len() < limit as usize {
            if let Some(e) = self.entry(user, seq)? {
                out.push(e);
            }
            seq -= 1;
        }
        Ok(out)
    }

    /// Users with an account, ascending by key.
    pub fn users(&self) -> Result<Vec<i64>, BookError> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self.store.list("acct:", after.as_deref(), 1000).map_err(BookError::Other)?;
            let Some(last) = page.last().cloned() else { return Ok(out) };
            out.extend(page.iter().filter_map(|k| k.strip_prefix("acct:")?.parse::<i64>().ok()));
            after = Some(last);
        }
    }

    /// Re-add the user's entries and compare with the recorded balance; check every
    /// running balance is the previous one plus the amount, and never negative.
    pub fn reconcile(&self, user: i64) -> Result<Reconciliation, BookError> {
        let acct = self.account(user)?;
        let prefix = format!("ent:{user}:");
        let (mut sum, mut count, mut problems) = (0i64, 0u64, Vec::new());
        let mut after: Option<String> = None;
        loop {
            let page = self.store.list(&prefix, after.as_deref(), 1000).map_err(BookError::Other)?;
            let Some(last) = page.last().cloned() else { break };
            for key in &page {
                let Some(e) = self.read::<Entry>(key)? else { continue };
                count += 1;
                sum = sum.saturating_add(e.amount);
                if e.seq != count {
                    problems.push(format!("entry {} found where {count} was expected", e.seq));
                }
                if e.balance_after != sum {
                    problems.push(format!("entry {} says balance {}, entries add up to {sum}", e.seq, e.balance_after));
                }
                if sum < 0 {
                    problems.push(format!("balance negative after entry {}", e.seq));
                }
            }
            after = Some(last);
        }
        if sum != acct.balance {
            problems.push(format!("recorded balance {} but entries add up to {sum}", acct.balance));
        }
        if count != acct.entries {
            problems.push(format!("recorded {} entries but found {count}", acct.entries));
        }
        Ok(Reconciliation { user, balance: acct.balance, sum, entries: count, problems })
    }
}

fn validate(p: &Posting<'_>) -> Result<(), BookError> {
    let bad = |m: String| Err(BookError::InvalidInput(m));
    if p.amount == 0 || p.amount.unsigned_abs() > MAX_AMOUNT.unsigned_abs() {
        return bad(format!("amount must be 1..={MAX_AMOUNT} minor units, got {}", p.amount.unsigned_abs()));
    }
    if p.reason.trim().is_empty() || p.reason.chars().count() > MAX_REASON {
        return bad(format!("reason must be 1-{MAX_REASON} characters"));
    }
    if p.key.is_empty() || p.key.len() > MAX_KEY || p.key.chars().any(char::is_control) {
        return bad(format!("idempotency key must be 1-{MAX_KEY} bytes without control characters"));
    }
    Ok(())
}

/// An in-memory [`Store`] for tests and tools.
#[derive(Debug, Default, Clone)]
pub struct MemStore(pub std::collections::BTreeMap<String, Vec<u8>>);

impl Store for MemStore {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        Ok(self.0.get(key).cloned())
    }

    fn set(&mut self, key: &str, value: Vec<u8>) -> Result<(), String> {
        self.0.insert(key.to_owned(), value);
        Ok(())
    }

    fn list(&self, prefix: &str, after: Option<&str>, limit: u32) -> Result<Vec<String>, String> {
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

    fn credit(b: &mut Book<MemStore>, user: i64, amount: i64, key: &str) -> Result<(Entry, bool), BookError> {
        b.post(&Posting { user, amount, reason: "test", key, actor: None, category: Category::Adjustment }, 1)
    }

    #[test]
    fn balance_is_the_sum_and_never_negative() {
        let mut b = Book::new(MemStore::default());
        credit(&mut b, 1, 500, "a").unwrap();
        credit(&mut b, 1, -200, "b").unwrap();
        assert_eq!(b.balance(1).unwrap(), 300);
        assert_eq!(credit(&mut b, 1, -301, "c").unwrap_err(), BookError::Insufficient { balance: 300, needed: 301 });
        assert_eq!(b.balance(1).unwrap(), 300, "a refused debit writes nothing");
        assert!(b.store.get("idem:c").unwrap().is_none(), "a refused key stays free");
        credit(&mut b, 1, -300, "c").unwrap();
        let r = b.reconcile(1).unwrap();
        assert_eq!((r.sum, r.balance, r.entries), (0, 0, 3));
        assert!(r.problems.is_empty(), "{:?}", r.problems);
    }

    #[test]
    fn same_key_same_request_applies_once_and_different_request_is_refused() {
        let mut b = Book::new(MemStore::default());
        let (first, new) = credit(&mut b, 1, 500, "k").unwrap();
        assert!(new);
        let (again, new) = credit(&mut b, 1, 500, "k").unwrap();
        assert!(!new);
        assert_eq!(first, again);
        assert_eq!(b.balance(1).unwrap(), 500);
        assert_eq!(credit(&mut b, 1, 501, "k").unwrap_err(), BookError::KeyReused(Box::new(first.clone())));
        assert_eq!(credit(&mut b, 2, 500, "k").unwrap_err(), BookError::KeyReused(Box::new(first.clone())));
        assert_eq!(credit(&mut b, 1, -500, "k").unwrap_err(), BookError::KeyReused(Box::new(first)));
        assert_eq!(b.account(1).unwrap(), Account { balance: 500, entries: 1 });
    }

    #[test]
    fn bad_input_is_refused() {
        let mut b = Book::new(MemStore::default());
        for (amount, reason, key) in [
            (0, "r", "k"),
            (MAX_AMOUNT + 1, "r", "k"),
            (i64::MIN, "r", "k"),
            (5, " ", "k"),
            (5, "r", ""),
            (5, "r", "a\nb"),
        ] {
            let p = Posting { user: 1, amount, reason, key, actor: None, category: Category::Bonus };
            let e = b.post(&p, 0).unwrap_err();
            assert!(matches!(e, BookError::InvalidInput(_)), "{amount} {reason:?} {key:?}: {e:?}");
        }
        let long = "x".repeat(MAX_KEY + 1);
        let p = Posting { user: 1, amount: 1, reason: "r", key: &long, actor: None, category: Category::Bonus };
        assert!(b.post(&p, 0).is_err());
        assert!(b.store.0.is_empty());
    }

    #[test]
    fn latest_entries_newest_first_and_reconcile_spots_tampering() {
        let mut b = Book::new(MemStore::default());
        for i in 1..=5 {
            credit(&mut b, 7, i * 10, &format!("k{i}")).unwrap();
        }
        let seqs: Vec<u64> = b.latest(7, 3).unwrap().iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [5, 4, 3]);
        assert_eq!(b.users().unwrap(), [7]);
        b.write(&acct_key(7), &Account { balance: 1, entries: 5 }).unwrap();
        let r = b.reconcile(7).unwrap();
        assert_eq!(r.sum, 150);
        assert_eq!(r.problems, ["recorded balance 1 but entries add up to 150"]);
    }

    #[test]
    fn a_key_belongs_to_one_category() {
        let mut b = Book::new(MemStore::default());
        let p = |category| Posting { user: 1, amount: 500, reason: "r", key: "k", actor: None, category };
        let (first, new) = b.post(&p(Category::Deposit), 1).unwrap();
        assert!(new);
        assert_eq!(first.category, Category::Deposit);
        assert_eq!(b.post(&p(Category::Deposit), 2).unwrap(), (first.clone(), false));
        assert_eq!(b.post(&p(Category::Bonus), 2).unwrap_err(), BookError::KeyReused(Box::new(first.clone())));
        assert_eq!(b.entry(1, 1).unwrap(), Some(first));
        assert_eq!(b.account(1).unwrap(), Account { balance: 500, entries: 1 });
    }
}
