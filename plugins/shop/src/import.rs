//! Bulk stock import, reading the text: one item per line, from a message or an uploaded
//! text file ([`crate::stock`] checks the lines against the catalog and writes them).
//!
//! ```text
//! city | district | category | product | price | payload text [| photo]
//! Warsaw | Mokotów | Gift cards | Steam 50 | 50.00 | STEAM-AAAA-1111
//! ```
//!
//! Blank lines and lines starting with `#` are skipped. Line numbers count every line of
//! the message (the `/import` line is line 1, and an item may follow `/import` on it) or
//! of the file. The import is all or nothing: if any line is bad, the admin gets every
//! bad line, in line order, with its reason, and nothing is imported.

use wharf_sdk::money::Currency;

use crate::reply::{self, count};

/// Most item lines in one import: a line writes at most 13 distinct keys (item, its
/// sale marker, its payload fingerprint, and for new names their records and indexes),
/// and a turn may write 10,000.
pub const MAX_LINES: usize = 700;
/// Highest price, minor units (the ledger's largest amount).
pub const MAX_PRICE: i64 = 1_000_000_000_000_000;
const MAX_NAME: usize = 64;
const MAX_PAYLOAD: usize = 3_000;
/// Bad lines listed in one answer.
const SHOWN: usize = 20;

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

/// What is wrong with one line, as the admin reads it (prices in the display currency).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// Not 6 or 7 fields.
    #[error("expected 6 or 7 fields separated by '|', found {0}")]
    Fields(usize),
    /// The price does not parse (the SDK's sentence about the text typed).
    #[error("the price {0}")]
    Price(String),
    /// The price is zero or too large.
    #[error("the price must be more than 0 and at most {0}")]
    PriceRange(String),
    /// A name is empty, too long or has a `:`.
    #[error("the {0} name must be 1-{MAX_NAME} characters without ':'")]
    Name(&'static str),
    /// The payload text would not fit a message.
    #[error("the payload text is over {MAX_PAYLOAD} characters (after HTML escaping)")]
    PayloadTooLong,
    /// The photo is neither an `https://` URL nor a file id.
    #[error("the photo must be an https:// URL or a Telegram file id (letters, digits, - and _)")]
    Photo,
    /// Neither text nor photo.
    #[error("the item has no payload (text or photo)")]
    NoPayload,
    /// The same secret on an earlier line.
    #[error("the same payload as line {0}")]
    SamePayload(usize),
    /// The same secret is already in stock.
    #[error("this payload is already in stock (item #{0})")]
    InStock(u32),
    /// A new product given two prices in the file (this line disagrees with the first).
    #[error("{product} costs {here} here but {there} on line {line}; a product has one price")]
    PriceInFile {
        /// Product name.
        product: String,
        /// This line's price.
        here: String,
        /// The price of the product's first line.
        there: String,
        /// That line.
        line: usize,
    },
    /// A known product given another price.
    #[error("product #{id} {product} costs {price}, not {here}; change its price with /price first")]
    PriceInCatalog {
        /// Product id.
        id: u32,
        /// Product name.
        product: String,
        /// Its price.
        price: String,
        /// This line's price.
        here: String,
    },
}

/// A bad line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct LineError {
    /// Its number.
    pub line: usize,
    /// What is wrong.
    pub problem: Problem,
}

/// A text read line by line: the good lines, the bad ones, and how many item lines it has.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Lines that parse.
    pub lines: Vec<Line>,
    /// Lines that do not, in line order.
    pub errors: Vec<LineError>,
    /// Item lines (good and bad).
    pub items: usize,
}

