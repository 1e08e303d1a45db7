//! Counting: what one observed update or business event adds. Every update with a human
//! sender adds to the sender's counts for the UTC day of the turn (`Context::now_ms`);
//! the first one of a day also moves the user's last day, and the first one ever makes
//! them a new user of that day. Only counters and bounded names are written.
//!
//! | event | counts |
//! |---|---|
//! | message | `m`; a command also `c[name]`; `/start` also `s[payload]`, the funnel's start and the user's source; `/wallet` the funnel's second step |
//! | button press (any plugin's) | `b` |
//! | `wallet.deposit` from the wallet | `dep`, `dep_amt`, the funnel's deposit step |
//! | `shop.purchase` from the shop | `pur`, `pur_amt`, the funnel's purchase step |
//! | `usage` from any plugin | `u["PLUGIN/NAME"] += n` |
//!
//! `/forgetme` is never counted (it would bring back the user it just forgot).

use serde::Deserialize;
use serde_json::Value;
use wharf_sdk::{CustomEvent, Error, Event};

use crate::model::{
    self, CURRENCY_KEY, Counts, CurrencyInfo, MAX_NAMES, UserRecord, day_key, day_of, event_key, new_key, user_key,
};
use crate::store::Store;

/// The wallet's topic of new deposits.
pub const DEPOSIT_TOPIC: &str = "wallet.deposit";
/// The shop's topic of paid orders.
pub const PURCHASE_TOPIC: &str = "shop.purchase";
/// The topic plugins report usage on (`wharf_sdk::usage`).
pub const USAGE_TOPIC: &str = wharf_sdk::usage::TOPIC;
/// The command that deletes a user's rows.
pub const FORGET: &str = "forgetme";

/// What an update was, for counting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update<'a> {
    /// A message; `command` is its command's name and arguments, if any.
    Message {
        /// The sender.
        user: i64,
        /// Name and arguments of its command.
        command: Option<(&'a str, &'a str)>,
    },
    /// A button press.
    Press {
        /// Who pressed.
        user: i64,
    },
}

impl<'a> Update<'a> {
    /// The countable part of `event`: messages and presses from people (not bots, not
    /// channel posts), not `/forgetme`.
    pub fn of(event: &'a Event) -> Option<Self> {
        match event {
            Event::Message(m) => {
                let sender = m.sender.as_ref().filter(|u| !u.is_bot)?;
                let command = m.command.as_ref().map(|c| (c.name.as_str(), c.args.as_str()));
                if command.is_some_and(|(name, _)| name == FORGET) {
                    return None;
                }
                Some(Self::Message { user: sender.id, command })
            }
            Event::Callback(cb) => (!cb.sender.is_bot).then_some(Self::Press { user: cb.sender.id }),
            _ => None,
        }
    }
}

/// Count one update handled at `now_ms` (the handled turn's time). `late_ms` is the host
/// time now: an observation that comes two or more days late (its observer fell far
/// behind) also drops the cached rollup of its day, which is then summed again.
pub fn update<S: Store>(s: &mut S, u: &Update<'_>, now_ms: i64, late_ms: i64) -> Result<(), Error> {
    let day = day_of(now_ms);
    if day_of(late_ms) - day >= 2 {
        s.delete_many(&[model::rollup_key(day)])?;
    }
    let user = match u {
        Update::Message { user, .. } | Update::Press { user } => *user,
    };
    let keys = [day_key(day, user), user_key(user)];
    let mut found: Vec<Option<Value>> = s.get_many(&keys)?;
    let (counts, rec) = (found.remove(0), found.remove(0));
    let first_today = counts.is_none();
    let mut counts: Counts = decode(counts)?.unwrap_or_default();
    let mut writes: Vec<(String, Value)> = Vec::new();
    let (mut rec, mut rec_changed) = match decode::<UserRecord>(rec)? {
        Some(r) => (r, false),
        None => {
            writes.push((new_key(day, user), Value::from(1)));
            (UserRecord { first: day, last: day, ..UserRecord::default() }, true)
        }
    };
    if first_today && rec.last < day {
        rec.last = day;
        rec_changed = true;
    }
    match u {
        Update::Press { .. } => counts.b += 1,
        Update::Message { command, .. } => {
            counts.m += 1;
            if let Some((name, args)) = command {
                let name = model::command_name(name);
                model::bump(&mut counts.c, name, 1, MAX_NAMES);
                if name == "start" {
                    let source = model::start_source(args);
                    model::bump(&mut counts.s, source, 1, MAX_NAMES);
                    if rec.start.is_none() {
                        rec.start = Some(now_ms);
                        rec.src = Some(source.to_owned());
                        rec_changed = true;
                    }
                }
                if name == "wallet" && rec.wallet.is_none() {
                    rec.wallet = Some(now_ms);
                    rec_changed = true;
                }
            }
        }
    }
    writes.push((keys[0].clone(), serde_json::to_value(&counts)?));
    if rec_changed {
        writes.push((keys[1].clone(), serde_json::to_value(&rec)?));
    }
    s.put_many(&writes)
}

