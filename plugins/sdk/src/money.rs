//! Money as integers in minor units (grosze, cents): parsing, display and discounts.
//!
//! Rules, so that every plugin rounds the same way:
//! - amounts are `i64` minor units; nothing here uses floating point;
//! - parsing accepts `12`, `12.5`, `12.50` and `12,50`, and refuses more fraction digits
//!   than the currency has (no silent rounding of what a user typed);
//! - display drops an all-zero fraction (`80 PLN`, `12.50 PLN`);
//! - a discount of `p` percent gives `floor(price × (100 − p) / 100)`: the buyer gets the
//!   fraction of a minor unit.

use crate::Error;

/// A currency: its code and how many digits the minor unit has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Currency {
    /// e.g. `PLN`.
    pub code: String,
    /// e.g. 2 (1 PLN = 100 grosze). At most 6.
    pub decimals: u8,
}

impl Currency {
    /// A currency; `decimals` is clamped to 6.
    pub fn new(code: &str, decimals: u8) -> Self {
        Self { code: code.to_owned(), decimals: decimals.min(6) }
    }

    fn unit(&self) -> i64 {
        10i64.pow(u32::from(self.decimals.min(6)))
    }

    /// `1250` → `12.50 PLN`; `8000` → `80 PLN`; `-5` → `-0.05 PLN`.
    pub fn format(&self, minor: i64) -> String {
        format!("{} {}", self.format_number(minor), self.code)
    }

    /// The number alone: `1250` → `12.50`.
    pub fn format_number(&self, minor: i64) -> String {
        let unit = self.unit().unsigned_abs();
        let sign = if minor < 0 { "-" } else { "" };
        let abs = minor.unsigned_abs();
        let (whole, frac) = (abs / unit, abs % unit);
        if frac == 0 {
            return format!("{sign}{whole}");
        }
        format!("{sign}{whole}.{frac:0width$}", width = usize::from(self.decimals))
    }

    /// Parse an amount typed by a person (`12`, `12.5`, `12,50`, optional code). Zero
    /// parses; callers check their own bounds.
    pub fn parse(&self, text: &str) -> Result<i64, Error> {
        let t = text.trim();
        let t = t.strip_suffix(self.code.as_str()).unwrap_or(t).trim();
        // Echo at most a short piece of what was typed (it may be a pasted novel).
        let shown: String = text.trim().chars().take(24).collect();
        let text = if shown.len() < text.trim().len() { format!("{shown}…") } else { shown };
        let bad = || Error::InvalidInput(format!("{text:?} is not an amount like 12 or 12.50"));
        let (whole, frac) = match t.split_once(['.', ',']) {
            Some((w, f)) => (w, f),
            None => (t, ""),
        };
        if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        if frac.len() > usize::from(self.decimals) {
            return Err(Error::InvalidInput(format!(
                "{text:?} has more than {} digits after the point",
                self.decimals
            )));
        }
        let too_big = || Error::InvalidInput(format!("{text:?} is too large"));
        let whole: i64 = whole.parse().map_err(|_| too_big())?;
        let mut frac_minor: i64 = if frac.is_empty() { 0 } else { frac.parse().map_err(|_| bad())? };
        for _ in frac.len()..usize::from(self.decimals) {
            frac_minor *= 10;
        }
        whole.checked_mul(self.unit()).and_then(|w| w.checked_add(frac_minor)).ok_or_else(too_big)
    }
}

/// The price after a discount of `percent` (0-100), rounded down to the minor unit.
pub fn discounted(price: i64, percent: u8) -> i64 {
    let pct = i128::from(percent.min(100));
    let v = i128::from(price) * (100 - pct) / 100;
    i64::try_from(v).unwrap_or(price)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_without_useless_zeros() {
        let pln = Currency::new("PLN", 2);
        assert_eq!(pln.format(10_000), "100 PLN");
        assert_eq!(pln.format(1_250), "12.50 PLN");
        assert_eq!(pln.format(5), "0.05 PLN");
        assert_eq!(pln.format(-1_005), "-10.05 PLN");
        assert_eq!(Currency::new("BTC", 0).format(3), "3 BTC");
        assert_eq!(pln.format(i64::MIN), "-92233720368547758.08 PLN");
    }

    #[test]
    fn parses_what_people_type_and_refuses_the_rest() {
        let pln = Currency::new("PLN", 2);
        assert_eq!(pln.parse("12").unwrap(), 1_200);
        assert_eq!(pln.parse(" 12.5 ").unwrap(), 1_250);
        assert_eq!(pln.parse("12,05").unwrap(), 1_205);
        assert_eq!(pln.parse("7 PLN").unwrap(), 700);
        for bad in ["", "-3", "1.234", "abc", "1e3", ".5", "1.2.3", "99999999999999999999"] {
            assert!(pln.parse(bad).is_err(), "{bad:?} parsed");
        }
        let long = "x".repeat(5_000);
        assert!(pln.parse(&long).unwrap_err().to_string().len() < 100, "the error does not echo everything");
    }

    #[test]
    fn discounts_round_in_the_buyers_favour() {
        assert_eq!(discounted(10_000, 20), 8_000);
        assert_eq!(discounted(999, 15), 849);
        assert_eq!(discounted(999, 0), 999);
        assert_eq!(discounted(999, 100), 0);
        assert_eq!(discounted(999, 200), 0);
        assert_eq!(discounted(i64::MAX, 1), i64::MAX / 100 * 99 + (i64::MAX % 100) * 99 / 100);
    }
}
