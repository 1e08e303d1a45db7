//! Commissions: for each new deposit entry of a referee (the wallet's `wallet.deposit`
//! topic, trusted only from the wallet), the referrer is credited
//! `floor(amount × percent / 100)` as a `bonus` through the ledger, keyed by the deposit
//! ([`crate::ledger::commission_key`]), at most `cap_per_referee` per referee in total,
//! and only once the referrer's own deposits reach `min_referrer_deposit`.
//!
//! Exactly once: the commission's record (`com:…`, keyed by the deposit) is read first
//! and written in the same turn as the ledger entry and the totals, so a replayed event
//! finds it and does nothing; and the ledger key would return the first entry anyway.
//! Two deposit events handled at once both read and write the referrer's totals (and the
//! wallet's balance), so the runtime re-runs one of them: two deposits, two commissions.

use serde::{Deserialize, Serialize};
use wharf_sdk::{Error, kv, log};

use crate::ledger::{self, Ledger, LedgerError};
use crate::model::{self, Binding, Commission, Pair, Summary};
use crate::notify::{self, Paid};
use crate::people;
use crate::settings::Settings;

/// The wallet's topic of new deposit entries.
pub const TOPIC: &str = "wallet.deposit";
/// The only source trusted on [`TOPIC`] (the wallet's config name).
pub const WALLET: &str = "wallet";

/// The payload of `wallet.deposit` (fields this plugin reads; others are ignored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deposit {
    /// Whose balance grew.
    pub user_id: i64,
    /// By how much, minor units.
    pub amount: i64,
    /// The entry's position in the user's ledger.
    pub seq: u64,
    /// The entry's idempotency key.
    pub key: String,
}

/// What became of a deposit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The depositor has no referrer.
    NoReferrer,
    /// Its commission was paid before (a replay).
    AlreadyPaid,
    /// Nothing to pay: the rate gives less than one minor unit, or the cap is reached.
    Nothing,
    /// The referrer has not deposited `min_referrer_deposit` yet.
    NotQualified,
    /// The ledger refused the credit (logged; nothing written).
    Refused(String),
    /// Paid: the amount.
    Paid(i64),
}

/// Handle one deposit.
pub fn on_deposit(d: &Deposit, s: &Settings, ledger: &dyn Ledger, now_ms: i64) -> Result<Outcome, Error> {
    if d.amount <= 0 || d.key.is_empty() {
        return Ok(Outcome::Nothing);
    }
    let Some(binding) = kv::get::<Binding>(&model::binding_key(d.user_id))? else { return Ok(Outcome::NoReferrer) };
    let referrer = binding.referrer;
    let record_key = model::commission_key(referrer, d.user_id, &d.key);
    if kv::exists(&record_key)? {
        log::debug("a deposit whose commission was paid came again; nothing to do");
        return Ok(Outcome::AlreadyPaid);
    }
    let pair_key = model::pair_key(referrer, d.user_id);
    let mut pair: Pair = kv::get(&pair_key)?.unwrap_or_default();
    let full = s.commission(d.amount);
    let amount = match s.cap_per_referee {
        Some(cap) => full.min(cap.saturating_sub(pair.earned).max(0)),
        None => full,
    };
    if amount <= 0 {
        return Ok(Outcome::Nothing);
    }
    if !qualified(referrer, s, ledger, now_ms)? {
        log::info("a referrer below min_referrer_deposit earns no commission on this deposit");
        return Ok(Outcome::NotQualified);
    }
    let key = ledger::commission_key(&d.key);
    let referee = people::load(d.user_id)?;
    let referee_name = people::name(&referee, d.user_id);
    let reason = format!("Referral bonus: {} of a deposit by {}", s.percent_text(), plain_name(&referee, d.user_id));
    let credited = match ledger.credit_bonus(referrer, amount, &reason, &key) {
        Ok(c) => c,
        Err(e @ (LedgerError::KeyReused(_) | LedgerError::Refused(_))) => {
            log::Event::new("referral.commission_failed")
                .title("Referral commission not credited")
                .level(log::Level::Error)
                .user(referrer)
                .field("referee", d.user_id)
                .field("deposit_key", &d.key)
                .field("reason", &e)
                .record()?;
            return Ok(Outcome::Refused(e.to_string()));
        }
    };
    let record = Commission {
        deposit: d.amount,
        deposit_seq: d.seq,
        amount,
        rate_bp: s.rate_bp,
        ledger_key: key.clone(),
        bonus_seq: credited.seq,
        at_ms: now_ms,
    };
    kv::set(&record_key, &record)?;
    pair.earned = pair.earned.saturating_add(amount);
    pair.deposits += 1;
    kv::set(&pair_key, &pair)?;
    let sum_key = model::summary_key(referrer);
    let before: Summary = kv::get(&sum_key)?.unwrap_or_default();
    let sum = Summary { earned: before.earned.saturating_add(amount), commissions: before.commissions + 1, ..before };
    kv::set(&sum_key, &sum)?;
    if before.earned > 0 {
        kv::delete(&model::top_key(before.earned, referrer))?;
    }
    kv::set(&model::top_key(sum.earned, referrer), &())?;

    let cur = ledger.currency();
    let paid = Paid {
        referrer,
        referee: d.user_id,
        referee_name: &referee_name,
        deposit: d.amount,
        amount,
        earned: sum.earned,
        key: &key,
        capped: amount < full,
    };
    notify::commission(&paid, s, &cur)?;
    let mut owner = people::load(referrer)?;
    let new = people::unlock(&mut owner, s, &sum, now_ms);
    if !new.is_empty() {
        people::save(referrer, &owner)?;
        notify::unlocked(referrer, &new, s, &cur, sum.earned)?;
    }
    Ok(Outcome::Paid(amount))
}

/// The referee's name in the ledger's reason (plain text, not HTML).
fn plain_name(p: &model::Profile, id: i64) -> String {
    let n = p.name.trim();
    if n.is_empty() { format!("user {id}") } else { n.chars().take(40).collect() }
}

/// Whether `referrer` may earn: `min_referrer_deposit` is 0, or their deposits reached
/// it (remembered once reached: deposits are never taken back).
pub fn qualified(referrer: i64, s: &Settings, ledger: &dyn Ledger, now_ms: i64) -> Result<bool, Error> {
    if s.min_referrer_deposit == 0 || kv::exists(&model::qualified_key(referrer))? {
        return Ok(true);
    }
    let deposited = ledger.deposited(referrer).map_err(|e| Error::Other(e.to_string()))?;
    if deposited < s.min_referrer_deposit {
        return Ok(false);
    }
    kv::set(&model::qualified_key(referrer), &now_ms)?;
    Ok(true)
}
