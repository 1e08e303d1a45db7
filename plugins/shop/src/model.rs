//! The shop's records and where they live in its KV namespace, plus price display.
//!
//! | key | value |
//! |---|---|
//! | `city:{id}` / `cityn:{name}` | [`City`] / its id by lower-case name |
//! | `dist:{city}:{id}` / `distn:{city}:{name}` / `distc:{id}` | [`District`] / its id / its city |
//! | `cat:{id}` / `catn:{name}` | [`Category`] / its id |
//! | `prod:{id}` / `prodn:{district}:{category}:{name}` | [`Product`] / its id |
//! | `pidx:{district}:{category}:{product}` | browse index |
//! | `item:{product}:{item}` | [`Item`] with its secret payload |
//! | `avail:{product}:{item}` | present while the item is for sale |
//! | `order:{id}` | [`Order`] (the id is the turn that reserved it) |
//! | `onum:{user}` | the last order number the user was given (their paid orders are 1, 2, 3…) |
//! | `res:{user}` | the user's open reservation (order id) |
//! | `rexp:{expires_ms}:{order}` | open reservations by expiry (the sweep's index) |
//! | `uo:{user}:{order}` / `sold:{paid_ms}:{order}` | paid orders by user / by time |
//! | `cool:…` / `coolx:…` | re-take cooldowns (see [`crate::cooldown`]) |
//! | `next:{kind}` | the last id given to a city, district, category, product, item |
//!
//! Ids are zero-padded in keys so that listings come out in numeric order.

use serde::{Deserialize, Serialize};
use wharf_sdk::escape::html;
use wharf_sdk::money::{Currency, discounted};

use crate::store::Store;

/// A city.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct City {
    /// Id.
    pub id: u32,
    /// Name as first imported.
    pub name: String,
}

/// A district of a city.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct District {
    /// Id (unique across cities).
    pub id: u32,
    /// Its city.
    pub city: u32,
    /// Name.
    pub name: String,
}

/// A product category.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Category {
    /// Id.
    pub id: u32,
    /// Name.
    pub name: String,
}

/// A product: what users browse and buy; each sale takes one of its stock items.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Product {
    /// Id.
    pub id: u32,
    /// Name.
    pub name: String,
    /// Shown on the product card.
    pub description: String,
    /// Base price, minor units.
    pub price: i64,
    /// Discount percent, 0-100.
    pub discount: u8,
    /// City id.
    pub city: u32,
    /// District id.
    pub district: u32,
    /// Category id.
    pub category: u32,
    /// Lowest and highest item id ever stocked (where buyers start looking for an item).
    #[serde(default)]
    pub items: (u32, u32),
}

impl Order {
    /// The number shown to people: `Order #12`.
    pub fn no(&self) -> i64 {
        self.number.unwrap_or(self.id)
    }
}

/// `onum:{user}`: the counter of the user's order numbers.
fn order_numbers_key(user: i64) -> String {
    format!("onum:{user}")
}

/// The number the user's next paid order gets.
pub fn next_order_number<S: Store>(s: &S, user: i64) -> Result<i64, wharf_sdk::Error> {
    Ok(s.get::<i64>(&order_numbers_key(user))?.unwrap_or(0) + 1)
}

/// Give the user's next paid order its number; returns it.
pub fn take_order_number<S: Store>(s: &mut S, user: i64) -> Result<i64, wharf_sdk::Error> {
    s.increment(&order_numbers_key(user), 1)
}

impl Product {
    /// The price after the discount.
    pub fn final_price(&self) -> i64 {
        discounted(self.price, self.discount)
    }
}

/// Where a stock item is in its life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ItemState {
    /// For sale.
    Available,
    /// Held for an order until it is paid, cancelled or expires.
    Reserved {
        /// The order.
        order: i64,
    },
    /// Sold.
    Sold {
        /// The order.
        order: i64,
    },
}

/// One unit of stock with its secret delivery payload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Item {
    /// Id.
    pub id: u32,
    /// Its product.
    pub product: u32,
    /// Text delivered to the buyer (a code, a link…).
    pub text: String,
    /// A photo delivered to the buyer (Telegram file id or URL).
    pub photo: Option<String>,
    /// State.
    #[serde(flatten)]
    pub state: ItemState,
}

/// Where an order is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// The item is held; waiting for Confirm.
    Reserved,
    /// Paid and delivered.
    Paid,
    /// Cancelled by the user or refused for lack of funds.
    Cancelled,
    /// The reservation ran out.
    Expired,
}

/// An order: one item for one user, with the prices at the time of the reservation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Order {
    /// Id (the turn that reserved it): keys, buttons and the ledger's idempotency key.
    pub id: i64,
    /// The number people see, given when the order is paid: 1, 2, 3… for each buyer
    /// (a shop-wide counter would make every two purchases at once conflict).
    /// Orders paid by an earlier version have none; they keep showing their id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<i64>,
    /// Buyer.
    pub user: i64,
    /// Product id.
    pub product: u32,
    /// Product name at the time.
    pub name: String,
    /// Item id.
    pub item: u32,
    /// Base price.
    pub price: i64,
    /// Discount percent.
    pub discount: u8,
    /// What the buyer pays.
    pub final_price: i64,
    /// Status.
    pub status: OrderStatus,
    /// Reserved at.
    pub created_ms: i64,
    /// Reservation ends at.
    pub expires_ms: i64,
    /// Paid at.
    pub paid_ms: Option<i64>,
}

