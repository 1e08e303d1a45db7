//! The plugin's flows on the SDK's fake host, with a fake wallet ledger kept in the
//! plugin's own KV (so it rolls back with the turn, as the real one commits with it).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde::{Deserialize, Serialize};
use serde_json::json;
use wharf_sdk::kv;
use wharf_sdk::money::Currency;
use wharf_sdk::prelude::*;
use wharf_sdk::testing::{Harness, T0, custom};

use crate::ledger::{Credited, Ledger, LedgerError};
use crate::model::{self, Summary};

/// A fake ledger: entries under `fake:{key}`.
struct Fake;

#[derive(Serialize, Deserialize)]
struct FakeEntry {
    user: i64,
    amount: i64,
    deposit: bool,
    seq: u64,
}

impl Ledger for Fake {
    fn currency(&self) -> Currency {
        Currency::new("PLN", 2)
    }

    fn credit_bonus(&self, user: i64, amount: i64, _reason: &str, key: &str) -> Result<Credited, LedgerError> {
        let k = format!("fake:{key}");
        match kv::get::<FakeEntry>(&k).unwrap() {
            Some(e) if e.user == user && e.amount == amount && !e.deposit => Ok(Credited { seq: e.seq, new: false }),
            Some(_) => Err(LedgerError::KeyReused(key.into())),
            None => {
                let seq = u64::try_from(kv::increment(&format!("fakeseq:{user}"), 1).unwrap()).unwrap();
                kv::set(&k, &FakeEntry { user, amount, deposit: false, seq }).unwrap();
                Ok(Credited { seq, new: true })
            }
        }
    }

    fn deposited(&self, user: i64) -> Result<i64, LedgerError> {
        let all: Vec<FakeEntry> = kv::values("fake:").unwrap();
        Ok(all.iter().filter(|e| e.user == user && e.deposit).map(|e| e.amount).sum())
    }
}

/// The plugin with the fake ledger.
struct Testable;

impl Plugin for Testable {
    fn describe() -> Manifest {
        crate::Referral::describe()
    }

    fn handle(event: Event, ctx: Context) -> Result<Flow, HandlerError> {
        crate::handle(event, &ctx, &Fake)
    }
}

const A: i64 = 11;
const B: i64 = 12;
const C: i64 = 13;
const ADMIN: i64 = 1000;

fn bot() -> Harness<Testable> {
    Harness::<Testable>::new().with_admins(&[ADMIN]).with_bot(7_000_000_001, "wharf_test_bot")
}

/// `user`'s code, from their /referral screen.
fn code(h: &mut Harness<Testable>, user: i64) -> String {
    h.say(user, "/referral").unwrap();
    let screen = h.last_text(user).unwrap();
    let at = screen.find("?start=ref_").expect("a link") + "?start=ref_".len();
    screen[at..at + crate::code::LEN].to_owned()
}

/// A deposit credited to `user` by the wallet, announced as the wallet does.
fn deposit(h: &mut Harness<Testable>, user: i64, amount: i64, key: &str) -> Result<Flow, HandlerError> {
    h.run(|| {
        let seq = u64::try_from(kv::increment(&format!("fakeseq:{user}"), 1).unwrap()).unwrap();
        kv::set(&format!("fake:{key}"), &FakeEntry { user, amount, deposit: true, seq }).unwrap();
    });
    let payload = json!({"user_id": user, "amount": amount, "seq": 1, "key": key, "reason": "Deposit #1 (BLIK)",
        "currency": "PLN", "decimals": 2, "at_ms": T0, "new_field": true});
    h.send(custom("wallet.deposit", payload.to_string().as_bytes(), "wallet"))
}

fn summary(h: &Harness<Testable>, user: i64) -> Summary {
    h.kv(&model::summary_key(user)).unwrap_or_default()
}

fn kinds(h: &Harness<Testable>) -> Vec<String> {
    h.business_events().into_iter().map(|e| e.kind).collect()
}

