//! Admin commands: bulk import, prices and discounts (one product or by filter),
//! descriptions, inventory, and the sales report for a date range.

use wharf_sdk::command::{arg, split_args};
use wharf_sdk::escape::html;
use wharf_sdk::log::Event as BusinessEvent;
use wharf_sdk::prelude::*;
use wharf_sdk::{kv, telegram, time};

use crate::Shop;
use crate::import;
use crate::model::*;

/// Admin-only commands this plugin answers.
pub const COMMANDS: [&str; 6] = ["import", "discount", "price", "describe", "inventory", "report"];

fn say(chat: i64, text: &str) -> Result<(), wharf_sdk::Error> {
    telegram::send_text(chat, text)
}

/// Run admin command `name`. Bad arguments get a usage message.
pub fn command(
    shop: &Shop,
    ctx: &Context,
    chat: i64,
    name: &str,
    args: &str,
    text: &str,
) -> Result<(), wharf_sdk::Error> {
    let result = match name {
        "import" => import_text(shop, ctx, chat, text, 1),
        "discount" => discount(ctx, chat, &split_args(args)),
        "price" => price(shop, chat, &split_args(args)),
        "describe" => describe(chat, args),
        "inventory" => inventory(chat),
        _ => report(shop, chat, &split_args(args)),
    };
    match result {
        Err(wharf_sdk::Error::InvalidInput(m)) => say(chat, &format!("⚠️ {m}\n\n{}", usage(name))),
        other => other,
    }
}

fn usage(name: &str) -> &'static str {
    match name {
        "import" => {
            "Usage: /import, then one item per line:\ncity | district | category | product | price | payload [| photo]\n(or upload a text file with the caption /import)"
        }
        "discount" => {
            "Usage: /discount PRODUCT_ID PERCENT, or /discount [city=NAME] [district=NAME] [category=NAME] PERCENT"
        }
        "price" => "Usage: /price PRODUCT_ID AMOUNT",
        "describe" => "Usage: /describe PRODUCT_ID TEXT",
        "inventory" => "Usage: /inventory",
        _ => "Usage: /report FROM [TO] (dates YYYY-MM-DD, UTC, inclusive)",
    }
}

/// Import items from `text`, whose first `skip` lines are not items.
pub fn import_text(shop: &Shop, ctx: &Context, chat: i64, text: &str, skip: usize) -> Result<(), wharf_sdk::Error> {
    let lines = match import::parse(text, skip, shop.currency()) {
        Ok(lines) => lines,
        Err(errors) if errors == [import::NO_LINES] => {
            return Err(wharf_sdk::Error::InvalidInput(import::NO_LINES.into()));
        }
        Err(errors) => return say(chat, &rejected(&errors)),
    };
    let errors = import::check_prices(&lines)?;
    if !errors.is_empty() {
        return say(chat, &rejected(&errors));
    }
    // Past this point every error discards the whole turn (nothing half-imported).
    let sum = import::apply(&lines).map_err(|e| wharf_sdk::Error::Other(format!("import failed: {e}")))?;
    BusinessEvent::new("stock.imported")
        .user(ctx.user_id.unwrap_or(chat))
        .field("items", sum.items)
        .field("products", sum.products)
        .record()?;
    say(
        chat,
        &format!(
            "✅ Imported {} item(s): {} new product(s), {} new city/district/category name(s).",
            sum.items, sum.products, sum.places
        ),
    )
}

/// Largest import file.
pub const MAX_IMPORT_BYTES: u32 = 512 * 1024;

/// Import from an uploaded text file (sent with the caption `/import`).
pub fn import_file(shop: &Shop, ctx: &Context, chat: i64, doc: &Document) -> Result<(), wharf_sdk::Error> {
    let name = doc.file_name.clone().unwrap_or_else(|| "the file".into());
    let bytes = match telegram::download(&doc.file_id, MAX_IMPORT_BYTES) {
        Ok(b) => b,
        Err(e) => return say(chat, &format!("❌ Cannot read {name}: {e}. Nothing was imported.")),
    };
    let Ok(text) = String::from_utf8(bytes) else {
        return say(chat, &format!("❌ {name} is not UTF-8 text. Nothing was imported."));
    };
    import_text(shop, ctx, chat, &text, 0)
}