/// Set a funnel step of the record, if there is one and the step is not set yet.
fn mark(rec: &mut Option<UserRecord>, slot: fn(&mut UserRecord) -> &mut Option<i64>, now_ms: i64) -> bool {
    match rec.as_mut().map(slot) {
        Some(step) if step.is_none() => {
            *step = Some(now_ms);
            true
        }
        _ => false,
    }
}

fn decode<T: serde::de::DeserializeOwned>(v: Option<Value>) -> Result<Option<T>, Error> {
    v.map(|v| serde_json::from_value(v).map_err(Error::from)).transpose()
}

/// `wallet.deposit` (the fields analytics reads).
#[derive(Debug, Deserialize)]
struct Deposit {
    user_id: i64,
    amount: i64,
    currency: Option<String>,
    decimals: Option<u8>,
}

/// `shop.purchase`.
#[derive(Debug, Deserialize)]
struct Purchase {
    user_id: i64,
    amount: i64,
}

/// What a business event adds, for whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Business {
    /// A deposit credited.
    Deposit {
        /// Whose.
        user: i64,
        /// Minor units.
        amount: i64,
        /// The wallet's currency, if the event says.
        currency: Option<CurrencyInfo>,
    },
    /// An order paid.
    Purchase {
        /// The buyer.
        user: i64,
        /// Minor units.
        amount: i64,
    },
    /// Usage reported by a plugin.
    Usage {
        /// Whose.
        user: i64,
        /// `PLUGIN/NAME`.
        name: String,
        /// How much (> 0).
        n: u64,
    },
}

impl Business {
    /// The business event a custom event is, if it is one analytics trusts: deposits
    /// only from the wallet, purchases only from the shop (any plugin may emit any
    /// topic), usage from any plugin (counted under its name). `Ok(None)` for other
    /// topics and sources; an error for a malformed payload from a trusted source.
    pub fn of(e: &CustomEvent) -> Result<Option<Self>, Error> {
        Ok(match (e.topic.as_str(), e.source.as_str()) {
            (DEPOSIT_TOPIC, "wallet") => {
                let d: Deposit = wharf_sdk::events::decode(e)?;
                let currency = d.currency.zip(d.decimals).map(|(code, decimals)| CurrencyInfo { code, decimals });
                Some(Self::Deposit { user: d.user_id, amount: d.amount, currency })
            }
            (PURCHASE_TOPIC, "shop") => {
                let p: Purchase = wharf_sdk::events::decode(e)?;
                Some(Self::Purchase { user: p.user_id, amount: p.amount })
            }
            (USAGE_TOPIC, source) => {
                let u: wharf_sdk::usage::Usage = wharf_sdk::events::decode(e)?;
                let name = model::usage_name(source, &u.name);
                let n = u64::try_from(u.n).ok().filter(|n| *n > 0);
                name.zip(n).map(|(name, n)| Self::Usage { user: u.user_id, name, n })
            }
            _ => None,
        })
    }

    fn user(&self) -> i64 {
        match self {
            Self::Deposit { user, .. } | Self::Purchase { user, .. } | Self::Usage { user, .. } => *user,
        }
    }
}

/// Count one business event at `now_ms`. The funnel steps go to the user's record if
/// analytics has one (it was seen sending an update).
pub fn business<S: Store>(s: &mut S, b: &Business, now_ms: i64) -> Result<(), Error> {
    let day = day_of(now_ms);
    let user = b.user();
    let keys = [event_key(day, user), user_key(user), CURRENCY_KEY.to_owned()];
    let mut found: Vec<Option<Value>> = s.get_many(&keys)?;
    let (counts, rec, cur) = (found.remove(0), found.remove(0), found.remove(0));
    let mut counts: Counts = decode(counts)?.unwrap_or_default();
    let mut rec: Option<UserRecord> = decode(rec)?;
    let mut writes: Vec<(String, Value)> = Vec::new();
    let rec_changed = match b {
        Business::Deposit { amount, currency, .. } => {
            counts.dep += 1;
            counts.dep_amt = counts.dep_amt.saturating_add(*amount);
            let known: Option<CurrencyInfo> = decode(cur)?;
            if let Some(c) = currency.as_ref().filter(|c| known.as_ref() != Some(*c)) {
                writes.push((CURRENCY_KEY.to_owned(), serde_json::to_value(c)?));
            }
            mark(&mut rec, |r| &mut r.deposit, now_ms)
        }
        Business::Purchase { amount, .. } => {
            counts.pur += 1;
            counts.pur_amt = counts.pur_amt.saturating_add(*amount);
            mark(&mut rec, |r| &mut r.purchase, now_ms)
        }
        Business::Usage { name, n, .. } => {
            model::bump(&mut counts.u, name, *n, MAX_NAMES);
            false
        }
    };
    writes.push((keys[0].clone(), serde_json::to_value(&counts)?));
    if let Some(r) = rec.filter(|_| rec_changed) {
        writes.push((keys[1].clone(), serde_json::to_value(&r)?));
    }
    s.put_many(&writes)
}
