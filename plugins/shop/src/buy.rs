//! Buying: reserve an item (held for N minutes, released by a timer), confirm in one
//! atomic turn (debit through the wallet's ledger with the order id as the idempotency
//! key, number the order, mark the item sold, record it, deliver the payload), cancel
//! and expire ([`crate::orders`] has the history).
//!
//! Concurrency is the host's: every read is validated at commit, so when two users take
//! the last item one turn conflicts, re-runs, and finds it gone.

use wharf_sdk::escape::html;
use wharf_sdk::log::{Event as BusinessEvent, Level};
use wharf_sdk::prelude::*;
use wharf_sdk::{kv, scheduler, time};

use crate::Shop;
use crate::cooldown;
use crate::ledger::{self, LedgerError};
use crate::model::*;
use crate::orders::deliver;
use crate::store::{KvStore, Store};

fn send(chat: i64, out: &Outgoing) -> Result<(), wharf_sdk::Error> {
    wharf_sdk::telegram::send(chat, out).map(drop)
}

/// Items of `product` for sale, counted up to `max`.
fn available(product: u32, max: u32) -> Result<usize, wharf_sdk::Error> {
    Ok(KvStore.list(&avail_prefix(product), None, max)?.len())
}

fn reservation_message(shop: &Shop, o: &Order) -> Outgoing {
    let text = format!(
        "🛒 <b>{}</b> is reserved for you until {}.\nPrice: {}\n\nConfirm to pay from your wallet.",
        html(&o.name),
        time::date_time(o.expires_ms),
        price_html(shop.currency(), o.price, o.discount),
    );
    Outgoing::html(text).keyboard(
        Keyboard::new().button("✅ Confirm and pay", format!("ok:{}", o.id)).button("✖ Cancel", format!("x:{}", o.id)),
    )
}

