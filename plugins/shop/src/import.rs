//! Bulk stock import: one item per line, from a message or an uploaded text file.
//!
//! ```text
//! city | district | category | product | price | payload text [| photo]
//! Warsaw | Mokotów | Gift cards | Steam 50 | 50.00 | STEAM-AAAA-1111
//! ```
//!
//! Blank lines and lines starting with `#` are skipped. Line numbers count every line of
//! the message (the `/import` line is line 1) or of the file. The import is all or
//! nothing: if any line is bad, the admin gets every bad line's number and reason
//! (up to 20) and nothing is imported.

use std::collections::HashMap;

use wharf_sdk::kv;
use wharf_sdk::money::Currency;

use crate::model::*;

/// The error when a text holds no item at all.
pub const NO_LINES: &str = "no item lines found";

/// Most item lines in one import: a line writes at most 13 distinct keys (item, its
/// sale marker, its payload fingerprint, and for new names their records and indexes),
/// and a turn may write 10,000.
pub const MAX_LINES: usize = 700;
/// Highest price, minor units (the ledger's largest amount).
pub const MAX_PRICE: i64 = 1_000_000_000_000_000;
const MAX_NAME: usize = 64;
const MAX_PAYLOAD: usize = 3_000;

/// One parsed item line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// 1-based line number in the text.
    pub number: usize,
    /// City name.
    pub city: String,
    /// District name.
    pub district: String,
    /// Category name.
    pub category: String,
    /// Product name.
    pub product: String,
    /// Base price, minor units.
    pub price: i64,
    /// Secret payload text.
    pub text: String,
    /// Secret payload photo.
    pub photo: Option<String>,
}

fn name(field: &str, what: &str) -> Result<String, String> {
    let n = field.trim();
    if n.is_empty() || n.chars().count() > MAX_NAME || n.contains(':') {
        return Err(format!("{what} must be 1-{MAX_NAME} characters without ':'"));
    }
    Ok(n.to_owned())
}

/// A photo reference Telegram can send: an `https://` URL without spaces, or a file id.
pub fn photo_ok(p: &str) -> bool {
    match p.strip_prefix("https://") {
        Some(rest) => !rest.is_empty() && p.len() <= 512 && !p.contains(char::is_whitespace),
        None => (1..=256).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
    }
}

/// A stable fingerprint of a payload (FNV-1a, 64 bits), so that the same secret is not
/// stocked twice (e.g. when a file is imported again).
pub fn fingerprint(text: &str, photo: Option<&str>) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes().chain([0xff]).chain(photo.unwrap_or_default().bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("pay:{h:016x}")
}

fn parse_line(number: usize, raw: &str, cur: &Currency) -> Result<Line, String> {
    let fields: Vec<&str> = raw.split('|').map(str::trim).collect();
    if !(6..=7).contains(&fields.len()) {
        return Err(format!("expected 6 or 7 fields separated by '|', found {}", fields.len()));
    }
    let price = cur.parse(fields[4]).map_err(|e| format!("price: {e}"))?;
    if !(1..=MAX_PRICE).contains(&price) {
        return Err(format!("price must be 1 to {MAX_PRICE} minor units"));
    }
    let text = fields[5].to_owned();
    let photo = fields.get(6).filter(|p| !p.is_empty()).map(|p| (*p).to_owned());
    // Measured as delivered: HTML-escaped, in UTF-16 units as Telegram counts.
    if wharf_sdk::escape::html(&text).encode_utf16().count() > MAX_PAYLOAD {
        return Err(format!("payload text is over {MAX_PAYLOAD} characters (after HTML escaping)"));
    }
    if let Some(p) = &photo
        && !photo_ok(p)
    {
        return Err("photo must be an https:// URL or a Telegram file id (letters, digits, - and _)".into());
    }
    if text.is_empty() && photo.is_none() {
        return Err("the item has no payload (text or photo)".into());
    }
    Ok(Line {
        number,
        city: name(fields[0], "city")?,
        district: name(fields[1], "district")?,
        category: name(fields[2], "category")?,
        product: name(fields[3], "product")?,
        price,
        text,
        photo,
    })
}