#[test]
fn a_new_user_is_bound_and_both_are_told() {
    let mut h = bot();
    let a = code(&mut h, A);
    let screen = h.last_text(A).unwrap();
    assert!(screen.contains(&format!("https://t.me/wharf_test_bot?start=ref_{a}")), "{screen}");
    assert!(screen.contains("you get 3% of every deposit"), "{screen}");
    assert!(screen.contains("Referrals: 0") && screen.contains("Tier: 🥉 Bronze"), "{screen}");
    assert!(screen.contains("Progress: ░░░░░░░░░░ 0% · 100 PLN to 🥈 Silver (100 PLN)"), "{screen}");
    assert_eq!(code(&mut h, A), a, "the code is stable");

    assert_eq!(h.say(B, &format!("/start ref_{a}")).unwrap(), Flow::Continue, "others greet /start too");
    assert!(
        h.texts(A).iter().any(|t| t.contains("New referral!</b> User 12 joined with your link")),
        "{:?}",
        h.texts(A)
    );
    assert!(h.texts(A).iter().any(|t| t.contains("Achievement unlocked:</b> 🤝 First referral")), "{:?}", h.texts(A));
    assert!(h.last_text(B).unwrap().contains("You joined with an invitation from User 11"));
    assert_eq!(h.kv::<model::Binding>(&model::binding_key(B)).unwrap().referrer, A);
    assert_eq!(summary(&h, A).referees, 1);
    assert_eq!(kinds(&h), ["referral.bound"]);
    let bound = &h.business_events()[0];
    assert_eq!(bound.user_id, Some(B));
}

#[test]
fn self_rebinding_cycles_returning_users_and_bad_codes_are_refused() {
    let mut h = bot();
    let a = code(&mut h, A);
    h.say(A, &format!("/start ref_{a}")).unwrap();
    assert!(h.last_text(A).unwrap().contains("your own invitation link"));
    h.say(B, &format!("/start ref_{a}")).unwrap();
    let b = code(&mut h, B);
    // A is B's referrer: A with B's code would close a cycle.
    h.say(A, &format!("/start ref_{b}")).unwrap();
    assert!(h.last_text(A).unwrap().contains("its owner joined with your invitation"));
    assert!(h.kv::<model::Binding>(&model::binding_key(A)).is_none());
    // B is bound: another code changes nothing.
    let c = code(&mut h, C);
    h.say(B, &format!("/start ref_{c}")).unwrap();
    assert!(h.last_text(B).unwrap().contains("already joined"));
    assert_eq!(h.kv::<model::Binding>(&model::binding_key(B)).unwrap().referrer, A);
    // A user the bot saw before (here: before the plugin was installed) is not new.
    h.seen(20, T0 - 86_400_000);
    h.say(20, &format!("/start ref_{a}")).unwrap();
    assert!(h.last_text(20).unwrap().contains("for new users"));
    // Nor is one whose first message was something else.
    h.say(21, "hello").unwrap();
    h.say(21, &format!("/start ref_{a}")).unwrap();
    assert!(h.last_text(21).unwrap().contains("for new users"));
    h.say(22, "/start ref_zzzzzzz").unwrap();
    assert!(h.last_text(22).unwrap().contains("not valid"));
    h.say(23, "/start ref_!!").unwrap();
    assert!(h.last_text(23).unwrap().contains("not valid"));
    // A plain /start or another payload is not the plugin's business.
    h.say(24, "/start").unwrap();
    h.say(25, "/start promo").unwrap();
    assert!(h.texts(24).is_empty() && h.texts(25).is_empty());
    assert_eq!(summary(&h, A).referees, 1);
    assert_eq!(summary(&h, C).referees, 0);
    assert_eq!(kinds(&h), ["referral.bound"]);
}

