//! Admin commands: bulk import, prices and discounts (one product or by filter) and
//! descriptions ([`crate::reports`] has `/inventory` and `/report`). A refused command
//! is answered with the reason and its usage; nothing is written.

use wharf_sdk::command::split_args;
use wharf_sdk::escape::html;
use wharf_sdk::log::Event as BusinessEvent;
use wharf_sdk::prelude::*;
use wharf_sdk::telegram;

use crate::Shop;
use crate::catalog::{self, Places};
use crate::import;
use crate::model::*;
use crate::reply::{self, CommandError, Refusal, count};
use crate::reports;
use crate::stock;
use crate::store::{KvStore, Store};

/// Each admin command: its name, its syntax (as README.md shows it) and what it does.
pub const SYNTAX: [(&str, &[&str], &str); 6] = [
    ("import", &["/import"], "Add stock, one item per line below the command (or a text file with that caption)"),
    (
        "discount",
        &["/discount PRODUCT PERCENT", "/discount [city=NAME] [district=NAME] [category=NAME] PERCENT"],
        "Set a discount on a product, or on every product in a place or category",
    ),
    ("price", &["/price PRODUCT AMOUNT"], "Set a product's base price"),
    ("describe", &["/describe PRODUCT TEXT"], "Set a product's description"),
    ("inventory", &["/inventory"], "Stock of every product: available, reserved, sold"),
    ("report", &["/report [FROM [TO]]"], "Sales from FROM to TO (UTC dates, inclusive; alone: today)"),
];

/// Admin-only commands this plugin answers.
pub const COMMANDS: [&str; 6] = ["import", "discount", "price", "describe", "inventory", "report"];

fn say(chat: i64, text: &str) -> Result<(), wharf_sdk::Error> {
    telegram::send_text(chat, text)
}

/// Run admin command `name`.
pub fn command(
    shop: &Shop,
    ctx: &Context,
    chat: i64,
    name: &str,
    args: &str,
    text: &str,
) -> Result<(), wharf_sdk::Error> {
    let result = match name {
        "import" => import_text(shop, ctx, chat, text, true),
        "discount" => discount(ctx, chat, &split_args(args)),
        "price" => price(shop, chat, &split_args(args)),
        "describe" => describe(chat, args),
        "inventory" => reports::inventory(chat).map_err(CommandError::from),
        _ => reports::report(shop, ctx, chat, &split_args(args)),
    };
    match result {
        Ok(()) => Ok(()),
        Err(CommandError::Refused(why)) => say(chat, &format!("⚠️ {}\n\n{}", capital(&why.to_string()), usage(name))),
        Err(CommandError::Failed(e)) => Err(e),
    }
}

