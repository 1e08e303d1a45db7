//! The wallet's `ledger` interface (`wharf:wallet/ledger@0.1.1`) as the shop uses it
//! (grant `call:wallet`): balances, `purchase` debits keyed by order id, and the bot's
//! currency.

use wharf_sdk::money::Currency;

mod wit {
    wharf_sdk::__private::wit_bindgen::generate!({
        path: "../wallet/wit",
        world: "wharf:wallet/ledger-client",
        runtime_path: "wharf_sdk::__private::wit_bindgen::rt",
    });
}

use wit::wharf::wallet::ledger as api;

/// A failed ledger call, as the shop handles it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LedgerError {
    /// The balance does not cover the price.
    Insufficient {
        /// What the user has.
        balance: i64,
        /// The price.
        needed: i64,
    },
    /// Anything else (nothing was charged).
    Other(String),
}

fn map(e: api::Error) -> LedgerError {
    match e {
        api::Error::InsufficientFunds(s) => LedgerError::Insufficient { balance: s.balance, needed: s.needed },
        api::Error::KeyReused(entry) => {
            LedgerError::Other(format!("idempotency key {} was used for another request", entry.idempotency_key))
        }
        api::Error::InvalidInput(m) | api::Error::Other(m) => LedgerError::Other(m),
    }
}

/// The bot's currency, as the wallet keeps it.
pub fn currency() -> Currency {
    let c = api::get_currency();
    Currency::new(&c.code, c.decimals)
}

/// The user's balance.
pub fn balance(user: i64) -> Result<i64, wharf_sdk::Error> {
    api::balance(user).map_err(|e| wharf_sdk::Error::Other(format!("wallet: {:?}", map(e))))
}

/// Debit `amount` as a `purchase`; returns the balance after it.
pub fn debit(user: i64, amount: i64, reason: &str, key: &str) -> Result<i64, LedgerError> {
    api::debit_as(user, amount, api::Category::Purchase, reason, key).map(|e| e.balance_after).map_err(map)
}
