//! A buyer's paid orders: `/orders` (newest first, each with a button to show its item
//! again) and the delivery of an order's secret payload.

use wharf_sdk::escape::html;
use wharf_sdk::prelude::*;
use wharf_sdk::telegram::Photo;
use wharf_sdk::{kv, time};

use crate::Shop;
use crate::browse::Screen;
use crate::model::*;

fn send(chat: i64, out: &Outgoing) -> Result<(), wharf_sdk::Error> {
    wharf_sdk::telegram::send(chat, out).map(drop)
}

/// Send the secret payload of a paid order.
pub fn deliver(chat: i64, o: &Order, item: &Item, note: &str) -> Result<(), wharf_sdk::Error> {
    let mut text = format!("✅ <b>Order #{}</b>: {}\n{}", o.no(), html(&o.name), html(note));
    if !item.text.is_empty() {
        text.push_str(&format!("\n\nYour item:\n<code>{}</code>", html(&item.text)));
    }
    send(chat, &Outgoing::html(text))?;
    if let Some(photo) = &item.photo {
        let source = if photo.starts_with("https://") || photo.starts_with("http://") {
            Photo::Url(photo.clone())
        } else {
            Photo::FileId(photo.clone())
        };
        wharf_sdk::telegram::send_photo(chat, &source, &Outgoing::text(format!("Order #{}", o.no())))?;
    }
    Ok(())
}

/// `/orders`: paid orders, newest first, each with a button to show its item again.
pub fn orders(shop: &Shop, screen: Screen, user: i64, page: usize) -> Result<(), wharf_sdk::Error> {
    let mut ids: Vec<String> = kv::keys(&format!("uo:{user}:"))?;
    ids.reverse();
    if ids.is_empty() {
        return screen.show(&Outgoing::text("You have no orders yet. Browse with /shop."));
    }
    let per = shop.settings.page_size;
    let pages = ids.len().div_ceil(per);
    let page = page.min(pages - 1);
    let mut text = format!("📦 <b>Your orders</b> ({})", ids.len());
    let mut kb = Keyboard::new();
    for key in ids.iter().skip(page * per).take(per) {
        let Some(id) = kv::get::<i64>(key)? else { continue };
        let Some(o) = kv::get::<Order>(&order_key(id))? else { continue };
        text.push_str(&format!(
            "\n#{} · {} · {} · {}",
            o.no(),
            time::date(o.paid_ms.unwrap_or(o.created_ms)),
            html(&o.name),
            html(&shop.currency().format(o.final_price))
        ));
        kb = kb.button(format!("Show item of #{}", o.no()), format!("r:{}", o.id)).row();
    }
    if pages > 1 {
        if page > 0 {
            kb = kb.button("◀", format!("op:{}", page - 1));
        }
        if page + 1 < pages {
            kb = kb.button("▶", format!("op:{}", page + 1));
        }
    }
    screen.show(&Outgoing::html(text).keyboard(kb))
}

/// Show a paid order's payload again (in the buyer's private chat).
pub fn reshow(chat: i64, user: i64, id: i64) -> Result<(), wharf_sdk::Error> {
    let Some(o) = kv::get::<Order>(&order_key(id))?.filter(|o| o.user == user && o.status == OrderStatus::Paid) else {
        return send(chat, &Outgoing::text("No such order."));
    };
    let item: Option<Item> = kv::get(&item_key(o.product, o.item))?;
    match item {
        Some(item) => deliver(user, &o, &item, "Delivered again at your request."),
        None => send(chat, &Outgoing::text("The item of this order is missing; please contact an admin.")),
    }
}
