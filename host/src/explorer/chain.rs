//! The emulated chain: blocks (the best chain and the stale blocks reorgs left behind),
//! the mempool, the transactions both hold, and an index address → transactions, so an
//! address's history costs what that address has, however many addresses there are.
//!
//! Every transaction spends one input from a funding address of its own and pays the
//! outputs it was asked to pay, in order, then a change output to another address of its
//! own. Hashes are random per emulator (a salt) and counted, so two emulators, or two
//! runs against one database, never show the same txid or block hash.

use std::collections::{BTreeMap, HashMap};
use std::time::{SystemTime, UNIX_EPOCH};

use indexmap::IndexSet;
use sha2::{Digest, Sha256};

/// What the chain refuses.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// Only a transaction waiting in the mempool can be replaced.
    #[error("transaction {0} is not in the mempool")]
    NotInMempool(String),
}

/// Seconds between the blocks made at start.
const BLOCK_INTERVAL: u64 = 600;
/// Fee rate of a new payment, sat/vB; a replacement pays this much more than the one it
/// replaces.
const FEE_RATE: u64 = 2;

/// One output: who is paid how much (sats).
#[derive(Clone, Debug)]
pub(super) struct Output {
    pub address: String,
    pub value: u64,
}

/// Where a confirmed transaction is: its block's hash and height, and its position there.
#[derive(Clone, Debug)]
pub(super) struct Place {
    pub hash: String,
    pub height: u64,
    pub pos: usize,
}

/// A transaction, in the mempool (`place` is `None`) or in a best-chain block.
#[derive(Clone, Debug)]
pub(super) struct Tx {
    pub txid: String,
    /// The outputs asked for, then the change.
    pub outputs: Vec<Output>,
    /// The output it spends: txid, vout, address.
    pub prev: (String, u32, String),
    pub fee: u64,
    pub fee_rate: u64,
    pub locktime: u64,
    pub place: Option<Place>,
    /// When it last entered the mempool (orders the mempool).
    pub seq: u64,
}

impl Tx {
    /// The input's value: everything paid plus the fee.
    pub fn input_value(&self) -> u64 {
        self.outputs.iter().fold(self.fee, |sum, o| sum.saturating_add(o.value))
    }

    /// Size without the witness, and weight, of a one-input P2WPKH transaction with
    /// these outputs.
    pub fn stripped_size_and_weight(outputs: usize) -> (u64, u64) {
        let n = u64::try_from(outputs).unwrap_or(u64::MAX / 1024);
        let stripped = 10 + 41 + 31 * n;
        (stripped, stripped * 4 + 110)
    }
}

/// A block: in the best chain, or stale after a reorg (kept, so its status says so).
#[derive(Clone, Debug)]
pub(super) struct Block {
    pub hash: String,
    pub height: u64,
    pub prev: Option<String>,
    pub time: u64,
    pub merkle_root: String,
    pub txids: Vec<String>,
    pub in_best_chain: bool,
}

/// The whole chain state.
pub(super) struct Chain {
    salt: u64,
    counter: u64,
    next_seq: u64,
    pub blocks: HashMap<String, Block>,
    /// `best[h]` is the hash of the best-chain block at height `h`.
    pub best: Vec<String>,
    pub txs: HashMap<String, Tx>,
    /// The mempool in the order transactions entered it (by `seq`).
    mempool: BTreeMap<u64, String>,
    /// Every known transaction paying or spending from an address.
    by_address: HashMap<String, IndexSet<String>>,
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl Chain {
    /// A chain of a genesis block and `height` more, the last one mined now.
    pub fn new(height: u64, salt: u64) -> Self {
        let mut chain = Self {
            salt,
            counter: 0,
            next_seq: 0,
            blocks: HashMap::new(),
            best: Vec::new(),
            txs: HashMap::new(),
            mempool: BTreeMap::new(),
            by_address: HashMap::new(),
        };
        let start = now_secs().saturating_sub(height.saturating_mul(BLOCK_INTERVAL));
        for h in 0..=height {
            chain.push_block(Vec::new(), Some(start + h * BLOCK_INTERVAL));
        }
        chain
    }

    /// A fresh 64-hex hash, unique to this emulator.
    fn fresh(&mut self, kind: &str) -> String {
        self.counter += 1;
        let mut h = Sha256::new();
        h.update(self.salt.to_le_bytes());
        h.update(kind.as_bytes());
        h.update(self.counter.to_le_bytes());
        hex(&h.finalize())
    }

    /// A fresh address looking like `like` (its human-readable part, e.g. `bc1q`,
    /// `ltc1q`, `tb1q`), for change and funding outputs.
    fn fresh_address(&mut self, like: Option<&str>) -> String {
        let hrp = like
            .and_then(|a| a.find('1').map(|i| &a[..i]))
            .filter(|p| (1..=4).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_lowercase()))
            .unwrap_or("bc");
        let body = self.fresh("address");
        format!("{hrp}1q{}", &body[..38])
    }

