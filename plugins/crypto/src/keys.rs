//! Account public keys and the deposit addresses derived from them.
//!
//! The operator pastes the extended public key of one native segwit (BIP84) account,
//! `m/84'/coin'/account'`, and says which coin it belongs to (the key itself does not:
//! a Bitcoin and a Litecoin zpub share their version bytes). [`AccountKey::parse`] checks
//! it thoroughly and refuses, with a message that says what is wrong and never repeats the
//! key, anything else: a private key pasted by mistake, a testnet key, the other coin's
//! key, a wrapped-segwit or multisig key, a key at the wrong depth, a damaged value.
//! [`AccountKey::address`] then derives the P2WPKH address of `…/0/index` (the external
//! chain, as a receiving wallet scans it). No private key ever exists here.
//!
//! Everything is pure Rust (`k256`, `hmac`, `sha2`, `ripemd`, `bs58`, `bech32`), so the
//! plugin builds for `wasm32-wasip2` without a C toolchain.

mod derive;
mod extended;
#[cfg(test)]
mod tests;

use derive::ChainKey;
use std::fmt;

/// A coin the plugin accepts deposits in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Coin {
    /// Bitcoin.
    #[serde(rename = "BTC")]
    Btc,
    /// Litecoin.
    #[serde(rename = "LTC")]
    Ltc,
}

impl Coin {
    /// Minor units per coin as a power of ten: satoshi and litoshi are both 10^-8.
    pub const DECIMALS: u32 = 8;

    /// Every coin, in a stable order.
    pub const ALL: [Coin; 2] = [Coin::Btc, Coin::Ltc];

    /// Parse a coin code, `BTC` or `LTC` (case-insensitive, surrounding spaces ignored).
    pub fn parse(s: &str) -> Result<Coin, KeyError> {
        let s = s.trim();
        Coin::ALL.into_iter().find(|c| c.code().eq_ignore_ascii_case(s)).ok_or(KeyError::UnknownCoin)
    }

    /// The ticker: `BTC`, `LTC`.
    pub fn code(self) -> &'static str {
        match self {
            Coin::Btc => "BTC",
            Coin::Ltc => "LTC",
        }
    }

    /// The coin's name for people: `Bitcoin`, `Litecoin`.
    pub fn name(self) -> &'static str {
        match self {
            Coin::Btc => "Bitcoin",
            Coin::Ltc => "Litecoin",
        }
    }

    /// The human-readable part of its bech32 addresses (SLIP-0173): `bc`, `ltc`.
    pub fn hrp(self) -> &'static str {
        match self {
            Coin::Btc => "bc",
            Coin::Ltc => "ltc",
        }
    }

    /// Its SLIP-0044 coin type, the second step of `m/84'/coin_type'/account'`: 0, 2.
    pub fn coin_type(self) -> u32 {
        match self {
            Coin::Btc => 0,
            Coin::Ltc => 2,
        }
    }
}

impl fmt::Display for Coin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Why a coin or an account key was refused, or an address could not be derived.
///
/// No message contains the key text or any part of it; the `&'static str` fields name
/// a kind of key from a fixed table (such as `ypub`), never bytes of the value.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// The coin code is neither BTC nor LTC.
    #[error("unknown coin: expected BTC or LTC")]
    UnknownCoin,
    /// Nothing was given.
    #[error("the account key is empty: paste the extended public key (zpub… or xpub…) of a native segwit account")]
    Empty,
    /// Words: a recovery phrase, which controls the funds.
    #[error(
        "this looks like a recovery phrase (seed words), which gives full control of the funds; never paste it anywhere. Wharf needs the account's extended public key (zpub… or xpub…)"
    )]
    SeedPhrase,
    /// An output descriptor, not a bare key.
    #[error(
        "this looks like an output descriptor; paste only the extended public key inside it (the part that starts with zpub, xpub or Ltub)"
    )]
    Descriptor,
    /// A single address rather than an account key.
    #[error(
        "this is a single address, not an account key: Wharf needs the account's extended public key (zpub… or xpub…) to give each user an address of their own"
    )]
    Address,
    /// A character outside the base58 alphabet.
    #[error(
        "the account key is not valid base58: it contains a character that base58 does not use (0, O, I, l, a space or punctuation)"
    )]
    NotBase58,
    /// The base58check checksum does not match.
    #[error("the account key's checksum does not match: a character is mistyped, missing or extra")]
    BadChecksum,
    /// The value decodes to the wrong number of bytes.
    #[error(
        "the account key has the wrong length: an extended public key is 111 characters (78 bytes); this value holds {bytes} bytes"
    )]
    WrongLength {
        /// How many payload bytes the value holds.
        bytes: usize,
    },
    /// An extended private key (or a WIF private key).
    #[error("this is a private key; Wharf needs the account's public key; never paste a private key anywhere")]
    PrivateKey,
    /// A testnet key.
    #[error("this is a testnet key ({kind}); Wharf needs a mainnet account key (zpub… or xpub…)")]
    Testnet {
        /// The kind of key, e.g. `vpub`.
        kind: &'static str,
    },
    /// A key whose version bytes belong to the other coin.
    #[error(
        "this is a {key_coin_name} key ({kind}) but the coin is {coin}: give the {coin_name} account's zpub, or set the coin to {key_coin}",
        key_coin_name = key_coin.name(), coin_name = coin.name()
    )]
    OtherCoin {
        /// The kind of key, e.g. `Ltub`.
        kind: &'static str,
        /// The coin its version bytes say.
        key_coin: Coin,
        /// The coin it was given for.
        coin: Coin,
    },
    /// A wrapped segwit (P2SH-P2WPKH, BIP49) key.
    #[error("{kind} is for wrapped segwit (BIP49) addresses; use the zpub of a native segwit account")]
    WrappedSegwit {
        /// The kind of key, e.g. `ypub`.
        kind: &'static str,
    },
    /// A multisig key.
    #[error("{kind} is a multisig key; Wharf needs the zpub of a single-signature native segwit account")]
    Multisig {
        /// The kind of key, e.g. `Zpub`.
        kind: &'static str,
    },
    /// Version bytes of no kind of key Wharf knows.
    #[error(
        "this is not an extended public key Wharf knows: expected the zpub or xpub of a native segwit account (for Litecoin also Ltub)"
    )]
    UnknownVersion,
    /// The key is not at the account level.
    #[error(
        "the key has depth {depth}{hint}; an account key at m/84'/{coin_type}'/0' has depth 3",
        hint = depth_hint(*depth), coin_type = coin.coin_type()
    )]
    WrongDepth {
        /// The depth the key has.
        depth: u8,
        /// The coin it was given for.
        coin: Coin,
    },
    /// Depth 3, but the last step is not hardened: not a BIP44/49/84 account.
    #[error(
        "the key has depth 3 but its last step is not hardened, so it is not an account key; an account key at m/84'/{coin_type}'/0' ends with a hardened account number",
        coin_type = coin.coin_type()
    )]
    NotHardened {
        /// The coin it was given for.
        coin: Coin,
    },
    /// The public key inside is not a point of secp256k1.
    #[error("the public key inside the account key is not a valid secp256k1 point: the value is damaged")]
    InvalidPoint,
    /// An address index of 2^31 or more (hardened; needs the private key).
    #[error("address index {0} is out of range: it must be below 2^31")]
    IndexOutOfRange(u32),
    /// BIP32's negligible case (probability below 2^-127) of an index with no valid key.
    #[error("address index {0} has no valid key (BIP32's rare invalid child): skip to the next index")]
    UnusableIndex(u32),
    /// The bech32 encoder refused the address (cannot happen for a 20-byte program).
    #[error("the address could not be encoded as bech32")]
    AddressEncoding,
}

