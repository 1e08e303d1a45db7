//! # crypto: Bitcoin and Litecoin deposits, credited exactly once
//!
//! Each user gets a deposit address per coin, derived from the operator's account-level
//! extended public key (no private key exists anywhere in Wharf). A repeating job watches
//! the chain through an Esplora-compatible explorer (grant `http`), and once a payment
//! has the configured confirmations it is credited in the wallet's currency through the
//! wallet's ledger (grant `call:wallet`), keyed `crypto:COIN:TXID:VOUT`.
//!
//! | module | what it does |
//! |---|---|
//! | [`keys`] | account keys (xpub/zpub/Ltub), BIP84 addresses |
//! | [`settings`] | `[plugins.crypto.settings]`, checked at load |
//! | [`rates`] | rates in minor units, the credit's arithmetic (integers, rounded down) |
//! | [`pricing`] | the rate to use now: fixed, or CoinGecko cached with a maximum age |
//! | [`esplora`] | a typed, budgeted client of the explorer's REST API |
//! | [`model`] | records, KV keys, what a look at the chain does to a payment |
//! | [`deposit`] | handing out addresses, `/crypto`, the wallet's Deposit → Bitcoin |
//! | [`watch`] | the watcher's runs: detect, confirm, credit, reorgs, drops, backoff |
//! | [`notify`] | what users, admins and the event log are told |
//! | [`ledger`] | the wallet's ledger as this plugin uses it |
//! | [`panel`] | admin views and actions for `/admin`, `wharf admin` and the dashboard (the `admin` export) |
//!
//! Rules worth knowing (the README's "Crypto deposits" says more):
//! - a payment is one output `(coin, txid, vout)` paying a user's address; two outputs to
//!   the same address in one transaction are two payments;
//! - it is credited at the rate recorded when it was first seen, `floor(sats × rate /
//!   10^8)` minor units, after its block is re-checked to be in the best chain;
//! - a payment below `min_amount` is not credited: the user and the event log are told;
//! - a reorg before the credit puts it back to pending; after the credit it is never
//!   credited again and admins are told.

pub mod deposit;
pub mod esplora;
pub mod keys;
pub mod ledger;
pub mod model;
pub mod notify;
pub mod panel;
pub mod pricing;
pub mod rates;
pub mod settings;
pub mod watch;

use wharf_sdk::events;
use wharf_sdk::prelude::*;
use wharf_sdk::telegram;

use keys::Coin;
use settings::Settings;

/// The plugin.
pub struct Crypto;

/// The callback namespace.
pub const PREFIX: &str = "crypto";

/// The wallet's topic for deposit methods it hands to other plugins.
pub const METHOD_TOPIC: &str = "wallet.deposit_method";

impl Plugin for Crypto {
    fn describe() -> Manifest {
        // A bad settings table stops the plugin from loading, with the reason.
        if let Err(e) = Settings::load() {
            panic!("invalid [plugins.crypto.settings]: {e}");
        }
        Manifest::new("crypto", env!("CARGO_PKG_VERSION"))
            .command("crypto", "Top up your wallet with Bitcoin or Litecoin")
            .callback_prefix(PREFIX)
            .topic(METHOD_TOPIC)
            .setting("poll_seconds", "Seconds between watcher runs, 10-3600 (default 30)", false)
            .setting("chains", "[{ coin, xpub, explorer, confirmations, min_amount }]", false)
            .setting("rates", "{ source = \"fixed\" | \"coingecko\", fixed, url, max_age_seconds }", false)
            .setting("watch_hours", "How long a shown address is watched closely (default 24)", false)
            .setting("requests_per_run", "Explorer requests per run and chain (default 40)", false)
            .setting("sweep_per_run", "Old addresses checked per run and chain (default 5)", false)
            .setting("alert_after_minutes", "Tell admins when an explorer fails this long (default 10)", false)
    }

    fn handle(event: Event, ctx: Context) -> Result<Flow, HandlerError> {
        let (s, chains) = Settings::load().map_err(HandlerError::InvalidInput)?;
        match event {
            Event::Lifecycle(_) => {
                watch::ensure_job(&s)?;
                Ok(Flow::Continue)
            }
            Event::Timer(t) if t.name == watch::JOB || t.name == watch::MORE => {
                watch::run(&s, &chains, ctx.now_ms)?;
                Ok(Flow::Stop)
            }
            Event::Message(msg) => {
                if msg.sender.is_none() || msg.command.as_ref().is_none_or(|c| c.name != "crypto") {
                    return Ok(Flow::Continue);
                }
                deposit::menu(&chains, msg.chat.id)?;
                Ok(Flow::Stop)
            }
            Event::Callback(cb) => {
                let chat = cb.chat.as_ref().map_or(cb.sender.id, |c| c.id);
                telegram::answer_callback(&cb.id, None)?;
                match cb.data.strip_prefix("a:").map(Coin::parse) {
                    Some(Ok(coin)) => deposit::show(&s, &chains, chat, cb.sender.id, coin, ctx.now_ms)?,
                    _ => return Ok(Flow::Continue),
                }
                Ok(Flow::Stop)
            }
            Event::Custom(e) if e.topic == METHOD_TOPIC && e.source == "wallet" => {
                let chosen: deposit::MethodChosen = events::decode(&e)?;
                if let Ok(coin) = Coin::parse(&chosen.method) {
                    deposit::show(&s, &chains, chosen.chat_id, chosen.user_id, coin, ctx.now_ms)?;
                }
                Ok(Flow::Continue)
            }
            _ => Ok(Flow::Continue),
        }
    }
}

wharf_sdk::export_plugin!(Crypto);
wharf_sdk::export_admin!(Crypto);
