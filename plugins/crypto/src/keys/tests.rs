//! Tests of account keys: published derivation vectors (BIP84, BIP32, Litecoin), the
//! accepted encodings, the public test key, and (in `refusals`) every refusal.
//!
//! Sources of the vectors:
//! - BIP84's "Test vectors" section (mnemonic "abandon … about", account 0: the first two
//!   receiving addresses); the account's zpub is SLIP-0132's BIP84 test vector.
//! - Litecoin, same mnemonic at m/84'/2'/0': computed with the `bip-utils` Python library
//!   (2.12.3, `Bip84.FromSeed(seed, Bip84Coins.LITECOIN)`, in a throwaway virtualenv); the
//!   zpub and first address match the published Litecoin fixtures of EdgeApp's
//!   edge-currency-plugins (`altcointestfixtures.ts`).
//! - BIP32's test vector 1, chain m/0H/1/2H → /2 → /1000000000 (public derivation).

mod refusals;

use super::derive::ChainKey;
use super::*;

/// BIP84 account 0 of "abandon … about" (m/84'/0'/0').
pub(super) const BTC_ZPUB: &str =
    "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs";
/// The same mnemonic, Bitcoin account 1 (m/84'/0'/1'), from `bip-utils`.
const BTC_ZPUB_ACCOUNT_1: &str =
    "zpub6rFR7y4Q2AijF6Gk1bofHLs1d66hKFamhXWdWBup1Em25wfabZqkDqvaieV63fDQFaYmaatCG7jVNUpUiM2hAMo6SAVHcrUpSnHDpNzucB7";
/// The same mnemonic, Litecoin account 0 (m/84'/2'/0').
pub(super) const LTC_ZPUB: &str =
    "zpub6rPo5mF47z5coVm5rvWv7fv181awb7Vckn5Cf3xQXBVKu18kuBHDhNi1Jrb4br6vVD3ZbrnXemEsWJoR18mZwkUdzwD8TQnHDUCGxqZ6swA";
/// The same mnemonic, Litecoin account 1 (m/84'/2'/1'), from `bip-utils`.
const LTC_ZPUB_ACCOUNT_1: &str =
    "zpub6rPo5mF47z5crUEbz1nDvm2xUGqwyK4RhyJPLQB4GjeQcq8jxYUnG71JgZ1JFPcMiBAgPkdK17PArwoCBeEYoX4diXCHh5wQ1Vf8Le9HWaK";
/// BIP32 test vector 1, m/0H/1/2H: depth 3, hardened last step, another seed.
pub(super) const BIP32_TV1_M_0H_1_2H: &str =
    "xpub6D4BDPcP2GT577Vvch3R8wDkScZWzQzMMUm3PWbmWvVJrZwQY4VUNgqFJPMM3No2dFDFGTsxxpG5uJh7n7epu4trkrX7x7DogT5Uv6fcLW5";

/// The 78-byte payload of a base58check extended key.
pub(super) fn payload(text: &str) -> Vec<u8> {
    let bytes = bs58::decode(text).into_vec().expect("base58");
    assert_eq!(bytes.len(), 82, "an extended key");
    bytes[..78].to_vec()
}

/// Base58check of `payload`.
pub(super) fn encode(payload: &[u8]) -> String {
    let mut bytes = payload.to_vec();
    bytes.extend_from_slice(&derive::sha256d(payload)[..4]);
    bs58::encode(bytes).into_string()
}

/// `text` re-encoded with other version bytes.
pub(super) fn with_version(text: &str, version: u32) -> String {
    let mut p = payload(text);
    p[..4].copy_from_slice(&version.to_be_bytes());
    encode(&p)
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}

fn addresses(key: &AccountKey, n: u32) -> Vec<String> {
    (0..n).map(|i| key.address(i).expect("address")).collect()
}

#[test]
fn bip84_vectors() {
    let key = AccountKey::parse(Coin::Btc, BTC_ZPUB).expect("the BIP84 zpub");
    assert_eq!(key.coin(), Coin::Btc);
    // BIP84: m/84'/0'/0'/0/0 and m/84'/0'/0'/0/1; the third from bip-utils.
    assert_eq!(
        addresses(&key, 3),
        [
            "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu",
            "bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g",
            "bc1qp59yckz4ae5c4efgw2s5wfyvrz0ala7rgvuz8z",
        ]
    );
    // Fingerprint of m/84'/0'/0' and of its parent m/84'/0' (bip-utils).
    assert_eq!(key.id(), "fd13aac97ef32bdb");
    assert!(key.is_public_test_key());
}

