//! Callback data: short `:`-separated parts that fit Telegram's 64-byte limit.
//!
//! The host adds the plugin's `callback-prefix` (plus one separator byte) in front of the
//! data, so the plugin's own part may use `64 - prefix.len() - 1` bytes.

use crate::Error;

/// Join parts with `:`. Parts must not contain `:`.
pub fn encode(parts: &[&str]) -> Result<String, Error> {
    if let Some(bad) = parts.iter().find(|p| p.contains(':')) {
        return Err(Error::InvalidInput(format!("callback part {bad:?} contains ':'")));
    }
    let data = parts.join(":");
    if data.len() > 63 {
        return Err(Error::InvalidInput(format!("callback data is {} bytes; at most 63", data.len())));
    }
    Ok(data)
}

/// Split data produced by [`encode`].
pub fn decode(data: &str) -> Vec<&str> {
    data.split(':').collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_limits() {
        let d = encode(&["buy", "42"]).unwrap();
        assert_eq!(decode(&d), ["buy", "42"]);
        assert!(encode(&["a:b"]).is_err());
        assert!(encode(&[&"x".repeat(64)]).is_err());
    }
}