#[test]
fn each_deposit_pays_its_commission_once() {
    let mut h = bot();
    let a = code(&mut h, A);
    h.say(B, &format!("/start ref_{a}")).unwrap();
    deposit(&mut h, B, 10_000, "wallet:deposit:1").unwrap();
    let told = h.texts(A).into_iter().find(|t| t.contains("Referral bonus")).unwrap();
    assert!(told.contains("+3 PLN") && told.contains("3% of a 100 PLN deposit by User 12"), "{told}");
    assert!(told.contains("Earned so far: 3 PLN"), "{told}");
    let bonus: FakeEntry = h.kv("fake:referral:wallet:deposit:1").unwrap();
    assert_eq!((bonus.user, bonus.amount), (A, 300));

    // The same event again: nothing more.
    let before = h.texts(A).len();
    deposit(&mut h, B, 10_000, "wallet:deposit:1").unwrap();
    assert_eq!(h.texts(A).len(), before);
    assert_eq!(summary(&h, A), Summary { referees: 1, earned: 300, commissions: 1 });

    // A second deposit is a second commission; rounding is down.
    deposit(&mut h, B, 3_333, "crypto:BTC:ab:0").unwrap();
    assert_eq!(summary(&h, A), Summary { referees: 1, earned: 399, commissions: 2 });
    assert_eq!(h.kv_keys(&model::commissions_prefix(A)).len(), 2);
    // Deposits of users without a referrer, and forged events, pay nothing.
    deposit(&mut h, C, 10_000, "wallet:deposit:3").unwrap();
    let forged = json!({"user_id": B, "amount": 1_000_000, "seq": 9, "key": "x:1"}).to_string();
    h.send(custom("wallet.deposit", forged.as_bytes(), "shop")).unwrap();
    assert_eq!(summary(&h, A).earned, 399);
    assert_eq!(kinds(&h), ["referral.bound", "referral.commission", "referral.commission"], "one event per commission");
    assert!(h.texts(A).iter().any(|t| t.contains("First commission")));
}

#[test]
fn tiers_change_at_their_thresholds_once() {
    let mut h = bot();
    let a = code(&mut h, A);
    h.say(B, &format!("/start ref_{a}")).unwrap();
    // 3% of 3,300 PLN = 99 PLN: still Bronze.
    deposit(&mut h, B, 330_000, "d:1").unwrap();
    assert!(!h.texts(A).iter().any(|t| t.contains("New tier")));
    // 3% of 33.34 PLN = 1 PLN (rounded down): 100 PLN, Silver.
    deposit(&mut h, B, 3_334, "d:2").unwrap();
    assert_eq!(summary(&h, A).earned, 10_000);
    let tier = h.texts(A).into_iter().find(|t| t.contains("New tier")).unwrap();
    assert!(tier.contains("New tier: Silver!") && tier.contains("Next: Gold at 500 PLN"), "{tier}");
    deposit(&mut h, B, 10_000, "d:3").unwrap();
    assert_eq!(h.texts(A).iter().filter(|t| t.contains("New tier")).count(), 1, "once");
    let events: Vec<_> = h.business_events().into_iter().filter(|e| e.kind == "referral.tier").collect();
    assert_eq!(events.len(), 1);
    h.say(A, "/referral").unwrap();
    let screen = h.last_text(A).unwrap();
    assert!(screen.contains("Tier: 🥈 Silver"), "{screen}");
    assert!(screen.contains("Progress: ░░░░░░░░░░ 0% · 397 PLN to 🥇 Gold (500 PLN)"), "{screen}");
    assert!(screen.contains("🥈 Silver tier"), "a badge: {screen}");
}

#[test]
fn the_cap_and_the_referrers_own_deposits_limit_commissions() {
    let mut h = bot().with_settings(json!({"cap_per_referee": 500, "min_referrer_deposit": 5_000}));
    let a = code(&mut h, A);
    assert!(h.last_text(A).unwrap().contains("once your own deposits reach 50 PLN"));
    h.say(B, &format!("/start ref_{a}")).unwrap();
    deposit(&mut h, B, 10_000, "d:1").unwrap();
    assert_eq!(summary(&h, A).earned, 0, "A has not deposited 50 PLN");
    deposit(&mut h, A, 5_000, "d:a").unwrap();
    deposit(&mut h, B, 10_000, "d:2").unwrap();
    deposit(&mut h, B, 10_000, "d:3").unwrap();
    assert_eq!(summary(&h, A).earned, 500, "300 + 200 up to the cap");
    assert!(h.texts(A).iter().any(|t| t.contains("+2 PLN</b> (the most one referral can bring)")));
    deposit(&mut h, B, 10_000, "d:4").unwrap();
    assert_eq!(summary(&h, A), Summary { referees: 1, earned: 500, commissions: 2 });
}