#[test]
fn the_same_account_as_xpub_or_with_spaces_gives_the_same_addresses() {
    let want = addresses(&AccountKey::parse(Coin::Btc, BTC_ZPUB).expect("zpub"), 2);
    let xpub = with_version(BTC_ZPUB, 0x0488_b21e);
    assert!(xpub.starts_with("xpub"));
    let key = AccountKey::parse(Coin::Btc, &xpub).expect("xpub");
    assert_eq!(addresses(&key, 2), want);
    let padded = format!("  {BTC_ZPUB}\n");
    assert_eq!(addresses(&AccountKey::parse(Coin::Btc, &padded).expect("padded"), 2), want);
}

#[test]
fn litecoin_vector_as_zpub_xpub_and_ltub() {
    let want = [
        "ltc1qjmxnz78nmc8nq77wuxh25n2es7rzm5c2rkk4wh",
        "ltc1qwlezpr3890hcp6vva9twqh27mr6edadreqvhnn",
        "ltc1qc6aucuznvhh9uvux246x24vf9y9ncfk729m92s",
    ];
    let ltub = with_version(LTC_ZPUB, 0x019d_a462);
    let xpub = with_version(LTC_ZPUB, 0x0488_b21e);
    assert!(ltub.starts_with("Ltub"));
    for text in [LTC_ZPUB, &xpub, &ltub] {
        let key = AccountKey::parse(Coin::Ltc, text).expect("the Litecoin account key");
        assert_eq!(key.coin(), Coin::Ltc);
        assert_eq!(addresses(&key, 3), want);
        assert_eq!(key.id(), "b48615ad929a9080");
        assert!(key.is_public_test_key());
    }
}

#[test]
fn bip32_vector_1_public_derivation() {
    let p = payload(BIP32_TV1_M_0H_1_2H);
    let mut public_key = [0u8; 33];
    public_key.copy_from_slice(&p[45..78]);
    let mut chain_code = [0u8; 32];
    chain_code.copy_from_slice(&p[13..45]);
    let node = ChainKey::from_parts(&public_key, chain_code).expect("m/0H/1/2H");
    let m2 = node.child(2).expect("m/0H/1/2H/2");
    assert_eq!(
        m2.public_key_bytes().to_vec(),
        hex("02e8445082a72f29b75ca48748a914df60622a609cacfce8ed0e35804560741d29")
    );
    assert_eq!(m2.chain_code().to_vec(), hex("cfb71883f01676f587d023cc53a35bc7f88f724b1f8c2892ac1275ac822a3edd"));
    let m3 = m2.child(1_000_000_000).expect("m/0H/1/2H/2/1000000000");
    assert_eq!(
        m3.public_key_bytes().to_vec(),
        hex("022a471424da5e657499d1ff51cb43c47481a03b1e77f951fe64cec9f5a48f7011")
    );
    assert_eq!(m3.chain_code().to_vec(), hex("c783e67b921d2beb8f6b389cc646d7263b4145701dadd2161548a8b078e65e9e"));
    assert_eq!(node.child(1 << 31).err(), Some(KeyError::IndexOutOfRange(1 << 31)));
}

#[test]
fn a_key_of_another_seed_is_not_the_public_test_key() {
    let key = AccountKey::parse(Coin::Btc, BIP32_TV1_M_0H_1_2H).expect("depth 3, hardened");
    assert!(!key.is_public_test_key());
    // m/0H/1/2H/0/0 and /0/1, from bip-utils.
    assert_eq!(
        addresses(&key, 2),
        ["bc1qp9zsw2gt4l6vr0y6man2vcqcr4egsyv6qrjvah", "bc1qfnm7eknpux3fexssxn098xchym2n3ktrg6nynq"]
    );
    let ltc = AccountKey::parse(Coin::Ltc, BIP32_TV1_M_0H_1_2H).expect("the same key for Litecoin");
    assert_eq!(ltc.address(0).expect("address"), "ltc1qp9zsw2gt4l6vr0y6man2vcqcr4egsyv6ylgg98");
    assert!(!ltc.is_public_test_key());
    assert_eq!(key.id(), "ee7ab90cbef5a2f9");
}

