//! The shop's event topic (a public contract: subscribe by listing it in your manifest;
//! payloads are JSON, later releases may add fields, so ignore the ones you do not know).
//! Any plugin granted `events` may emit any topic: trust only events whose `source` is
//! the shop's config name (`shop`).
//!
//! - [`PURCHASE`] (`shop.purchase`): an order was paid and delivered, emitted in the turn
//!   that debits the wallet, so it is delivered once, after that turn commits, and never
//!   for a purchase that was rolled back. Payload [`Purchase`]:
//!   `{"user_id":7,"order":12,"amount":5000}` (`order` is the order's id, unique across
//!   buyers; `amount` what was paid, in the wallet's minor units, 0 for a free item).
//!   The analytics plugin subscribes.

use serde::{Deserialize, Serialize};

/// Topic of paid orders.
pub const PURCHASE: &str = "shop.purchase";

/// The payload of [`PURCHASE`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Purchase {
    /// The buyer.
    pub user_id: i64,
    /// The order's id (unique across buyers; the buyer sees their own number).
    pub order: i64,
    /// What was paid, in minor units (0 when free).
    pub amount: i64,
}

/// Announce a paid order (with the turn: nothing if it is discarded).
pub fn announce(user_id: i64, order: i64, amount: i64) -> Result<(), wharf_sdk::Error> {
    wharf_sdk::events::emit(PURCHASE, &Purchase { user_id, order, amount })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_purchase_payload_is_the_documented_json() {
        let json = serde_json::to_string(&Purchase { user_id: 7, order: 12, amount: 5_000 }).unwrap();
        assert_eq!(json, r#"{"user_id":7,"order":12,"amount":5000}"#);
    }
}
