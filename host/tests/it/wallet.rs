//! The wallet through the emulator: manual deposits approved exactly once (two admins at
//! once, or one twice), rejections with a reason, admin credit/debit with a reason, and
//! a ledger that reconciles.

use serde_json::Value;
use wharf::telegram::emulator::{Emulator, Sent};

use crate::market::*;

/// `user` asks for a BLIK deposit of `amount` with `reference`; returns the request's
/// number (as people see it).
pub async fn request_deposit(m: &Market, user: i64, amount: &str, reference: &str) -> i64 {
    m.say(user, "/wallet", "Your wallet").await;
    m.tap(user, "Deposit", "How do you want to pay?").await;
    m.tap(user, "BLIK", "Send the amount").await;
    let bad = m.say(user, "abc", "not an amount").await;
    assert_eq!(bad.text, "\"abc\" is not an amount like 12 or 12.50. Send an amount like 50 or 12.50, or /cancel.");
    m.say(user, "0.5", "Deposits must be 1 PLN to 10000 PLN").await;
    m.say(user, amount, "payment reference").await;
    let sent = m.say(user, reference, "sent for approval").await;
    sent.text.split('#').nth(1).and_then(|s| s.split_whitespace().next()).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_admins_approving_at_once_credit_once() {
    let m = market("").await;
    let id = request_deposit(&m, 7, "50", "BLIK-REF-777").await;
    for admin in [ADMIN, ADMIN2] {
        let ok = m
            .emu
            .wait_sent(WAIT, |e| e.texts(admin).iter().any(|t| t.contains(&format!("Deposit request #{id}"))))
            .await;
        assert!(ok, "admin {admin} was not asked");
    }
    let request = m.emu.sent(ADMIN).into_iter().find(|s| s.text.contains("Deposit request")).unwrap();
    assert!(request.text.contains("BLIK-REF-777") && request.text.contains("50 PLN"), "{}", request.text);

    // Both press Approve at the same moment, and the first presses it once more.
    let (a1, d1) = m.button(ADMIN, "Approve").unwrap();
    let (a2, d2) = m.button(ADMIN2, "Approve").unwrap();
    m.emu.press(ADMIN, a1, &d1);
    m.emu.press(ADMIN2, a2, &d2);
    m.emu.press(ADMIN, a1, &d1);
    let approved =
        |e: &wharf::telegram::emulator::Emulator, a: i64| e.texts(a).iter().filter(|t| t.contains("approved")).count();
    // Three presses, three answers: ADMIN twice, ADMIN2 once.
    let decided = |e: &wharf::telegram::emulator::Emulator| approved(e, ADMIN) >= 2 && approved(e, ADMIN2) >= 1;
    assert!(m.emu.wait_sent(WAIT, decided).await, "{:#?} {:#?}", m.emu.texts(ADMIN), m.emu.texts(ADMIN2));
    m.h.idle().await;

    assert_eq!(m.balance(7).await, 5_000, "credited exactly once");
    assert_eq!(m.keys("wallet", "ent:7:").await.len(), 1);
    let told: Vec<String> = m.emu.texts(7).into_iter().filter(|t| t.contains("was approved")).collect();
    assert_eq!(told.len(), 1, "the user is told once: {told:?}");
    assert!(told[0].contains("Balance: 50 PLN"));
    let admin_texts = [m.emu.texts(ADMIN), m.emu.texts(ADMIN2)].concat();
    assert_eq!(admin_texts.iter().filter(|t| t.contains(&format!("Deposit #{id} approved"))).count(), 1);
    assert_eq!(admin_texts.iter().filter(|t| t.contains("was already approved by")).count(), 2);

    // The key is the request's internal id; people see its number (the first is #1).
    assert_eq!(id, 1);
    let internal: i64 = m.kv("wallet", "no:deposit:00000000000000000001").await.unwrap();
    let entry: Value = m.kv("wallet", "ent:7:0000000001").await.unwrap();
    assert_eq!(entry["key"], format!("wallet:deposit:{internal}"));
    assert_eq!(entry["reason"], "Deposit #1 (BLIK)");
    assert!(entry["actor"] == ADMIN || entry["actor"] == ADMIN2, "the approving admin is recorded: {entry}");
    let events = m.events().await;
    let kinds: Vec<&str> = events.iter().map(|(k, ..)| k.as_str()).collect();
    assert_eq!(kinds, ["deposit.pending", "wallet.credit", "deposit.approved"]);
    let log = serde_json::to_string(&events).unwrap();
    assert!(!log.contains("BLIK-REF-777"), "the payment reference leaked into the event log: {log}");
    m.say(ADMIN, "/deposits", "No pending deposits").await;
    m.say(ADMIN, "/reconcile", "Ledger reconciles").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejection_carries_its_reason_and_credits_nothing() {
    let m = market("").await;
    let first = request_deposit(&m, 8, "20", "REF-A").await;
    let second = request_deposit(&m, 8, "30.50", "REF-B").await;
    // Kept for a replay below: a decision removes the buttons from every admin's copy.
    let (replayed, replayed_data) = m.button(ADMIN, "Approve").unwrap();
    assert_eq!((first, second), (1, 2), "deposits are numbered from 1");
    let pending = m.say(ADMIN, "/deposits", "2 pending deposits").await;
    assert!(pending.text.contains(&format!("#{first}")) && pending.text.contains("30.50 PLN"), "{}", pending.text);

    m.tap(ADMIN, &format!("❌ #{first}"), "Send the reason").await;
    m.say(ADMIN, "no such transfer arrived", &format!("Deposit #{first} rejected")).await;
    let told = m.emu.texts(8).into_iter().find(|t| t.contains("was rejected")).unwrap();
    assert!(told.contains("no such transfer arrived"), "{told}");
    // The command form, on an already decided request, is refused.
    m.say(ADMIN2, &format!("/reject {first} again"), "already rejected").await;
    m.say(ADMIN2, &format!("/reject {second}"), "A reason is required").await;
    m.say(ADMIN2, "/reject 9 typo", "There is no deposit #9").await;
    let usage = m.say(ADMIN2, "/reject first please", "Usage: /reject DEPOSIT REASON").await;
    assert!(usage.text.starts_with("⚠️ \"first\" is not a deposit number"), "{}", usage.text);
    m.say(ADMIN2, &format!("/reject {second} duplicate"), &format!("Deposit #{second} rejected")).await;
    assert_eq!(m.balance(8).await, 0);
    m.say(8, "/deposits", "for admins").await;
    m.emu.press(8, replayed, &replayed_data); // a user replaying an admin's button
    let refused =
        m.emu.wait_sent(WAIT, |e| e.answered().iter().any(|(_, t)| t.as_deref() == Some("Only admins can do that.")));
    assert!(refused.await, "{:?}", m.emu.answered());
    assert_eq!(m.balance(8).await, 0);
    let kinds: Vec<String> = m.events().await.into_iter().map(|(k, ..)| k).collect();
    assert_eq!(kinds.iter().filter(|k| *k == "deposit.rejected").count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_credit_and_debit_with_a_reason_and_balances_never_go_negative() {
    let m = market("").await;
    m.say(ADMIN, "/credit 9 12.50", "A reason is required").await;
    let usage = m.say(ADMIN, "/credit nine 1 x", "Usage: /credit USER AMOUNT REASON").await;
    assert!(usage.text.starts_with("⚠️ \"nine\" is not a user id"), "{}", usage.text);
    m.say(ADMIN, "/credit 9 0 x", "The amount must be more than 0").await;
    m.say(ADMIN, "/credit 9 12.505 bonus", "more than 2 digits").await;
    m.say(ADMIN, "/credit 9 12.50 welcome bonus", "Done: 12.50 PLN credited to user 9").await;
    m.say(ADMIN2, "/debit 9 2.50 fee", "Done: 2.50 PLN debited").await;
    m.say(ADMIN, "/debit 9 11 too much", "Cannot debit 11 PLN: user 9 has 10 PLN").await;
    assert_eq!(m.balance(9).await, 1_000);
    let told = m.emu.texts(9);
    assert!(told.iter().any(|t| t.contains("credited 12.50 PLN by an admin: welcome bonus")), "{told:?}");

    let statement = m.say(ADMIN, "/balance 9", "balance <b>10 PLN</b>, 2 entries").await;
    assert!(statement.text.contains("−2.50 PLN → 10 PLN · fee"), "{}", statement.text);
    assert!(statement.text.contains(&format!("by {ADMIN2}")), "{}", statement.text);
    let wallet = m.say(9, "/wallet", "Your wallet").await;
    assert!(wallet.text.contains("Balance: <b>10 PLN</b>") && wallet.text.contains("welcome bonus"), "{}", wallet.text);
    m.say(9, "/credit 9 100 free money", "for admins").await;
    assert_eq!(m.balance(9).await, 1_000);
    m.say(ADMIN, "/reconcile 9", "Ledger reconciles: 1 user, the balance equals").await;
    let one = m.say(ADMIN, "/balance 10", "balance <b>0 PLN</b>").await;
    assert!(one.text.ends_with("0 entries"), "{}", one.text);
    m.say(ADMIN, "/credit 10 1 x", "credited to user 10").await;
    m.say(ADMIN, "/balance 10", "balance <b>1 PLN</b>, 1 entry").await;
    for t in m.emu.texts(ADMIN) {
        assert!(!t.contains("invalid input") && !t.contains("(s)") && !t.contains("<user"), "{t}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deposit_dialog_can_be_cancelled_and_goes_stale() {
    let m = market("").await;
    m.say(3, "/wallet", "Your wallet").await;
    m.tap(3, "Deposit", "How do you want to pay?").await;
    m.tap(3, "Bank transfer", "Send the amount").await;
    m.say(3, "/cancel", "Cancelled.").await;
    // Turns of one chat run in order: once /wallet is answered, "50" was handled.
    let before = m.emu.texts(3).len();
    m.emu.send_text(3, "50");
    m.say(3, "/wallet", "Your wallet").await;
    assert_eq!(m.emu.texts(3).len(), before + 1, "after /cancel a number is just a message");

    m.tap(3, "Deposit", "How do you want to pay?").await;
    m.tap(3, "Bank transfer", "Send the amount").await;
    m.h.rt.clock().advance(std::time::Duration::from_secs(31 * 60));
    let before = m.emu.texts(3).len();
    m.emu.send_text(3, "50");
    m.say(3, "/wallet", "Your wallet").await;
    assert_eq!(m.emu.texts(3).len(), before + 1, "a dialog left for 31 minutes is forgotten");
    assert!(m.keys("wallet", "dlg:").await.is_empty());
    assert!(m.keys("wallet", "pend:").await.is_empty());
}

/// `admin`'s copy of the request for deposit `id`.
fn copy(e: &Emulator, admin: i64, id: i64) -> Option<Sent> {
    e.sent(admin).into_iter().find(|s| s.text.contains(&format!("Deposit request #{id}")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decision_updates_every_admins_copy_of_the_request() {
    let m = market("").await;
    let id = request_deposit(&m, 7, "50", "REF-C").await;
    let both = |e: &Emulator, id: i64| copy(e, ADMIN, id).is_some() && copy(e, ADMIN2, id).is_some();
    assert!(m.emu.wait_sent(WAIT, |e| both(e, id)).await, "{:#?}", m.emu.texts(ADMIN2));
    m.tap(ADMIN, "Approve", &format!("Deposit #{id} approved")).await;
    let shows = |e: &Emulator, admin: i64| {
        copy(e, admin, id).is_some_and(|s| s.edits == 1 && s.text.contains(&format!("Approved by {ADMIN}")))
    };
    let updated = m.emu.wait_sent(WAIT, |e| shows(e, ADMIN2) && shows(e, ADMIN)).await;
    assert!(updated, "{:#?} {:#?}", copy(&m.emu, ADMIN2, id), copy(&m.emu, ADMIN, id));
    let other = copy(&m.emu, ADMIN2, id).unwrap();
    assert!(other.text.contains("REF-C") && buttons(&other).is_empty(), "{other:?}");
    assert_eq!(m.balance(7).await, 5_000);

    // A rejection by the other admin shows its reason on the first admin's copy.
    let id = request_deposit(&m, 7, "20", "REF-D").await;
    assert!(m.emu.wait_sent(WAIT, |e| both(e, id)).await);
    m.tap(ADMIN2, "Reject", "Send the reason").await;
    m.say(ADMIN2, "no transfer", &format!("Deposit #{id} rejected")).await;
    let rejected = |e: &Emulator| {
        copy(e, ADMIN, id)
            .is_some_and(|s| s.text.contains(&format!("Rejected by {ADMIN2}")) && s.text.contains("no transfer"))
    };
    assert!(m.emu.wait_sent(WAIT, rejected).await, "{:#?}", copy(&m.emu, ADMIN, id));
}
