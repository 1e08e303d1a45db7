//! Referral codes: every user who asks gets one, kept for good. A code is the user's
//! registration number (1, 2, 3…) scrambled by a bijection of 32-bit numbers and written
//! in Crockford's base32, so codes are short, unique without a collision check, and do
//! not reveal the user's Telegram id. The start payload is `ref_CODE`.

/// Crockford's base32 alphabet, lower case (no i, l, o, u).
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
/// Characters in a code (7 × 5 bits ≥ 32 bits).
pub const LEN: usize = 7;
/// The start payload's prefix.
pub const PAYLOAD_PREFIX: &str = "ref_";

/// The code of registration number `n` (distinct numbers give distinct codes).
pub fn encode(n: u32) -> String {
    let mut x = scramble(n);
    let mut out = [0u8; LEN];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(x & 31) as usize];
        x >>= 5;
    }
    out.iter().map(|b| char::from(*b)).collect()
}

/// A bijection of `u32`: an odd multiplier, an xor-shift and another odd multiplier are
/// each invertible modulo 2^32.
fn scramble(n: u32) -> u32 {
    let mut x = n.wrapping_mul(0x9E37_79B1);
    x ^= x >> 15;
    x = x.wrapping_mul(0x85EB_CA77);
    x ^ (x >> 13)
}

/// The code in a `/start` payload (`ref_CODE`, any case), if it is one. `Some(Err)`: it
/// has the prefix but no well-formed code after it.
pub fn from_payload(payload: &str) -> Option<Result<String, ()>> {
    let p = payload.trim();
    let head = p.get(..PAYLOAD_PREFIX.len())?;
    if !head.eq_ignore_ascii_case(PAYLOAD_PREFIX) {
        return None;
    }
    let code = p[PAYLOAD_PREFIX.len()..].to_ascii_lowercase();
    let ok = code.len() == LEN && code.bytes().all(|b| ALPHABET.contains(&b));
    Some(if ok { Ok(code) } else { Err(()) })
}

/// `https://t.me/BOT?start=ref_CODE`.
pub fn link(bot_username: &str, code: &str) -> String {
    format!("https://t.me/{bot_username}?start={PAYLOAD_PREFIX}{code}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_short_distinct_and_round_trip_through_the_payload() {
        let codes: HashSet<String> = (1..=50_000).map(encode).collect();
        assert_eq!(codes.len(), 50_000, "distinct numbers give distinct codes");
        assert!(codes.iter().all(|c| c.len() == LEN));
        let first = encode(1);
        assert_ne!(first, "0000001", "codes do not show the order plainly");
        assert_eq!(from_payload(&format!("ref_{first}")), Some(Ok(first.clone())));
        assert_eq!(from_payload(&format!("REF_{}", first.to_uppercase())), Some(Ok(first.clone())));
        assert_eq!(from_payload("ref_"), Some(Err(())));
        assert_eq!(from_payload("ref_abc"), Some(Err(())));
        assert_eq!(from_payload("ref_iiiiiii"), Some(Err(())), "i is not in the alphabet");
        assert_eq!(from_payload("promo_summer"), None);
        assert_eq!(from_payload(""), None);
        assert_eq!(link("wharf_test_bot", &first), format!("https://t.me/wharf_test_bot?start=ref_{first}"));
    }

    #[test]
    fn scrambling_is_a_bijection_on_a_sample() {
        let mut seen = HashSet::new();
        for n in (0..u32::MAX).step_by(65_521).chain([u32::MAX]) {
            assert!(seen.insert(scramble(n)), "{n}");
        }
    }
}