#[test]
fn the_leaderboard_masks_names_unless_the_user_shows_theirs() {
    let mut h = bot();
    let a = code(&mut h, A);
    let c = code(&mut h, C);
    h.say(B, &format!("/start ref_{a}")).unwrap();
    h.say(30, &format!("/start ref_{c}")).unwrap();
    deposit(&mut h, B, 10_000, "d:1").unwrap();
    deposit(&mut h, 30, 20_000, "d:2").unwrap();
    h.say(B, "/top").unwrap();
    let top = h.last_text(B).unwrap();
    assert!(top.starts_with("🏆 <b>Top referrers</b>\n1. Us••• · 6 PLN · 1 referral\n2. Us••• · 3 PLN"), "{top}");
    assert!(top.ends_with("You: 0 PLN earned"), "{top}");
    h.say(A, "/referral").unwrap();
    h.click(A, "👁 Show my name in /top").unwrap();
    assert!(h.answers().iter().any(|a| a.text.as_deref() == Some("Your name is shown in /top.")));
    h.say(A, "/top").unwrap();
    let top = h.last_text(A).unwrap();
    assert!(top.contains("2. User 11 · 3 PLN · 1 referral ← you"), "{top}");
    // With `show_usernames`, users who did not choose are shown.
    let mut open = bot().with_settings(json!({"show_usernames": true}));
    let a = code(&mut open, A);
    open.say(B, &format!("/start ref_{a}")).unwrap();
    deposit(&mut open, B, 10_000, "d:1").unwrap();
    open.say(B, "/top").unwrap();
    assert!(open.last_text(B).unwrap().contains("1. User 11 · 3 PLN"), "{:?}", open.last_text(B));
}

#[test]
fn admins_see_a_users_record_checked_against_the_records() {
    let mut h = bot();
    let a = code(&mut h, A);
    h.say(B, &format!("/start ref_{a}")).unwrap();
    deposit(&mut h, B, 10_000, "d:1").unwrap();
    h.say(ADMIN, &format!("/referrals {A}")).unwrap();
    let text = h.last_text(ADMIN).unwrap();
    assert!(text.contains(&format!("Code: ref_{a}")), "{text}");
    assert!(text.contains("Referrals: 1\n · 12 (User 12): 3 PLN from 1 deposit"), "{text}");
    assert!(text.contains("Records: 1 commission records, 3 PLN ✓"), "{text}");
    h.say(ADMIN, &format!("/referrals {B}")).unwrap();
    assert!(h.last_text(ADMIN).unwrap().contains("Invited by: 11 (User 11)"));
    h.say(ADMIN, "/referrals").unwrap();
    assert!(h.last_text(ADMIN).unwrap().starts_with("Usage:"));
    h.say(ADMIN, "/referrals @nobody_here").unwrap();
    assert!(h.last_text(ADMIN).unwrap().contains("No user @nobody_here"));
    // A total that disagrees with its records is shown.
    h.set_kv(&model::summary_key(A), &Summary { referees: 1, earned: 999, commissions: 1 });
    h.say(ADMIN, &format!("/referrals {A}")).unwrap();
    assert!(h.last_text(ADMIN).unwrap().contains("⚠️ Records"));
}

#[test]
fn without_telegram_the_code_is_shown_without_a_link() {
    let mut h = Harness::<Testable>::new();
    h.say(A, "/referral").unwrap();
    let screen = h.last_text(A).unwrap();
    assert!(
        screen.contains("Your referral code</b>: <code>ref_") && screen.contains("once the bot is connected"),
        "{screen}"
    );
}
