//! The shop's admin views and actions on an in-memory store.

use wharf_sdk::admin::{Block, Output};
use wharf_sdk::money::Currency;

use super::*;
use crate::store::MemStore;

fn pln() -> Currency {
    Currency::new("PLN", 2)
}

/// Two Warsaw products (one in Mokotów with two items), one in Kraków.
fn shop() -> MemStore {
    let mut s = MemStore::default();
    let text = "Warsaw|Mokotów|Cards|Steam 50|49.99|S-1;;Warsaw|Mokotów|Cards|Steam 50|49.99|S-2;;\
                Warsaw|Wola|Games|PSN|20|P-1;;Kraków|Stare Miasto|Cards|Xbox|10.01|X-1";
    let sum = import(&mut s, &pln(), text).unwrap();
    assert_eq!((sum.items, sum.products), (4, 3));
    s
}

fn warsaw() -> Filter {
    Filter { city: Some("warsaw".into()), ..Filter::default() }
}

fn cells(out: &Output) -> Vec<(String, Vec<String>)> {
    out.rows().iter().map(|r| (r.id.clone().unwrap_or_default(), r.cells.clone())).collect()
}

#[test]
fn products_filter_by_place_in_any_case_with_stock_and_selectable_ids() {
    let s = shop();
    let out = products(&s, &pln(), &warsaw(), None).unwrap();
    let rows = cells(&out);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].0, "1");
    assert_eq!(rows[0].1, ["#1 Steam 50", "Warsaw / Mokotów / Cards", "49.99 PLN", "", "49.99 PLN", "2"]);
    let Some(Block::Table(t)) = out.blocks.get(1) else { panic!("a table") };
    assert_eq!(t.actions, ["discount"]);
    let games = Filter { category: Some("Games".into()), ..Filter::default() };
    assert_eq!(cells(&products(&s, &pln(), &games, None).unwrap())[0].0, "2");
    assert_eq!(products(&s, &pln(), &Filter::default(), None).unwrap().rows().len(), 3);
}

#[test]
fn a_discount_on_a_filter_rounds_prices_down_and_leaves_other_places_alone() {
    let mut s = shop();
    let changed = discount(&mut s, &[], &warsaw(), 30).unwrap();
    assert_eq!(changed.len(), 2);
    // 49.99 × 0.7 = 34.993 → 34.99; 20 × 0.7 = 14.
    let finals: Vec<i64> = matching(&s, &warsaw()).unwrap().iter().map(Product::final_price).collect();
    assert_eq!(finals, [3499, 1400]);
    let krakow = Filter { city: Some("Kraków".into()), ..Filter::default() };
    assert_eq!(matching(&s, &krakow).unwrap()[0].final_price(), 1001);
    let shown = products(&s, &pln(), &warsaw(), None).unwrap();
    assert_eq!(shown.rows()[0].cells[3..5], ["30%".to_owned(), "34.99 PLN".to_owned()]);
}

#[test]
fn a_discount_on_a_selection_checks_ids_and_percent() {
    let mut s = shop();
    let changed = discount(&mut s, &["3".into()], &warsaw(), 10).unwrap();
    assert_eq!(changed.iter().map(|p| p.id).collect::<Vec<_>>(), [3], "ids win over the filter");
    assert_eq!(changed[0].final_price(), 900, "10.01 × 0.9 = 9.009 → 9.00");
    assert!(matches!(discount(&mut s, &["9".into()], &Filter::default(), 10), Err(AdminError::NotFound(_))));
    assert!(matches!(discount(&mut s, &["x".into()], &Filter::default(), 10), Err(AdminError::InvalidInput(_))));
    assert!(matches!(discount(&mut s, &["1".into()], &Filter::default(), 91), Err(AdminError::InvalidInput(_))));
    assert!(matches!(discount(&mut s, &[], &Filter::default(), 10), Err(AdminError::InvalidInput(_))), "no filter");
    let nowhere = Filter { city: Some("Gdańsk".into()), ..Filter::default() };
    assert!(matches!(discount(&mut s, &[], &nowhere, 10), Err(AdminError::NotFound(_))));
}

#[test]
fn an_import_refuses_bad_lines_and_writes_nothing() {
    let mut s = shop();
    let before = s.0.clone();
    let err = import(&mut s, &pln(), "Warsaw|Wola|Games|PSN|20|P-1;;Warsaw|Wola|Games|PSN|abc|P-9").unwrap_err();
    let AdminError::InvalidInput(text) = err else { panic!("invalid input") };
    assert!(text.contains("line 1") && text.contains("line 2"), "{text}");
    assert_eq!(s.0, before);
    assert!(import(&mut s, &pln(), "# nothing").is_err());
}

#[test]
fn stock_counts_items_by_state() {
    let s = shop();
    let out = stock_view(&s, &Filter::default(), None).unwrap();
    assert_eq!(out.value("Available"), Some("4"));
    assert_eq!(out.rows()[0].cells[2..], ["2".to_owned(), "0".to_owned(), "0".to_owned()]);
}

#[test]
fn sales_sum_orders_per_product_and_per_day() {
    let mut s = shop();
    let day = 1_700_006_400_000; // 2023-11-15 00:00 UTC
    for (i, (paid, product, price)) in
        [(day + 5, 1, 4999), (day + 10, 1, 3499), (day + DAY_MS + 1, 2, 2000)].iter().enumerate()
    {
        let id = i as i64 + 1;
        let order = serde_json::json!({
            "id": id, "user": 7, "product": product, "name": format!("P{product}"), "item": 1,
            "price": 4999, "discount": 0, "final_price": price, "status": "paid", "created_ms": paid, "expires_ms": paid, "paid_ms": paid,
        });
        s.set(&order_key(id), &order).unwrap();
        s.set(&sold_key(*paid, id), &id).unwrap();
    }
    let out = sales(&s, &pln(), day, day + DAY_MS).unwrap();
    assert_eq!(out.value("Orders"), Some("3"));
    assert_eq!(out.value("Revenue"), Some("104.98 PLN"));
    assert_eq!(cells(&out)[0].1, ["#1 P1", "2", "84.98 PLN"]);
    let Some(Block::Series(series)) = out.blocks.last() else { panic!("a series") };
    assert_eq!(series.labels, ["2023-11-15", "2023-11-16"]);
    assert_eq!(series.lines[0].values, [2, 1]);
    assert!(sales(&s, &pln(), day, day - DAY_MS).is_err());
    assert!(sales(&s, &pln(), day, day + 400 * DAY_MS).is_err());
    assert_eq!(sales(&s, &pln(), day + 5 * DAY_MS, day + 5 * DAY_MS).unwrap().value("Orders"), Some("0"));
}
