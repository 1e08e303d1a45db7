//! Typed calls between plugins: `teller` imports the interface `bank` exports; both
//! run in one store within the turn, so their writes commit or vanish together.

use crate::common::*;

fn bank_and_teller(teller_grants: &str) -> String {
    plugin("bank", "bank", r#"grants = ["kv"]"#) + &plugin("teller", "teller", teller_grants)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_plugins_writes_commit_together() {
    for db in databases() {
        let h = start_on(&db, &bank_and_teller(r#"grants = ["kv", "telegram.send", "call:bank"]"#), "").await;
        h.say(5, "/pay 30").await;
        h.say(5, "/pay 12").await;
        h.idle().await;
        assert_eq!(h.kv::<i64>("bank", "balance:alice").await, Some(42), "the callee wrote in its own namespace");
        assert_eq!(h.kv::<i64>("teller", "last-paid").await, Some(12));
        assert_eq!(h.kv::<i64>("teller", "balance:alice").await, None, "namespaces stay apart");
        assert_eq!(h.sent(5).await, ["balance 30", "balance 42"]);
        h.rt.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trap_in_the_callee_commits_nothing_of_either() {
    let h = start(&bank_and_teller(r#"grants = ["kv", "telegram.send", "call:bank"]"#)).await;
    h.say(5, "/pay 5").await;
    h.say(5, "/boom 100").await;
    h.idle().await;
    assert_eq!(h.kv::<i64>("bank", "balance:alice").await, Some(5), "the deposit before the trap is gone");
    assert_eq!(h.kv::<bool>("teller", "teller-wrote").await, None, "the caller's write is gone too");
    assert_eq!(h.rt.metrics().plugin_malfunctions("teller"), 1);
    h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callee_error_is_a_typed_result_the_caller_handles() {
    let h = start(&bank_and_teller(r#"grants = ["kv", "telegram.send", "call:bank"]"#)).await;
    h.say(5, "/pay 5").await;
    h.say(5, "/take 50").await;
    h.idle().await;
    assert_eq!(h.kv::<i64>("bank", "balance:alice").await, Some(5));
    assert_eq!(h.kv::<bool>("teller", "teller-tried").await, None, "the refusing caller's write is discarded");
    assert_eq!(h.rt.metrics().plugin_failures("teller", wharf::metrics::FailureReason::Refused), 1);
    assert_eq!(h.rt.metrics().plugin_malfunctions("teller"), 0);
    h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calling_without_the_grant_or_the_exporter_fails_to_load() {
    let msg = format!(
        "{:#}",
        try_start_on(&Db::Sqlite, &bank_and_teller(r#"grants = ["kv", "telegram.send"]"#), "")
            .await
            .err()
            .expect("no grant")
    );
    assert!(
        msg.contains(
            "plugin teller imports wharf:fixtures/bank@0.1.0 from plugin bank but is not granted \"call:bank\""
        ),
        "{msg}"
    );
    assert!(msg.contains("add \"call:bank\" to grants under [plugins.teller]"), "{msg}");

    // Missing host grants and a missing call grant: all named in one error.
    let msg = format!(
        "{:#}",
        try_start_on(&Db::Sqlite, &bank_and_teller(r#"grants = ["telegram.send"]"#), "")
            .await
            .err()
            .expect("no grants")
    );
    assert!(msg.contains("plugin teller is not granted what it imports"), "{msg}");
    assert!(msg.contains("needs \"kv\""), "{msg}");
    assert!(msg.contains("; and plugin teller imports wharf:fixtures/bank@0.1.0 from plugin bank"), "{msg}");

    let only_teller = plugin("teller", "teller", r#"grants = ["kv", "telegram.send"]"#);
    let msg = format!("{:#}", try_start_on(&Db::Sqlite, &only_teller, "").await.err().expect("no exporter"));
    assert!(msg.contains("plugin teller imports wharf:fixtures/bank@0.1.0, which no enabled plugin exports"), "{msg}");
}

/// The impostor (a second exporter of `wharf:wallet/ledger`, listed first), the wallet,
/// and `ledger-probe` importing the ledger with `grants`.
fn impostor_wallet_and_importer(grants: &str) -> String {
    plugin("impostor", "impostor", r#"grants = ["telegram.send"]"#)
        + &plugin("wallet", "wallet", r#"grants = ["kv", "telegram.send", "events"]"#)
        + &plugin("ledger-probe", "ledger_probe", grants)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_links_to_the_exporter_its_grant_names() {
    // Several starts: a choice left to map order would pick the impostor some of the time.
    for round in 0..4 {
        let h = start(&impostor_wallet_and_importer(r#"grants = ["telegram.send", "call:wallet"]"#)).await;
        h.say(5, &format!("/l credit 5 100 probe:{round}")).await;
        h.idle().await;
        assert_eq!(h.sent(5).await, [format!("ok seq=1 amount=100 balance=100 key=probe:{round}")], "round {round}");
        h.rt.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_two_plugins_could_satisfy_without_one_grant_fails_naming_both() {
    for (grants, why) in [
        (r#"grants = ["telegram.send"]"#, "and none is named by a grant"),
        (
            r#"grants = ["telegram.send", "call:wallet", "call:impostor"]"#,
            "and is granted \"call:impostor\", \"call:wallet\"",
        ),
    ] {
        let err = try_start_on(&Db::Sqlite, &impostor_wallet_and_importer(grants), "").await.err().expect(why);
        let msg = format!("{err:#}");
        assert!(
            msg.contains(
                "plugin ledger-probe imports wharf:wallet/ledger@0.1.0, which plugins impostor and wallet both export"
            ),
            "{msg}"
        );
        assert!(msg.contains(why), "{msg}");
    }
}
