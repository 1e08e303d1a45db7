//! The watcher: one run per tick of the repeating job `poll` (and a follow-up `poll-more`
//! a second later when a run used its budget with work left). Per chain, within
//! `requests_per_run` requests and [`RUN_TIME`]:
//!
//! 1. the tip height (one request);
//! 2. pending payments: those with enough confirmations are checked to be in the best
//!    chain (`/block/:hash/status`) and credited; the others have their count updated;
//! 3. addresses watched closely (`hot:`; shown recently or with a pending payment), from
//!    where the last run stopped: `/address/:a/txs` finds new payments and moves known
//!    ones; a known pending payment missing from the listing is looked up by
//!    `/tx/:txid/status` (gone: dropped);
//! 4. a few old addresses (`sweep_per_run`), so a payment to any address ever handed out
//!    is found eventually; then step 2 again, for payments found ready in this run;
//! 5. credited payments not yet settled: a reorg that took one away is reported once,
//!    never credited again.
//!
//! A failing explorer (timeout, 429, 5xx, garbage) ends that chain's run, backs off
//! (doubling, at most 10 minutes) and, after `alert_after_minutes`, tells the admins.
//! What a run did before a failure is kept: each step leaves the records consistent, and
//! a credit is keyed `crypto:COIN:TXID:VOUT` in the ledger, so nothing is credited twice.

use std::collections::HashSet;
use std::time::Duration;

use wharf_sdk::money::Currency;
use wharf_sdk::prelude::*;
use wharf_sdk::{kv, log, scheduler};

use crate::esplora::{Explorer, ExplorerError, Place};
use crate::model::{self, Credit, Health, Hot, Observed, Owner, Payment, SETTLE_DEPTH, State};
use crate::settings::{Chain, Settings};
use crate::{ledger, notify, pricing, rates};

/// A run stops starting requests after this long (keep the plugin's `limits.timeout_ms`
/// above it).
pub const RUN_TIME: Duration = Duration::from_secs(8);
/// Keys read per page of an index.
const PAGE: u32 = 200;

/// The repeating job's name.
pub const JOB: &str = "poll";
/// The follow-up run's name.
pub const MORE: &str = "poll-more";

/// Make sure the repeating job runs every `poll_seconds`.
pub fn ensure_job(s: &Settings) -> Result<(), HandlerError> {
    let every = s.poll_seconds * 1000;
    if kv::get::<u64>("job")? != Some(every) {
        scheduler::every(JOB, every, b"")?;
        kv::set("job", &every)?;
    }
    Ok(())
}

/// One run over every chain.
pub fn run(s: &Settings, chains: &[Chain], now_ms: i64) -> Result<(), HandlerError> {
    ensure_job(s)?;
    let cur = ledger::currency();
    let poll_ms = i64::try_from(s.poll_seconds * 1000).unwrap_or(i64::MAX);
    if let Err(e) = pricing::refresh(s, chains, &cur, now_ms, poll_ms) {
        log::warn(&format!("exchange rates not refreshed: {e}"));
    }
    let mut more = false;
    for chain in chains {
        more |= ChainRun::new(s, chain, &cur, now_ms).go()?;
    }
    if more {
        scheduler::after(MORE, 1_000, b"")?;
    }
    Ok(())
}

struct ChainRun<'a> {
    s: &'a Settings,
    chain: &'a Chain,
    cur: &'a Currency,
    now: i64,
    ex: Explorer,
    tip: u64,
}

fn key(prefix: &str, id: &str) -> String {
    format!("{prefix}:{id}")
}

fn save(p: &Payment) -> Result<(), HandlerError> {
    kv::set(&key("pay", &p.id()), p)?;
    Ok(())
}

/// Keys under `prefix` after `after`, one page.
fn page(prefix: &str, after: Option<&str>) -> Result<Vec<String>, HandlerError> {
    Ok(kv::page(prefix, after, PAGE)?.keys)
}

impl<'a> ChainRun<'a> {
    fn new(s: &'a Settings, chain: &'a Chain, cur: &'a Currency, now: i64) -> Self {
        let ex = Explorer::new(&chain.explorer, s.requests_per_run, RUN_TIME);
        Self { s, chain, cur, now, ex, tip: 0 }
    }

    fn coin(&self) -> String {
        self.chain.coin.to_string()
    }

