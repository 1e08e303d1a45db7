//! Every refusal of [`AccountKey::parse`]: the error, its message, and that the message
//! quotes no part of what was pasted.

use super::*;

/// The BIP84 vector's account private key (m/84'/0'/0'), published in BIP84.
const BTC_ZPRV: &str =
    "zprvAdG4iTXWBoARxkkzNpNh8r6Qag3irQB8PzEMkAFeTRXxHpbF9z4QgEvBRmfvqWvGp42t42nvgGpNgYSJA9iefm1yYNZKEm7z6qUWCroSQnE";
/// The first receiving key of that account as WIF, published in BIP84.
const BTC_WIF: &str = "KyZpNDKnfs94vbrwhJneDi77V6jF64PWPF8x5cdJb8ifgg2DUc9d";
/// SLIP-0132's BIP49 test vector (m/49'/0'/0').
const BTC_YPUB: &str =
    "ypub6Ww3ibxVfGzLrAH1PNcjyAWenMTbbAosGNB6VvmSEgytSER9azLDWCxoJwW7Ke7icmizBMXrzBx9979FfaHxHcrArf3zbeJJJUZPf663zsP";
/// "abandon … about" at m/49'/2'/0' as Litecoin's Mtub and Mtpv (EdgeApp's fixtures).
const LTC_MTUB: &str =
    "Mtub2rz9F1pkisRsSZX8sa4Ajon9GhPP6JymLgpuHqbYdU5JKFLBF7Qy8b1tZ3dccj2fefrAxfrPdVkpCxuWn3g72UctH2bvJRkp6iFmp8aLeRZ";
const LTC_MTPV: &str =
    "Mtpv7RooeEQDUitupgpJcxZnfDwvq8hC24R7GAiscrqFhHHhit96vCNY7yudJgrM841dMbiRUQceC12566XAHHC8Rd1BtnBdokq9tmF7jLLvUdh";
/// "abandon … about" at m/84'/1'/0' (bip-utils): a testnet native segwit account.
const TEST_VPUB: &str =
    "vpub5Y6cjg78GGuNLsaPhmYsiw4gYX3HoQiRBiSwDaBXKUafCt9bNwWQiitDk5VZ5BVxYnQdwoTyXSs2JHRPAgjAvtbBrf8ZhDYe2jWAqvZVnsc";
/// BIP32 test vector 1: the master key (depth 0) and m/0H/1/2H/2 (depth 4).
const BIP32_TV1_MASTER: &str =
    "xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8";
const BIP32_TV1_M_0H_1_2H_2: &str =
    "xpub6FHa3pjLCk84BayeJxFW2SP4XRrFd1JYnxeLeU8EqN3vDfZmbqBqaGJAyiLjTAwm6ZLRQUMv1ZACTj37sR62cfN7fe5JnJ7dh8zL4fiyLHV";

/// Parse `text` for `coin`, expect a refusal, and check its message repeats no run of 6
/// or more characters of `text`.
fn refused(coin: Coin, text: &str) -> KeyError {
    let err = AccountKey::parse(coin, text).expect_err("must be refused");
    let message = err.to_string();
    let chars: Vec<char> = text.trim().chars().collect();
    for window in chars.windows(6) {
        let part: String = window.iter().collect();
        assert!(!message.contains(&part), "the message {message:?} quotes {part:?} of the key");
    }
    err
}

/// `text`'s payload with `edit` applied, re-encoded with a valid checksum.
fn edited(text: &str, edit: impl FnOnce(&mut Vec<u8>)) -> String {
    let mut p = payload(text);
    edit(&mut p);
    encode(&p)
}

const PRIVATE: &str = "this is a private key; Wharf needs the account's public key; never paste a private key anywhere";