fn name(field: &str, what: &'static str) -> Result<String, Problem> {
    let n = field.trim();
    if n.is_empty() || n.chars().count() > MAX_NAME || n.contains(':') {
        return Err(Problem::Name(what));
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

fn parse_line(number: usize, raw: &str, cur: &Currency) -> Result<Line, Problem> {
    let fields: Vec<&str> = raw.split('|').map(str::trim).collect();
    if !(6..=7).contains(&fields.len()) {
        return Err(Problem::Fields(fields.len()));
    }
    let names = (name(fields[0], "city")?, name(fields[1], "district")?, name(fields[2], "category")?);
    let product = name(fields[3], "product")?;
    let price = reply::amount(cur, fields[4]).map_err(|e| Problem::Price(e.to_string()))?;
    if !(1..=MAX_PRICE).contains(&price) {
        return Err(Problem::PriceRange(cur.format(MAX_PRICE)));
    }
    let text = fields[5].to_owned();
    let photo = fields.get(6).filter(|p| !p.is_empty()).map(|p| (*p).to_owned());
    // Measured as delivered: HTML-escaped, in UTF-16 units as Telegram counts.
    if wharf_sdk::escape::html(&text).encode_utf16().count() > MAX_PAYLOAD {
        return Err(Problem::PayloadTooLong);
    }
    if photo.as_deref().is_some_and(|p| !photo_ok(p)) {
        return Err(Problem::Photo);
    }
    if text.is_empty() && photo.is_none() {
        return Err(Problem::NoPayload);
    }
    let (city, district, category) = names;
    Ok(Line { number, city, district, category, product, price, text, photo })
}

/// Read `text`. When it is a message, `command` is true: its first line starts with the
/// `/import` command, and whatever follows the command on that line is line 1.
pub fn parse(text: &str, command: bool, cur: &Currency) -> Parsed {
    let mut out = Parsed::default();
    for (i, raw) in text.lines().enumerate() {
        let raw = if i == 0 && command {
            let t = raw.trim_start();
            t.find(char::is_whitespace).map_or("", |at| &t[at..])
        } else {
            raw
        };
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        out.items += 1;
        match parse_line(i + 1, trimmed, cur) {
            Ok(l) => out.lines.push(l),
            Err(problem) => out.errors.push(LineError { line: i + 1, problem }),
        }
    }
    out
}

/// The answer to an import refused for `errors` (in line order) or for having `items`
/// item lines, more than [`MAX_LINES`].
pub fn rejection(errors: &[LineError], items: usize) -> String {
    let mut text = String::from("❌ Nothing was imported");
    if items > MAX_LINES {
        text.push_str(&format!(": {} in one import; at most {MAX_LINES} are allowed", count(items, "item", "items")));
        if !errors.is_empty() {
            text.push_str(&format!(", and {}", count(errors.len(), "line is bad", "lines are bad")));
        }
        text.push('.');
    } else {
        text.push_str(&format!(": {}.", count(errors.len(), "bad line", "bad lines")));
    }
    if !errors.is_empty() {
        text.push('\n');
    }
    for e in errors.iter().take(SHOWN) {
        text.push_str(&format!("\n{e}"));
    }
    if errors.len() > SHOWN {
        text.push_str(&format!("\n…and {} more", errors.len() - SHOWN));
    }
    text
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
        let p = parse(text, true, &pln());
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!((p.lines.len(), p.items), (2, 2));
        assert_eq!(p.lines[0].number, 3);
        assert_eq!(p.lines[0].price, 5_000);
        assert_eq!(p.lines[1].number, 5);
        assert_eq!(p.lines[1].photo.as_deref(), Some("https://x.test/p.png"));
        // An item may follow the command on its line; a file has no command line.
        let p = parse("/import Warsaw | Mokotów | Cards | Steam 50 | 50 | CODE-1", true, &pln());
        assert_eq!((p.lines.len(), p.lines[0].number), (1, 1));
        assert_eq!(parse("A|B|C|D|1|x\nA|B|C|D|1|y", false, &pln()).lines[1].number, 2);
        assert_eq!(parse("/import@wharf_bot\n\n", true, &pln()).items, 0);
    }

    #[test]
    fn reports_every_bad_line_by_number_in_words_people_read() {
        let text =
            "/import\nA|B|C|D|10|ok\nA|B|C|D|ten|x\nA|B|C\nA|B|C|D|1.234|x\nA|B|C|D|5|\nA|B|C|D:E|5|x\nA|B|C|D|0|x";
        let p = parse(text, true, &pln());
        let errors: Vec<String> = p.errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            errors,
            [
                "line 3: the price \"ten\" is not an amount like 12 or 12.50",
                "line 4: expected 6 or 7 fields separated by '|', found 3",
                "line 5: the price \"1.234\" has more than 2 digits after the point",
                "line 6: the item has no payload (text or photo)",
                "line 7: the product name must be 1-64 characters without ':'",
                "line 8: the price must be more than 0 and at most 10000000000000 PLN",
            ]
        );
        assert_eq!(p.items, 7);
        assert!(photo_ok("https://x.test/a.png") && photo_ok("AgACAgIAAxkBAAIB_-x"));
        for bad in ["www.x.com/a.png", "http://x.test/a.png", "https://", "a b", &"x".repeat(257)] {
            assert!(!photo_ok(bad), "{bad}");
        }
        assert_eq!(fingerprint("a", None), fingerprint("a", Some("")));
        assert_ne!(fingerprint("ab", None), fingerprint("a", Some("b")));
        let huge = format!("A|B|C|D|5|{}", "&".repeat(MAX_PAYLOAD / 5 + 1));
        assert_eq!(parse(&huge, false, &pln()).errors[0].problem, Problem::PayloadTooLong);
    }

    #[test]
    fn a_rejection_counts_right() {
        let one = [LineError { line: 3, problem: Problem::NoPayload }];
        assert_eq!(
            rejection(&one, 1),
            "❌ Nothing was imported: 1 bad line.\n\nline 3: the item has no payload (text or photo)"
        );
        let many: Vec<LineError> = (1..=22).map(|line| LineError { line, problem: Problem::NoPayload }).collect();
        let text = rejection(&many, 22);
        assert!(text.starts_with("❌ Nothing was imported: 22 bad lines.") && text.ends_with("…and 2 more"), "{text}");
        assert_eq!(rejection(&[], 701), "❌ Nothing was imported: 701 items in one import; at most 700 are allowed.");
    }
}
