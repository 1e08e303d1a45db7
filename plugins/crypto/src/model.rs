//! The plugin's records, their KV keys, and what one look at the chain does to a
//! payment ([`Payment::observe`], pure and unit-tested).
//!
//! | key | value |
//! |---|---|
//! | `next:{coin}:{key id}` | the next address index of that account key (incremented) |
//! | `addr:{coin}:{user}` | [`Assigned`]: the user's address |
//! | `own:{coin}:{address}` | [`Owner`]: whose address it is (never two users) |
//! | `hot:{coin}:{address}` | [`Hot`]: watched closely until then |
//! | `pay:{coin}:{txid}:{vout}` | [`Payment`] |
//! | `apay:{coin}:{address}:{txid}:{vout}` | index: the payments of an address |
//! | `open:{coin}:{txid}:{vout}` | index: payments not yet credited (or refused) |
//! | `settle:{coin}:{txid}:{vout}` | index: credited payments still watched for a reorg |
//! | `rate:{coin}` | the latest [`Rate`] fetched |
//! | `health:{coin}` | [`Health`]: the explorer's failures and backoff |
//! | `cursor:{coin}` / `sweep:{coin}` | where the last run stopped in `hot:` / `own:` |

use serde::{Deserialize, Serialize};
use wharf_sdk::telegram::MessageHandle;

use crate::esplora::Place;
use crate::keys::Coin;
use crate::rates::Rate;

/// A credited payment is watched for reorgs until it has this many confirmations more
/// than were needed.
pub const SETTLE_DEPTH: u64 = 6;

/// A user's deposit address for a coin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assigned {
    /// The address.
    pub address: String,
    /// Its index on the external chain.
    pub index: u32,
    /// The account key it came from ([`crate::keys::AccountKey::id`]).
    pub key_id: String,
    /// When it was handed out.
    pub issued_ms: i64,
}

/// Whose address it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    /// The user.
    pub user: i64,
    /// Index on the external chain.
    pub index: u32,
}

/// An address watched closely.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hot {
    /// Its user.
    pub user: i64,
    /// Watched closely until then (open payments keep it hot).
    pub until_ms: i64,
}

/// The block a payment was confirmed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockRef {
    /// Height.
    pub height: u64,
    /// Hash.
    pub hash: String,
}

/// Where a payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Seen, not yet credited.
    Pending,
    /// Credited through the ledger.
    Credited,
    /// Replaced or dropped before it confirmed: never credited.
    Dropped,
    /// Confirmed but smaller than `min_amount` (or worth less than one minor unit): not
    /// credited, reported to admins.
    BelowMinimum,
}

/// The ledger entry a payment produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credit {
    /// Minor units credited.
    pub amount: i64,
    /// The entry's position in the user's ledger.
    pub seq: u64,
    /// The user's balance after it.
    pub balance_after: i64,
    /// When.
    pub at_ms: i64,
    /// The block it was credited on.
    pub block: BlockRef,
}

/// One output paying a user's address: `(coin, txid, vout)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// Chain.
    pub coin: Coin,
    /// Transaction.
    pub txid: String,
    /// Output index.
    pub vout: u32,
    /// The address paid.
    pub address: String,
    /// Its user.
    pub user: i64,
    /// Base units.
    pub sats: u64,
    /// When it was first seen.
    pub first_seen_ms: i64,
    /// The rate it is converted at (recorded when first seen, or at the first moment a
    /// fresh rate could be had).
    pub rate: Option<Rate>,
    /// The block it is in, if confirmed.
    pub block: Option<BlockRef>,
    /// Confirmations last told to the user.
    pub told_confirmations: Option<u64>,
    /// Its state.
    pub state: State,
    /// The "payment seen" message, edited as confirmations come.
    pub message: Option<MessageHandle>,
    /// The credit, once made.
    pub credit: Option<Credit>,
    /// A reorg after the credit was reported (once).
    #[serde(default)]
    pub reorg_reported: bool,
}

impl Payment {
    /// A payment just seen: pending, nobody told yet.
    pub fn seen(coin: Coin, txid: &str, vout: u32, address: &str, user: i64, sats: u64, now_ms: i64) -> Self {
        Self {
            coin,
            txid: txid.to_owned(),
            vout,
            address: address.to_owned(),
            user,
            sats,
            first_seen_ms: now_ms,
            rate: None,
            block: None,
            told_confirmations: None,
            state: State::Pending,
            message: None,
            credit: None,
            reorg_reported: false,
        }
    }

    /// Its key suffix `{coin}:{txid}:{vout}`.
    pub fn id(&self) -> String {
        format!("{}:{}:{}", self.coin, self.txid, self.vout)
    }

    /// The ledger's idempotency key: `crypto:COIN:TXID:VOUT`.
    pub fn idempotency_key(&self) -> String {
        format!("crypto:{}", self.id())
    }

    /// Confirmations at tip height `tip`.
    pub fn confirmations(&self, tip: u64) -> u64 {
        self.block.as_ref().map_or(0, |b| confirmations(tip, b.height))
    }

