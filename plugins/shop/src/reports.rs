//! What admins read about the shop: `/inventory` (stock per product, each with its
//! place, so products of the same name tell apart) and `/report` (sales over UTC days).

use wharf_sdk::escape::html;
use wharf_sdk::prelude::*;
use wharf_sdk::{telegram, time};

use crate::Shop;
use crate::catalog::Places;
use crate::model::*;
use crate::reply::{self, CommandError, Refusal, count};
use crate::store::{KvStore, Store};

const DAY_MS: i64 = 86_400_000;
/// Longest inventory message (Telegram allows 4096 characters).
const CHUNK: usize = 3_500;
/// Most inventory messages one command sends.
const MAX_CHUNKS: usize = 20;

/// Stock of one product by state.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stock {
    /// For sale.
    pub available: usize,
    /// Held by a reservation.
    pub reserved: usize,
    /// Sold.
    pub sold: usize,
}

/// One `/inventory` line (HTML).
pub fn inventory_line(p: &Product, place: &str, s: Stock) -> String {
    let discount = if p.discount > 0 { format!(" −{}%", p.discount) } else { String::new() };
    format!(
        "#{} {}{discount} · {}: {} available, {} reserved, {} sold",
        p.id,
        html(&p.name),
        html(place),
        s.available,
        s.reserved,
        s.sold
    )
}

/// `/inventory`.
pub fn inventory(chat: i64) -> Result<(), wharf_sdk::Error> {
    let products: Vec<Product> = KvStore.values("prod:")?;
    if products.is_empty() {
        return telegram::send_text(chat, "No products yet. Add some with /import.");
    }
    let places = Places::load(&KvStore)?;
    let mut chunks = vec![format!("📋 <b>Inventory</b> ({})", count(products.len(), "product", "products"))];
    for p in products {
        let mut s = Stock::default();
        for item in KvStore.values::<Item>(&format!("item:{:06}:", p.id))? {
            match item.state {
                ItemState::Available => s.available += 1,
                ItemState::Reserved { .. } => s.reserved += 1,
                ItemState::Sold { .. } => s.sold += 1,
            }
        }
        let line = inventory_line(&p, &places.of(&p), s);
        match chunks.last_mut() {
            Some(last) if last.len() + line.len() < CHUNK => {
                last.push('\n');
                last.push_str(&line);
            }
            _ => chunks.push(line),
        }
    }
    for chunk in chunks.iter().take(MAX_CHUNKS) {
        telegram::send(chat, &Outgoing::html(chunk.clone()))?;
    }
    Ok(())
}

fn date(raw: &str) -> Result<i64, Refusal> {
    time::parse_date(raw).map_err(|e| Refusal::Other(reply::plain(&e)))
}

/// The days `/report` covers: (first day, last day), Unix ms at 00:00 UTC. No date is
/// today; one date is that day.
pub fn days(args: &[String], now_ms: i64) -> Result<(i64, i64), Refusal> {
    let today = now_ms - now_ms.rem_euclid(DAY_MS);
    let (from, to) = match args {
        [] => (today, today),
        [day] => (date(day)?, date(day)?),
        [from, to] => (date(from)?, date(to)?),
        _ => return Err(Refusal::Other("/report takes at most two dates".into())),
    };
    if to < from {
        return Err(Refusal::Other("the end date is before the start date".into()));
    }
    Ok((from, to))
}

/// `/report [FROM [TO]]`.
pub fn report(shop: &Shop, ctx: &Context, chat: i64, args: &[String]) -> Result<(), CommandError> {
    let (from, to) = days(args, ctx.now_ms)?;
    let end = to + DAY_MS;
    let (mut orders, mut revenue, mut discounts, mut gross) = (0usize, 0i64, 0i64, 0i64);
    let mut cursor = Some(format!("sold:{:013}", from.max(0)));
    'pages: loop {
        let page = KvStore.list("sold:", cursor.as_deref(), 1000)?;
        for key in &page {
            let paid: i64 = key.split(':').nth(1).and_then(|t| t.parse().ok()).unwrap_or(i64::MAX);
            if paid >= end {
                break 'pages;
            }
            let Some(id) = KvStore.get::<i64>(key)? else { continue };
            let Some(o) = KvStore.get::<Order>(&order_key(id))? else { continue };
            orders += 1;
            revenue += o.final_price;
            gross += o.price;
            discounts += o.price - o.final_price;
        }
        match page.last() {
            Some(last) => cursor = Some(last.clone()),
            None => break,
        }
    }
    let cur = shop.currency();
    let span = if from == to { time::date(from) } else { format!("{} – {}", time::date(from), time::date(to)) };
    let text = format!(
        "📈 Sales {span}\nOrders: {orders}\nRevenue: {}\nDiscounts given: {}\nAt list prices: {}",
        cur.format(revenue),
        cur.format(discounts),
        cur.format(gross)
    );
    telegram::send_text(chat, &text).map_err(CommandError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_alone_means_today() {
        let now = 1_700_000_000_000; // 2023-11-14 22:13 UTC
        let today = time::parse_date("2023-11-14").unwrap();
        assert_eq!(days(&[], now), Ok((today, today)));
        assert_eq!(days(&["2023-11-01".into()], now), Ok((today - 13 * DAY_MS, today - 13 * DAY_MS)));
        let both = days(&["2023-11-01".into(), "2023-11-14".into()], now).unwrap();
        assert_eq!(both, (today - 13 * DAY_MS, today));
        assert_eq!(
            days(&["yesterday".into()], now).unwrap_err().to_string(),
            "\"yesterday\" is not a date like 2026-11-21"
        );
        assert!(days(&["2023-11-14".into(), "2023-11-01".into()], now).is_err());
    }

    #[test]
    fn inventory_lines_tell_namesakes_apart() {
        let p = Product {
            id: 6,
            name: "Steam <50>".into(),
            description: String::new(),
            price: 5_000,
            discount: 20,
            city: 1,
            district: 1,
            category: 1,
            items: (0, 0),
        };
        let s = Stock { available: 2, reserved: 1, sold: 0 };
        assert_eq!(
            inventory_line(&p, "Kraków / Old Town / Gift cards", s),
            "#6 Steam &lt;50&gt; −20% · Kraków / Old Town / Gift cards: 2 available, 1 reserved, 0 sold"
        );
    }
}