/// Parse `text` (its first `skip` lines are not items). Every bad line is reported.
pub fn parse(text: &str, skip: usize, cur: &Currency) -> Result<Vec<Line>, Vec<String>> {
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    for (i, raw) in text.lines().enumerate().skip(skip) {
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        match parse_line(i + 1, trimmed, cur) {
            Ok(l) => lines.push(l),
            Err(e) => errors.push(format!("line {}: {e}", i + 1)),
        }
    }
    if lines.is_empty() && errors.is_empty() {
        errors.push(NO_LINES.into());
    }
    if lines.len() > MAX_LINES {
        errors.push(format!("{} items; at most {MAX_LINES} per import", lines.len()));
    }
    if errors.is_empty() { Ok(lines) } else { Err(errors) }
}

/// What an import created.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Stock items.
    pub items: usize,
    /// New products.
    pub products: usize,
    /// New cities, districts and categories.
    pub places: usize,
}

/// Take `n` ids from `counter`; returns the first.
fn take_ids(counter: &str, n: u32) -> Result<u32, wharf_sdk::Error> {
    let last = kv::increment(&format!("next:{counter}"), i64::from(n))?;
    u32::try_from(last - i64::from(n) + 1).map_err(|_| wharf_sdk::Error::Other(format!("{counter} ids exhausted")))
}

fn lower(s: &str) -> String {
    s.to_lowercase()
}

/// Ids by name-index key, looked up or created once per import.
#[derive(Default)]
struct Names(HashMap<String, u32>);

impl Names {
    /// The id under `index`, or a new one from `counter` whose record `make` stores.
    fn resolve<F>(
        &mut self,
        index: String,
        counter: &str,
        created: &mut usize,
        make: F,
    ) -> Result<u32, wharf_sdk::Error>
    where
        F: FnOnce(u32) -> Result<(), wharf_sdk::Error>,
    {
        if let Some(id) = self.0.get(&index) {
            return Ok(*id);
        }
        let id = match kv::get::<u32>(&index)? {
            Some(id) => id,
            None => {
                let id = take_ids(counter, 1)?;
                make(id)?;
                kv::set(&index, &id)?;
                *created += 1;
                id
            }
        };
        self.0.insert(index, id);
        Ok(id)
    }
}

/// Check `lines` against the catalog: a product that exists (or appears twice) with
/// another price, or a payload already in stock (or twice in the import), is an error
/// reported with its line number.
pub fn check_prices(lines: &[Line]) -> Result<Vec<String>, wharf_sdk::Error> {
    let mut errors = Vec::new();
    let mut payloads: HashMap<String, usize> = HashMap::new();
    for l in lines {
        let fp = fingerprint(&l.text, l.photo.as_deref());
        if let Some(first) = payloads.get(&fp) {
            errors.push(format!("line {}: the same payload as line {first}", l.number));
        } else if let Some(item) = kv::get::<u32>(&fp)? {
            errors.push(format!("line {}: this payload is already in stock (item #{item})", l.number));
        } else {
            payloads.insert(fp, l.number);
        }
    }
    let mut seen: HashMap<(String, String, String, String), i64> = HashMap::new();
    for l in lines {
        let k = (lower(&l.city), lower(&l.district), lower(&l.category), lower(&l.product));
        match seen.get(&k) {
            Some(p) if *p != l.price => {
                errors.push(format!("line {}: {} appears above with another price", l.number, l.product));
                continue;
            }
            Some(_) => continue,
            None => {
                seen.insert(k, l.price);
            }
        }
        let Some(city) = kv::get::<u32>(&format!("cityn:{}", lower(&l.city)))? else { continue };
        let Some(dist) = kv::get::<u32>(&format!("distn:{city}:{}", lower(&l.district)))? else { continue };
        let Some(cat) = kv::get::<u32>(&format!("catn:{}", lower(&l.category)))? else { continue };
        let Some(pid) = kv::get::<u32>(&format!("prodn:{dist}:{cat}:{}", lower(&l.product)))? else { continue };
        if let Some(p) = kv::get::<Product>(&prod_key(pid))?
            && p.price != l.price
        {
            errors.push(format!(
                "line {}: product #{pid} {} already costs {} minor units; change its price with /price",
                l.number, p.name, p.price
            ));
        }
    }
    Ok(errors)
}

