//! The wallet's `ledger` interface as another plugin sees it (the `ledger-probe`
//! fixture, built against the pinned `wharf:wallet/ledger@0.1.0`, calling a wallet that
//! exports 0.1.1): idempotency keys, typed errors, commit-or-vanish with the caller's
//! turn; semver-compatible linking both ways; and settings that stop a bundled plugin
//! from loading when they are wrong.

use crate::common::*;

fn wallet_and_probe(wallet_settings: &str) -> String {
    plugin("wallet", "wallet", r#"grants = ["kv", "telegram.send", "events"]"#)
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
        (
            "methods = [{ id = \"btc\", name = \"Bitcoin\" }]",
            "invalid [plugins.wallet.settings]",
            "deposit method \"btc\" needs either instructions (a manual method) or plugin",
        ),
        (
            "methods = [{ id = \"btc\", name = \"Bitcoin\", instructions = \"y\", plugin = \"crypto\" }]",
            "invalid [plugins.wallet.settings]",
            "not both",
        ),
    ];
    for (settings, head, detail) in cases {
        let err = try_start_on(&Db::Sqlite, &wallet_and_probe(settings), "").await.err().expect("must not start");
        let msg = format!("{err:#}");
        assert!(msg.contains(head) && msg.contains(detail), "{settings}: {msg}");
    }
    let shop = plugin("wallet", "wallet", r#"grants = ["kv", "telegram.send", "events"]"#)
        + &plugin("shop", "shop", r#"grants = ["kv", "telegram", "scheduler", "events", "call:wallet"]"#)
        + "[plugins.shop.settings]\nreservation_minutes = 0\n";
    let msg = format!("{:#}", try_start_on(&Db::Sqlite, &shop, "").await.err().expect("must not start"));
    assert!(msg.contains("invalid [plugins.shop.settings]: reservation_minutes must be 1-1440"), "{msg}");
    let no_wallet = plugin("shop", "shop", r#"grants = ["kv", "telegram", "scheduler", "events", "call:wallet"]"#);
    let msg = format!("{:#}", try_start_on(&Db::Sqlite, &no_wallet, "").await.err().expect("must not start"));
    assert!(msg.contains("[plugins.shop] grants \"call:wallet\" but there is no [plugins.wallet]"), "{msg}");
}

/// Whether the component at `path` names `what` (an import or export name) anywhere.
fn names(path: &std::path::Path, what: &str) -> bool {
    let bytes = std::fs::read(path).unwrap();
    bytes.windows(what.len()).any(|w| w == what.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_built_against_0_1_0_and_one_built_against_0_1_1_share_the_ledger() {
    let (old, new) = ("wharf:wallet/ledger@0.1.0", "wharf:wallet/ledger@0.1.1");
    assert!(names(&wasm("wallet"), new) && !names(&wasm("wallet"), old), "the wallet exports 0.1.1 only");
    assert!(names(&wasm("ledger_probe"), old) && !names(&wasm("ledger_probe"), new), "the probe imports 0.1.0");
    assert!(names(&wasm("ledger_client"), new), "the client imports 0.1.1");
    let plugins = wallet_and_probe("")
        + &plugin("ledger-client", "ledger_client", r#"grants = ["kv", "telegram.send", "call:wallet"]"#);
    let h = start(&plugins).await;
    assert_eq!(ask(&h, "/l credit 7 1000 probe:1").await, "ok seq=1 amount=1000 balance=1000 key=probe:1");
    assert_eq!(ask(&h, "/c category 7 1").await, "category adjustment", "plain credit is an adjustment");
    assert_eq!(ask(&h, "/c credit-as bonus 7 500 client:1").await, "ok seq=2 amount=500 balance=1500 key=client:1");
    assert_eq!(ask(&h, "/l debit 7 200 probe:2").await, "ok seq=3 amount=-200 balance=1300 key=probe:2");
    assert_eq!(ask(&h, "/c category 7 3").await, "category purchase", "plain debit is a purchase");
    assert_eq!(ask(&h, "/l entries 7").await, "entries -200,500,1000", "0.1.0 records keep their shape");
    assert_eq!(ask(&h, "/l credit 7 500 client:1").await, "key-reused by seq=2 amount=500");
    h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_importer_newer_than_the_exporter_is_refused_with_the_reason() {
    // The impostor exports the ledger at 0.1.0; the client needs 0.1.1.
    let plugins = plugin("impostor", "impostor", r#"grants = ["telegram.send"]"#)
        + &plugin("ledger-client", "ledger_client", r#"grants = ["kv", "telegram.send", "call:impostor"]"#);
    let msg = format!("{:#}", try_start_on(&Db::Sqlite, &plugins, "").await.err().expect("must not load"));
    assert!(
        msg.contains(
            "plugin ledger-client imports wharf:wallet/ledger@0.1.1, but plugin impostor exports wharf:wallet/ledger@0.1.0 and that cannot serve it (it needs wharf:wallet/ledger@0.1.x at 0.1.1 or newer): upgrade plugin impostor, or build ledger-client against wharf:wallet/ledger@0.1.0"
        ),
        "{msg}"
    );
    // With the wallet there too, the grant still decides: the impostor is named, and refused.
    let plugins = plugins + &plugin("wallet", "wallet", r#"grants = ["kv", "telegram.send", "events"]"#);
    let msg = format!("{:#}", try_start_on(&Db::Sqlite, &plugins, "").await.err().expect("must not load"));
    assert!(msg.contains("but plugin impostor exports wharf:wallet/ledger@0.1.0"), "{msg}");
}
