//! The wallet's `ledger` interface as another plugin sees it (the `ledger-probe`
//! fixture): idempotency keys, typed errors, commit-or-vanish with the caller's turn;
//! and settings that stop a bundled plugin from loading when they are wrong.

use crate::common::*;

fn wallet_and_probe(wallet_settings: &str) -> String {
    plugin("wallet", "wallet", r#"grants = ["kv", "telegram.send"]"#)
        + "[plugins.wallet.settings]\n"
        + wallet_settings
        + "\n"
        + &plugin("ledger-probe", "ledger_probe", r#"grants = ["telegram.send", "call:wallet"]"#)
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
async fn same_key_same_request_applies_once_and_another_request_is_refused() {
    for db in databases() {
        let h = start_on(&db, &wallet_and_probe(""), "").await;
        assert_eq!(ask(&h, "/l credit 7 1000 probe:1").await, "ok seq=1 amount=1000 balance=1000 key=probe:1");
        assert_eq!(ask(&h, "/l credit 7 1000 probe:1").await, "ok seq=1 amount=1000 balance=1000 key=probe:1");
        assert_eq!(ask(&h, "/l credit 7 999 probe:1").await, "key-reused by seq=1 amount=1000");
        assert_eq!(ask(&h, "/l debit 7 1000 probe:1").await, "key-reused by seq=1 amount=1000");
        assert_eq!(ask(&h, "/l credit 8 1000 probe:1").await, "key-reused by seq=1 amount=1000");
        assert_eq!(
            ask(&h, "/l twice 7 300 probe:2").await,
            "ok seq=2 amount=-300 balance=700 key=probe:2 | ok seq=2 amount=-300 balance=700 key=probe:2",
            "a repeat within one turn sees the first write"
        );
        assert_eq!(ask(&h, "/l debit 7 701 probe:3").await, "insufficient balance=700 needed=701");
        assert_eq!(
            ask(&h, "/l debit 7 700 probe:3").await,
            "ok seq=3 amount=-700 balance=0 key=probe:3",
            "a refused key stays free"
        );
        assert!(ask(&h, "/l debit 7 0 probe:4").await.starts_with("invalid-input"));
        assert!(ask(&h, "/l credit 7 -5 probe:4").await.starts_with("invalid-input"));
        assert!(ask(&h, "/l credit 7 5 ").await.starts_with("invalid-input"), "a key is required");
        let own = ask(&h, "/l credit 7 5 wallet:deposit:1").await;
        assert!(own.starts_with("invalid-input") && own.contains("the wallet's own"), "{own}");
        assert_eq!(ask(&h, "/l balance 7").await, "Ok(0)");
        assert_eq!(ask(&h, "/l entries 7").await, "entries -700,-300,1000");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callers_failure_takes_the_ledger_write_with_it() {
    let h = start(&wallet_and_probe("")).await;
    ask(&h, "/l credit 7 1000 probe:1").await;
    h.say(5, "/l debit-then-fail 7 400 probe:2").await;
    h.idle().await;
    assert_eq!(
        h.rt.metrics().plugin_failures("ledger-probe", wharf::metrics::FailureReason::Refused),
        1,
        "the caller returned an error"
    );
    assert_eq!(ask(&h, "/l balance 7").await, "Ok(1000)");
    assert_eq!(ask(&h, "/l debit 7 400 probe:2").await, "ok seq=2 amount=-400 balance=600 key=probe:2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_settings_stop_the_bundled_plugins_from_loading() {
    let cases = [
        ("colour = \"red\"", "invalid [plugins.wallet.settings]", "unknown field `colour`"),
        ("decimals = 9", "invalid [plugins.wallet.settings]", "decimals must be 0-6"),
        ("min_deposit = 500\nmax_deposit = 100", "invalid [plugins.wallet.settings]", "min_deposit <= max_deposit"),
        (
            "methods = [{ id = \"Bad Id\", name = \"x\", instructions = \"y\" }]",
            "invalid [plugins.wallet.settings]",
            "id must be",
        ),
    ];
    for (settings, head, detail) in cases {
        let err = try_start_on(&Db::Sqlite, &wallet_and_probe(settings), "").await.err().expect("must not start");
        let msg = format!("{err:#}");
        assert!(msg.contains(head) && msg.contains(detail), "{settings}: {msg}");
    }
    let shop = plugin("wallet", "wallet", r#"grants = ["kv", "telegram.send"]"#)
        + &plugin("shop", "shop", r#"grants = ["kv", "telegram", "scheduler", "call:wallet"]"#)
        + "[plugins.shop.settings]\nreservation_minutes = 0\n";
    let msg = format!("{:#}", try_start_on(&Db::Sqlite, &shop, "").await.err().expect("must not start"));
    assert!(msg.contains("invalid [plugins.shop.settings]: reservation_minutes must be 1-1440"), "{msg}");
    let no_wallet = plugin("shop", "shop", r#"grants = ["kv", "telegram", "scheduler", "call:wallet"]"#);
    let msg = format!("{:#}", try_start_on(&Db::Sqlite, &no_wallet, "").await.err().expect("must not start"));
    assert!(msg.contains("[plugins.shop] grants \"call:wallet\" but there is no [plugins.wallet]"), "{msg}");
}
