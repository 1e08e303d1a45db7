//! Account public keys and the addresses derived from them (placeholder until the
//! derivation lands: same API).

use serde::{Deserialize, Serialize};

/// A coin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Coin {
    /// Bitcoin.
    #[serde(rename = "BTC")]
    Btc,
    /// Litecoin.
    #[serde(rename = "LTC")]
    Ltc,
}

impl Coin {
    /// Base-unit digits.
    pub const DECIMALS: u32 = 8;
    /// `BTC` / `LTC`.
    pub fn parse(s: &str) -> Result<Coin, KeyError> {
        match s.to_ascii_uppercase().as_str() {
            "BTC" => Ok(Self::Btc),
            "LTC" => Ok(Self::Ltc),
            _ => Err(KeyError::Coin),
        }
    }
    /// Code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Btc => "BTC",
            Self::Ltc => "LTC",
        }
    }
    /// Name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Btc => "Bitcoin",
            Self::Ltc => "Litecoin",
        }
    }
}

impl std::fmt::Display for Coin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// Placeholder key.
#[derive(Clone, Debug)]
pub struct AccountKey(Coin, String);

/// Placeholder error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// Bad coin.
    Coin,
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not BTC or LTC")
    }
}

impl AccountKey {
    /// Parse.
    pub fn parse(coin: Coin, text: &str) -> Result<AccountKey, KeyError> {
        Ok(Self(coin, text.chars().take(8).collect()))
    }
    /// Coin.
    pub fn coin(&self) -> Coin {
        self.0
    }
    /// Address.
    pub fn address(&self, index: u32) -> Result<String, KeyError> {
        Ok(format!("{}1qfake{}{index}", if self.0 == Coin::Btc { "bc" } else { "ltc" }, self.1))
    }
    /// Id.
    pub fn id(&self) -> String {
        self.1.clone()
    }
    /// Test key.
    pub fn is_public_test_key(&self) -> bool {
        false
    }
}