/// What a depth means, for [`KeyError::WrongDepth`].
fn depth_hint(depth: u8) -> &'static str {
    match depth {
        0 => " (a master key, m)",
        1 => " (a purpose key, m/84')",
        2 => " (a coin key, m/84'/coin')",
        4 => " (a chain key, …/0 or …/1)",
        5 => " (the key of a single address)",
        _ => "",
    }
}

/// An account-level public key (depth 3, `m/84'/coin'/account'`), ready to derive
/// receiving addresses.
///
/// It holds the external-chain child (`…/0`), so each address is one derivation. Its
/// `Debug` prints the coin and the account's fingerprint, never the key.
#[derive(Clone)]
pub struct AccountKey {
    coin: Coin,
    /// The account key's own fingerprint (first 4 bytes of HASH160 of its public key).
    fingerprint: [u8; 4],
    /// The fingerprint of its parent, `m/84'/coin'`.
    parent_fingerprint: [u8; 4],
    /// `…/0`, the external chain.
    external: ChainKey,
}

impl AccountKey {
    /// Check an account's extended public key given for `coin` (surrounding whitespace
    /// ignored) and prepare the external chain.
    ///
    /// Accepted: `zpub` and `xpub` for either coin, and `Ltub` for Litecoin (Trezor and
    /// Electrum-LTC export a Litecoin native segwit account as `zpub`, Litecoin Core as
    /// `xpub`, Ledger Live as `Ltub`). The key must be at depth 3 with a hardened last
    /// step. The version bytes cannot tell BIP84 from BIP44 for `xpub`/`Ltub`: it must be
    /// the key of the native segwit account, whose wallet watches these addresses.
    pub fn parse(coin: Coin, text: &str) -> Result<AccountKey, KeyError> {
        let key = extended::parse_account(coin, text)?;
        let external = ChainKey::from_parts(&key.public_key, key.chain_code)?.child(0)?;
        Ok(AccountKey {
            coin,
            fingerprint: derive::fingerprint(&key.public_key),
            parent_fingerprint: key.parent_fingerprint,
            external,
        })
    }

    /// The coin it was given for.
    pub fn coin(&self) -> Coin {
        self.coin
    }

    /// The bech32 P2WPKH address of `…/0/index` (`bc1q…`, `ltc1q…`); `index` < 2^31.
    pub fn address(&self, index: u32) -> Result<String, KeyError> {
        if index >= derive::HARDENED {
            return Err(KeyError::IndexOutOfRange(index));
        }
        let child = self.external.child(index)?;
        derive::p2wpkh_address(self.coin, &child.public_key_bytes())
    }

    /// A short, non-secret identifier of the key: 16 hex digits, its fingerprint then its
    /// parent's (as wallets and descriptors show them). It changes when the operator
    /// gives another account key, and reveals no address.
    pub fn id(&self) -> String {
        let mut id = String::with_capacity(16);
        for b in self.fingerprint.iter().chain(&self.parent_fingerprint) {
            id.push_str(&format!("{b:02x}"));
        }
        id
    }

    /// Whether it is an account key of BIP84's public test mnemonic ("abandon … about"):
    /// anyone can spend what is paid to its addresses.
    ///
    /// True for every account under `m/84'/0'`, `m/84'/1'` and `m/84'/2'` of that
    /// mnemonic, whatever coin the key was given for (the funds are as exposed): it
    /// compares the parent's fingerprint, which a real key shares with probability 2^-32.
    pub fn is_public_test_key(&self) -> bool {
        derive::PUBLIC_TEST_PARENTS.contains(&self.parent_fingerprint)
    }
}

impl fmt::Debug for AccountKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountKey({}, fingerprint ", self.coin)?;
        for b in self.fingerprint {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")
    }
}
