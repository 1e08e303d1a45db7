//! Handing out deposit addresses and showing them: `/crypto`, the wallet's
//! Deposit → Bitcoin / Litecoin (topic `wallet.deposit_method`), and the address screen.
//!
//! Addresses come from the account key's external chain in order (index from a KV
//! counter per key, so two concurrent first requests conflict and one re-runs with the
//! next index); a user keeps their address per coin; `own:` records make sure an address
//! is never given to two users. Showing an address keeps it watched closely for
//! `watch_hours`. When the operator changes the account key, users get a new address
//! from the new key; the old ones stay owned and keep being swept.

use serde::Deserialize;
use wharf_sdk::escape::html;
use wharf_sdk::prelude::*;
use wharf_sdk::{kv, telegram};

use crate::keys::Coin;
use crate::model::{Assigned, Hot, Owner};
use crate::rates::coins;
use crate::settings::{Chain, Settings};
use crate::{ledger, pricing};

/// Attempts at finding an unowned address before giving up.
const ATTEMPTS: u32 = 8;

/// `wallet.deposit_method`: a user chose a deposit method the wallet hands to us.
#[derive(Debug, Clone, Deserialize)]
pub struct MethodChosen {
    /// The method id (`btc`, `ltc`).
    pub method: String,
    /// The user.
    pub user_id: i64,
    /// Where they chose it.
    pub chat_id: i64,
    /// The plugin the method names (this one, unless the operator listed it under
    /// another plugin).
    #[serde(default)]
    pub plugin: Option<String>,
}

/// The user's address for `chain`, handing one out if they have none from its key.
pub fn assign(chain: &Chain, user: i64, now_ms: i64) -> Result<Assigned, HandlerError> {
    let coin = chain.coin;
    let key_id = chain.key.id();
    if let Some(a) = kv::get::<Assigned>(&format!("addr:{coin}:{user}"))?
        && a.key_id == key_id
    {
        return Ok(a);
    }
    for _ in 0..ATTEMPTS {
        let next = kv::increment(&format!("next:{coin}:{key_id}"), 1)? - 1;
        let index = u32::try_from(next).map_err(|_| HandlerError::Other("address index out of range".into()))?;
        let address = chain.key.address(index).map_err(|e| HandlerError::Other(e.to_string()))?;
        let own = format!("own:{coin}:{address}");
        if kv::exists(&own)? {
            continue;
        }
        kv::set(&own, &Owner { user, index })?;
        let a = Assigned { address, index, key_id: key_id.clone(), issued_ms: now_ms };
        kv::set(&format!("addr:{coin}:{user}"), &a)?;
        return Ok(a);
    }
    Err(HandlerError::Other(format!("no unowned {coin} address found in {ATTEMPTS} tries")))
}

/// A hot record is rewritten only when this extends it by more: fewer writes, and so
/// fewer conflicts with a watcher run reading it.
const HOT_SLACK_MS: i64 = 3_600_000;

/// Keep `address` watched closely until `until_ms` (never shortening it).
pub fn keep_hot(coin: Coin, address: &str, user: i64, until_ms: i64) -> Result<(), HandlerError> {
    let key = format!("hot:{coin}:{address}");
    match kv::get::<Hot>(&key)? {
        Some(h) if h.until_ms >= until_ms.saturating_sub(HOT_SLACK_MS) => {}
        _ => kv::set(&key, &Hot { user, until_ms })?,
    }
    Ok(())
}

/// The address screen of `coin` for `user` in `chat`.
pub fn show(s: &Settings, chains: &[Chain], chat: i64, user: i64, coin: Coin, now_ms: i64) -> Result<(), HandlerError> {
    let Some(chain) = Settings::chain(chains, coin) else {
        telegram::send_text(chat, &format!("{} deposits are not available.", coin.name()))?;
        return Ok(());
    };
    let a = assign(chain, user, now_ms)?;
    let watch_ms = i64::try_from(s.watch_hours * 3_600_000).unwrap_or(i64::MAX);
    keep_hot(coin, &a.address, user, now_ms.saturating_add(watch_ms))?;
    crate::watch::ensure_job(s)?;
    let cur = ledger::currency();
    let rate = pricing::cached(s, coin, &cur, now_ms).or_else(|| {
        pricing::refresh(s, chains, &cur, now_ms, 0).ok()?;
        pricing::cached(s, coin, &cur, now_ms)
    });
    let rate_line = rate.map_or_else(
        || "Rate: not available right now; your payment is converted at the first rate after it is seen.".to_owned(),
        |r| format!("Rate: 1 {coin} = {}", html(&cur.format(r.minor_per_coin))),
    );
    let text = format!(
        "<b>{} deposit</b>\nSend {coin} to this address (tap it to copy):\n<code>{}</code>\n\n{rate_line}\nMinimum: {}\nCredited after {} confirmations; it arrives by itself and you are told.",
        coin.name(),
        html(&a.address),
        html(&coins(chain.min_amount, coin)),
        chain.confirmations,
    );
    telegram::send(chat, &Outgoing::html(text))?;
    Ok(())
}

/// `/crypto`: one button per watched coin.
pub fn menu(chains: &[Chain], chat: i64) -> Result<(), HandlerError> {
    if chains.is_empty() {
        telegram::send_text(chat, "Crypto deposits are not available.")?;
        return Ok(());
    }
    let kb = chains.iter().fold(Keyboard::new(), |kb, c| kb.button(c.coin.name(), format!("a:{}", c.coin)));
    telegram::send(chat, &Outgoing::text("Top up with which coin?").keyboard(kb))?;
    Ok(())
}