#[test]
fn every_account_of_the_test_mnemonic_is_flagged_whatever_the_coin() {
    for (coin, text) in
        [(Coin::Btc, BTC_ZPUB_ACCOUNT_1), (Coin::Ltc, LTC_ZPUB_ACCOUNT_1), (Coin::Ltc, BTC_ZPUB), (Coin::Btc, LTC_ZPUB)]
    {
        assert!(AccountKey::parse(coin, text).expect("accepted").is_public_test_key(), "{coin} {text}");
    }
    let account_1 = AccountKey::parse(Coin::Btc, BTC_ZPUB_ACCOUNT_1).expect("account 1");
    assert_eq!(account_1.address(0).expect("address"), "bc1qku0qh0mc00y8tk0n65x2tqw4trlspak0fnjmfz");
}

#[test]
fn address_index_must_be_below_2_pow_31() {
    let key = AccountKey::parse(Coin::Btc, BTC_ZPUB).expect("zpub");
    assert!(key.address((1 << 31) - 1).expect("the last index").starts_with("bc1q"));
    for index in [1 << 31, u32::MAX] {
        let err = key.address(index).expect_err("hardened");
        assert_eq!(err, KeyError::IndexOutOfRange(index));
        assert_eq!(err.to_string(), format!("address index {index} is out of range: it must be below 2^31"));
    }
}

#[test]
fn debug_shows_the_coin_and_fingerprint_not_the_key() {
    let key = AccountKey::parse(Coin::Ltc, LTC_ZPUB).expect("zpub");
    let debug = format!("{key:?}");
    assert_eq!(debug, "AccountKey(LTC, fingerprint b48615ad)");
}

#[test]
fn coins() {
    assert_eq!(Coin::parse("BTC"), Ok(Coin::Btc));
    assert_eq!(Coin::parse(" ltc "), Ok(Coin::Ltc));
    assert_eq!(Coin::parse("Ltc"), Ok(Coin::Ltc));
    assert_eq!(Coin::parse("ETH"), Err(KeyError::UnknownCoin));
    assert_eq!(Coin::parse(""), Err(KeyError::UnknownCoin));
    assert_eq!(KeyError::UnknownCoin.to_string(), "unknown coin: expected BTC or LTC");
    assert_eq!((Coin::Btc.code(), Coin::Btc.name(), Coin::Btc.hrp()), ("BTC", "Bitcoin", "bc"));
    assert_eq!((Coin::Ltc.code(), Coin::Ltc.name(), Coin::Ltc.hrp()), ("LTC", "Litecoin", "ltc"));
    assert_eq!(Coin::Ltc.to_string(), "LTC");
    assert_eq!(Coin::DECIMALS, 8);
    assert_eq!(serde_json::to_string(&Coin::Btc).expect("json"), "\"BTC\"");
    assert_eq!(serde_json::from_str::<Coin>("\"LTC\"").expect("json"), Coin::Ltc);
    assert!(serde_json::from_str::<Coin>("\"ltc\"").is_err());
}

/// Rough cost of one address (external chain already derived at parse time): one
/// HMAC-SHA512, one scalar multiplication by the generator, one point addition, HASH160
/// and bech32. `cargo test -p crypto --release -- --ignored --nocapture address_speed`.
#[test]
#[ignore = "a measurement, not a check"]
fn address_speed() {
    let key = AccountKey::parse(Coin::Btc, BTC_ZPUB).expect("zpub");
    let n = 2_000u32;
    let start = std::time::Instant::now();
    let mut total = 0usize;
    for i in 0..n {
        total += key.address(i).expect("address").len();
    }
    let elapsed = start.elapsed();
    assert_eq!(total, 42 * n as usize);
    let parse_start = std::time::Instant::now();
    for _ in 0..100 {
        AccountKey::parse(Coin::Btc, BTC_ZPUB).expect("zpub");
    }
    let parse = parse_start.elapsed() / 100;
    println!("address(i): {:?} each over {n}; parse: {parse:?} each", elapsed / n);
}
