//! BIP32 public child derivation (CKDpub), the hashes around it and the P2WPKH address.
//!
//! Only the public half of BIP32: a child public key is `point(IL) + K_parent`, where
//! `IL || IR = HMAC-SHA512(chain code, serP(K_parent) || ser32(i))` and `IR` is the child's
//! chain code. Hardened children (i ≥ 2^31) need the private key and are refused.

use super::{Coin, KeyError};
use hmac::{Hmac, Mac};
use k256::elliptic_curve::PrimeField;
use k256::elliptic_curve::ops::MulByGenerator;
use k256::elliptic_curve::sec1::ToEncodedPoint;
use k256::{FieldBytes, ProjectivePoint, PublicKey, Scalar};
use ripemd::Ripemd160;
use sha2::{Digest, Sha256, Sha512};

/// The first hardened child index, 2^31.
pub(crate) const HARDENED: u32 = 1 << 31;

/// Fingerprints of `m/84'/0'`, `m/84'/1'` and `m/84'/2'` of BIP84's public test mnemonic
/// ("abandon abandon … about"): the parents of every account key under them.
/// Computed with the `bip-utils` Python library (2.12) from that mnemonic; the accounts'
/// own keys are checked in the tests.
pub(crate) const PUBLIC_TEST_PARENTS: [[u8; 4]; 3] = [
    [0x7e, 0xf3, 0x2b, 0xdb], // m/84'/0' (Bitcoin)
    [0x0e, 0xf4, 0xb1, 0xaf], // m/84'/1' (testnet coin type)
    [0x92, 0x9a, 0x90, 0x80], // m/84'/2' (Litecoin)
];

/// A public key with its chain code: a node that can derive non-hardened children.
#[derive(Clone)]
pub(crate) struct ChainKey {
    public_key: PublicKey,
    chain_code: [u8; 32],
}

impl ChainKey {
    /// A node from a serialized compressed public key and its chain code; refuses a value
    /// that is not a point of secp256k1.
    pub(crate) fn from_parts(public_key: &[u8; 33], chain_code: [u8; 32]) -> Result<ChainKey, KeyError> {
        if !matches!(public_key[0], 0x02 | 0x03) {
            return Err(KeyError::InvalidPoint);
        }
        let public_key = PublicKey::from_sec1_bytes(public_key).map_err(|_| KeyError::InvalidPoint)?;
        Ok(ChainKey { public_key, chain_code })
    }

    /// The compressed SEC1 encoding of its public key (33 bytes).
    pub(crate) fn public_key_bytes(&self) -> [u8; 33] {
        let encoded = self.public_key.to_encoded_point(true);
        let mut out = [0u8; 33];
        out.copy_from_slice(encoded.as_bytes());
        out
    }

    /// Its chain code (tests compare it with BIP32's vectors).
    #[cfg(test)]
    pub(crate) fn chain_code(&self) -> [u8; 32] {
        self.chain_code
    }

    /// Child `index` (non-hardened: `index` < 2^31).
    pub(crate) fn child(&self, index: u32) -> Result<ChainKey, KeyError> {
        if index >= HARDENED {
            return Err(KeyError::IndexOutOfRange(index));
        }
        // HMAC accepts a key of any length: this error cannot happen.
        let mut mac = Hmac::<Sha512>::new_from_slice(&self.chain_code).map_err(|_| KeyError::UnusableIndex(index))?;
        mac.update(&self.public_key_bytes());
        mac.update(&index.to_be_bytes());
        let i = mac.finalize().into_bytes();
        let (il, ir) = i.split_at(32);
        // parse256(IL) ≥ n, or a child at infinity: BIP32 says this index has no key.
        let tweak: Option<Scalar> = Scalar::from_repr(FieldBytes::clone_from_slice(il)).into();
        let tweak = tweak.ok_or(KeyError::UnusableIndex(index))?;
        let point = ProjectivePoint::mul_by_generator(&tweak) + self.public_key.to_projective();
        let public_key = PublicKey::from_affine(point.to_affine()).map_err(|_| KeyError::UnusableIndex(index))?;
        let mut chain_code = [0u8; 32];
        chain_code.copy_from_slice(ir);
        Ok(ChainKey { public_key, chain_code })
    }
}

/// RIPEMD160(SHA256(data)).
pub(crate) fn hash160(data: &[u8]) -> [u8; 20] {
    Ripemd160::digest(Sha256::digest(data)).into()
}

/// SHA256(SHA256(data)), for base58check.
pub(crate) fn sha256d(data: &[u8]) -> [u8; 32] {
    Sha256::digest(Sha256::digest(data)).into()
}

/// A key's BIP32 fingerprint: the first 4 bytes of HASH160 of its compressed public key.
pub(crate) fn fingerprint(public_key: &[u8; 33]) -> [u8; 4] {
    let h = hash160(public_key);
    [h[0], h[1], h[2], h[3]]
}

/// The bech32 segwit v0 P2WPKH address of a compressed public key (BIP141, BIP173).
pub(crate) fn p2wpkh_address(coin: Coin, public_key: &[u8; 33]) -> Result<String, KeyError> {
    let hrp = bech32::Hrp::parse_unchecked(coin.hrp());
    bech32::segwit::encode_v0(hrp, &hash160(public_key)).map_err(|_| KeyError::AddressEncoding)
}