    /// Run; `true` when work is left for a follow-up run.
    fn go(mut self) -> Result<bool, HandlerError> {
        let health_key = format!("health:{}", self.coin());
        let mut health: Health = kv::get(&health_key)?.unwrap_or_default();
        if health.backoff_until_ms > self.now {
            return Ok(false);
        }
        let outcome = self.steps();
        let poll_ms = i64::try_from(self.s.poll_seconds * 1000).unwrap_or(i64::MAX);
        let more = match outcome {
            Ok(more) => {
                self.recovered(&mut health)?;
                more
            }
            Err(Failure::Handler(e)) => return Err(e),
            Err(Failure::Explorer(ExplorerError::Budget)) => {
                self.recovered(&mut health)?;
                true
            }
            Err(Failure::Explorer(e)) => {
                let why = e.to_string();
                log::warn(&format!("{} explorer failed: {why}", self.coin()));
                health.backoff_until_ms = self.now.saturating_add(Health::backoff_ms(poll_ms, health.failures));
                health.failures += 1;
                let since = *health.since_ms.get_or_insert(self.now);
                let minutes = (self.now - since) / 60_000;
                if !health.alerted && minutes >= i64::try_from(self.s.alert_after_minutes).unwrap_or(i64::MAX) {
                    health.alerted = true;
                    notify::explorer(self.chain, true, &why, minutes)?;
                }
                health.last_error = Some(why);
                false
            }
        };
        kv::set(&health_key, &health)?;
        Ok(more)
    }

    fn recovered(&self, health: &mut Health) -> Result<(), HandlerError> {
        if health.alerted {
            let minutes = health.since_ms.map_or(0, |s| (self.now - s) / 60_000);
            notify::explorer(self.chain, false, "", minutes)?;
        }
        *health = Health::default();
        Ok(())
    }

