//! The wallet's ledger as this plugin uses it (grant `call:wallet`): the bot's currency,
//! `bonus` credits for commissions keyed `referral:…`, and how much a user deposited.
//! Behind [`Ledger`] so that the flows run natively in tests against a fake.

use sha2::{Digest, Sha256};
use wharf_sdk::money::Currency;

/// The wallet's longest idempotency key.
const MAX_KEY: usize = 128;
/// How many of a user's latest entries [`Ledger::deposited`] looks at.
const SCAN: u32 = 100;

/// A bonus the ledger wrote (or had written before for the same key and request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credited {
    /// The entry's position in the referrer's ledger.
    pub seq: u64,
    /// Whether this call wrote it (false: the key's first entry, returned again).
    pub new: bool,
}

/// Why a credit was not made. Nothing was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    /// The key was used for another request (another user, amount or category).
    #[error("the ledger key {0} was used before for another entry")]
    KeyReused(String),
    /// Anything else the wallet said.
    #[error("the wallet refused: {0}")]
    Refused(String),
}

/// The ledger operations the plugin needs.
pub trait Ledger {
    /// The bot's currency.
    fn currency(&self) -> Currency;
    /// Credit `amount` to `user` as a `bonus` under `key`.
    fn credit_bonus(&self, user: i64, amount: i64, reason: &str, key: &str) -> Result<Credited, LedgerError>;
    /// What `user` deposited, as far as their latest entries show (`deposit` entries).
    fn deposited(&self, user: i64) -> Result<i64, LedgerError>;
}

/// The ledger key of the commission on the deposit with ledger key `deposit_key`:
/// `referral:{deposit key}`, or `referral:sha256:{hex}` when that would be longer than
/// the wallet accepts. The same deposit always gives the same key, so a replay is an
/// idempotent no-op in the ledger too.
pub fn commission_key(deposit_key: &str) -> String {
    let plain = format!("referral:{deposit_key}");
    if plain.len() <= MAX_KEY {
        return plain;
    }
    let digest = Sha256::digest(deposit_key.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("referral:sha256:{hex}")
}

mod wit {
    wharf_sdk::__private::wit_bindgen::generate!({
        path: "../wallet/wit",
        world: "wharf:wallet/ledger-client",
        runtime_path: "wharf_sdk::__private::wit_bindgen::rt",
    });
}

use wit::wharf::wallet::ledger as api;

/// The wallet plugin's ledger, through its exported interface.
#[derive(Debug, Clone, Copy, Default)]
pub struct Wallet;

impl Ledger for Wallet {
    fn currency(&self) -> Currency {
        let c = api::get_currency();
        Currency::new(&c.code, c.decimals)
    }

    fn credit_bonus(&self, user: i64, amount: i64, reason: &str, key: &str) -> Result<Credited, LedgerError> {
        match api::credit_as(user, amount, api::Category::Bonus, reason, key) {
            Ok(e) => Ok(Credited { seq: e.seq, new: true }),
            // Same key, same user and amount: written before (the category is part of
            // the request too, so a `bonus` it was).
            Err(api::Error::KeyReused(e)) if e.user_id == user && e.amount == amount => {
                Ok(Credited { seq: e.seq, new: false })
            }
            Err(api::Error::KeyReused(_)) => Err(LedgerError::KeyReused(key.to_owned())),
            Err(api::Error::InvalidInput(m) | api::Error::Other(m)) => Err(LedgerError::Refused(m)),
            Err(api::Error::InsufficientFunds(_)) => {
                Err(LedgerError::Refused("a credit was refused as a debit".into()))
            }
        }
    }

    fn deposited(&self, user: i64) -> Result<i64, LedgerError> {
        let refused = |e: api::Error| LedgerError::Refused(format!("{e:?}"));
        let mut total = 0i64;
        for e in api::entries(user, SCAN).map_err(refused)?.into_iter().filter(|e| e.amount > 0) {
            if api::entry_category(user, e.seq).map_err(refused)? == Some(api::Category::Deposit) {
                total = total.saturating_add(e.amount);
            }
        }
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commission_keys_follow_the_deposit_and_fit_the_wallet() {
        assert_eq!(commission_key("wallet:deposit:12"), "referral:wallet:deposit:12");
        let long = format!("crypto:BTC:{}:0", "a".repeat(120));
        let k = commission_key(&long);
        assert!(k.starts_with("referral:sha256:") && k.len() <= MAX_KEY, "{k}");
        assert_eq!(k, commission_key(&long), "stable");
        assert_ne!(k, commission_key(&format!("crypto:BTC:{}:1", "a".repeat(120))));
    }
}