/// `city:{id}`.
pub fn city_key(id: u32) -> String {
    format!("city:{id:06}")
}

/// `dist:{city}:{id}`.
pub fn dist_key(city: u32, id: u32) -> String {
    format!("dist:{city:06}:{id:06}")
}

/// `distc:{id}`: the city of district `id`.
pub fn dist_city_key(id: u32) -> String {
    format!("distc:{id:06}")
}

/// `cat:{id}`.
pub fn cat_key(id: u32) -> String {
    format!("cat:{id:06}")
}

/// `prod:{id}`.
pub fn prod_key(id: u32) -> String {
    format!("prod:{id:06}")
}

/// `pidx:{district}:{category}:{product}`.
pub fn pidx_key(district: u32, category: u32, product: u32) -> String {
    format!("pidx:{district:06}:{category:06}:{product:06}")
}

/// `item:{product}:{item}`.
pub fn item_key(product: u32, item: u32) -> String {
    format!("item:{product:06}:{item:08}")
}

/// `avail:{product}:` — the prefix of a product's items for sale.
pub fn avail_prefix(product: u32) -> String {
    format!("avail:{product:06}:")
}

/// `avail:{product}:{item}`.
pub fn avail_key(product: u32, item: u32) -> String {
    format!("avail:{product:06}:{item:08}")
}

/// `order:{id}`.
pub fn order_key(id: i64) -> String {
    format!("order:{id}")
}

/// `res:{user}`.
pub fn res_key(user: i64) -> String {
    format!("res:{user}")
}

/// `rexp:{expires_ms}:{order}`: open reservations by expiry, for the sweep.
pub fn rexp_key(expires_ms: i64, order: i64) -> String {
    format!("rexp:{expires_ms:013}:{order}")
}

/// `uo:{user}:{order}`.
pub fn user_order_key(user: i64, order: i64) -> String {
    format!("uo:{user}:{order:020}")
}

/// `sold:{paid_ms}:{order}`.
pub fn sold_key(paid_ms: i64, order: i64) -> String {
    format!("sold:{paid_ms:013}:{order}")
}

/// A price for HTML messages: `100 PLN`, or `<s>100 PLN</s> 80 PLN −20%` when discounted.
pub fn price_html(cur: &Currency, price: i64, discount: u8) -> String {
    let base = html(&cur.format(price));
    if discount == 0 {
        return base;
    }
    format!("<s>{base}</s> {} −{discount}%", html(&cur.format(discounted(price, discount))))
}

/// The last id of the last component of a key (`item:000001:00000042` → 42).
pub fn last_id(key: &str) -> Option<u32> {
    key.rsplit(':').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discounted_prices_show_strike_through_and_percent() {
        let pln = Currency::new("PLN", 2);
        assert_eq!(price_html(&pln, 10_000, 20), "<s>100 PLN</s> 80 PLN −20%");
        assert_eq!(price_html(&pln, 10_000, 0), "100 PLN");
        assert_eq!(price_html(&pln, 1_999, 15), "<s>19.99 PLN</s> 16.99 PLN −15%");
        assert_eq!(price_html(&Currency::new("<X>", 0), 5, 0), "5 &lt;X&gt;");
    }

    #[test]
    fn orders_stored_before_numbering_still_load_and_show_their_id() {
        let old = r#"{"id":81,"user":7,"product":1,"name":"Steam 50","item":3,"price":5000,"discount":0,
            "final_price":5000,"status":"paid","created_ms":1,"expires_ms":2,"paid_ms":1}"#;
        let o: Order = serde_json::from_str(old).unwrap();
        assert_eq!((o.number, o.no()), (None, 81));
        let numbered = Order { number: Some(1), ..o };
        assert_eq!(numbered.no(), 1);
        let again: Order = serde_json::from_str(&serde_json::to_string(&numbered).unwrap()).unwrap();
        assert_eq!(again.number, Some(1));
    }

    #[test]
    fn each_buyer_counts_orders_from_one() {
        let mut s = crate::store::MemStore::default();
        assert_eq!(next_order_number(&s, 7).unwrap(), 1);
        assert_eq!(take_order_number(&mut s, 7).unwrap(), 1);
        assert_eq!(take_order_number(&mut s, 8).unwrap(), 1);
        assert_eq!(next_order_number(&s, 7).unwrap(), 2);
        assert_eq!(take_order_number(&mut s, 7).unwrap(), 2);
    }

    #[test]
    fn keys_sort_numerically() {
        assert!(item_key(1, 9) < item_key(1, 10));
        assert!(sold_key(999, 1) < sold_key(1_000, 1));
        assert_eq!(last_id(&avail_key(3, 42)), Some(42));
    }
}
