//! What users, admins and the event log are told about payments: the "payment seen"
//! message (edited as confirmations come), the credit, a drop, a payment below the
//! minimum, a reorg, an explorer that keeps failing. Addresses are shown to others
//! partly masked; txids in full (they are public and what an admin looks up).

use wharf_sdk::escape::html;
use wharf_sdk::log::{Event as BusinessEvent, Level};
use wharf_sdk::money::Currency;
use wharf_sdk::prelude::*;
use wharf_sdk::{kv, settings, telegram};

use crate::model::Payment;
use crate::rates::coins;
use crate::settings::Chain;

/// A txid shortened for people: `abcdef12…7890`.
pub fn short_txid(txid: &str) -> String {
    if txid.len() <= 16 { txid.to_owned() } else { format!("{}…{}", &txid[..8], &txid[txid.len() - 4..]) }
}

fn event(kind: &str, title: &str, emoji: &str, p: &Payment) -> BusinessEvent {
    BusinessEvent::new(kind)
        .title(title)
        .emoji(emoji)
        .user(p.user)
        .field("coin", p.coin)
        .field("amount", coins(p.sats, p.coin))
        .field("txid", &p.txid)
        .field("vout", p.vout)
        .partial("address", &p.address, 6, 4)
}

fn seen_text(p: &Payment, chain: &Chain, confirmations: u64) -> Outgoing {
    let needed = u64::from(chain.confirmations);
    let (head, tail) = if confirmations >= needed {
        (format!("✅ <b>{} payment confirmed, {needed}/{needed} confirmations</b>", p.coin.name()), String::new())
    } else {
        (
            format!("👀 <b>{} payment seen, {confirmations}/{needed} confirmations</b>", p.coin.name()),
            format!("\nIt is credited by itself after {needed} confirmations."),
        )
    };
    Outgoing::html(format!(
        "{head}\nAmount: {}\nTransaction: <code>{}</code>{tail}",
        html(&coins(p.sats, p.coin)),
        html(&short_txid(&p.txid)),
    ))
}

/// Whether a payment is below the chain's minimum: users are not told it is seen (a
/// stream of dust must not flood their chat), only once it confirmed, and at most hourly.
fn dust(p: &Payment, chain: &Chain) -> bool {
    p.sats < chain.min_amount
}

/// Users hear about payments below the minimum at most this often.
pub const DUST_NOTICE_MS: i64 = 3_600_000;

/// A new payment: the user is told (the message is kept to be edited) and the event
/// recorded.
pub fn detected(p: &mut Payment, chain: &Chain, confirmations: u64) -> Result<(), HandlerError> {
    if !dust(p, chain) {
        p.message = Some(telegram::send(p.user, &seen_text(p, chain, confirmations))?);
    }
    p.told_confirmations = Some(confirmations);
    event("crypto.detected", "Crypto payment seen", "👀", p)
        .field("confirmations", format!("{confirmations}/{}", chain.confirmations))
        .record()?;
    Ok(())
}

/// The confirmations changed: edit the "seen" message (or send one if it is gone).
pub fn progress(p: &mut Payment, chain: &Chain, confirmations: u64) -> Result<(), HandlerError> {
    let shown = confirmations.min(u64::from(chain.confirmations));
    if p.told_confirmations == Some(shown) {
        return Ok(());
    }
    let text = seen_text(p, chain, shown);
    match p.message {
        Some(h) => telegram::edit(p.user, h, &text)?,
        None if dust(p, chain) => {}
        None => p.message = Some(telegram::send(p.user, &text)?),
    }
    p.told_confirmations = Some(shown);
    Ok(())
}

/// The payment was credited.
pub fn credited(p: &Payment, cur: &Currency, amount: i64, balance: i64) -> Result<(), HandlerError> {
    let rate = p.rate.as_ref().map_or(0, |r| r.minor_per_coin);
    let text = format!(
        "✅ <b>Deposit credited: {}</b>\nFor {} at 1 {} = {}.\nBalance: <b>{}</b>",
        html(&cur.format(amount)),
        html(&coins(p.sats, p.coin)),
        p.coin,
        html(&cur.format(rate)),
        html(&cur.format(balance)),
    );
    telegram::send(p.user, &Outgoing::html(text))?;
    event("crypto.credited", "Crypto deposit credited", "💰", p)
        .field("credited", cur.format(amount))
        .field("rate", format!("1 {} = {}", p.coin, cur.format(rate)))
        .field("rate_source", p.rate.as_ref().map_or("", |r| r.source.as_str()))
        .record()?;
    Ok(())
}