/// A stock item of `p` for sale. The search starts at a spot between the product's lowest
/// and highest item id chosen from `seed`, so that concurrent buyers of a large stock
/// reach for different items (and their turns do not conflict); it wraps around once.
fn pick_item(p: &Product, seed: u64) -> Result<Option<u32>, wharf_sdk::Error> {
    let prefix = avail_prefix(p.id);
    let (lo, hi) = p.items;
    let span = u64::from(hi.saturating_sub(lo)) + 1;
    let start = u64::from(lo) + (seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) % span;
    // The cursor is exclusive: start just before the chosen id.
    let cursor = format!("{prefix}{:08}", start.saturating_sub(1));
    for after in [Some(cursor.as_str()), None] {
        let page = kv::page(&prefix, after, 1)?;
        if let Some(id) = page.keys.first().and_then(|k| last_id(k)) {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

/// The reservation timer of order `id`; its payload is the order id.
const EXPIRY: &str = "exp:";

/// (Re)start the timer that ends `o`'s reservation.
fn schedule_expiry(o: &Order) -> Result<(), wharf_sdk::Error> {
    scheduler::at(&format!("{EXPIRY}{}", o.id), o.expires_ms, o.id.to_string().as_bytes())
}

fn cancel_expiry(o: &Order) -> Result<(), wharf_sdk::Error> {
    scheduler::cancel(&format!("{EXPIRY}{}", o.id))?;
    Ok(())
}

/// The order whose reservation timer is `timer`, if it is one.
pub fn expiry_of(timer: &TimerFired) -> Option<i64> {
    timer.name.strip_prefix(EXPIRY)?;
    std::str::from_utf8(&timer.payload).ok()?.parse().ok()
}

/// Put an order's item back on sale and close the order with `status`.
fn release(o: &mut Order, status: OrderStatus) -> Result<(), wharf_sdk::Error> {
    if let Some(mut item) = kv::get::<Item>(&item_key(o.product, o.item))?
        && item.state == (ItemState::Reserved { order: o.id })
    {
        item.state = ItemState::Available;
        kv::set(&item_key(o.product, o.item), &item)?;
        kv::set(&avail_key(o.product, o.item), &o.item)?;
    }
    o.status = status;
    kv::set(&order_key(o.id), o)?;
    kv::delete(&rexp_key(o.expires_ms, o.id))?;
    if kv::get::<i64>(&res_key(o.user))? == Some(o.id) {
        kv::delete(&res_key(o.user))?;
    }
    cancel_expiry(o)
}

/// Close `o` as expired: its item goes back on sale, and when that is the product's
/// last item the user's re-take cooldown starts (returns its end).
fn lapse(shop: &Shop, o: &mut Order, now_ms: i64) -> Result<Option<i64>, wharf_sdk::Error> {
    release(o, OrderStatus::Expired)?;
    let left = available(o.product, 2)?;
    cooldown::start(&mut KvStore, o, now_ms, shop.settings.retake_cooldown_minutes, left)
}

/// What a user whose reservation lapsed reads.
fn lapsed_text(o: &Order, cooldown: Option<i64>) -> String {
    let mut text = format!("⌛ Your reservation of {} expired; the item is back on sale.", o.name);
    if let Some(until) = cooldown {
        text.push_str(&format!(
            " It is the last one, so others get the first chance: you can reserve it again after {}.",
            time::date_time(until)
        ));
    }
    text
}

/// The user's open reservation, releasing it first if its time is up.
fn open_reservation(shop: &Shop, user: i64, now_ms: i64) -> Result<Option<Order>, wharf_sdk::Error> {
    let Some(id) = kv::get::<i64>(&res_key(user))? else { return Ok(None) };
    let Some(mut o) = kv::get::<Order>(&order_key(id))? else { return Ok(None) };
    if o.status != OrderStatus::Reserved {
        return Ok(None);
    }
    if now_ms >= o.expires_ms {
        lapse(shop, &mut o, now_ms)?;
        return Ok(None);
    }
    Ok(Some(o))
}

/// "Buy": check funds, reserve one item, start the reservation timer.
pub fn reserve(shop: &Shop, ctx: &Context, chat: i64, user: i64, product: u32) -> Result<(), wharf_sdk::Error> {
    if let Some(o) = open_reservation(shop, user, ctx.now_ms)? {
        send(chat, &Outgoing::text("You already have a reservation; confirm or cancel it first."))?;
        return send(chat, &reservation_message(shop, &o));
    }
    let Some(p) = kv::get::<Product>(&prod_key(product))? else {
        return send(chat, &Outgoing::text("This product is no longer sold."));
    };
    if let Some(until) = cooldown::check(&mut KvStore, user, product, ctx.now_ms, || available(product, 2))? {
        BusinessEvent::new("purchase.failed")
            .title("Purchase failed")
            .emoji("⚠️")
            .level(Level::Warn)
            .user(user)
            .field("product", format!("{} (#{})", p.name, p.id))
            .field("reason", "reservation lapsed, retake cooldown")
            .record()?;
        let text = format!(
            "Your last reservation of {} expired, and only one is left: others get the first chance. \
             You can reserve it again after {}.",
            p.name,
            time::date_time(until)
        );
        return send(chat, &Outgoing::text(text));
    }
    let price = p.final_price();
    let balance = ledger::balance(user)?;
    if balance < price {
        BusinessEvent::new("purchase.failed")
            .title("Purchase failed")
            .emoji("⚠️")
            .level(Level::Warn)
            .user(user)
            .field("product", format!("{} (#{})", p.name, p.id))
            .field("reason", "insufficient funds")
            .field("price", shop.currency().format(price))
            .field("balance", shop.currency().format(balance))
            .record()?;
        let text = format!(
            "Not enough funds for {}: your balance is {}, the price is {}. Top up with /wallet.",
            p.name,
            shop.currency().format(balance),
            shop.currency().format(price)
        );
        return send(chat, &Outgoing::text(text));
    }
    let seed = u64::try_from(ctx.turn_id).unwrap_or_default() ^ user.unsigned_abs().rotate_left(32);
    let Some(item_id) = pick_item(&p, seed)? else {
        BusinessEvent::new("stock.unavailable")
            .title("Sold out")
            .emoji("📭")
            .level(Level::Warn)
            .user(user)
            .field("product", format!("{} (#{})", p.name, p.id))
            .record()?;
        return send(chat, &Outgoing::text(format!("Sorry, {} was just sold out.", p.name)));
    };
    let mut item: Item = kv::get(&item_key(product, item_id))?
        .ok_or_else(|| wharf_sdk::Error::Other(format!("item {item_id} is listed for sale but missing")))?;
    let order = Order {
        id: ctx.turn_id,
        number: None,
        user,
        product,
        name: p.name.clone(),
        item: item_id,
        price: p.price,
        discount: p.discount,
        final_price: price,
        status: OrderStatus::Reserved,
        created_ms: ctx.now_ms,
        expires_ms: ctx.now_ms + i64::from(shop.settings.reservation_minutes) * 60_000,
        paid_ms: None,
    };
    item.state = ItemState::Reserved { order: order.id };
    kv::set(&item_key(product, item_id), &item)?;
    kv::delete(&avail_key(product, item_id))?;
    kv::set(&order_key(order.id), &order)?;
    kv::set(&res_key(user), &order.id)?;
    kv::set(&rexp_key(order.expires_ms, order.id), &order.id)?;
    schedule_expiry(&order)?;
    BusinessEvent::new("purchase.reserved")
        .title("Item reserved")
        .emoji("🔒")
        .user(user)
        .field("product", format!("{} (#{})", p.name, p.id))
        .field("price", shop.currency().format(price))
        .record()?;
    send(chat, &reservation_message(shop, &order))
}

fn own_reserved(user: i64, id: i64, chat: i64) -> Result<Option<Order>, wharf_sdk::Error> {
    let o = kv::get::<Order>(&order_key(id))?.filter(|o| o.user == user);
    let Some(o) = o else {
        send(chat, &Outgoing::text("This reservation is unknown."))?;
        return Ok(None);
    };
    let gone = match o.status {
        OrderStatus::Reserved => return Ok(Some(o)),
        OrderStatus::Paid => "This order is already paid; see /orders.",
        OrderStatus::Cancelled => "This reservation was cancelled.",
        OrderStatus::Expired => "This reservation has expired; the item went back on sale.",
    };
    send(chat, &Outgoing::text(gone))?;
    Ok(None)
}

/// "Confirm": pay and deliver, all in this one turn.
pub fn confirm(shop: &Shop, ctx: &Context, chat: i64, user: i64, id: i64) -> Result<(), HandlerError> {
    let Some(mut o) = own_reserved(user, id, chat)? else { return Ok(()) };
    if ctx.now_ms >= o.expires_ms {
        let until = lapse(shop, &mut o, ctx.now_ms)?;
        send(chat, &Outgoing::text(lapsed_text(&o, until)))?;
        return Ok(());
    }
    let cur = shop.currency();
    // A buyer's paid orders are numbered 1, 2, 3…: the number is taken once the payment
    // went through, so a refused one leaves no gap (the ledger's reason already names it).
    let number = next_order_number(&KvStore, user)?;
    let mut balance_after = None;
    if o.final_price > 0 {
        let reason = format!("Order #{number}: {}", o.name);
        match ledger::debit(user, o.final_price, &reason, &format!("shop:order:{}", o.id)) {
            Ok(b) => balance_after = Some(b),
            Err(LedgerError::Insufficient { balance, needed }) => {
                release(&mut o, OrderStatus::Cancelled)?;
                BusinessEvent::new("purchase.failed")
                    .title("Purchase failed")
                    .emoji("⚠️")
                    .level(Level::Warn)
                    .user(user)
                    .field("product", format!("{} (#{})", o.name, o.product))
                    .field("reason", "insufficient funds")
                    .field("price", cur.format(needed))
                    .field("balance", cur.format(balance))
                    .record()?;
                let text = format!(
                    "Not enough funds: your balance is {}, the price is {}. The item is back on sale; top up with /wallet and try again.",
                    cur.format(balance),
                    cur.format(needed)
                );
                send(chat, &Outgoing::text(text))?;
                return Ok(());
            }
            Err(LedgerError::Other(e)) => {
                // Discard the whole turn, so whatever the wallet may have written before
                // failing goes too; the host tells the user nothing was changed. The
                // reservation stays, so they can try again.
                return Err(HandlerError::Other(format!("payment of order {} failed: {e}", o.id)));
            }
        }
    }
    let mut item: Item = kv::get(&item_key(o.product, o.item))?
        .ok_or_else(|| HandlerError::Other(format!("item {} of order {} is missing", o.item, o.id)))?;
    item.state = ItemState::Sold { order: o.id };
    kv::set(&item_key(o.product, o.item), &item)?;
    o.number = Some(take_order_number(&mut KvStore, user)?);
    o.status = OrderStatus::Paid;
    o.paid_ms = Some(ctx.now_ms);
    kv::set(&order_key(o.id), &o)?;
    kv::delete(&res_key(user))?;
    kv::delete(&rexp_key(o.expires_ms, o.id))?;
    kv::set(&user_order_key(user, o.id), &o.id)?;
    kv::set(&sold_key(ctx.now_ms, o.id), &o.id)?;
    cancel_expiry(&o)?;
    let paid = match balance_after {
        Some(b) => format!("Paid {}; your balance is {}.", cur.format(o.final_price), cur.format(b)),
        None => "Free of charge.".to_owned(),
    };
    // The payload is secret: it goes to the buyer's private chat, wherever they pressed.
    deliver(user, &o, &item, &paid)?;
    if chat != user {
        send(chat, &Outgoing::text(format!("Order #{} paid; the item was sent to you privately.", o.no())))?;
    }
    BusinessEvent::new("purchase.succeeded")
        .title("Purchase successful")
        .emoji("🛒")
        .user(user)
        .field("order", format!("#{}", o.no()))
        .field("product", format!("{} (#{})", o.name, o.product))
        .field("price", price_text(cur, &o))
        .field("item", o.item)
        .secret("delivered", &item.text)
        .record()?;
    crate::topics::announce(user, o.id, o.final_price)?;
    if shop.settings.fail_after_debit {
        panic!("fail_after_debit is set: trapping after the debit of order {}", o.id);
    }
    Ok(())
}

/// The price an order was paid, with its discount: `8.00 PLN (10.00 PLN − 20%)`.
fn price_text(cur: &wharf_sdk::money::Currency, o: &Order) -> String {
    if o.discount == 0 {
        cur.format(o.final_price)
    } else {
        format!("{} ({} − {}%)", cur.format(o.final_price), cur.format(o.price), o.discount)
    }
}

/// "Cancel": release the item.
pub fn cancel(chat: i64, user: i64, id: i64) -> Result<(), wharf_sdk::Error> {
    let Some(mut o) = own_reserved(user, id, chat)? else { return Ok(()) };
    release(&mut o, OrderStatus::Cancelled)?;
    BusinessEvent::new("purchase.cancelled")
        .title("Reservation cancelled")
        .emoji("↩️")
        .user(user)
        .field("product", format!("{} (#{})", o.name, o.product))
        .record()?;
    send(chat, &Outgoing::text(format!("Reservation of {} cancelled; the item is back on sale.", o.name)))
}

/// The reservation timer: release the item if the order is still unpaid (a timer that
/// fires early, e.g. after the clock stepped back, is set again).
pub fn expire(shop: &Shop, id: i64, now_ms: i64) -> Result<(), wharf_sdk::Error> {
    let Some(mut o) = kv::get::<Order>(&order_key(id))? else { return Ok(()) };
    if o.status != OrderStatus::Reserved {
        return Ok(());
    }
    if now_ms < o.expires_ms {
        return schedule_expiry(&o);
    }
    let until = lapse(shop, &mut o, now_ms)?;
    BusinessEvent::new("purchase.expired")
        .title("Reservation expired")
        .emoji("⌛")
        .user(o.user)
        .field("product", format!("{} (#{})", o.name, o.product))
        .record()?;
    send(o.user, &Outgoing::text(lapsed_text(&o, until)))
}

/// Most reservations one sweep releases (each sends a message).
const SWEEP_BATCH: u32 = 50;

/// The periodic sweep: release reservations whose time is up but whose own timer did not
/// release them (e.g. it fired while the shop was disabled by the circuit breaker).
pub fn sweep(shop: &Shop, now_ms: i64) -> Result<(), wharf_sdk::Error> {
    cooldown::sweep(&mut KvStore, now_ms, SWEEP_BATCH)?;
    let page = kv::page("rexp:", None, SWEEP_BATCH)?;
    for key in page.keys {
        let due: i64 = key.split(':').nth(1).and_then(|t| t.parse().ok()).unwrap_or(i64::MAX);
        if due > now_ms {
            break;
        }
        match kv::get::<i64>(&key)? {
            Some(id) => expire(shop, id, now_ms)?,
            None => kv::delete(&key)?,
        }
    }
    Ok(())
}
