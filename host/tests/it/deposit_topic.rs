//! The wallet's `wallet.deposit` topic as a subscriber sees it (the `ledger-client`
//! fixture, which stores what it receives under `got:TOPIC:N`): once per new deposit
//! entry, from a manual approval (also when two admins approve at once) or from another
//! plugin's `credit-as(deposit)` while the wallet runs as its callee; never for other
//! categories, replays or discarded turns. And deposit methods another plugin serves,
//! handed to it on `wallet.deposit_method`.

use serde_json::{Value, json};

use crate::common::*;
use crate::market::{ADMIN, ADMIN2, WAIT, market_from};
use crate::wallet::request_deposit;

/// The wallet (with `methods` settings lines, if any) and the `ledger-client` subscriber.
fn wallet_and_client(wallet_settings: &str) -> String {
    plugin("wallet", "wallet", r#"grants = ["kv", "telegram.send", "events"]"#)
        + "[plugins.wallet.settings]\nmin_deposit = 100\n"
        + wallet_settings
        + "\n"
        + &plugin("ledger-client", "ledger_client", r#"grants = ["kv", "telegram.send", "call:wallet"]"#)
}

/// What `ledger-client` received on `topic`, in order: `{"source", "chat", "payload"}`.
async fn received(h: &Harness, topic: &str) -> Vec<Value> {
    let keys = h.rt.storage().kv_keys("ledger-client", &format!("got:{topic}:"), None, 1_000).await.unwrap();
    let mut out = Vec::new();
    for key in keys {
        out.push(h.kv::<Value>("ledger-client", &key).await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_deposit_reaches_the_subscriber_once_even_when_two_admins_approve_at_once() {
    for db in databases() {
        let m = market_from(&db, &wallet_and_client("")).await;
        let number = request_deposit(&m, 7, "50", "BLIK 123456").await;
        let asked = |e: &wharf::telegram::emulator::Emulator, a: i64| {
            e.texts(a).iter().any(|t| t.contains(&format!("Deposit request #{number}")))
        };
        assert!(m.emu.wait_sent(WAIT, |e| asked(e, ADMIN) && asked(e, ADMIN2)).await);
        let (a1, d1) = m.button(ADMIN, "Approve").unwrap();
        let (a2, d2) = m.button(ADMIN2, "Approve").unwrap();
        m.emu.press(ADMIN, a1, &d1);
        m.emu.press(ADMIN2, a2, &d2);
        m.emu.press(ADMIN, a1, &d1);
        let answered = |e: &wharf::telegram::emulator::Emulator| {
            let n = |a: i64| e.texts(a).iter().filter(|t| t.contains("approved")).count();
            n(ADMIN) >= 2 && n(ADMIN2) >= 1
        };
        assert!(m.emu.wait_sent(WAIT, answered).await, "{:#?}", m.emu.texts(ADMIN));
        m.h.idle().await;

        assert_eq!(m.balance(7).await, 5_000, "credited once");
        let got = received(&m.h, "wallet.deposit").await;
        assert_eq!(got.len(), 1, "one event for one deposit: {got:#?}");
        let id: i64 = m.kv("wallet", "no:deposit:00000000000000000001").await.unwrap();
        assert_eq!(got[0]["source"], "wallet");
        assert!(got[0]["chat"] == ADMIN || got[0]["chat"] == ADMIN2, "in the approving turn's chat: {}", got[0]);
        assert_eq!(
            got[0]["payload"],
            json!({
                "user_id": 7, "amount": 5000, "seq": 1, "key": format!("wallet:deposit:{id}"),
                "reason": "Deposit #1 (BLIK)", "currency": "PLN", "decimals": 2, "at_ms": T0,
            })
        );
        // A rejected request is no deposit.
        let second = request_deposit(&m, 7, "20", "BLIK 654321").await;
        m.say(ADMIN, &format!("/reject {second} nothing arrived"), "rejected").await;
        m.h.idle().await;
        assert_eq!(received(&m.h, "wallet.deposit").await.len(), 1);
    }
}

async fn ask(h: &Harness, text: &str) -> String {
    let before = h.sent(5).await.len();
    h.say(5, text).await;
    h.idle().await;
    let sent = h.sent(5).await;
    assert_eq!(sent.len(), before + 1, "one reply to {text:?}: {sent:?}");
    sent[before].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugins_deposit_credit_is_announced_and_other_categories_are_not() {
    for db in databases() {
        let h = start_on(&db, &wallet_and_client(""), "").await;
        let first = ask(&h, "/c credit-as deposit 7 1000 client:tx1").await;
        assert_eq!(first, "ok seq=1 amount=1000 balance=1000 key=client:tx1");
        let got = received(&h, "wallet.deposit").await;
        assert_eq!(got.len(), 1, "{got:#?}");
        assert_eq!(got[0]["chat"], 5, "the callee's event joined the caller's turn");
        assert_eq!(got[0]["source"], "wallet", "the wallet emitted it, not its caller");
        assert_eq!(got[0]["payload"]["key"], "client:tx1");
        assert_eq!(got[0]["payload"]["reason"], "client credit");
        assert_eq!(got[0]["payload"]["amount"], 1000);

        assert_eq!(ask(&h, "/c credit-as deposit 7 1000 client:tx1").await, first, "a replay");
        assert_eq!(
            ask(&h, "/c credit-as bonus 7 500 client:ref1").await,
            "ok seq=2 amount=500 balance=1500 key=client:ref1"
        );
        assert_eq!(
            ask(&h, "/c credit-as refund 7 100 client:r1").await,
            "ok seq=3 amount=100 balance=1600 key=client:r1"
        );
        assert_eq!(
            ask(&h, "/c debit-as purchase 7 600 client:o1").await,
            "ok seq=4 amount=-600 balance=1000 key=client:o1"
        );
        // The same key for another category is another request.
        assert_eq!(ask(&h, "/c credit-as bonus 7 1000 client:tx1").await, "key-reused by seq=1 amount=1000");
        assert_eq!(ask(&h, "/c credit 7 1000 client:tx1").await, "key-reused by seq=1 amount=1000");
        assert_eq!(ask(&h, "/c credit-as deposit 7 500 client:ref1").await, "key-reused by seq=2 amount=500");
        // A deposit in a turn that fails is neither credited nor announced.
        h.say(5, "/c deposit-then-fail 7 300 client:tx2").await;
        h.idle().await;
        assert_eq!(ask(&h, "/c category 7 5").await, "no such entry");
        assert_eq!(received(&h, "wallet.deposit").await.len(), 1, "only the first deposit was announced");

        for (seq, category) in [(1, "deposit"), (2, "bonus"), (3, "refund"), (4, "purchase")] {
            assert_eq!(ask(&h, &format!("/c category 7 {seq}")).await, format!("category {category}"));
        }
        assert_eq!(
            ask(&h, "/c credit-as deposit 7 300 client:tx2").await,
            "ok seq=5 amount=300 balance=1300 key=client:tx2"
        );
        let got = received(&h, "wallet.deposit").await;
        assert_eq!(got.len(), 2);
        assert_eq!(
            (got[1]["payload"]["seq"].clone(), got[1]["payload"]["key"].clone()),
            (json!(5), json!("client:tx2"))
        );
        h.rt.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wallet_will_not_load_without_the_events_grant_and_says_which_line_to_change() {
    let plugins = plugin("wallet", "wallet", r#"grants = ["kv", "telegram.send"]"#);
    let msg = format!("{:#}", try_start_on(&Db::Sqlite, &plugins, "").await.err().expect("must not load"));
    assert!(msg.contains("plugin wallet is not granted what it imports"), "{msg}");
    assert!(msg.contains("(function emit) needs \"events\""), "{msg}");
    assert!(msg.contains("add \"events\" to grants under [plugins.wallet]"), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deposit_method_another_plugin_serves_is_handed_to_it() {
    let methods = r#"methods = [
    { id = "blik", name = "BLIK", instructions = "Pay by BLIK." },
    { id = "btc", name = "Bitcoin", plugin = "ledger-client" },
]"#;
    let m = market_from(&Db::Sqlite, &wallet_and_client(methods)).await;
    m.say(7, "/wallet", "Your wallet").await;
    let menu = m.tap(7, "Deposit", "How do you want to pay?").await;
    let labels: Vec<String> = crate::market::buttons(&menu).into_iter().map(|(label, _)| label).collect();
    assert_eq!(labels, ["BLIK", "Bitcoin"], "listed with the manual methods");
    m.tap(7, "Bitcoin", "method btc for 7 via ledger-client").await;
    m.h.idle().await;
    let texts = m.emu.texts(7);
    assert_eq!(texts.last().map(String::as_str), Some("method btc for 7 via ledger-client"), "{texts:#?}");
    assert!(!texts.iter().any(|t| t.contains("Send the amount")), "the wallet answered: {texts:#?}");
    let got = received(&m.h, "wallet.deposit_method").await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["source"], "wallet");
    assert_eq!(got[0]["payload"], json!({ "method": "btc", "user_id": 7, "chat_id": 7, "plugin": "ledger-client" }));
    assert!(m.keys("wallet", "dlg:").await.is_empty(), "no dialog was opened");
    assert!(received(&m.h, "wallet.deposit").await.is_empty());
}
