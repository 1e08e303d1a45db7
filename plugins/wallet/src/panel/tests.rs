//! The wallet's admin views and actions on the SDK's fake host.

use wharf_sdk::admin::{AdminError, Value};
use wharf_sdk::testing::Harness;

use crate::Wallet;

const ADMIN: i64 = 1000;

fn wallet() -> Harness<Wallet> {
    Harness::<Wallet>::new().with_admins(&[ADMIN])
}

/// User `user` asks for a BLIK deposit of `amount` (whole PLN); returns its id.
fn request(h: &mut Harness<Wallet>, user: i64, amount: &str) -> String {
    h.say(user, "/wallet").unwrap();
    h.click(user, "➕ Deposit").unwrap();
    h.click(user, "BLIK").unwrap();
    h.say(user, amount).unwrap();
    h.say(user, "BLIK 123456789").unwrap();
    let out = h.view("pending", [], None).unwrap();
    out.rows().last().and_then(|r| r.id.clone()).expect("a pending row")
}

fn deposits(ids: &[&str]) -> (&'static str, Value) {
    ("deposits", Value::Ids(ids.iter().map(|s| (*s).to_owned()).collect()))
}

#[test]
fn pending_deposits_are_listed_with_masked_references_and_approved_once() {
    let mut h = wallet();
    let id = request(&mut h, 7, "50");
    let out = h.view("pending", [], None).unwrap();
    assert_eq!(out.rows()[0].cells[..3], ["#1".to_owned(), "7".to_owned(), "50 PLN".to_owned()]);
    assert_eq!(out.rows()[0].cells[4], "BLIK…6789", "the reference is masked");
    let done = h.act("approve", [deposits(&[&id])]).unwrap();
    assert_eq!(done.texts(), ["Approved 1, skipped 0."]);
    assert!(h.texts(7).last().unwrap().starts_with("✅ Your deposit #1 of 50 PLN was approved"));
    assert!(h.business_events().iter().any(|e| e.kind == "deposit.approved"));
    let again = h.act("approve", [deposits(&[&id])]).unwrap();
    assert_eq!(again.texts(), ["Approved 0, skipped 1."], "idempotent");
    assert_eq!(h.run(|| crate::store::book().balance(7)).unwrap(), 5_000);
    assert!(h.view("pending", [], None).unwrap().rows().is_empty());
    let ledger = h.view("ledger", [("user", Value::UserId(7))], None).unwrap();
    assert_eq!(ledger.value("Balance"), Some("50 PLN"));
    assert_eq!(ledger.rows().len(), 1);
}

#[test]
fn a_rejection_tells_the_user_why_and_needs_a_reason() {
    let mut h = wallet();
    let id = request(&mut h, 7, "20");
    let blank = h.act("reject", [deposits(&[&id]), ("reason", Value::Text(" ".into()))]);
    assert!(matches!(blank, Err(AdminError::InvalidInput(_))));
    h.act("reject", [deposits(&[&id]), ("reason", Value::Text("no payment".into()))]).unwrap();
    assert_eq!(h.texts(7).last().unwrap(), "❌ Your deposit #1 of 20 PLN was rejected: no payment");
    let approve = h.act("approve", [deposits(&[&id])]).unwrap();
    assert!(approve.rows()[0].cells[1].contains("already rejected"));
    assert_eq!(h.run(|| crate::store::book().balance(7)).unwrap(), 0);
}

#[test]
fn credit_and_debit_post_once_per_turn_and_refuse_overdrafts() {
    let mut h = wallet();
    let params = |amount: i64| {
        [("user", Value::UserId(9)), ("amount", Value::Amount(amount)), ("reason", Value::Text("goodwill".into()))]
    };
    h.act("credit", params(1_250)).unwrap();
    assert_eq!(h.texts(9), ["Your wallet was credited 12.50 PLN by an admin: goodwill. Balance: 12.50 PLN."]);
    h.act("debit", params(250)).unwrap();
    let over = h.act("debit", params(5_000)).unwrap_err();
    assert!(matches!(over, AdminError::InvalidInput(ref m) if m.contains("cannot debit")), "{over:?}");
    assert_eq!(h.run(|| crate::store::book().balance(9)).unwrap(), 1_000);
    let ok = h.view("reconcile", [], None).unwrap();
    assert_eq!(ok.value("Not reconciling"), Some("0"));
    assert_eq!(ok.value("Total held"), Some("10 PLN"));
}

#[test]
fn views_are_read_only() {
    let mut h = wallet();
    request(&mut h, 7, "50");
    let dump = |h: &Harness<Wallet>| -> Vec<(String, Option<Vec<u8>>)> {
        h.kv_keys("").into_iter().map(|k| (k.clone(), h.kv_bytes(&k))).collect()
    };
    let before = dump(&h);
    let texts = h.texts(ADMIN).len();
    h.view("pending", [], None).unwrap();
    h.view("reconcile", [("user", Value::UserId(7))], None).unwrap();
    assert_eq!(dump(&h), before);
    assert_eq!(h.texts(ADMIN).len(), texts);
}