/// The payment left the mempool without confirming.
pub fn dropped(p: &Payment) -> Result<(), HandlerError> {
    let text = format!(
        "⚠️ Your {} payment of {} (transaction {}) was replaced or dropped before it confirmed, so nothing was credited for it. A payment that replaced it shows up on its own.",
        p.coin.name(),
        coins(p.sats, p.coin),
        short_txid(&p.txid)
    );
    telegram::send_text(p.user, &text)?;
    event("crypto.dropped", "Crypto payment dropped", "🗑", p).level(Level::Warn).record()?;
    Ok(())
}

/// A confirmed payment below the minimum: always an event; the user is told unless they
/// were told of another one in the last hour.
pub fn below_minimum(p: &Payment, chain: &Chain, now_ms: i64) -> Result<(), HandlerError> {
    let key = format!("dustmsg:{}", p.user);
    if kv::get::<i64>(&key)?.is_none_or(|at| now_ms.saturating_sub(at) >= DUST_NOTICE_MS) {
        let text = format!(
            "⚠️ Your {} payment of {} is below the minimum of {} and was not credited. Contact an admin about it.",
            p.coin.name(),
            coins(p.sats, p.coin),
            coins(chain.min_amount, p.coin)
        );
        telegram::send_text(p.user, &text)?;
        kv::set(&key, &now_ms)?;
    }
    event("crypto.below_minimum", "Crypto payment below the minimum", "⚠️", p)
        .level(Level::Warn)
        .field("minimum", coins(chain.min_amount, p.coin))
        .record()?;
    Ok(())
}

/// A reorg moved a payment. Before the credit it is back to pending (a warning);
/// after it the credit stands unbacked or re-confirmed elsewhere, and admins are told.
pub fn reorged(p: &Payment, after_credit: bool, what: &str) -> Result<(), HandlerError> {
    let (level, title) = if after_credit {
        (Level::Error, "Crypto payment reorganised after its credit")
    } else {
        (Level::Warn, "Crypto payment reorganised before its credit")
    };
    event("crypto.reorged", title, "🔀", p).level(level).field("now", what).record()?;
    if after_credit {
        let text = format!(
            "🔀 A reorg touched a credited {} payment: user {}, {}, transaction {} ({what}). It was credited once and is not credited again; check whether the credit should stand.",
            p.coin.name(),
            p.user,
            coins(p.sats, p.coin),
            p.txid
        );
        to_admins(&text)?;
    }
    Ok(())
}

/// The explorer of `chain` failed for a while, or recovered.
pub fn explorer(chain: &Chain, down: bool, why: &str, minutes: i64) -> Result<(), HandlerError> {
    let host = chain.explorer.split("://").nth(1).and_then(|r| r.split('/').next()).unwrap_or_default();
    let e = if down {
        BusinessEvent::new("crypto.explorer_down")
            .title("Blockchain explorer failing")
            .emoji("🚨")
            .level(Level::Error)
            .field("error", why)
    } else {
        BusinessEvent::new("crypto.explorer_recovered").title("Blockchain explorer answering again").emoji("✅")
    };
    e.field("coin", chain.coin).field("explorer", host).field("minutes", minutes).record()?;
    let text = if down {
        format!(
            "🚨 The {} explorer ({host}) has failed for {minutes} minutes ({why}). Payments are not lost: they are found and credited once it answers again.",
            chain.coin.name()
        )
    } else {
        format!("✅ The {} explorer ({host}) answers again after {minutes} minutes.", chain.coin.name())
    };
    to_admins(&text)
}

fn to_admins(text: &str) -> Result<(), HandlerError> {
    for admin in settings::admins() {
        telegram::send_text(admin, text)?;
    }
    Ok(())
}