fn rejected(errors: &[String]) -> String {
    let mut text = format!("❌ Nothing was imported: {} bad line(s).\n", errors.len());
    for e in errors.iter().take(20) {
        text.push_str(&format!("\n{e}"));
    }
    if errors.len() > 20 {
        text.push_str(&format!("\n…and {} more", errors.len() - 20));
    }
    text
}

fn percent(raw: &str) -> Result<u8, wharf_sdk::Error> {
    let p = raw.trim_end_matches('%');
    p.parse::<u8>()
        .ok()
        .filter(|p| *p <= 100)
        .ok_or_else(|| wharf_sdk::Error::InvalidInput(format!("{raw:?} is not a percentage 0-100")))
}

fn discount(ctx: &Context, chat: i64, args: &[String]) -> Result<(), wharf_sdk::Error> {
    let Some((pct, filters)) = args.split_last() else {
        return Err(wharf_sdk::Error::InvalidInput("missing the percentage".into()));
    };
    let pct = percent(pct)?;
    let mut targets: Vec<Product> = Vec::new();
    if let [only] = filters
        && let Ok(id) = only.parse::<u32>()
    {
        let p = kv::get::<Product>(&prod_key(id))?
            .ok_or_else(|| wharf_sdk::Error::InvalidInput(format!("no product #{id}")))?;
        targets.push(p);
    } else {
        let (mut city, mut district, mut category) = (None, None, None);
        for f in filters {
            let (k, v) =
                f.split_once('=').ok_or_else(|| wharf_sdk::Error::InvalidInput(format!("{f:?} is not NAME=VALUE")))?;
            let v = v.to_lowercase();
            match k {
                "city" => city = Some(v),
                "district" => district = Some(v),
                "category" => category = Some(v),
                _ => return Err(wharf_sdk::Error::InvalidInput(format!("unknown filter {k:?}"))),
            }
        }
        if city.is_none() && district.is_none() && category.is_none() {
            return Err(wharf_sdk::Error::InvalidInput("give a product id or at least one filter".into()));
        }
        let cities: Vec<City> = kv::values("city:")?;
        let districts: Vec<District> = kv::values("dist:")?;
        let cats: Vec<Category> = kv::values("cat:")?;
        let name_of =
            |id: u32, list: &[(u32, String)]| list.iter().find(|(i, _)| *i == id).map(|(_, n)| n.to_lowercase());
        let cities: Vec<(u32, String)> = cities.into_iter().map(|c| (c.id, c.name)).collect();
        let districts: Vec<(u32, String)> = districts.into_iter().map(|d| (d.id, d.name)).collect();
        let cats: Vec<(u32, String)> = cats.into_iter().map(|c| (c.id, c.name)).collect();
        for p in kv::values::<Product>("prod:")? {
            let ok = city.as_ref().is_none_or(|c| name_of(p.city, &cities).as_ref() == Some(c))
                && district.as_ref().is_none_or(|d| name_of(p.district, &districts).as_ref() == Some(d))
                && category.as_ref().is_none_or(|c| name_of(p.category, &cats).as_ref() == Some(c));
            if ok {
                targets.push(p);
            }
        }
    }
    if targets.is_empty() {
        return say(chat, "No product matches.");
    }
    for p in &mut targets {
        p.discount = pct;
        kv::set(&prod_key(p.id), p)?;
    }
    BusinessEvent::new("discount.set")
        .user(ctx.user_id.unwrap_or(chat))
        .field("percent", pct)
        .field("products", targets.len())
        .record()?;
    let names: Vec<String> = targets.iter().take(10).map(|p| format!("#{} {}", p.id, p.name)).collect();
    let more = if targets.len() > 10 { format!(" and {} more", targets.len() - 10) } else { String::new() };
    say(chat, &format!("Discount {pct}% set on {} product(s): {}{more}.", targets.len(), names.join(", ")))
}