#[test]
fn private_keys() {
    let mut texts = vec![BTC_ZPRV.to_string(), BTC_WIF.to_string(), LTC_MTPV.to_string()];
    for version in [0x0488_ade4, 0x049d_7878, 0x0435_8394, 0x045f_18bc, 0x019d_9cfe, 0x0436_ef7d] {
        texts.push(with_version(BTC_ZPRV, version));
    }
    // A private key re-encoded under a public version is still refused as one.
    texts.push(with_version(BTC_ZPRV, 0x04b2_4746));
    for text in &texts {
        for coin in Coin::ALL {
            let err = refused(coin, text);
            assert_eq!(err, KeyError::PrivateKey, "{text}");
            assert_eq!(err.to_string(), PRIVATE);
        }
    }
    let prefixes: Vec<&str> = texts.iter().map(|t| &t[..4]).collect();
    assert_eq!(prefixes, ["zprv", "KyZp", "Mtpv", "xprv", "yprv", "tprv", "vprv", "Ltpv", "ttpv", "zpub"]);
}

#[test]
fn testnet_keys() {
    for (text, kind) in [
        (TEST_VPUB.to_string(), "vpub"),
        (with_version(TEST_VPUB, 0x0435_87cf), "tpub"),
        (with_version(TEST_VPUB, 0x044a_5262), "upub"),
        (with_version(TEST_VPUB, 0x0436_f6e1), "ttub"),
    ] {
        let err = refused(Coin::Btc, &text);
        assert_eq!(err, KeyError::Testnet { kind });
        assert_eq!(
            err.to_string(),
            format!("this is a testnet key ({kind}); Wharf needs a mainnet account key (zpub… or xpub…)")
        );
        assert_eq!(refused(Coin::Ltc, &text), KeyError::Testnet { kind });
    }
}

#[test]
fn a_litecoin_prefix_given_for_bitcoin() {
    let ltub = with_version(LTC_ZPUB, 0x019d_a462);
    for (text, kind) in [(ltub.as_str(), "Ltub"), (LTC_MTUB, "Mtub")] {
        let err = refused(Coin::Btc, text);
        assert_eq!(err, KeyError::OtherCoin { kind, key_coin: Coin::Ltc, coin: Coin::Btc });
        assert_eq!(
            err.to_string(),
            format!(
                "this is a Litecoin key ({kind}) but the coin is BTC: give the Bitcoin account's zpub, or set the coin to LTC"
            )
        );
    }
}

#[test]
fn wrapped_segwit_and_multisig_keys() {
    let err = refused(Coin::Btc, BTC_YPUB);
    assert_eq!(err, KeyError::WrappedSegwit { kind: "ypub" });
    assert_eq!(
        err.to_string(),
        "ypub is for wrapped segwit (BIP49) addresses; use the zpub of a native segwit account"
    );
    assert_eq!(refused(Coin::Ltc, BTC_YPUB), KeyError::WrappedSegwit { kind: "ypub" });
    let err = refused(Coin::Ltc, LTC_MTUB);
    assert_eq!(
        err.to_string(),
        "Mtub is for wrapped segwit (BIP49) addresses; use the zpub of a native segwit account"
    );
    for (version, kind) in [(0x02aa_7ed3, "Zpub"), (0x0295_b43f, "Ypub")] {
        let err = refused(Coin::Btc, &with_version(BTC_ZPUB, version));
        assert_eq!(err, KeyError::Multisig { kind });
        assert_eq!(
            err.to_string(),
            format!("{kind} is a multisig key; Wharf needs the zpub of a single-signature native segwit account")
        );
    }
}

#[test]
fn unknown_version_bytes() {
    let err = refused(Coin::Btc, &with_version(BTC_ZPUB, 0x1234_5678));
    assert_eq!(err, KeyError::UnknownVersion);
    assert!(err.to_string().starts_with("this is not an extended public key Wharf knows"));
}

