//! Products as admins name them, and where each one is.
//!
//! An admin command's PRODUCT is a product id (`7` or `#7`) or a product name, any case,
//! that no other product has. The same name may be sold in several districts (each is
//! its own product); such a name is refused with the candidates and their places, so
//! the admin can pick an id.

use std::collections::HashMap;

use wharf_sdk::Error;

use crate::model::*;
use crate::reply::{CommandError, Refusal};
use crate::store::Store;

/// Names of the cities, districts and categories, to say where a product is.
#[derive(Debug, Default)]
pub struct Places {
    cities: HashMap<u32, String>,
    districts: HashMap<u32, String>,
    categories: HashMap<u32, String>,
}

impl Places {
    /// Every name in the catalog.
    pub fn load<S: Store>(s: &S) -> Result<Self, Error> {
        Ok(Self {
            cities: s.values::<City>("city:")?.into_iter().map(|c| (c.id, c.name)).collect(),
            districts: s.values::<District>("dist:")?.into_iter().map(|d| (d.id, d.name)).collect(),
            categories: s.values::<Category>("cat:")?.into_iter().map(|c| (c.id, c.name)).collect(),
        })
    }

    /// `Warsaw / Mokotów / Gift cards`.
    pub fn of(&self, p: &Product) -> String {
        let name = |map: &HashMap<u32, String>, id: u32| map.get(&id).cloned().unwrap_or_else(|| "?".into());
        format!(
            "{} / {} / {}",
            name(&self.cities, p.city),
            name(&self.districts, p.district),
            name(&self.categories, p.category)
        )
    }

    /// Whether `p` is in the city, district and category named (case-insensitively;
    /// `None` matches any).
    pub fn matches(&self, p: &Product, city: Option<&str>, district: Option<&str>, category: Option<&str>) -> bool {
        let is = |map: &HashMap<u32, String>, id: u32, want: Option<&str>| {
            want.is_none_or(|w| map.get(&id).is_some_and(|n| n.to_lowercase() == w.to_lowercase()))
        };
        is(&self.cities, p.city, city)
            && is(&self.districts, p.district, district)
            && is(&self.categories, p.category, category)
    }
}

/// `7` or `#7`.
pub fn parse_id(text: &str) -> Option<u32> {
    text.trim().strip_prefix('#').unwrap_or(text.trim()).parse().ok()
}

