//! Bulk stock import, against the catalog: [`check`] finds the lines that cannot be
//! imported (a payload already in stock or twice in the text, a product given another
//! price), [`apply`] writes lines that passed into the catalog. Over any [`Store`], so
//! it is unit-tested natively.

use std::collections::HashMap;

use wharf_sdk::Error;
use wharf_sdk::money::Currency;

use crate::import::{Line, LineError, Problem, fingerprint};
use crate::model::*;
use crate::store::Store;

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

fn lower(s: &str) -> String {
    s.to_lowercase()
}

/// City, district, category and product name, lower case: what makes a product.
type ProductKey = (String, String, String, String);

fn product_key(l: &Line) -> ProductKey {
    (lower(&l.city), lower(&l.district), lower(&l.category), lower(&l.product))
}

/// The catalog's product for a line, if it has one.
fn known<S: Store>(s: &S, l: &Line) -> Result<Option<Product>, Error> {
    let Some(city) = s.get::<u32>(&format!("cityn:{}", lower(&l.city)))? else { return Ok(None) };
    let Some(dist) = s.get::<u32>(&format!("distn:{city}:{}", lower(&l.district)))? else { return Ok(None) };
    let Some(cat) = s.get::<u32>(&format!("catn:{}", lower(&l.category)))? else { return Ok(None) };
    let Some(pid) = s.get::<u32>(&format!("prodn:{dist}:{cat}:{}", lower(&l.product)))? else { return Ok(None) };
    s.get(&prod_key(pid))
}

/// The lines (already parsed) that cannot be imported, in line order. A line is blamed
/// only for its own fault: a product's price is compared with the catalog's when the
/// product exists, else with the product's first line in the text.
pub fn check<S: Store>(s: &S, lines: &[Line], cur: &Currency) -> Result<Vec<LineError>, Error> {
    let mut errors = Vec::new();
    let mut payloads: HashMap<String, usize> = HashMap::new();
    for l in lines {
        let fp = fingerprint(&l.text, l.photo.as_deref());
        if let Some(first) = payloads.get(&fp) {
            errors.push(LineError { line: l.number, problem: Problem::SamePayload(*first) });
        } else if let Some(item) = s.get::<u32>(&fp)? {
            errors.push(LineError { line: l.number, problem: Problem::InStock(item) });
        } else {
            payloads.insert(fp, l.number);
        }
    }
    let mut catalog: HashMap<ProductKey, Option<Product>> = HashMap::new();
    let mut first: HashMap<ProductKey, (usize, i64)> = HashMap::new();
    for l in lines {
        let key = product_key(l);
        let product = match catalog.get(&key) {
            Some(p) => p.clone(),
            None => {
                let p = known(s, l)?;
                catalog.insert(key.clone(), p.clone());
                p
            }
        };
        let problem = match product {
            Some(p) if p.price != l.price => Some(Problem::PriceInCatalog {
                id: p.id,
                product: p.name,
                price: cur.format(p.price),
                here: cur.format(l.price),
            }),
            Some(_) => None,
            None => match first.get(&key) {
                Some(&(line, price)) if price != l.price => Some(Problem::PriceInFile {
                    product: l.product.clone(),
                    here: cur.format(l.price),
                    there: cur.format(price),
                    line,
                }),
                Some(_) => None,
                None => {
                    first.insert(key, (l.number, l.price));
                    None
                }
            },
        };
        if let Some(problem) = problem {
            errors.push(LineError { line: l.number, problem });
        }
    }
    errors.sort_by_key(|e| e.line);
    Ok(errors)
}

/// Take `n` ids from `counter`; returns the first.
fn take_ids<S: Store>(s: &mut S, counter: &str, n: u32) -> Result<u32, Error> {
    let last = s.increment(&format!("next:{counter}"), i64::from(n))?;
    u32::try_from(last - i64::from(n) + 1).map_err(|_| Error::Other(format!("{counter} ids exhausted")))
}

/// The id under name index `index`, or a new one from `counter` whose records `make`
/// stores; `cache` spares repeated lookups within one import.
fn resolve<S, F>(
    s: &mut S,
    cache: &mut HashMap<String, u32>,
    index: String,
    counter: &str,
    created: &mut usize,
    make: F,
) -> Result<u32, Error>
where
    S: Store,
    F: FnOnce(&mut S, u32) -> Result<(), Error>,
{
    if let Some(id) = cache.get(&index) {
        return Ok(*id);
    }
    let id = match s.get::<u32>(&index)? {
        Some(id) => id,
        None => {
            let id = take_ids(s, counter, 1)?;
            make(s, id)?;
            s.set(&index, &id)?;
            *created += 1;
            id
        }
    };
    cache.insert(index, id);
    Ok(id)
}