    fn steps(&mut self) -> Result<bool, Failure> {
        self.tip = self.ex.tip_height()?;
        self.pending()?;
        if self.hot()? {
            return Ok(true);
        }
        // Old addresses, payments that became ready in this run and settling wait for
        // the next tick when the budget runs out.
        match self.sweep().and_then(|()| self.pending()).and_then(|()| self.settle()) {
            Err(Failure::Explorer(ExplorerError::Budget)) | Ok(()) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Step 2: credit what has enough confirmations; tell the others their count.
    fn pending(&mut self) -> Result<(), Failure> {
        let prefix = format!("open:{}:", self.coin());
        let mut after: Option<String> = None;
        loop {
            let keys = page(&prefix, after.as_deref())?;
            let Some(last) = keys.last().cloned() else { return Ok(()) };
            for k in &keys {
                let Some(mut p) = kv::get::<Payment>(&key("pay", &k[5..]))? else {
                    kv::delete(k)?;
                    continue;
                };
                let confs = p.confirmations(self.tip);
                if confs >= u64::from(self.chain.confirmations) {
                    self.settle_credit(&mut p)?;
                } else {
                    notify::progress(&mut p, self.chain, confs)?;
                }
                save(&p)?;
            }
            after = Some(last);
        }
    }

    fn settle_credit(&mut self, p: &mut Payment) -> Result<(), Failure> {
        let Some(block) = p.block.clone() else { return Ok(()) };
        if !self.ex.in_best_chain(&block.hash)? {
            p.block = None;
            notify::reorged(p, false, "its block left the best chain; waiting for it to confirm again")?;
            notify::progress(p, self.chain, 0)?;
            return Ok(());
        }
        if p.rate.is_none() {
            p.rate = pricing::cached(self.s, self.chain.coin, self.cur, self.now);
        }
        let Some(rate) = p.rate.clone() else {
            log::warn(&format!("{} payment {} waits for a fresh exchange rate", p.coin, notify::short_txid(&p.txid)));
            return Ok(());
        };
        let amount = rates::value(p.sats, rate.minor_per_coin);
        kv::delete(&key("open", &p.id()))?;
        if p.sats < self.chain.min_amount || amount <= 0 {
            p.state = State::BelowMinimum;
            notify::below_minimum(p, self.chain, self.now)?;
            return Ok(());
        }
        let reason =
            format!("{} deposit {} (tx {})", p.coin.name(), rates::coins(p.sats, p.coin), notify::short_txid(&p.txid));
        let done = ledger::credit_deposit(p.user, amount, &reason, &p.idempotency_key())
            .map_err(|e| Failure::Handler(HandlerError::Other(format!("crediting {}: {e}", p.idempotency_key()))))?;
        p.state = State::Credited;
        p.credit = Some(Credit { amount, seq: done.seq, balance_after: done.balance_after, at_ms: self.now, block });
        notify::progress(p, self.chain, u64::from(self.chain.confirmations))?;
        notify::credited(p, self.cur, amount, done.balance_after)?;
        kv::set(&key("settle", &p.id()), &true)?;
        Ok(())
    }

    /// Step 3: scan the addresses watched closely, from where the last run stopped;
    /// `true` when the budget ran out before the end.
    fn hot(&mut self) -> Result<bool, Failure> {
        let prefix = format!("hot:{}:", self.coin());
        let cursor_key = format!("cursor:{}", self.coin());
        let mut after: Option<String> = kv::get(&cursor_key)?;
        loop {
            let keys = page(&prefix, after.as_deref())?;
            for k in &keys {
                let address = &k[prefix.len()..];
                let Some(hot) = kv::get::<Hot>(k)? else { continue };
                if hot.until_ms < self.now && !self.has_pending(address)? {
                    kv::delete(k)?;
                    continue;
                }
                match self.scan(address, hot.user) {
                    Err(Failure::Explorer(ExplorerError::Budget)) => {
                        // This address is scanned again by the follow-up run.
                        match &after {
                            Some(a) => kv::set(&cursor_key, a)?,
                            None => kv::delete(&cursor_key)?,
                        }
                        return Ok(true);
                    }
                    other => other?,
                }
                after = Some(k.clone());
            }
            if keys.len() < PAGE as usize {
                kv::delete(&cursor_key)?;
                return Ok(false);
            }
        }
    }

    fn has_pending(&self, address: &str) -> Result<bool, HandlerError> {
        let coin = self.coin();
        let index_prefix = format!("apay:{coin}:{address}:");
        for k in kv::keys(&index_prefix)? {
            let pay = format!("pay:{coin}:{}", &k[index_prefix.len()..]);
            if kv::get::<Payment>(&pay)?.is_some_and(|p| p.state == State::Pending) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Step 4: a few old addresses, in turn.
    fn sweep(&mut self) -> Result<(), Failure> {
        let n = self.s.sweep_per_run;
        if n == 0 {
            return Ok(());
        }
        let prefix = format!("own:{}:", self.coin());
        let cursor_key = format!("sweep:{}", self.coin());
        let after: Option<String> = kv::get(&cursor_key)?;
        let keys = kv::page(&prefix, after.as_deref(), n)?.keys;
        for k in &keys {
            let address = &k[prefix.len()..];
            if kv::exists(&format!("hot:{}:{address}", self.coin()))? {
                continue;
            }
            let Some(owner) = kv::get::<Owner>(k)? else { continue };
            self.scan(address, owner.user)?;
        }
        match keys.last() {
            Some(last) if keys.len() == n as usize => kv::set(&cursor_key, last)?,
            _ => kv::delete(&cursor_key)?,
        }
        Ok(())
    }

    /// Look at one address: new payments, and what became of the known pending ones.
    fn scan(&mut self, address: &str, user: i64) -> Result<(), Failure> {
        let coin = self.coin();
        let index_prefix = format!("apay:{coin}:{address}:");
        let mut known: Vec<Payment> = Vec::new();
        for k in kv::keys(&index_prefix)? {
            if let Some(p) = kv::get::<Payment>(&format!("pay:{coin}:{}", &k[index_prefix.len()..]))? {
                known.push(p);
            }
        }
        let known_txids: HashSet<String> = known.iter().map(|p| p.txid.clone()).collect();
        let txs = self.ex.address_txs(address, |page| page.iter().any(|t| !known_txids.contains(&t.txid)))?;
        let mut seen: HashSet<String> = HashSet::new();
        for tx in &txs {
            for out in tx.outputs.iter().filter(|o| o.address.as_deref() == Some(address)) {
                let id = format!("{coin}:{}:{}", tx.txid, out.vout);
                seen.insert(id.clone());
                match known.iter_mut().find(|p| p.id() == id) {
                    Some(p) => self.moved(p, Some(&tx.place))?,
                    None => self.new_payment(address, user, &tx.txid, out.vout, out.value, &tx.place)?,
                }
            }
        }
        for p in known.iter_mut().filter(|p| p.state == State::Pending && !seen.contains(&p.id())) {
            let place = self.ex.tx_place(&p.txid)?;
            self.moved(p, place.as_ref())?;
        }
        Ok(())
    }

    fn new_payment(
        &mut self,
        address: &str,
        user: i64,
        txid: &str,
        vout: u32,
        sats: u64,
        place: &Place,
    ) -> Result<(), Failure> {
        let mut p = Payment::seen(self.chain.coin, txid, vout, address, user, sats, self.now);
        p.rate = pricing::cached(self.s, self.chain.coin, self.cur, self.now);
        p.observe(Some(place));
        let id = p.id();
        kv::set(&format!("apay:{}:{address}:{txid}:{vout}", self.coin()), &true)?;
        kv::set(&key("open", &id), &true)?;
        let watch_ms = i64::try_from(self.s.watch_hours * 3_600_000).unwrap_or(i64::MAX);
        crate::deposit::keep_hot(self.chain.coin, address, user, self.now.saturating_add(watch_ms))?;
        let confs = p.confirmations(self.tip);
        notify::detected(&mut p, self.chain, confs)?;
        save(&p)?;
        Ok(())
    }

    /// A known payment's new place (`None`: gone).
    fn moved(&mut self, p: &mut Payment, place: Option<&Place>) -> Result<(), Failure> {
        match p.observe(place) {
            Observed::Unchanged => return Ok(()),
            Observed::Confirmed => notify::progress(p, self.chain, p.confirmations(self.tip))?,
            Observed::Reorged => {
                let what = match &p.block {
                    Some(b) => format!("now in block {} at height {}", notify::short_txid(&b.hash), b.height),
                    None => "back in the mempool".to_owned(),
                };
                notify::reorged(p, false, &what)?;
                notify::progress(p, self.chain, p.confirmations(self.tip))?;
            }
            Observed::Dropped => {
                kv::delete(&key("open", &p.id()))?;
                notify::dropped(p)?;
            }
        }
        save(p)?;
        Ok(())
    }

    /// Step 5: credited payments still shallow; a reorg that moved one is reported once.
    fn settle(&mut self) -> Result<(), Failure> {
        let prefix = format!("settle:{}:", self.coin());
        for k in page(&prefix, None)? {
            let id = &k["settle:".len()..];
            let Some(mut p) = kv::get::<Payment>(&key("pay", id))? else {
                kv::delete(&k)?;
                continue;
            };
            let Some(credit) = p.credit.clone() else {
                kv::delete(&k)?;
                continue;
            };
            let place = self.ex.tx_place(&p.txid)?;
            let deep = u64::from(self.chain.confirmations) + SETTLE_DEPTH;
            let (settled, what) = match &place {
                Some(Place::Block { height, hash }) => {
                    let moved = (*hash != credit.block.hash)
                        .then(|| format!("confirmed again in another block at height {height}"));
                    (model::confirmations(self.tip, *height) >= deep, moved)
                }
                Some(Place::Mempool) => (false, Some("back in the mempool, unconfirmed".to_owned())),
                None => (true, Some("gone from the chain (double-spent or dropped)".to_owned())),
            };
            if let Some(what) = what
                && !p.reorg_reported
            {
                p.reorg_reported = true;
                notify::reorged(&p, true, &what)?;
                save(&p)?;
            }
            if settled {
                kv::delete(&k)?;
            }
        }
        Ok(())
    }
}

/// Why a chain's run stopped early.
enum Failure {
    /// The explorer failed (or the budget ran out).
    Explorer(ExplorerError),
    /// The host refused something (KV, Telegram, the ledger): the turn fails.
    Handler(HandlerError),
}

impl From<ExplorerError> for Failure {
    fn from(e: ExplorerError) -> Self {
        Self::Explorer(e)
    }
}

impl From<HandlerError> for Failure {
    fn from(e: HandlerError) -> Self {
        Self::Handler(e)
    }
}

impl From<wharf_sdk::Error> for Failure {
    fn from(e: wharf_sdk::Error) -> Self {
        Self::Handler(e.into())
    }
}
