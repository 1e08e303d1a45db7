//! Whole-plugin tests on the SDK's fake host (`wharf_sdk::testing::Harness`): categories
//! through the exported ledger, the `wallet.deposit` topic (once per new deposit entry,
//! never for other categories or replays), deposit methods served by other plugins, and
//! entries stored before categories existed.

use serde_json::{Value, json};
use wharf_sdk::testing::{Harness, press};

use crate::Wallet;
use crate::topics::{self, Deposit};
use crate::wit::exports::wharf::wallet::ledger::{self as api, Guest as _};

const ADMIN: i64 = 1000;

fn wallet() -> Harness<Wallet> {
    Harness::<Wallet>::new().with_admins(&[ADMIN])
}

/// Payloads emitted on `topic`, decoded.
fn on(h: &Harness<Wallet>, topic: &str) -> Vec<Value> {
    h.emitted().iter().filter(|e| e.topic == topic).map(|e| e.json().unwrap()).collect()
}

fn credit_as(h: &mut Harness<Wallet>, c: api::Category, amount: i64, key: &str) -> Result<api::Entry, api::Error> {
    h.run(|| Wallet::credit_as(7, amount, c, "test".into(), key.into()))
}

#[test]
fn an_approved_manual_deposit_is_announced_once() {
    let mut h = wallet();
    h.say(7, "/wallet").unwrap();
    h.click(7, "➕ Deposit").unwrap();
    h.click(7, "BLIK").unwrap();
    h.say(7, "50").unwrap();
    h.say(7, "BLIK 123456").unwrap();
    let request = h.messages(ADMIN).into_iter().find(|m| m.text.contains("Deposit request #1")).unwrap();
    let approve = request.callback_data("✅ Approve").unwrap();
    assert!(h.emitted().is_empty(), "a request is not a deposit yet");
    h.send(press(ADMIN, request.message_id, &approve)).unwrap();
    let got = on(&h, topics::DEPOSIT);
    assert_eq!(got.len(), 1, "{got:?}");
    let payload: Deposit = serde_json::from_value(got[0].clone()).unwrap();
    let id: i64 = h.kv("no:deposit:00000000000000000001").unwrap();
    assert_eq!(
        payload,
        Deposit {
            user_id: 7,
            amount: 5_000,
            seq: 1,
            key: format!("wallet:deposit:{id}"),
            reason: "Deposit #1 (BLIK)".into(),
            currency: "PLN".into(),
            decimals: 2,
            at_ms: payload.at_ms,
        }
    );
    assert_eq!(h.emitted()[0].chat_id, Some(ADMIN), "emitted in the approving admin's turn");
    // Pressing Approve again credits nothing and announces nothing.
    h.send(press(ADMIN, request.message_id, &approve)).unwrap();
    assert_eq!(on(&h, topics::DEPOSIT).len(), 1);
    assert_eq!(h.run(|| Wallet::balance(7)).unwrap(), 5_000);
    assert_eq!(h.run(|| Wallet::entry_category(7, 1)).unwrap(), Some(api::Category::Deposit));
}

#[test]
fn only_new_deposit_entries_are_announced() {
    let mut h = wallet();
    let first = credit_as(&mut h, api::Category::Deposit, 1_000, "crypto:tx1:0").unwrap();
    assert_eq!(on(&h, topics::DEPOSIT).len(), 1);
    assert_eq!(on(&h, topics::DEPOSIT)[0]["key"], "crypto:tx1:0");
    let again = credit_as(&mut h, api::Category::Deposit, 1_000, "crypto:tx1:0").unwrap();
    assert_eq!((again.seq, again.balance_after), (first.seq, first.balance_after));
    assert_eq!(on(&h, topics::DEPOSIT).len(), 1, "a replay announces nothing");
    credit_as(&mut h, api::Category::Bonus, 500, "referral:1").unwrap();
    credit_as(&mut h, api::Category::Refund, 500, "shop:refund:1").unwrap();
    h.run(|| Wallet::credit(7, 200, "plain".into(), "probe:1".into())).unwrap();
    h.run(|| Wallet::debit_as(7, 300, api::Category::Purchase, "buy".into(), "shop:order:1".into())).unwrap();
    assert_eq!(on(&h, topics::DEPOSIT).len(), 1, "other categories are not announced");
    let cats: Vec<Option<api::Category>> =
        (1..=6).map(|seq| h.run(|| Wallet::entry_category(7, seq)).unwrap()).collect();
    use api::Category::*;
    assert_eq!(cats, [Some(Deposit), Some(Bonus), Some(Refund), Some(Adjustment), Some(Purchase), None]);
}