    /// A pending payment takes what the chain says of it now (`None`: it is gone from
    /// the chain and the mempool). Returns what happened.
    pub fn observe(&mut self, place: Option<&Place>) -> Observed {
        if self.state != State::Pending {
            return Observed::Unchanged;
        }
        match place {
            None => {
                self.state = State::Dropped;
                self.block = None;
                Observed::Dropped
            }
            Some(Place::Mempool) => match self.block.take() {
                Some(_) => Observed::Reorged,
                None => Observed::Unchanged,
            },
            Some(Place::Block { height, hash }) => {
                let new = BlockRef { height: *height, hash: hash.clone() };
                match self.block.replace(new.clone()) {
                    None => Observed::Confirmed,
                    Some(old) if old == new => Observed::Unchanged,
                    Some(_) => Observed::Reorged,
                }
            }
        }
    }
}

/// What one look at the chain did to a pending payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observed {
    /// Nothing new.
    Unchanged,
    /// It entered a block.
    Confirmed,
    /// Its block left the best chain: back to the mempool or into another block.
    Reorged,
    /// It left the mempool without confirming (replaced, double-spent, evicted).
    Dropped,
}

/// Confirmations of a block at `height` when the tip is at `tip`: tip − height + 1.
pub fn confirmations(tip: u64, height: u64) -> u64 {
    if tip >= height { tip - height + 1 } else { 0 }
}

/// The explorer's health as the watcher saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// Failed runs in a row.
    pub failures: u32,
    /// When the current streak of failures started.
    pub since_ms: Option<i64>,
    /// No request before this.
    pub backoff_until_ms: i64,
    /// The admins were told it is down.
    pub alerted: bool,
    /// The last failure, for admins.
    pub last_error: Option<String>,
}

impl Health {
    /// Wait before the next try after `failures` failures in a row: the poll interval
    /// doubled per failure, at most 10 minutes.
    pub fn backoff_ms(poll_ms: i64, failures: u32) -> i64 {
        let factor = 1i64 << failures.min(10);
        poll_ms.saturating_mul(factor).min(600_000)
    }
}

/// `{coin}:{txid}:{vout}` of a payment key suffix, back to its parts.
pub fn split_id(id: &str) -> Option<(Coin, &str, u32)> {
    let mut it = id.splitn(3, ':');
    let coin = Coin::parse(it.next()?).ok()?;
    let txid = it.next()?;
    let vout = it.next()?.parse().ok()?;
    Some((coin, txid, vout))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payment() -> Payment {
        Payment::seen(Coin::Btc, &"aa".repeat(32), 1, "bc1qx", 7, 100_000, 0)
    }

    fn block(height: u64, h: char) -> Place {
        Place::Block { height, hash: h.to_string().repeat(64) }
    }

    #[test]
    fn confirmations_count_the_tip_block() {
        assert_eq!(confirmations(100, 100), 1);
        assert_eq!(confirmations(101, 100), 2);
        assert_eq!(confirmations(99, 100), 0, "a tip behind the block (a lagging explorer) is 0");
        let mut p = payment();
        assert_eq!(p.confirmations(100), 0);
        p.observe(Some(&block(100, 'b')));
        assert_eq!(p.confirmations(101), 2);
    }

    #[test]
    fn a_pending_payment_follows_the_chain() {
        let mut p = payment();
        assert_eq!(p.observe(Some(&Place::Mempool)), Observed::Unchanged);
        assert_eq!(p.observe(Some(&block(100, 'b'))), Observed::Confirmed);
        assert_eq!(p.observe(Some(&block(100, 'b'))), Observed::Unchanged);
        assert_eq!(p.observe(Some(&Place::Mempool)), Observed::Reorged, "its block left the chain");
        assert_eq!(p.block, None);
        p.observe(Some(&block(100, 'b')));
        assert_eq!(p.observe(Some(&block(101, 'c'))), Observed::Reorged, "mined again in another block");
        assert_eq!(p.block.as_ref().map(|b| b.height), Some(101));
        assert_eq!(p.observe(None), Observed::Dropped);
        assert_eq!(p.state, State::Dropped);
        assert_eq!(p.observe(Some(&block(102, 'd'))), Observed::Unchanged, "a dropped payment stays dropped");
    }

    #[test]
    fn credited_payments_are_not_moved_by_observation() {
        let mut p = payment();
        p.state = State::Credited;
        assert_eq!(p.observe(None), Observed::Unchanged);
        assert_eq!(p.state, State::Credited);
    }

    #[test]
    fn keys_and_backoff() {
        let p = payment();
        assert_eq!(p.idempotency_key(), format!("crypto:BTC:{}:1", "aa".repeat(32)));
        assert_eq!(split_id(&p.id()), Some((Coin::Btc, "aa".repeat(32).as_str(), 1)));
        assert_eq!(split_id("DOGE:x:1"), None);
        assert_eq!(Health::backoff_ms(30_000, 0), 30_000);
        assert_eq!(Health::backoff_ms(30_000, 2), 120_000);
        assert_eq!(Health::backoff_ms(30_000, 30), 600_000);
    }
}
