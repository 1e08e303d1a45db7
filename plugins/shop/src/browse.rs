//! Browsing the catalog with inline keyboards: cities → districts → categories →
//! products (paginated) → the product card with its price and stock.

use wharf_sdk::escape::html;
use wharf_sdk::kv;
use wharf_sdk::prelude::*;

use crate::Shop;
use crate::model::*;

/// Where a rendered screen goes: a new message, or the message whose button was pressed.
#[derive(Debug, Clone, Copy)]
pub struct Screen {
    /// Chat.
    pub chat: i64,
    /// Message to replace, if any.
    pub edit: Option<i32>,
}

impl Screen {
    /// Show `out`.
    pub fn show(self, out: &Outgoing) -> Result<(), wharf_sdk::Error> {
        match self.edit {
            Some(id) => wharf_sdk::telegram::edit(self.chat, id, out),
            None => wharf_sdk::telegram::send(self.chat, out).map(drop),
        }
    }
}

/// Items of `product` for sale.
pub fn in_stock(product: u32) -> Result<usize, wharf_sdk::Error> {
    Ok(kv::keys(&avail_prefix(product))?.len())
}

/// A button label: `name` shortened (with `…`) so that `name + suffix` fits Telegram's
/// 64 characters.
pub fn label(name: &str, suffix: &str) -> String {
    const MAX: usize = 64;
    let room = MAX.saturating_sub(suffix.encode_utf16().count());
    if name.encode_utf16().count() <= room {
        return format!("{name}{suffix}");
    }
    let mut out = String::new();
    for c in name.chars() {
        if out.encode_utf16().count() + c.len_utf16() + 1 > room {
            break;
        }
        out.push(c);
    }
    format!("{out}…{suffix}")
}

/// A page of `(label, data)` buttons, one per row, with ◀ ▶ and a back button.
fn paged(
    entries: &[(String, String)],
    page: usize,
    page_size: usize,
    nav: &dyn Fn(usize) -> String,
    back: Option<&str>,
) -> Keyboard {
    let pages = entries.len().div_ceil(page_size).max(1);
    let page = page.min(pages - 1);
    let mut kb = Keyboard::new();
    for (label, data) in entries.iter().skip(page * page_size).take(page_size) {
        kb = kb.button(label, data).row();
    }
    if pages > 1 {
        if page > 0 {
            kb = kb.button("◀", nav(page - 1));
        }
        kb = kb.button(format!("{}/{pages}", page + 1), nav(page));
        if page + 1 < pages {
            kb = kb.button("▶", nav(page + 1));
        }
        kb = kb.row();
    }
    if let Some(back) = back {
        kb = kb.button("⬅ Back", back);
    }
    kb
}

/// The list of cities.
pub fn cities(shop: &Shop, screen: Screen, page: usize) -> Result<(), wharf_sdk::Error> {
    let cities: Vec<City> = kv::values("city:")?;
    if cities.is_empty() {
        return screen.show(&Outgoing::text("The shop is empty for now. Come back soon!"));
    }
    let entries: Vec<(String, String)> = cities.iter().map(|c| (c.name.clone(), format!("di:{}:0", c.id))).collect();
    let kb = paged(&entries, page, shop.settings.page_size, &|p| format!("ci:{p}"), None);
    screen.show(&Outgoing::html("🏙 <b>Choose a city</b>").keyboard(kb))
}

/// Districts of a city.
pub fn districts(shop: &Shop, screen: Screen, city: u32, page: usize) -> Result<(), wharf_sdk::Error> {
    let Some(c) = kv::get::<City>(&city_key(city))? else { return cities(shop, screen, 0) };
    let list: Vec<District> = kv::values(&format!("dist:{city:06}:"))?;
    let entries: Vec<(String, String)> = list.iter().map(|d| (d.name.clone(), format!("ca:{}:0", d.id))).collect();
    let kb = paged(&entries, page, shop.settings.page_size, &|p| format!("di:{city}:{p}"), Some("ci:0"));
    screen.show(&Outgoing::html(format!("📍 <b>{}</b>: choose a district", html(&c.name))).keyboard(kb))
}