/// Write the lines (already checked) into the catalog.
pub fn apply(lines: &[Line]) -> Result<Summary, wharf_sdk::Error> {
    let mut sum = Summary::default();
    let mut names = Names::default();
    let count = u32::try_from(lines.len()).map_err(|_| wharf_sdk::Error::InvalidInput("too many lines".into()))?;
    let first_item = take_ids("item", count)?;
    // New item ids per product, to widen each product's id range once at the end.
    let mut ranges: HashMap<u32, (u32, u32)> = HashMap::new();
    for (item, l) in (first_item..).zip(lines) {
        let city = names.resolve(format!("cityn:{}", lower(&l.city)), "city", &mut sum.places, |id| {
            kv::set(&city_key(id), &City { id, name: l.city.clone() })
        })?;
        let district =
            names.resolve(format!("distn:{city}:{}", lower(&l.district)), "dist", &mut sum.places, |id| {
                kv::set(&dist_key(city, id), &District { id, city, name: l.district.clone() })?;
                kv::set(&dist_city_key(id), &city)
            })?;
        let category = names.resolve(format!("catn:{}", lower(&l.category)), "cat", &mut sum.places, |id| {
            kv::set(&cat_key(id), &Category { id, name: l.category.clone() })
        })?;
        let pindex = format!("prodn:{district}:{category}:{}", lower(&l.product));
        let product = names.resolve(pindex, "prod", &mut sum.products, |id| {
            let p = Product {
                id,
                name: l.product.clone(),
                description: String::new(),
                price: l.price,
                discount: 0,
                city,
                district,
                category,
                items: (0, 0),
            };
            kv::set(&prod_key(id), &p)?;
            kv::set(&pidx_key(district, category, id), &id)
        })?;
        let it = Item { id: item, product, text: l.text.clone(), photo: l.photo.clone(), state: ItemState::Available };
        kv::set(&item_key(product, item), &it)?;
        kv::set(&avail_key(product, item), &item)?;
        kv::set(&fingerprint(&l.text, l.photo.as_deref()), &item)?;
        let range = ranges.entry(product).or_insert((item, item));
        range.1 = item;
        sum.items += 1;
    }
    for (product, (lo, hi)) in ranges {
        let mut p: Product = kv::get(&prod_key(product))?
            .ok_or_else(|| wharf_sdk::Error::Other(format!("product {product} vanished during the import")))?;
        p.items = if p.items.1 == 0 { (lo, hi) } else { (p.items.0.min(lo), p.items.1.max(hi)) };
        kv::set(&prod_key(product), &p)?;
    }
    Ok(sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pln() -> Currency {
        Currency::new("PLN", 2)
    }

    #[test]
    fn parses_items_and_skips_comments() {
        let text = "/import\n# a comment\nWarsaw | Mokotów | Cards | Steam 50 | 50 | CODE-1\n\n\
                    Kraków|Old Town|Cards|Psn 20|20.50|CODE-2|https://x.test/p.png\n";
        let lines = parse(text, 1, &pln()).unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].number, 3);
        assert_eq!(lines[0].price, 5_000);
        assert_eq!(lines[1].number, 5);
        assert_eq!(lines[1].photo.as_deref(), Some("https://x.test/p.png"));
    }

    #[test]
    fn reports_every_bad_line_by_number() {
        let text = "/import\nA|B|C|D|10|ok\nA|B|C|D|ten|x\nA|B|C\nA|B|C|D|1.234|x\nA|B|C|D|5|\nA|B|C|D:E|5|x";
        let errors = parse(text, 1, &pln()).unwrap_err();
        assert_eq!(errors.len(), 5, "{errors:?}");
        assert!(errors[0].starts_with("line 3: price:"), "{errors:?}");
        assert_eq!(errors[1], "line 4: expected 6 or 7 fields separated by '|', found 3");
        assert!(errors[2].starts_with("line 5: price:"), "{errors:?}");
        assert_eq!(errors[3], "line 6: the item has no payload (text or photo)");
        assert_eq!(errors[4], "line 7: product must be 1-64 characters without ':'");
        assert_eq!(parse("/import\n\n", 1, &pln()).unwrap_err(), ["no item lines found"]);
        assert!(photo_ok("https://x.test/a.png") && photo_ok("AgACAgIAAxkBAAIB_-x"));
        for bad in ["www.x.com/a.png", "http://x.test/a.png", "https://", "a b", &"x".repeat(257)] {
            assert!(!photo_ok(bad), "{bad}");
        }
        assert_eq!(fingerprint("a", None), fingerprint("a", Some("")));
        assert_ne!(fingerprint("ab", None), fingerprint("a", Some("b")));
        let huge = format!("A|B|C|D|5|{}", "&".repeat(MAX_PAYLOAD / 5 + 1));
        assert!(parse(&huge, 0, &pln()).unwrap_err()[0].contains("after HTML escaping"));
    }
}
