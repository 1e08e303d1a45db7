//! The wallet's event topics (a public contract: other plugins subscribe to them by
//! listing the topic in their manifest). Payloads are JSON objects; fields may be added
//! in later releases, none removed or changed, so subscribers should ignore unknown
//! fields.
//!
//! - [`DEPOSIT`] (`wallet.deposit`): a new ledger entry of category `deposit` was written:
//!   an admin approved a manual deposit, or a plugin called `credit-as(deposit)` (crypto
//!   deposits). Emitted in the turn that writes the entry, so it is delivered once, after
//!   that turn commits, and never for a turn that is discarded; an idempotent replay of the
//!   same key writes nothing and emits nothing. Payload [`Deposit`]:
//!   `{"user_id":7,"amount":5000,"seq":3,"key":"wallet:deposit:123","reason":"Deposit #1 (BLIK)","currency":"PLN","decimals":2,"at_ms":1700000000000}`.
//! - [`DEPOSIT_METHOD`] (`wallet.deposit_method`): a user chose a deposit method that
//!   another plugin serves (`{ id, name, plugin }` in the `methods` setting); the wallet
//!   says nothing more and that plugin answers the user. Payload [`DepositMethod`]:
//!   `{"method":"btc","user_id":7,"chat_id":7,"plugin":"crypto"}`.
//!
//! Both need the wallet's `events` grant; the host refuses to load the wallet without it
//! (it imports `events`). Should an emit still be refused for the grant, the wallet carries
//! on (deposits are credited, the topics are off) and warns once ([`emit`]).

use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};
use wharf_sdk::events;

use crate::book::{BookError, Entry};
use crate::store::Settings;

/// Topic of new deposit entries.
pub const DEPOSIT: &str = "wallet.deposit";
/// Topic of a chosen deposit method that another plugin serves.
pub const DEPOSIT_METHOD: &str = "wallet.deposit_method";

/// The payload of [`DEPOSIT`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deposit {
    /// Whose balance grew.
    pub user_id: i64,
    /// By how much, in minor units (> 0).
    pub amount: i64,
    /// The entry's position in the user's ledger.
    pub seq: u64,
    /// The entry's idempotency key (`wallet:deposit:ID` for manual deposits).
    pub key: String,
    /// The entry's reason, as the user sees it.
    pub reason: String,
    /// The bot's currency code.
    pub currency: String,
    /// Digits of its minor unit.
    pub decimals: u8,
    /// When the entry was written, Unix milliseconds (host clock).
    pub at_ms: i64,
}

impl Deposit {
    /// The payload announcing `entry`.
    pub fn new(entry: &Entry, s: &Settings) -> Self {
        Self {
            user_id: entry.user,
            amount: entry.amount,
            seq: entry.seq,
            key: entry.key.clone(),
            reason: entry.reason.clone(),
            currency: s.currency.clone(),
            decimals: s.decimals,
            at_ms: entry.at_ms,
        }
    }
}

/// The payload of [`DEPOSIT_METHOD`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepositMethod {
    /// The method's id in the `methods` setting (`btc`).
    pub method: String,
    /// Who chose it.
    pub user_id: i64,
    /// The chat to answer in.
    pub chat_id: i64,
    /// The plugin the setting names as serving it.
    pub plugin: String,
}

/// Whether this instance already said the topics are off (instances live for one call).
static WARNED: AtomicBool = AtomicBool::new(false);

/// What [`emit`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emitted {
    /// Queued with the turn.
    Yes,
    /// Not: the wallet lacks the `events` grant (logged at warn once).
    Off,
}

/// Emit `payload` on `topic`. Without the `events` grant this logs (once) that the topic
/// is off and returns [`Emitted::Off`], so the caller carries on; any other refusal
/// (a budget, the depth of an event chain) is an error.
pub fn emit<T: Serialize>(topic: &str, payload: &T) -> Result<Emitted, wharf_sdk::Error> {
    match events::emit(topic, payload) {
        Ok(()) => Ok(Emitted::Yes),
        Err(wharf_sdk::Error::AccessDenied(_)) => {
            if !WARNED.swap(true, Ordering::Relaxed) {
                wharf_sdk::log::warn(&format!(
                    "the wallet is not granted \"events\": the topics {DEPOSIT} and {DEPOSIT_METHOD} are off (deposits are still credited); add \"events\" to its grants"
                ));
            }
            Ok(Emitted::Off)
        }
        Err(e) => Err(e),
    }
}

/// Announce the new deposit entry `entry` on [`DEPOSIT`], before it is written (a
/// refusal then leaves nothing written).
pub fn announce_deposit(entry: &Entry, s: &Settings) -> Result<(), BookError> {
    emit(DEPOSIT, &Deposit::new(entry, s))
        .map(|_| ())
        .map_err(|e| BookError::Other(format!("cannot announce the deposit on {DEPOSIT}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::Category;

    #[test]
    fn the_deposit_payload_is_the_documented_json() {
        let entry = Entry {
            seq: 3,
            user: 7,
            amount: 5_000,
            balance_after: 7_000,
            reason: "Deposit #1 (BLIK)".into(),
            key: "wallet:deposit:123".into(),
            actor: Some(1000),
            at_ms: 1_700_000_000_000,
            category: Category::Deposit,
        };
        let json = serde_json::to_string(&Deposit::new(&entry, &Settings::default())).unwrap();
        assert_eq!(
            json,
            r#"{"user_id":7,"amount":5000,"seq":3,"key":"wallet:deposit:123","reason":"Deposit #1 (BLIK)","currency":"PLN","decimals":2,"at_ms":1700000000000}"#
        );
        let method = DepositMethod { method: "btc".into(), user_id: 7, chat_id: 7, plugin: "crypto".into() };
        assert_eq!(
            serde_json::to_string(&method).unwrap(),
            r#"{"method":"btc","user_id":7,"chat_id":7,"plugin":"crypto"}"#
        );
    }
}