fn district(id: u32) -> Result<Option<District>, wharf_sdk::Error> {
    let Some(city) = kv::get::<u32>(&dist_city_key(id))? else { return Ok(None) };
    kv::get(&dist_key(city, id))
}

/// Categories that have products in a district.
pub fn categories(shop: &Shop, screen: Screen, dist: u32, page: usize) -> Result<(), wharf_sdk::Error> {
    let Some(d) = district(dist)? else { return cities(shop, screen, 0) };
    let mut cats: Vec<u32> =
        kv::keys(&format!("pidx:{dist:06}:"))?.iter().filter_map(|k| k.split(':').nth(2)?.parse().ok()).collect();
    cats.dedup();
    let mut entries = Vec::new();
    for id in cats {
        if let Some(c) = kv::get::<Category>(&cat_key(id))? {
            entries.push((c.name, format!("pr:{dist}:{id}:0")));
        }
    }
    let back = format!("di:{}:0", d.city);
    let kb = paged(&entries, page, shop.settings.page_size, &|p| format!("ca:{dist}:{p}"), Some(&back));
    screen.show(&Outgoing::html(format!("📍 <b>{}</b>: choose a category", html(&d.name))).keyboard(kb))
}

/// Products of a category in a district, with prices and stock.
pub fn products(shop: &Shop, screen: Screen, dist: u32, cat: u32, page: usize) -> Result<(), wharf_sdk::Error> {
    let ids: Vec<u32> = kv::keys(&format!("pidx:{dist:06}:{cat:06}:"))?.iter().filter_map(|k| last_id(k)).collect();
    let mut entries = Vec::new();
    for id in ids {
        let Some(p) = kv::get::<Product>(&prod_key(id))? else { continue };
        let stock = in_stock(id)?;
        let price = shop.currency().format(p.final_price());
        let suffix = match (stock, p.discount) {
            (0, _) => " · sold out".to_owned(),
            (_, 0) => format!(" · {price}"),
            (_, d) => format!(" · {price} (−{d}%)"),
        };
        let label = label(&p.name, &suffix);
        entries.push((label, format!("v:{id}")));
    }
    let title = kv::get::<Category>(&cat_key(cat))?.map_or_else(|| "Products".to_owned(), |c| c.name);
    let back = format!("ca:{dist}:0");
    let kb = paged(&entries, page, shop.settings.page_size, &|p| format!("pr:{dist}:{cat}:{p}"), Some(&back));
    screen.show(&Outgoing::html(format!("🛍 <b>{}</b>", html(&title))).keyboard(kb))
}

/// The product card: name, description, price (strike-through when discounted), stock.
pub fn product(shop: &Shop, screen: Screen, id: u32) -> Result<(), wharf_sdk::Error> {
    let Some(p) = kv::get::<Product>(&prod_key(id))? else {
        return screen.show(&Outgoing::text("This product is no longer sold."));
    };
    let stock = in_stock(id)?;
    let mut text = format!("<b>{}</b>", html(&p.name));
    if !p.description.is_empty() {
        text.push_str(&format!("\n{}", html(&p.description)));
    }
    text.push_str(&format!("\n\nPrice: {}", price_html(shop.currency(), p.price, p.discount)));
    text.push_str(&if stock == 0 { "\nSold out".to_owned() } else { format!("\nIn stock: {stock}") });
    let mut kb = Keyboard::new();
    if stock > 0 {
        kb = kb.button("🛒 Buy", format!("b:{id}")).row();
    }
    kb = kb.button("⬅ Back", format!("pr:{}:{}:0", p.district, p.category));
    screen.show(&Outgoing::html(text).keyboard(kb))
}

#[cfg(test)]
mod tests {
    #[test]
    fn labels_fit_a_button() {
        assert_eq!(super::label("Steam", " · 5 PLN"), "Steam · 5 PLN");
        let long = super::label(&"x".repeat(64), " · 12.50 PLN (−20%)");
        assert_eq!(long.encode_utf16().count(), 64);
        assert!(long.ends_with("x… · 12.50 PLN (−20%)"), "{long}");
    }
}
