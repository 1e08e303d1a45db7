//! # wallet: balances on an immutable ledger
//!
//! Every user has a balance that is the sum of their ledger entries (integer minor units,
//! never negative). Other plugins move money through the exported `wharf:wallet/ledger`
//! interface (`wit/ledger.wit`, version 0.1.1; grant `call:wallet`), each write with an
//! idempotency key and a [`Category`](book::Category); users top up by manual deposits
//! (BLIK, bank transfer) that an admin approves or rejects exactly once, or by methods
//! other plugins serve (crypto).
//!
//! ## Topics (a public contract)
//!
//! The wallet needs the `events` grant and emits (see [`topics`] for the payload types):
//!
//! - `wallet.deposit` on every **new** ledger entry of category `deposit`: an admin's
//!   approval of a manual deposit, any plugin's `credit-as(deposit)`. Once per entry (an
//!   idempotent replay emits nothing; a discarded turn emits nothing), after the turn that
//!   writes it commits. The referral plugin subscribes. Payload:
//!   `{"user_id":7,"amount":5000,"seq":3,"key":"wallet:deposit:123","reason":"Deposit #1 (BLIK)","currency":"PLN","decimals":2,"at_ms":1700000000000}`
//!   (`amount` in minor units, `seq` the entry in the user's ledger, `key` its
//!   idempotency key).
//! - `wallet.deposit_method` when a user picks a deposit method that another plugin
//!   serves (`methods = [{ id = "btc", name = "Bitcoin", plugin = "crypto" }]`); the wallet
//!   answers nothing more, the plugin answers the user. Payload:
//!   `{"method":"btc","user_id":7,"chat_id":7,"plugin":"crypto"}`.
//!
//! Subscribers should ignore fields they do not know: later releases may add some. Any
//! plugin granted `events` may emit any topic, so subscribers trust only events whose
//! `source` is the wallet's config name (`wallet`); it is that also when the wallet runs
//! as another plugin's callee.
//!
//! | module | what it does |
//! |---|---|
//! | [`book`] | the ledger over any key-value store (unit-tested natively) |
//! | [`category`] | what an entry is for; categories of entries stored before they existed |
//! | [`topics`] | the event topics the wallet emits and their payloads |
//! | [`store`] | the KV store, settings, posting with business events |
//! | [`deposit`] | `/wallet`, the deposit dialog, the buttons of requests |
//! | [`decide`] | admins' approve/reject, `/deposits` |
//! | [`numbers`] | the numbers people see (deposit #1, #2…), per kind |
//! | [`admin`] | admin commands: balances, manual credit/debit, reconcile |
//! | [`reply`] | refusals as people read them, counted nouns |
//! | [`panel`] | admin views and actions for `/admin`, `wharf admin` and the dashboard (the `admin` export) |
//!
//! Users: `/wallet`. Admins: see [`admin::SYNTAX`].

// The local `generate!` for the exported ledger expands to unsafe ABI glue.
#![allow(unsafe_code)]

pub mod admin;
pub mod book;
pub mod category;
pub mod decide;
pub mod deposit;
pub mod numbers;
pub mod panel;
pub mod reply;
pub mod store;
pub mod topics;

#[cfg(test)]
mod flows;

use wharf_sdk::prelude::*;

use book::{BookError, Category, Entry, Posting};
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
            .setting(
                "methods",
                "Deposit methods: [{ id, name, instructions }] or, served by another plugin, [{ id, name, plugin }]",
                false,
            )
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

fn api_category(c: api::Category) -> Category {
    match c {
        api::Category::Deposit => Category::Deposit,
        api::Category::Purchase => Category::Purchase,
        api::Category::Refund => Category::Refund,
        api::Category::Bonus => Category::Bonus,
        api::Category::Adjustment => Category::Adjustment,
    }
}

fn wit_category(c: Category) -> api::Category {
    match c {
        Category::Deposit => api::Category::Deposit,
        Category::Purchase => api::Category::Purchase,
        Category::Refund => api::Category::Refund,
        Category::Bonus => api::Category::Bonus,
        Category::Adjustment => api::Category::Adjustment,
    }
}

/// A ledger write by another plugin: `sign` 1 credits, -1 debits `amount` (> 0).
fn post_api(
    user_id: i64,
    sign: i64,
    amount: i64,
    category: Category,
    reason: &str,
    key: &str,
) -> Result<api::Entry, api::Error> {
    let verb = if sign > 0 { "credit" } else { "debit" };
    if amount <= 0 {
        return Err(api::Error::InvalidInput(format!("{verb} amount must be positive, got {amount}")));
    }
    if key.starts_with(OWN_KEYS) {
        return Err(api::Error::InvalidInput(format!(
            "idempotency keys starting with {OWN_KEYS:?} are the wallet's own"
        )));
    }
    let posting = Posting { user: user_id, amount: sign * amount, reason, key, actor: None, category };
    let (entry, _) = store::post(&posting).map_err(api_error)?;
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
        post_api(user_id, 1, amount, Category::PLAIN_CREDIT, &reason, &idempotency_key)
    }

    fn debit(user_id: i64, amount: i64, reason: String, idempotency_key: String) -> Result<api::Entry, api::Error> {
        post_api(user_id, -1, amount, Category::PLAIN_DEBIT, &reason, &idempotency_key)
    }

    fn entries(user_id: i64, limit: u32) -> Result<Vec<api::Entry>, api::Error> {
        let entries = store::book().latest(user_id, limit.min(100)).map_err(api_error)?;
        Ok(entries.into_iter().map(api_entry).collect())
    }

    fn credit_as(
        user_id: i64,
        amount: i64,
        category: api::Category,
        reason: String,
        idempotency_key: String,
    ) -> Result<api::Entry, api::Error> {
        post_api(user_id, 1, amount, api_category(category), &reason, &idempotency_key)
    }

    fn debit_as(
        user_id: i64,
        amount: i64,
        category: api::Category,
        reason: String,
        idempotency_key: String,
    ) -> Result<api::Entry, api::Error> {
        post_api(user_id, -1, amount, api_category(category), &reason, &idempotency_key)
    }

    fn entry_category(user_id: i64, seq: u64) -> Result<Option<api::Category>, api::Error> {
        let entry = store::book().entry(user_id, seq).map_err(api_error)?;
        Ok(entry.map(|e| wit_category(e.category)))
    }
}

wit::export!(Wallet with_types_in wit);
wharf_sdk::export_plugin!(Wallet);
wharf_sdk::export_admin!(Wallet);
