//! The re-take rule: a user whose reservation of a product's last item expired may not
//! reserve that product's last item again for `retake_cooldown_minutes` (setting), so
//! nobody holds the last item for ever by reserving it again each time it expires.
//! Others can take it meanwhile; with more than one item for sale the user may too.
//!
//! Keys: `cool:{product}:{user}` → until (Unix ms); `coolx:{until}:{product}:{user}`
//! orders them by time, so the sweep removes the ones that ran out.

use wharf_sdk::Error;

use crate::model::Order;
use crate::store::Store;

fn key(product: u32, user: i64) -> String {
    format!("cool:{product:06}:{user}")
}

fn index_key(until: i64, product: u32, user: i64) -> String {
    format!("coolx:{until:013}:{product:06}:{user}")
}

/// Until when a user may not take the last item, given their cooldown (`until`), the
/// time and the items for sale: `Some(until)` while they may not.
pub fn blocked(until: Option<i64>, now_ms: i64, available: usize) -> Option<i64> {
    until.filter(|&until| now_ms < until && available <= 1)
}

/// `o`'s reservation expired at `now_ms`, leaving `available` items of its product for
/// sale (its own included). When that is the last one, the user's cooldown starts;
/// returns its end.
pub fn start<S: Store>(
    s: &mut S,
    o: &Order,
    now_ms: i64,
    minutes: u32,
    available: usize,
) -> Result<Option<i64>, Error> {
    if minutes == 0 || available > 1 {
        return Ok(None);
    }
    let until = now_ms.saturating_add(i64::from(minutes) * 60_000);
    if let Some(old) = s.get::<i64>(&key(o.product, o.user))? {
        s.delete(&index_key(old, o.product, o.user))?;
    }
    s.set(&key(o.product, o.user), &until)?;
    s.set(&index_key(until, o.product, o.user), &o.user)?;
    Ok(Some(until))
}

/// Whether `user` may reserve `product`'s last item now: `Some(until)` while they may
/// not. `available` is asked only when the user has a cooldown running (it lists stock).
pub fn check<S, F>(s: &mut S, user: i64, product: u32, now_ms: i64, available: F) -> Result<Option<i64>, Error>
where
    S: Store,
    F: FnOnce() -> Result<usize, Error>,
{
    let Some(until) = s.get::<i64>(&key(product, user))? else { return Ok(None) };
    if now_ms >= until {
        s.delete(&key(product, user))?;
        s.delete(&index_key(until, product, user))?;
        return Ok(None);
    }
    Ok(blocked(Some(until), now_ms, available()?))
}

/// Remove up to `limit` cooldowns that ran out by `now_ms`.
pub fn sweep<S: Store>(s: &mut S, now_ms: i64, limit: u32) -> Result<(), Error> {
    for k in s.list("coolx:", None, limit)? {
        let mut parts = k.split(':').skip(1);
        let (Some(until), Some(product), Some(user)) = (parts.next(), parts.next(), parts.next()) else { continue };
        let (Ok(until), Ok(product), Ok(user)) = (until.parse::<i64>(), product.parse::<u32>(), user.parse::<i64>())
        else {
            continue;
        };
        if until > now_ms {
            break;
        }
        s.delete(&k)?;
        if s.get::<i64>(&key(product, user))? == Some(until) {
            s.delete(&key(product, user))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::OrderStatus;
    use crate::store::MemStore;

    fn order(user: i64) -> Order {
        Order {
            id: 10,
            number: None,
            user,
            product: 1,
            name: "Steam 50".into(),
            item: 1,
            price: 100,
            discount: 0,
            final_price: 100,
            status: OrderStatus::Expired,
            created_ms: 0,
            expires_ms: 0,
            paid_ms: None,
        }
    }

    #[test]
    fn only_the_last_item_and_only_for_a_while() {
        assert_eq!(blocked(None, 5, 1), None);
        assert_eq!(blocked(Some(10), 5, 1), Some(10));
        assert_eq!(blocked(Some(10), 5, 2), None, "more stock: nobody is kept from it");
        assert_eq!(blocked(Some(10), 10, 1), None, "the cooldown is over");
    }

    #[test]
    fn a_cooldown_starts_on_the_last_item_ends_and_is_swept() {
        let mut s = MemStore::default();
        assert_eq!(start(&mut s, &order(7), 1_000, 15, 2).unwrap(), None, "other items were for sale");
        assert_eq!(start(&mut s, &order(7), 1_000, 0, 1).unwrap(), None, "the setting turns it off");
        assert!(s.0.is_empty());
        let until = start(&mut s, &order(7), 1_000, 15, 1).unwrap().unwrap();
        assert_eq!(until, 1_000 + 15 * 60_000);
        assert_eq!(check(&mut s, 7, 1, 2_000, || Ok(1)).unwrap(), Some(until));
        assert_eq!(check(&mut s, 7, 1, 2_000, || Ok(3)).unwrap(), None);
        assert_eq!(check(&mut s, 8, 1, 2_000, || panic!("not asked without a cooldown")).unwrap(), None);
        assert_eq!(check(&mut s, 7, 2, 2_000, || Ok(1)).unwrap(), None, "another product");
        // Again later: the old index entry goes.
        let later = start(&mut s, &order(7), 5_000, 15, 1).unwrap().unwrap();
        assert_eq!(s.keys("coolx:").unwrap().len(), 1);
        sweep(&mut s, later - 1, 50).unwrap();
        assert_eq!(s.0.len(), 2, "not due yet");
        sweep(&mut s, later, 50).unwrap();
        assert!(s.0.is_empty(), "{:?}", s.0.keys());
        start(&mut s, &order(7), 1_000, 15, 1).unwrap();
        assert_eq!(check(&mut s, 7, 1, until, || Ok(1)).unwrap(), None, "over: cleaned up on sight");
        assert!(s.0.is_empty());
    }
}
