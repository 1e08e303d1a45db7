//! The wallet's `ledger` interface as this plugin uses it (grant `call:wallet`): the
//! bot's currency, and deposit credits keyed `crypto:COIN:TXID:VOUT`.

use wharf_sdk::money::Currency;

mod wit {
    wharf_sdk::__private::wit_bindgen::generate!({
        path: "../wallet/wit",
        world: "wharf:wallet/ledger-client",
        runtime_path: "wharf_sdk::__private::wit_bindgen::rt",
    });
}

use wit::wharf::wallet::ledger as api;

/// A credit the ledger made (or had made before for the same key and amount).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credited {
    /// The entry's position in the user's ledger.
    pub seq: u64,
    /// The user's balance right after it.
    pub balance_after: i64,
}

/// The bot's currency.
pub fn currency() -> Currency {
    let c = api::get_currency();
    Currency::new(&c.code, c.decimals)
}

/// Credit `amount` to `user` as a deposit. A key already used for the same user and
/// amount returns that entry (nothing new is written); any other failure is an error
/// and nothing was credited.
pub fn credit_deposit(user: i64, amount: i64, reason: &str, key: &str) -> Result<Credited, String> {
    match api::credit_as(user, amount, api::Category::Deposit, reason, key) {
        Ok(e) => Ok(Credited { seq: e.seq, balance_after: e.balance_after }),
        Err(api::Error::KeyReused(e)) if e.user_id == user && e.amount == amount => {
            Ok(Credited { seq: e.seq, balance_after: e.balance_after })
        }
        Err(api::Error::KeyReused(e)) => {
            Err(format!("the ledger key {key} was used before for entry {} of user {}", e.seq, e.user_id))
        }
        Err(api::Error::InvalidInput(m) | api::Error::Other(m)) => Err(m),
        Err(api::Error::InsufficientFunds(_)) => Err("the ledger refused a credit as a debit".into()),
    }
}