    /// The best chain's tip height.
    pub fn tip(&self) -> u64 {
        u64::try_from(self.best.len()).unwrap_or(u64::MAX).saturating_sub(1)
    }

    /// The best chain's tip hash.
    pub fn tip_hash(&self) -> &str {
        self.best.last().map_or("", String::as_str)
    }

    /// Transactions waiting in the mempool.
    pub fn mempool_len(&self) -> usize {
        self.mempool.len()
    }

    fn index(&mut self, tx: &Tx) {
        let addresses = tx.outputs.iter().map(|o| o.address.as_str()).chain([tx.prev.2.as_str()]);
        for a in addresses {
            self.by_address.entry(a.to_owned()).or_default().insert(tx.txid.clone());
        }
    }

    fn unindex(&mut self, tx: &Tx) {
        let addresses = tx.outputs.iter().map(|o| o.address.as_str()).chain([tx.prev.2.as_str()]);
        for a in addresses {
            if let Some(set) = self.by_address.get_mut(a) {
                set.shift_remove(&tx.txid);
                if set.is_empty() {
                    self.by_address.remove(a);
                }
            }
        }
    }

    fn enter_mempool(&mut self, txid: &str) {
        let seq = self.next_seq;
        self.next_seq += 1;
        if let Some(tx) = self.txs.get_mut(txid) {
            tx.seq = seq;
            tx.place = None;
            self.mempool.insert(seq, txid.to_owned());
        }
    }

    /// A new mempool transaction spending `prev`, paying `outputs` then change.
    fn add(&mut self, outputs: &[(&str, u64)], prev: Option<(String, u32, String)>, fee_rate: u64) -> String {
        let like = outputs.first().map(|(a, _)| *a);
        let mut outs: Vec<Output> =
            outputs.iter().map(|(a, v)| Output { address: (*a).to_owned(), value: *v }).collect();
        let change = self.fresh_address(like);
        let change_value = 10_000 + u64::from_str_radix(&self.fresh("change")[..6], 16).unwrap_or(0);
        outs.push(Output { address: change, value: change_value });
        let prev = match prev {
            Some(p) => p,
            None => {
                let funding = self.fresh_address(like);
                (self.fresh("funding"), u32::from(self.fresh("vout").as_bytes()[0] % 3), funding)
            }
        };
        let vsize = Tx::stripped_size_and_weight(outs.len()).1.div_ceil(4);
        let tx = Tx {
            txid: self.fresh("tx"),
            outputs: outs,
            prev,
            fee: vsize * fee_rate,
            fee_rate,
            locktime: self.tip(),
            place: None,
            seq: 0,
        };
        let txid = tx.txid.clone();
        self.index(&tx);
        self.txs.insert(txid.clone(), tx);
        self.enter_mempool(&txid);
        txid
    }

    /// A new mempool transaction paying `outputs` (vout 0, 1, …) and change.
    pub fn pay(&mut self, outputs: &[(&str, u64)]) -> String {
        self.add(outputs, None, FEE_RATE)
    }

    /// Forget `txid` entirely (it was never mined, or its block is gone).
    fn forget(&mut self, txid: &str) {
        if let Some(tx) = self.txs.remove(txid) {
            if tx.place.is_none() {
                self.mempool.remove(&tx.seq);
            }
            self.unindex(&tx);
        }
    }

    /// Append a best-chain block confirming `txids` (in this order), mined at `time`
    /// (default: now, after its parent).
    fn push_block(&mut self, txids: Vec<String>, time: Option<u64>) -> String {
        let prev = self.best.last().cloned();
        let parent_time = prev.as_ref().and_then(|p| self.blocks.get(p)).map_or(0, |b| b.time);
        let time = time.unwrap_or_else(|| now_secs().max(parent_time + 1));
        let height = u64::try_from(self.best.len()).unwrap_or(u64::MAX);
        let hash = format!("00000000{}", &self.fresh("block")[8..]);
        let merkle_root = self.fresh("merkle");
        for (pos, txid) in txids.iter().enumerate() {
            if let Some(tx) = self.txs.get_mut(txid) {
                tx.place = Some(Place { hash: hash.clone(), height, pos });
            }
        }
        let block = Block { hash: hash.clone(), height, prev, time, merkle_root, txids, in_best_chain: true };
        self.blocks.insert(hash.clone(), block);
        self.best.push(hash.clone());
        hash
    }