#[test]
fn damaged_values() {
    // A character outside base58 (and spaces inside).
    let mut bad = BTC_ZPUB.to_string();
    bad.replace_range(20..21, "0");
    let err = refused(Coin::Btc, &bad);
    assert_eq!(err, KeyError::NotBase58);
    assert!(err.to_string().starts_with("the account key is not valid base58"));
    assert_eq!(refused(Coin::Btc, &format!("{} {}", &BTC_ZPUB[..50], &BTC_ZPUB[50..])), KeyError::NotBase58);
    // One character changed, one dropped.
    let mut typo = BTC_ZPUB.to_string();
    let c = if &typo[40..41] == "a" { "b" } else { "a" };
    typo.replace_range(40..41, c);
    let err = refused(Coin::Btc, &typo);
    assert_eq!(err, KeyError::BadChecksum);
    assert_eq!(err.to_string(), "the account key's checksum does not match: a character is mistyped, missing or extra");
    assert_eq!(refused(Coin::Btc, &BTC_ZPUB[..110]), KeyError::BadChecksum);
    // A valid checksum over the wrong number of bytes.
    let short = encode(&payload(BTC_ZPUB)[..77]);
    let err = refused(Coin::Btc, &short);
    assert_eq!(err, KeyError::WrongLength { bytes: 77 });
    assert_eq!(
        err.to_string(),
        "the account key has the wrong length: an extended public key is 111 characters (78 bytes); this value holds 77 bytes"
    );
    assert_eq!(refused(Coin::Btc, "zpub"), KeyError::WrongLength { bytes: 0 });
}

#[test]
fn wrong_depth() {
    let err = refused(Coin::Btc, BIP32_TV1_MASTER);
    assert_eq!(err, KeyError::WrongDepth { depth: 0, coin: Coin::Btc });
    assert_eq!(err.to_string(), "the key has depth 0 (a master key, m); an account key at m/84'/0'/0' has depth 3");
    let err = refused(Coin::Ltc, BIP32_TV1_M_0H_1_2H_2);
    assert_eq!(err, KeyError::WrongDepth { depth: 4, coin: Coin::Ltc });
    assert_eq!(
        err.to_string(),
        "the key has depth 4 (a chain key, …/0 or …/1); an account key at m/84'/2'/0' has depth 3"
    );
    let deep = edited(BTC_ZPUB, |p| p[4] = 9);
    assert_eq!(refused(Coin::Btc, &deep).to_string(), "the key has depth 9; an account key at m/84'/0'/0' has depth 3");
}

#[test]
fn not_hardened() {
    let text = edited(BTC_ZPUB, |p| p[9] &= 0x7f);
    let err = refused(Coin::Btc, &text);
    assert_eq!(err, KeyError::NotHardened { coin: Coin::Btc });
    assert!(err.to_string().contains("its last step is not hardened"));
}

#[test]
fn invalid_curve_points() {
    // x ≥ p; a prefix that is not 02/03; x with no point on the curve (x = 5: 5³+7 = 132
    // is not a square mod p).
    let cases: [fn(&mut Vec<u8>); 3] = [
        |p| p[46..78].fill(0xff),
        |p| p[45] = 0x04,
        |p| {
            p[46..78].fill(0);
            p[77] = 5;
        },
    ];
    for edit in cases {
        let err = refused(Coin::Btc, &edited(BTC_ZPUB, edit));
        assert_eq!(err, KeyError::InvalidPoint);
        assert_eq!(
            err.to_string(),
            "the public key inside the account key is not a valid secp256k1 point: the value is damaged"
        );
    }
}

#[test]
fn other_things_pasted_by_mistake() {
    assert_eq!(refused(Coin::Btc, ""), KeyError::Empty);
    assert_eq!(refused(Coin::Btc, " \n\t "), KeyError::Empty);
    assert!(KeyError::Empty.to_string().starts_with("the account key is empty"));
    let phrase = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
    let err = refused(Coin::Btc, phrase);
    assert_eq!(err, KeyError::SeedPhrase);
    assert!(err.to_string().contains("never paste it anywhere"));
    let descriptor = format!("wpkh([73c5da0a/84h/0h/0h]{BTC_ZPUB}/0/*)#abcdefgh");
    assert_eq!(refused(Coin::Btc, &descriptor), KeyError::Descriptor);
    for address in [
        "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu",
        "ltc1qjmxnz78nmc8nq77wuxh25n2es7rzm5c2rkk4wh",
        "1LqBGSKuX5yYUonjxT5qGfpUsXKYYWeabA",
    ] {
        let err = refused(Coin::Btc, address);
        assert_eq!(err, KeyError::Address, "{address}");
        assert!(err.to_string().starts_with("this is a single address, not an account key"));
    }
}