#[test]
fn a_key_used_for_one_category_is_refused_for_another() {
    let mut h = wallet();
    let first = credit_as(&mut h, api::Category::Bonus, 1_000, "referral:7").unwrap();
    let Err(api::Error::KeyReused(e)) = credit_as(&mut h, api::Category::Deposit, 1_000, "referral:7") else {
        panic!("same key, other category")
    };
    assert_eq!(e.seq, first.seq);
    assert!(on(&h, topics::DEPOSIT).is_empty(), "a refused write announces nothing");
    let plain = h.run(|| Wallet::credit(7, 1_000, "test".into(), "referral:7".into()));
    assert!(matches!(plain, Err(api::Error::KeyReused(_))), "plain credit is an adjustment, not a bonus");
    let own = credit_as(&mut h, api::Category::Deposit, 1_000, "wallet:deposit:1");
    assert!(matches!(own, Err(api::Error::InvalidInput(_))), "{own:?}");
    assert_eq!(h.run(|| Wallet::balance(7)).unwrap(), 1_000);
}

#[test]
fn a_method_another_plugin_serves_is_handed_to_it() {
    let methods = json!([
        { "id": "blik", "name": "BLIK", "instructions": "Pay by BLIK." },
        { "id": "btc", "name": "Bitcoin", "plugin": "crypto" },
    ]);
    let mut h = wallet().with_settings(json!({ "methods": methods }));
    h.say(7, "/wallet").unwrap();
    h.click(7, "➕ Deposit").unwrap();
    let menu = h.messages(7).last().unwrap().buttons();
    assert_eq!(menu, ["BLIK", "Bitcoin"], "listed with the manual methods");
    let shown = h.messages(7).len();
    h.click(7, "Bitcoin").unwrap();
    assert_eq!(
        on(&h, topics::DEPOSIT_METHOD),
        [json!({ "method": "btc", "user_id": 7, "chat_id": 7, "plugin": "crypto" })]
    );
    assert_eq!(h.messages(7).len(), shown, "the wallet says nothing more");
    assert!(h.kv_keys("dlg:").is_empty(), "no dialog is opened");
    // The only method: Deposit hands it over at once.
    let only = json!([{ "id": "ltc", "name": "Litecoin", "plugin": "crypto" }]);
    let mut h = wallet().with_settings(json!({ "methods": only }));
    h.say(8, "/wallet").unwrap();
    h.click(8, "➕ Deposit").unwrap();
    assert_eq!(on(&h, topics::DEPOSIT_METHOD)[0]["method"], "ltc");
}

#[test]
fn entries_stored_before_categories_get_one_from_their_key() {
    let mut h = wallet();
    let old = |seq: u64, amount: i64, balance: i64, key: &str| {
        json!({ "seq": seq, "user": 7, "amount": amount, "balance_after": balance, "reason": "old",
                "key": key, "actor": null, "at_ms": 1 })
    };
    h.set_kv("acct:7", &json!({ "balance": 2_500, "entries": 3 }));
    h.set_kv("ent:7:0000000001", &old(1, 5_000, 5_000, "wallet:deposit:9"));
    h.set_kv("ent:7:0000000002", &old(2, -4_500, 500, "shop:order:3"));
    h.set_kv("ent:7:0000000003", &old(3, 2_000, 2_500, "wallet:admin:12"));
    h.set_kv("idem:shop:order:3", &json!({ "user": 7, "amount": -4_500, "seq": 2 }));
    let cats: Vec<Option<api::Category>> =
        (1..=3).map(|seq| h.run(|| Wallet::entry_category(7, seq)).unwrap()).collect();
    assert_eq!(cats, [Some(api::Category::Deposit), Some(api::Category::Purchase), Some(api::Category::Adjustment)]);
    // The shop retrying an order paid before the upgrade finds its entry.
    let retry = h.run(|| Wallet::debit_as(7, 4_500, api::Category::Purchase, "old".into(), "shop:order:3".into()));
    assert_eq!(retry.unwrap().seq, 2);
    h.say(7, "/wallet").unwrap();
    assert!(h.last_text(7).unwrap().contains("Balance: <b>25 PLN</b>"));
    h.say(ADMIN, "/reconcile 7").unwrap();
    assert!(h.last_text(ADMIN).unwrap().starts_with("✅ Ledger reconciles"));
    assert!(h.emitted().is_empty(), "reading old entries announces nothing");
}