    /// Mine `blocks` blocks; the first confirms the whole mempool.
    pub fn mine(&mut self, blocks: u32) -> Vec<String> {
        (0..blocks)
            .map(|i| {
                let txids = if i == 0 { std::mem::take(&mut self.mempool).into_values().collect() } else { Vec::new() };
                self.push_block(txids, None)
            })
            .collect()
    }

    /// Replace the last `depth` blocks (never the genesis) with as many new empty ones.
    /// The old blocks stay known as stale; their transactions go back to the mempool, or
    /// vanish with `drop`.
    pub fn reorg(&mut self, depth: u32, drop: bool) -> Vec<String> {
        let depth = u64::from(depth).min(self.tip());
        let keep = self.best.len() - usize::try_from(depth).unwrap_or(0);
        let stale: Vec<String> = self.best.split_off(keep);
        for hash in &stale {
            let Some(block) = self.blocks.get_mut(hash) else { continue };
            block.in_best_chain = false;
            for txid in block.txids.clone() {
                if drop {
                    self.forget(&txid);
                } else {
                    self.enter_mempool(&txid);
                }
            }
        }
        (0..depth).map(|_| self.push_block(Vec::new(), None)).collect()
    }

    /// Replace the mempool transaction `txid` (RBF): a new one spending the same input
    /// pays `outputs` at a higher fee; the old one is gone.
    pub fn replace(&mut self, txid: &str, outputs: &[(&str, u64)]) -> Result<String, ChainError> {
        let old = self.txs.get(txid).filter(|t| t.place.is_none());
        let Some(old) = old else { return Err(ChainError::NotInMempool(txid.to_owned())) };
        let (prev, fee_rate) = (old.prev.clone(), old.fee_rate + 3);
        self.forget(txid);
        Ok(self.add(outputs, Some(prev), fee_rate))
    }

    /// Evict `txid` from the mempool; false when it is not there.
    pub fn drop_tx(&mut self, txid: &str) -> bool {
        if self.txs.get(txid).is_some_and(|t| t.place.is_none()) {
            self.forget(txid);
            true
        } else {
            false
        }
    }

    /// Every transaction known to touch `address` (its index), in no order.
    fn history<'a>(&'a self, address: &str) -> impl Iterator<Item = &'a Tx> + 'a {
        self.by_address.get(address).into_iter().flatten().filter_map(|id| self.txs.get(id))
    }

    /// The address's mempool transactions, newest first, at most `limit`.
    pub fn address_mempool(&self, address: &str, limit: usize) -> Vec<&Tx> {
        let mut txs: Vec<&Tx> = self.history(address).filter(|t| t.place.is_none()).collect();
        txs.sort_by_key(|t| std::cmp::Reverse(t.seq));
        txs.truncate(limit);
        txs
    }

    /// The address's confirmed transactions, newest first, after `last_seen` (when
    /// given: none if it is not in that history), at most `limit`.
    pub fn address_chain(&self, address: &str, last_seen: Option<&str>, limit: usize) -> Vec<&Tx> {
        let mut txs: Vec<&Tx> = self.history(address).filter(|t| t.place.is_some()).collect();
        txs.sort_by_key(|t| std::cmp::Reverse(t.place.as_ref().map(|p| (p.height, p.pos))));
        let start = match last_seen {
            None => 0,
            Some(seen) => match txs.iter().position(|t| t.txid == seen) {
                Some(i) => i + 1,
                None => txs.len(),
            },
        };
        txs.into_iter().skip(start).take(limit).collect()
    }

    /// The median time of the 11 blocks ending with `hash` (following parents).
    pub fn median_time(&self, hash: &str) -> u64 {
        let mut times = Vec::with_capacity(11);
        let mut at = Some(hash);
        while let Some(b) = at.and_then(|h| self.blocks.get(h)) {
            times.push(b.time);
            if times.len() == 11 {
                break;
            }
            at = b.prev.as_deref();
        }
        times.sort_unstable();
        times.get(times.len() / 2).copied().unwrap_or(0)
    }
}

/// Lowercase hex of `bytes`.
pub(super) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Whether `s` is 64 hex digits (a txid or block hash).
pub(super) fn is_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}
