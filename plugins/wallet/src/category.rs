//! What a ledger entry is for: its [`Category`]. Entries written since `wharf:wallet`
//! 0.1.1 record it; entries written by the previous release carry none, and get one
//! inferred from their idempotency key and sign when they are read ([`Category::infer`]).
//!
//! | category | written by |
//! |---|---|
//! | `deposit` | an admin approving a manual deposit (`wallet:deposit:ID`); a plugin's `credit-as(deposit)` (crypto deposits) |
//! | `purchase` | a plugin's `debit-as(purchase)` (the shop) and plain `debit` |
//! | `refund` | a plugin's `credit-as(refund)` |
//! | `bonus` | a plugin's `credit-as(bonus)` (referral rewards) |
//! | `adjustment` | an admin's `/credit` and `/debit` (`wallet:admin:TURN`), plain `credit` |
//!
//! Only new `deposit` entries are announced on the `wallet.deposit` topic (see
//! [`crate::topics`]).

use serde::{Deserialize, Serialize};

/// What a ledger entry is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Money paid in: a manual deposit an admin approved, a crypto deposit.
    Deposit,
    /// Money spent on something (the shop's orders).
    Purchase,
    /// Money given back for a purchase.
    Refund,
    /// Money given away: a promotion, a referral reward.
    Bonus,
    /// A correction by an admin, or a write that named no category.
    Adjustment,
}

/// Prefix of the keys of approved manual deposits (`wallet:deposit:ID`).
pub const DEPOSIT_KEYS: &str = "wallet:deposit:";

impl Category {
    /// Every category, in the WIT's order.
    pub const ALL: [Self; 5] = [Self::Deposit, Self::Purchase, Self::Refund, Self::Bonus, Self::Adjustment];

    /// The category of plain `credit` (0.1.0 callers name none).
    pub const PLAIN_CREDIT: Self = Self::Adjustment;
    /// The category of plain `debit` (0.1.0 callers name none).
    pub const PLAIN_DEBIT: Self = Self::Purchase;

    /// Its name, as stored and as in the WIT (`deposit`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deposit => "deposit",
            Self::Purchase => "purchase",
            Self::Refund => "refund",
            Self::Bonus => "bonus",
            Self::Adjustment => "adjustment",
        }
    }

    /// The category an entry written by the previous release (which recorded none) had,
    /// from its idempotency `key` and signed `amount`: the wallet's deposit keys are
    /// deposits, the shop's debits purchases and its credits refunds, anything else (the
    /// wallet's admin keys included) an adjustment.
    pub fn infer(key: &str, amount: i64) -> Self {
        if key.starts_with(DEPOSIT_KEYS) {
            Self::Deposit
        } else if key.starts_with("shop:") {
            if amount < 0 { Self::Purchase } else { Self::Refund }
        } else {
            Self::Adjustment
        }
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::{Book, BookError, MemStore, Posting, Store as _};

    #[test]
    fn names_round_trip_through_json() {
        for c in Category::ALL {
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
            assert_eq!(serde_json::from_str::<Category>(&json).unwrap(), c);
        }
        assert!(serde_json::from_str::<Category>("\"gift\"").is_err());
    }

    #[test]
    fn old_entries_get_their_category_from_key_and_sign() {
        for (key, amount, expected) in [
            ("wallet:deposit:4711", 5_000, Category::Deposit),
            ("wallet:admin:99", 1_050, Category::Adjustment),
            ("wallet:admin:100", -250, Category::Adjustment),
            ("shop:order:12", -4_500, Category::Purchase),
            ("shop:refund:12", 4_500, Category::Refund),
            ("probe:1", 100, Category::Adjustment),
            ("probe:2", -100, Category::Adjustment),
            ("wallet:deposits", 100, Category::Adjustment),
        ] {
            assert_eq!(Category::infer(key, amount), expected, "{key} {amount}");
        }
    }

    #[test]
    fn rows_written_before_categories_still_load_and_match() {
        // Exactly as the previous release wrote them: no `category` anywhere.
        let rows = [
            ("acct:7", r#"{"balance":2500,"entries":3}"#),
            (
                "ent:7:0000000001",
                r#"{"seq":1,"user":7,"amount":5000,"balance_after":5000,"reason":"Deposit #1 (BLIK)","key":"wallet:deposit:4711","actor":1000,"at_ms":1}"#,
            ),
            (
                "ent:7:0000000002",
                r#"{"seq":2,"user":7,"amount":-4500,"balance_after":500,"reason":"Order #1: Steam 50","key":"shop:order:9","actor":null,"at_ms":2}"#,
            ),
            (
                "ent:7:0000000003",
                r#"{"seq":3,"user":7,"amount":2000,"balance_after":2500,"reason":"sorry","key":"wallet:admin:31","actor":1000,"at_ms":3}"#,
            ),
            ("idem:wallet:deposit:4711", r#"{"user":7,"amount":5000,"seq":1}"#),
            ("idem:shop:order:9", r#"{"user":7,"amount":-4500,"seq":2}"#),
        ];
        let mut store = MemStore::default();
        for (key, json) in rows {
            store.set(key, json.as_bytes().to_vec()).unwrap();
        }
        let mut b = Book::new(store);
        let cats: Vec<Category> = b.latest(7, 10).unwrap().iter().map(|e| e.category).collect();
        assert_eq!(cats, [Category::Adjustment, Category::Purchase, Category::Deposit]);
        // A retry of an old request finds its entry, whatever category it names now.
        let retry = Posting {
            user: 7,
            amount: -4500,
            reason: "Order #1: Steam 50",
            key: "shop:order:9",
            actor: None,
            category: Category::Purchase,
        };
        let (entry, new) = b.post(&retry, 9).unwrap();
        assert!(!new);
        assert_eq!((entry.seq, entry.category), (2, Category::Purchase));
        let deposit = Posting { amount: 5000, key: "wallet:deposit:4711", category: Category::Bonus, ..retry };
        assert_eq!(b.post(&deposit, 9).unwrap().0.seq, 1, "an old key names no category to differ from");
        let other = Posting { amount: -4000, ..retry };
        assert!(matches!(b.post(&other, 9), Err(BookError::KeyReused(_))), "user and amount are still checked");
        assert!(b.reconcile(7).unwrap().problems.is_empty());
        // New rows carry their category.
        let (fresh, _) = b.post(&Posting { key: "probe:1", amount: 100, ..retry }, 9).unwrap();
        assert_eq!(b.entry(7, 4).unwrap().map(|e| e.category), Some(Category::Purchase));
        let stored = serde_json::to_string(&fresh).unwrap();
        assert!(stored.contains(r#""category":"purchase""#), "{stored}");
    }
}