fn same_name(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// One product by name, or a refusal saying there is none or several.
fn by_name<S: Store>(s: &S, products: Vec<Product>, name: &str) -> Result<Product, CommandError> {
    let mut found: Vec<Product> = products.into_iter().filter(|p| same_name(&p.name, name)).collect();
    match found.len() {
        0 => Err(Refusal::NoProductName(name.trim().to_owned()).into()),
        1 => Ok(found.remove(0)),
        _ => {
            let places = Places::load(s)?;
            let candidates = found.iter().map(|p| format!("#{} ({})", p.id, places.of(p))).collect();
            Err(Refusal::Ambiguous { name: name.trim().to_owned(), candidates }.into())
        }
    }
}

/// The product `reference` names: an id, or a name no other product has.
pub fn find<S: Store>(s: &S, reference: &str) -> Result<Product, CommandError> {
    if reference.trim().is_empty() {
        return Err(Refusal::Missing { what: "the product" }.into());
    }
    if let Some(id) = parse_id(reference) {
        if let Some(p) = s.get::<Product>(&prod_key(id))? {
            return Ok(p);
        }
        // A product may be named by digits; if none is, the id was meant.
        let products: Vec<Product> = s.values("prod:")?;
        if !products.iter().any(|p| same_name(&p.name, reference)) {
            return Err(Refusal::NoProductId(id).into());
        }
        return by_name(s, products, reference);
    }
    by_name(s, s.values("prod:")?, reference)
}

/// The product named at the start of `text` and the rest of `text` after it: a quoted
/// name, an id, or the longest product name `text` starts with (then a space or the end).
pub fn find_prefix<'t, S: Store>(s: &S, text: &'t str) -> Result<(Product, &'t str), CommandError> {
    let text = text.trim_start();
    if let Some(quoted) = text.strip_prefix('"') {
        let Some((name, rest)) = quoted.split_once('"') else {
            return Err(Refusal::Other("the product's name has no closing quote".into()).into());
        };
        return Ok((find(s, name)?, rest));
    }
    let first = text.split_whitespace().next().unwrap_or_default();
    if let Some(id) = parse_id(first)
        && let Some(p) = s.get::<Product>(&prod_key(id))?
    {
        return Ok((p, &text[first.len()..]));
    }
    let products: Vec<Product> = s.values("prod:")?;
    let starts = |name: &str| {
        text.get(..name.len()).is_some_and(|head| same_name(head, name))
            && text[name.len()..].chars().next().is_none_or(char::is_whitespace)
    };
    let longest = products.iter().filter(|p| starts(&p.name)).map(|p| p.name.len()).max();
    match longest {
        Some(len) => {
            let name = &text[..len];
            Ok((by_name(s, products.clone(), name)?, &text[len..]))
        }
        None if first.is_empty() => Err(Refusal::Missing { what: "the product" }.into()),
        None => Err(Refusal::Other(format!(
            "no product name starts the text (put a name with spaces in quotes, or use the id): {}",
            crate::reply::quote(text)
        ))
        .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemStore;

    fn product(s: &mut MemStore, id: u32, name: &str, district: u32) {
        let p = Product {
            id,
            name: name.into(),
            description: String::new(),
            price: 100,
            discount: 0,
            city: 1,
            district,
            category: 1,
            items: (0, 0),
        };
        s.set(&prod_key(id), &p).unwrap();
    }

    fn catalog() -> MemStore {
        let mut s = MemStore::default();
        s.set(&city_key(1), &City { id: 1, name: "Warsaw".into() }).unwrap();
        for (id, name) in [(1, "Mokotów"), (2, "Wola")] {
            s.set(&dist_key(1, id), &District { id, city: 1, name: name.into() }).unwrap();
        }
        s.set(&cat_key(1), &Category { id: 1, name: "Gift cards".into() }).unwrap();
        product(&mut s, 1, "Steam 50", 1);
        product(&mut s, 2, "Steam 50", 2);
        product(&mut s, 3, "PSN 20", 1);
        product(&mut s, 4, "2048", 1);
        product(&mut s, 5, "Steam 50 Deluxe", 1);
        s
    }

    fn refusal(r: Result<impl std::fmt::Debug, CommandError>) -> String {
        match r {
            Err(CommandError::Refused(e)) => e.to_string(),
            other => panic!("not a refusal: {other:?}"),
        }
    }

    #[test]
    fn products_are_named_by_id_or_unique_name() {
        let s = catalog();
        assert_eq!(find(&s, "3").unwrap().name, "PSN 20");
        assert_eq!(find(&s, "#3").unwrap().name, "PSN 20");
        assert_eq!(find(&s, "psn 20").unwrap().id, 3);
        assert_eq!(find(&s, "2048").unwrap().id, 4, "digits that are no id but a name");
        assert_eq!(refusal(find(&s, "99")), "there is no product #99");
        assert_eq!(refusal(find(&s, "Xbox")), "there is no product named \"Xbox\"");
        assert_eq!(
            refusal(find(&s, "steam 50")),
            "\"steam 50\" names 2 products: #1 (Warsaw / Mokotów / Gift cards), #2 (Warsaw / Wola / Gift cards); use the id"
        );
    }

    #[test]
    fn a_description_follows_the_longest_name_or_a_quoted_one() {
        let s = catalog();
        let (p, rest) = find_prefix(&s, "PSN 20 Redeem on PlayStation").unwrap();
        assert_eq!((p.id, rest), (3, " Redeem on PlayStation"));
        let (p, rest) = find_prefix(&s, "steam 50 deluxe Everything").unwrap();
        assert_eq!((p.id, rest), (5, " Everything"));
        let (p, rest) = find_prefix(&s, "2 Only in Wola").unwrap();
        assert_eq!((p.id, rest), (2, " Only in Wola"));
        let (p, rest) = find_prefix(&s, "\"PSN 20\" text").unwrap();
        assert_eq!((p.id, rest), (3, " text"));
        assert!(refusal(find_prefix(&s, "Steam 50 text")).contains("names 2 products"));
        assert!(refusal(find_prefix(&s, "PSN 2000 x")).starts_with("no product name starts the text"));
    }
}