/// The sentence with its first letter in capitals.
fn capital(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

/// How to use admin command `name`.
pub fn usage(name: &str) -> String {
    let Some((_, syntax, _)) = SYNTAX.iter().find(|(n, ..)| *n == name) else { return String::new() };
    let mut text = format!("Usage: {}", syntax.join("\n   or: "));
    match name {
        "import" => text.push_str(
            ", then one item per line:\ncity | district | category | product | price | payload [| photo]\n\
             (or send a text file with the caption /import)",
        ),
        "discount" | "price" | "describe" => {
            text.push_str("\nPRODUCT is a product id or a name no other product has (in quotes if it has spaces)");
        }
        "report" => text.push_str("\nDates are YYYY-MM-DD (UTC, inclusive); without dates: today."),
        _ => {}
    }
    text
}

/// Import items from `text`: a message whose first line holds the command (`command`),
/// or the contents of a file.
pub fn import_text(shop: &Shop, ctx: &Context, chat: i64, text: &str, command: bool) -> Result<(), CommandError> {
    let cur = shop.currency();
    let parsed = import::parse(text, command, cur);
    if parsed.items == 0 {
        return Err(Refusal::Other("there are no item lines".into()).into());
    }
    let mut errors = parsed.errors;
    errors.extend(stock::check(&KvStore, &parsed.lines, cur)?);
    errors.sort_by_key(|e| e.line);
    if !errors.is_empty() || parsed.items > import::MAX_LINES {
        say(chat, &import::rejection(&errors, parsed.items))?;
        return Ok(());
    }
    // Past this point every error discards the whole turn (nothing half-imported).
    let sum = stock::apply(&mut KvStore, &parsed.lines)
        .map_err(|e| wharf_sdk::Error::Other(format!("import failed: {e}")))?;
    BusinessEvent::new("stock.imported")
        .title("Stock imported")
        .emoji("📦")
        .user(ctx.user_id.unwrap_or(chat))
        .field("items", sum.items)
        .field("products", sum.products)
        .record()?;
    let mut done = format!("✅ Imported {}", count(sum.items, "item", "items"));
    let mut new = Vec::new();
    if sum.products > 0 {
        new.push(count(sum.products, "new product", "new products"));
    }
    if sum.places > 0 {
        new.push(count(sum.places, "new city, district or category", "new cities, districts and categories"));
    }
    if !new.is_empty() {
        done.push_str(&format!(": {}", new.join(", ")));
    }
    done.push('.');
    say(chat, &done).map_err(CommandError::from)
}

/// Largest import file.
pub const MAX_IMPORT_BYTES: u32 = 512 * 1024;

/// Import from an uploaded text file (sent with the caption `/import`).
pub fn import_file(shop: &Shop, ctx: &Context, chat: i64, doc: &Document) -> Result<(), wharf_sdk::Error> {
    let name = doc.file_name.clone().unwrap_or_else(|| "the file".into());
    let bytes = match telegram::download(&doc.file_id, MAX_IMPORT_BYTES) {
        Ok(b) => b,
        Err(e) => return say(chat, &format!("❌ Cannot read {name}: {}. Nothing was imported.", reply::plain(&e))),
    };
    let Ok(text) = String::from_utf8(bytes) else {
        return say(chat, &format!("❌ {name} is not UTF-8 text. Nothing was imported."));
    };
    match import_text(shop, ctx, chat, &text, false) {
        Ok(()) => Ok(()),
        Err(CommandError::Refused(why)) => say(chat, &format!("❌ {}: {why}. Nothing was imported.", name)),
        Err(CommandError::Failed(e)) => Err(e),
    }
}

fn percent(raw: &str) -> Result<u8, Refusal> {
    raw.trim_end_matches('%')
        .parse::<u8>()
        .ok()
        .filter(|p| *p <= 100)
        .ok_or_else(|| Refusal::Invalid { what: "a percentage from 0 to 100", got: raw.to_owned() })
}

/// Split `/discount` arguments before the percentage into filters, if they all are.
fn filters(args: &[String]) -> Option<[Option<String>; 3]> {
    let mut out: [Option<String>; 3] = [None, None, None];
    for a in args {
        let (k, v) = a.split_once('=')?;
        let slot = ["city", "district", "category"].iter().position(|f| f.eq_ignore_ascii_case(k.trim()))?;
        out[slot] = Some(v.trim().to_owned());
    }
    Some(out)
}

fn discount(ctx: &Context, chat: i64, args: &[String]) -> Result<(), CommandError> {
    let Some((pct, before)) = args.split_last() else {
        return Err(Refusal::Missing { what: "the percentage" }.into());
    };
    let pct = percent(pct)?;
    if before.is_empty() {
        return Err(Refusal::Missing { what: "the product (or a filter)" }.into());
    }
    let mut targets: Vec<Product> = match filters(before) {
        Some([city, district, category]) => {
            let places = Places::load(&KvStore)?;
            let all: Vec<Product> = KvStore.values("prod:")?;
            all.into_iter()
                .filter(|p| places.matches(p, city.as_deref(), district.as_deref(), category.as_deref()))
                .collect()
        }
        None => vec![catalog::find(&KvStore, &before.join(" "))?],
    };
    if targets.is_empty() {
        say(chat, "No product matches.")?;
        return Ok(());
    }
    for p in &mut targets {
        p.discount = pct;
        kv_set(&prod_key(p.id), p)?;
    }
    BusinessEvent::new("discount.set")
        .title("Discount set")
        .emoji("🏷️")
        .user(ctx.user_id.unwrap_or(chat))
        .field("percent", pct)
        .field("products", targets.len())
        .record()?;
    let names: Vec<String> = targets.iter().take(10).map(|p| format!("#{} {}", p.id, p.name)).collect();
    let more = if targets.len() > 10 { format!(" and {} more", targets.len() - 10) } else { String::new() };
    let n = count(targets.len(), "product", "products");
    say(chat, &format!("Discount {pct}% set on {n}: {}{more}.", names.join(", "))).map_err(CommandError::from)
}

fn kv_set<T: serde::Serialize>(key: &str, value: &T) -> Result<(), wharf_sdk::Error> {
    KvStore.set(key, value)
}

fn price(shop: &Shop, chat: i64, args: &[String]) -> Result<(), CommandError> {
    let Some((raw, product)) = args.split_last() else {
        return Err(Refusal::Missing { what: "the product" }.into());
    };
    if product.is_empty() {
        return Err(Refusal::Missing { what: "the price" }.into());
    }
    let cur = shop.currency();
    let amount = reply::amount(cur, raw)?;
    if !(1..=import::MAX_PRICE).contains(&amount) {
        let max = cur.format(import::MAX_PRICE);
        return Err(Refusal::Other(format!("a price must be more than 0 and at most {max}")).into());
    }
    let mut p = catalog::find(&KvStore, &product.join(" "))?;
    p.price = amount;
    kv_set(&prod_key(p.id), &p)?;
    let text = format!("#{} {} now costs {} before discounts.", p.id, p.name, cur.format(amount));
    say(chat, &text).map_err(CommandError::from)
}

fn describe(chat: i64, args: &str) -> Result<(), CommandError> {
    let (mut p, text) = catalog::find_prefix(&KvStore, args)?;
    let text = text.trim();
    if text.is_empty() || html(text).encode_utf16().count() > 1000 {
        return Err(Refusal::Other("the description must be 1-1000 characters (after HTML escaping)".into()).into());
    }
    p.description = text.to_owned();
    kv_set(&prod_key(p.id), &p)?;
    say(chat, &format!("Description of #{} {} updated.", p.id, p.name)).map_err(CommandError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_shows_every_command_as_the_bot_takes_it() {
        let readme = include_str!("../../../README.md");
        for (name, syntax, _) in SYNTAX {
            assert!(COMMANDS.contains(&name));
            for s in syntax {
                assert!(readme.contains(&format!("`{s}`")), "README.md does not show `{s}`");
            }
        }
        assert_eq!(SYNTAX.len(), COMMANDS.len());
    }

    #[test]
    fn usage_and_filters() {
        assert!(usage("report").starts_with("Usage: /report [FROM [TO]]\n"));
        assert!(usage("discount").contains("\n   or: /discount [city=NAME]"));
        let args: Vec<String> = ["city=Warsaw", "Category=gift cards"].map(String::from).to_vec();
        assert_eq!(filters(&args), Some([Some("Warsaw".into()), None, Some("gift cards".into())]));
        assert_eq!(filters(&["Steam".to_owned(), "50".to_owned()]), None, "a product name");
        assert_eq!(capital("the product is missing"), "The product is missing");
        assert_eq!(percent("20%"), Ok(20));
        assert!(percent("101").is_err());
    }
}