/// Write the lines (already checked) into the catalog.
pub fn apply<S: Store>(s: &mut S, lines: &[Line]) -> Result<Summary, Error> {
    let mut sum = Summary::default();
    let mut cache = HashMap::new();
    let count = u32::try_from(lines.len()).map_err(|_| Error::Other("too many lines".into()))?;
    let first_item = take_ids(s, "item", count)?;
    // New item ids per product, to widen each product's id range once at the end.
    let mut ranges: HashMap<u32, (u32, u32)> = HashMap::new();
    for (item, l) in (first_item..).zip(lines) {
        let city = resolve(s, &mut cache, format!("cityn:{}", lower(&l.city)), "city", &mut sum.places, |s, id| {
            s.set(&city_key(id), &City { id, name: l.city.clone() })
        })?;
        let index = format!("distn:{city}:{}", lower(&l.district));
        let district = resolve(s, &mut cache, index, "dist", &mut sum.places, |s, id| {
            s.set(&dist_key(city, id), &District { id, city, name: l.district.clone() })?;
            s.set(&dist_city_key(id), &city)
        })?;
        let index = format!("catn:{}", lower(&l.category));
        let category = resolve(s, &mut cache, index, "cat", &mut sum.places, |s, id| {
            s.set(&cat_key(id), &Category { id, name: l.category.clone() })
        })?;
        let index = format!("prodn:{district}:{category}:{}", lower(&l.product));
        let product = resolve(s, &mut cache, index, "prod", &mut sum.products, |s, id| {
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
            s.set(&prod_key(id), &p)?;
            s.set(&pidx_key(district, category, id), &id)
        })?;
        let it = Item { id: item, product, text: l.text.clone(), photo: l.photo.clone(), state: ItemState::Available };
        s.set(&item_key(product, item), &it)?;
        s.set(&avail_key(product, item), &item)?;
        s.set(&fingerprint(&l.text, l.photo.as_deref()), &item)?;
        let range = ranges.entry(product).or_insert((item, item));
        range.1 = item;
        sum.items += 1;
    }
    for (product, (lo, hi)) in ranges {
        let mut p: Product = s
            .get(&prod_key(product))?
            .ok_or_else(|| Error::Other(format!("product {product} vanished during the import")))?;
        p.items = if p.items.1 == 0 { (lo, hi) } else { (p.items.0.min(lo), p.items.1.max(hi)) };
        s.set(&prod_key(product), &p)?;
    }
    Ok(sum)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::parse;
    use crate::store::MemStore;

    fn pln() -> Currency {
        Currency::new("PLN", 2)
    }

    /// Parse and check `text` as a message against `s`: every bad line, as shown.
    fn bad_lines(s: &MemStore, text: &str) -> Vec<String> {
        let parsed = parse(text, true, &pln());
        let mut errors = parsed.errors;
        errors.extend(check(s, &parsed.lines, &pln()).unwrap());
        errors.sort_by_key(|e| e.line);
        errors.iter().map(ToString::to_string).collect()
    }

    fn import(s: &mut MemStore, text: &str) -> Summary {
        let parsed = parse(text, true, &pln());
        assert!(parsed.errors.is_empty() && check(s, &parsed.lines, &pln()).unwrap().is_empty());
        apply(s, &parsed.lines).unwrap()
    }

    #[test]
    fn every_bad_line_is_reported_in_line_order_with_prices_in_the_currency() {
        let mut s = MemStore::default();
        let sum = import(&mut s, "/import\nWarsaw|Mokotów|Cards|Steam 50|50|S-1\nWarsaw|Wola|Cards|PSN|20|P-1");
        assert_eq!(sum, Summary { items: 2, products: 2, places: 4 });
        let text = "/import\n\
                    Warsaw|Mokotów|Cards|Steam 50|45|S-2\n\
                    bad\n\
                    warsaw|mokotów|cards|steam 50|50|S-1\n\
                    Kraków|Old Town|Cards|Xbox|10|X-1\n\
                    Kraków|Old Town|Cards|Xbox|12.50|X-2\n\
                    Kraków|Old Town|Cards|Xbox|10|X-1";
        assert_eq!(
            bad_lines(&s, text),
            [
                "line 2: product #1 Steam 50 costs 50 PLN, not 45 PLN; change its price with /price first",
                "line 3: expected 6 or 7 fields separated by '|', found 1",
                "line 4: this payload is already in stock (item #1)",
                "line 6: Xbox costs 12.50 PLN here but 10 PLN on line 5; a product has one price",
                "line 7: the same payload as line 5",
            ]
        );
    }

    #[test]
    fn the_line_that_agrees_with_the_catalog_is_not_blamed() {
        let mut s = MemStore::default();
        import(&mut s, "/import\nWarsaw|Mokotów|Cards|Steam 50|50|S-1");
        let errors =
            bad_lines(&s, "/import\nWarsaw|Mokotów|Cards|Steam 50|45|S-2\nWarsaw|Mokotów|Cards|Steam 50|50|S-3");
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].starts_with("line 2: product #1 Steam 50 costs 50 PLN, not 45 PLN"), "{errors:?}");
    }

    #[test]
    fn an_import_adds_to_known_products_and_widens_their_item_range() {
        let mut s = MemStore::default();
        import(&mut s, "/import\nWarsaw|Mokotów|Cards|Steam 50|50|S-1\nWarsaw|Mokotów|Cards|Steam 50|50|S-2");
        let sum = import(&mut s, "/import\nWARSAW|Mokotów|Cards|steam 50|50|S-3");
        assert_eq!(sum, Summary { items: 1, products: 0, places: 0 });
        let p: Product = s.get(&prod_key(1)).unwrap().unwrap();
        assert_eq!((p.name.as_str(), p.items), ("Steam 50", (1, 3)));
        assert_eq!(s.keys(&avail_prefix(1)).unwrap().len(), 3);
    }
}
