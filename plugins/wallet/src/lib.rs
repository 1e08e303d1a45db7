//! # wallet: balances on an immutable ledger
//!
//! Every user has a balance that is the sum of their ledger entries (integer minor units,
//! never negative). Other plugins move money through the exported `wharf:wallet/ledger`
//! interface (grant `call:wallet`), each write with an idempotency key; users top up by
//! manual deposits (BLIK, bank transfer) that an admin approves or rejects exactly once.
//!
//! | module | what it does |
//! |---|---|
//! | [`book`] | the ledger over any key-value store (unit-tested natively) |
//! | [`store`] | the KV store, settings, posting with business events |
//! | [`deposit`] | `/wallet`, the deposit dialog, the buttons of requests |
//! | [`decide`] | admins' approve/reject, `/deposits` |
//! | [`numbers`] | the numbers people see (deposit #1, #2…), per kind |
//! | [`admin`] | admin commands: balances, manual credit/debit, reconcile |
//! | [`reply`] | refusals as people read them, counted nouns |
//!
//! Users: `/wallet`. Admins: see [`admin::SYNTAX`].

// The local `generate!` for the exported ledger expands to unsafe ABI glue.
#![allow(unsafe_code)]

pub mod admin;
pub mod book;
pub mod decide;
pub mod deposit;
pub mod numbers;
pub mod reply;
pub mod store;

use wharf_sdk::prelude::*;

use book::{BookError, Entry, Posting};
use store::Settings;

mod wit {
    wharf_sdk::__private::wit_bindgen::generate!({
        path: "wit",
        world: "wharf:wallet/wallet-plugin",
        runtime_path: "wharf_sdk::__private::wit_bindgen::rt",
    });
}

use wit::exports::wharf::wallet::ledger as api;

/// The plugin.
pub struct Wallet;

/// Prefix of the idempotency keys the wallet itself uses (deposits, admin entries);
/// callers of the ledger may not use it.
pub const OWN_KEYS: &str = "wallet:";

/// The callback namespace.
pub const PREFIX: &str = "wallet";

impl Plugin for Wallet {
    fn describe() -> Manifest {
        // A bad settings table stops the plugin from loading, with the reason.
        if let Err(e) = Settings::load() {
            panic!("invalid [plugins.wallet.settings]: {e}");
        }
        let mut m =
            Manifest::new("wallet", env!("CARGO_PKG_VERSION")).command("wallet", "Your balance, history and deposits");
        for (name, syntax, what) in admin::SYNTAX {
            m = m.admin_command(name, &format!("{what}: {syntax}"));
        }
        m.callback_prefix(PREFIX)
            .setting("currency", "Currency code, e.g. PLN (default PLN)", false)
            .setting("decimals", "Digits of the minor unit (default 2)", false)
            .setting("methods", "Deposit methods: [{ id, name, instructions }]", false)
            .setting("min_deposit", "Smallest deposit in minor units (default 100)", false)
            .setting("max_deposit", "Largest deposit in minor units (default 1000000)", false)
            .setting("entries_shown", "Entries shown by /wallet, 1-20 (default 5)", false)
    }

    fn handle(event: Event, ctx: Context) -> Result<Flow, HandlerError> {
        let s = Settings::load().map_err(HandlerError::InvalidInput)?;
        match event {
            Event::Message(msg) => {
                let Some(user) = msg.sender.as_ref().map(|u| u.id) else { return Ok(Flow::Continue) };
                let Some(cmd) = &msg.command else {
                    return deposit::on_text(&s, &ctx, msg.chat.id, user, msg.text.as_deref().unwrap_or_default());
                };
                match cmd.name.as_str() {
                    "wallet" => deposit::show(&s, msg.chat.id, user)?,
                    "cancel" => return deposit::cancel_dialog(msg.chat.id, user),
                    name => return admin::command(&s, &ctx, msg.chat.id, name, &cmd.args),
                }
                Ok(Flow::Stop)
            }
            Event::Callback(cb) => deposit::on_button(&s, &ctx, &cb),
            _ => Ok(Flow::Continue),
        }
    }
}

fn api_entry(e: Entry) -> api::Entry {
    api::Entry {
        seq: e.seq,
        user_id: e.user,
        amount: e.amount,
        balance_after: e.balance_after,
        reason: e.reason,
        idempotency_key: e.key,
        actor: e.actor,
        at_ms: e.at_ms,
    }
}

fn api_error(e: BookError) -> api::Error {
    match e {
        BookError::InvalidInput(m) => api::Error::InvalidInput(m),
        BookError::KeyReused(entry) => api::Error::KeyReused(api_entry(*entry)),
        BookError::Insufficient { balance, needed } => {
            api::Error::InsufficientFunds(api::Shortfall { balance, needed })
        }
        BookError::Other(m) => api::Error::Other(m),
    }
}

fn post_api(user_id: i64, amount: i64, reason: &str, key: &str) -> Result<api::Entry, api::Error> {
    if key.starts_with(OWN_KEYS) {
        return Err(api::Error::InvalidInput(format!(
            "idempotency keys starting with {OWN_KEYS:?} are the wallet's own"
        )));
    }
    let (entry, _) = store::post(&Posting { user: user_id, amount, reason, key, actor: None }).map_err(api_error)?;
    Ok(api_entry(entry))
}

impl api::Guest for Wallet {
    fn get_currency() -> api::Currency {
        let s = Settings::load().unwrap_or_default();
        api::Currency { code: s.currency, decimals: s.decimals }
    }

    fn balance(user_id: i64) -> Result<i64, api::Error> {
        store::book().balance(user_id).map_err(api_error)
    }

    fn credit(user_id: i64, amount: i64, reason: String, idempotency_key: String) -> Result<api::Entry, api::Error> {
        if amount <= 0 {
            return Err(api::Error::InvalidInput(format!("credit amount must be positive, got {amount}")));
        }
        post_api(user_id, amount, &reason, &idempotency_key)
    }

    fn debit(user_id: i64, amount: i64, reason: String, idempotency_key: String) -> Result<api::Entry, api::Error> {
        if amount <= 0 {
            return Err(api::Error::InvalidInput(format!("debit amount must be positive, got {amount}")));
        }
        post_api(user_id, -amount, &reason, &idempotency_key)
    }

    fn entries(user_id: i64, limit: u32) -> Result<Vec<api::Entry>, api::Error> {
        let entries = store::book().latest(user_id, limit.min(100)).map_err(api_error)?;
        Ok(entries.into_iter().map(api_entry).collect())
    }
}

wit::export!(Wallet with_types_in wit);
wharf_sdk::export_plugin!(Wallet);
