//! Decoding and vetting the text the operator pasted as an account's extended public key.
//!
//! BIP32 serialization: base58check of 78 bytes = version (4) · depth (1) · parent
//! fingerprint (4) · child number (4) · chain code (32) · key (33: `02`/`03` + x for a
//! public key, `00` + k for a private one). The version bytes are looked up in
//! [`VERSIONS`] (SLIP-0132's registry plus Litecoin's own) to say precisely what was
//! given; no check ever quotes the text.

use super::derive::{HARDENED, sha256d};
use super::{Coin, KeyError};

/// What a kind of extended key is, as far as Wharf is concerned.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Class {
    /// An account public key Wharf accepts; `Some(coin)` if its version bytes belong to
    /// one coin only.
    Accepted(Option<Coin>),
    /// P2SH-wrapped segwit (BIP49); `Some(coin)` if the version bytes are one coin's.
    Wrapped(Option<Coin>),
    /// A multisig (P2WSH) key.
    Multisig,
    /// A testnet public key.
    Testnet,
    /// Any private key.
    Private,
}

/// Known version bytes: SLIP-0132 (Bitcoin, Litecoin) and Litecoin Core's testnet.
const VERSIONS: [(u32, &str, Class); 26] = [
    (0x0488_b21e, "xpub", Class::Accepted(None)),
    (0x04b2_4746, "zpub", Class::Accepted(None)),
    (0x019d_a462, "Ltub", Class::Accepted(Some(Coin::Ltc))),
    (0x049d_7cb2, "ypub", Class::Wrapped(None)),
    (0x01b2_6ef6, "Mtub", Class::Wrapped(Some(Coin::Ltc))),
    (0x0295_b43f, "Ypub", Class::Multisig),
    (0x02aa_7ed3, "Zpub", Class::Multisig),
    (0x0435_87cf, "tpub", Class::Testnet),
    (0x044a_5262, "upub", Class::Testnet),
    (0x045f_1cf6, "vpub", Class::Testnet),
    (0x0242_89ef, "Upub", Class::Testnet),
    (0x0257_5483, "Vpub", Class::Testnet),
    (0x0436_f6e1, "ttub", Class::Testnet),
    (0x0488_ade4, "xprv", Class::Private),
    (0x049d_7878, "yprv", Class::Private),
    (0x04b2_430c, "zprv", Class::Private),
    (0x0295_b005, "Yprv", Class::Private),
    (0x02aa_7a99, "Zprv", Class::Private),
    (0x0435_8394, "tprv", Class::Private),
    (0x044a_4e28, "uprv", Class::Private),
    (0x045f_18bc, "vprv", Class::Private),
    (0x0242_85b5, "Uprv", Class::Private),
    (0x0257_5048, "Vprv", Class::Private),
    (0x019d_9cfe, "Ltpv", Class::Private),
    (0x01b2_6792, "Mtpv", Class::Private),
    (0x0436_ef7d, "ttpv", Class::Private),
];

/// WIF private key version bytes: Bitcoin mainnet, Litecoin mainnet, testnets.
const WIF_VERSIONS: [u8; 3] = [0x80, 0xb0, 0xef];

/// The parts of an accepted account key that derivation needs.
pub(crate) struct Decoded {
    pub(crate) parent_fingerprint: [u8; 4],
    pub(crate) chain_code: [u8; 32],
    pub(crate) public_key: [u8; 33],
}

/// Decode `text` as the extended public key of a BIP84 account of `coin`, or say
/// precisely why it is not one.
pub(crate) fn parse_account(coin: Coin, text: &str) -> Result<Decoded, KeyError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(KeyError::Empty);
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.len() >= 12 && words.iter().all(|w| w.chars().all(|c| c.is_alphabetic())) {
        return Err(KeyError::SeedPhrase);
    }
    if text.contains(['(', '[']) {
        return Err(KeyError::Descriptor);
    }
    let lower = text.to_ascii_lowercase();
    if ["bc1", "tb1", "bcrt1", "ltc1", "tltc1", "rltc1"].iter().any(|p| lower.starts_with(p)) {
        return Err(KeyError::Address);
    }
    let bytes = bs58::decode(text).into_vec().map_err(|_| KeyError::NotBase58)?;
    if bytes.len() < 5 {
        return Err(KeyError::WrongLength { bytes: bytes.len().saturating_sub(4) });
    }
    let (payload, checksum) = bytes.split_at(bytes.len() - 4);
    if sha256d(payload)[..4] != *checksum {
        return Err(KeyError::BadChecksum);
    }
    match payload.len() {
        78 => {}
        // A legacy address: version byte + HASH160.
        21 => return Err(KeyError::Address),
        // WIF: version byte + 32-byte secret (+ 0x01 when the public key is compressed).
        33 | 34 if WIF_VERSIONS.contains(&payload[0]) => return Err(KeyError::PrivateKey),
        n => return Err(KeyError::WrongLength { bytes: n }),
    }
    let version = u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]);
    let (kind, class) = VERSIONS
        .iter()
        .find(|(v, _, _)| *v == version)
        .map(|(_, kind, class)| (*kind, *class))
        .ok_or(KeyError::UnknownVersion)?;
    // A private key hides under a public version only if someone re-encoded it: refuse
    // it as what it is before anything else.
    if class == Class::Private || payload[45] == 0x00 {
        return Err(KeyError::PrivateKey);
    }
    match class {
        Class::Accepted(Some(key_coin)) | Class::Wrapped(Some(key_coin)) if key_coin != coin => {
            return Err(KeyError::OtherCoin { kind, key_coin, coin });
        }
        Class::Accepted(_) => {}
        Class::Wrapped(_) => return Err(KeyError::WrappedSegwit { kind }),
        Class::Multisig => return Err(KeyError::Multisig { kind }),
        Class::Testnet => return Err(KeyError::Testnet { kind }),
        Class::Private => return Err(KeyError::PrivateKey),
    }
    let depth = payload[4];
    if depth != 3 {
        return Err(KeyError::WrongDepth { depth, coin });
    }
    let child_number = u32::from_be_bytes([payload[9], payload[10], payload[11], payload[12]]);
    if child_number < HARDENED {
        return Err(KeyError::NotHardened { coin });
    }
    let mut decoded = Decoded { parent_fingerprint: [0; 4], chain_code: [0; 32], public_key: [0; 33] };
    decoded.parent_fingerprint.copy_from_slice(&payload[5..9]);
    decoded.chain_code.copy_from_slice(&payload[13..45]);
    decoded.public_key.copy_from_slice(&payload[45..78]);
    Ok(decoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every table entry encodes to the prefix it is named after (so a refusal's `kind`
    /// is what the operator sees at the start of their key).
    #[test]
    fn version_bytes_encode_to_their_names() {
        for (version, kind, _) in VERSIONS {
            // The lowest and the highest key of each version.
            for fill in [0x00, 0xff] {
                let mut payload = version.to_be_bytes().to_vec();
                payload.extend_from_slice(&[fill; 74]);
                let checksum = sha256d(&payload);
                payload.extend_from_slice(&checksum[..4]);
                let text = bs58::encode(payload).into_string();
                assert!(text.starts_with(kind), "{version:08x} encodes to {text}, not {kind}");
                assert_eq!(text.len(), 111);
            }
        }
    }
}