fn price(shop: &Shop, chat: i64, args: &[String]) -> Result<(), wharf_sdk::Error> {
    let id: u32 = arg(args, 0, "product id")?;
    let amount = shop.currency().parse(args.get(1).map_or("", String::as_str))?;
    if !(1..=import::MAX_PRICE).contains(&amount) {
        return Err(wharf_sdk::Error::InvalidInput("a price must be positive".into()));
    }
    let mut p = kv::get::<Product>(&prod_key(id))?
        .ok_or_else(|| wharf_sdk::Error::InvalidInput(format!("no product #{id}")))?;
    p.price = amount;
    kv::set(&prod_key(id), &p)?;
    say(chat, &format!("#{id} {} now costs {} before discounts.", p.name, shop.currency().format(amount)))
}

fn describe(chat: i64, args: &str) -> Result<(), wharf_sdk::Error> {
    let (id, text) = args.trim().split_once(char::is_whitespace).unwrap_or((args.trim(), ""));
    let id: u32 = id.parse().map_err(|_| wharf_sdk::Error::InvalidInput(format!("{id:?} is not a product id")))?;
    if text.trim().is_empty() || html(text.trim()).encode_utf16().count() > 1000 {
        return Err(wharf_sdk::Error::InvalidInput(
            "the description must be 1-1000 characters (after HTML escaping)".into(),
        ));
    }
    let mut p = kv::get::<Product>(&prod_key(id))?
        .ok_or_else(|| wharf_sdk::Error::InvalidInput(format!("no product #{id}")))?;
    p.description = text.trim().to_owned();
    kv::set(&prod_key(id), &p)?;
    say(chat, &format!("Description of #{id} {} updated.", p.name))
}

fn inventory(chat: i64) -> Result<(), wharf_sdk::Error> {
    let products: Vec<Product> = kv::values("prod:")?;
    if products.is_empty() {
        return say(chat, "No products yet. Add some with /import.");
    }
    let mut chunks = vec![format!("📋 <b>Inventory</b> ({} products)", products.len())];
    for p in products {
        let (mut avail, mut reserved, mut sold) = (0, 0, 0);
        for item in kv::values::<Item>(&format!("item:{:06}:", p.id))? {
            match item.state {
                ItemState::Available => avail += 1,
                ItemState::Reserved { .. } => reserved += 1,
                ItemState::Sold { .. } => sold += 1,
            }
        }
        let discount = if p.discount > 0 { format!(" −{}%", p.discount) } else { String::new() };
        let line =
            format!("\n#{} {}{discount}: {avail} available, {reserved} reserved, {sold} sold", p.id, html(&p.name));
        let last = chunks.last_mut().expect("chunks start non-empty");
        if last.len() + line.len() > 3_500 {
            chunks.push(line.trim_start().to_owned());
        } else {
            last.push_str(&line);
        }
    }
    for chunk in chunks.iter().take(20) {
        telegram::send(chat, &Outgoing::html(chunk.clone()))?;
    }
    Ok(())
}

fn report(shop: &Shop, chat: i64, args: &[String]) -> Result<(), wharf_sdk::Error> {
    let from = time::parse_date(args.first().map_or("", String::as_str))?;
    let to = match args.get(1) {
        Some(t) => time::parse_date(t)?,
        None => from,
    };
    if to < from {
        return Err(wharf_sdk::Error::InvalidInput("the end date is before the start date".into()));
    }
    let end = to + 86_400_000;
    let (mut orders, mut revenue, mut discounts, mut gross) = (0u64, 0i64, 0i64, 0i64);
    let mut cursor = Some(format!("sold:{:013}", from.max(0)));
    'pages: loop {
        let page = kv::page("sold:", cursor.as_deref(), 1000)?;
        for key in &page.keys {
            let paid: i64 = key.split(':').nth(1).and_then(|t| t.parse().ok()).unwrap_or(i64::MAX);
            if paid >= end {
                break 'pages;
            }
            let Some(id) = kv::get::<i64>(key)? else { continue };
            let Some(o) = kv::get::<crate::model::Order>(&order_key(id))? else { continue };
            orders += 1;
            revenue += o.final_price;
            gross += o.price;
            discounts += o.price - o.final_price;
        }
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let cur = shop.currency();
    say(
        chat,
        &format!(
            "📈 Sales {} – {}\nOrders: {orders}\nRevenue: {}\nDiscounts given: {}\nAt list prices: {}",
            time::date(from),
            time::date(to),
            cur.format(revenue),
            cur.format(discounts),
            cur.format(gross)
        ),
    )
}
