//! The inbox's wire format: each entry kind has a golden file (`inbox_KIND.json`,
//! rewritten by `UPDATE_GOLDEN=1`), rows the previous release wrote
//! (`inbox_legacy_KIND.json`, made by release 0.1's code and never rewritten) are still
//! read and run, and a row that cannot be read is dead-lettered with the reason.

use std::path::{Path, PathBuf};

use wharf::event::{
    CustomEvent, Event, Lifecycle, MemberStatus, MemberUpdate, TimerFired, callback, private_chat, text, user,
};
use wharf::inbox::{DecodeError, Entry};
use wharf::storage::NewInbox;

use crate::common::*;

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name)
}

/// One event of each kind, as plugins see them.
fn samples() -> Vec<(&'static str, Event)> {
    let mut message = text(42, "/echo legacy");
    if let Event::Message(m) = &mut message {
        m.reply_to = Some(7);
        m.date = 1_700_000_000;
        if let Some(u) = &mut m.sender {
            u.language_code = Some("pl".into());
            u.username = Some("ola".into());
        }
    }
    vec![
        ("message", message),
        ("callback", callback(42, "echo:ping")),
        (
            "member",
            Event::Member(MemberUpdate { chat: private_chat(42), user: user(42), status: MemberStatus::Blocked }),
        ),
        (
            "timer",
            Event::Timer(TimerFired { name: "tick".into(), payload: vec![1, 2, 3], due_at: T0, repeating: true }),
        ),
        (
            "custom",
            Event::Custom(CustomEvent {
                topic: "shop.paid".into(),
                payload: b"{\"x\":1}".to_vec(),
                source: "shop".into(),
            }),
        ),
        ("lifecycle", Event::Lifecycle(Lifecycle::Upgraded("0.1.0".into()))),
    ]
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|_| panic!("missing {}", path.display())).trim_end().to_owned()
}

#[test]
fn each_entry_kind_has_a_golden_file_and_reads_back() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    for (kind, event) in samples() {
        let entry = Entry { hops: 3, ..Entry::new(event.clone()) };
        let encoded = entry.encode().unwrap();
        let path = golden(&format!("inbox_{kind}.json"));
        if update {
            std::fs::write(&path, format!("{encoded}\n")).unwrap();
        }
        assert_eq!(read(&path), encoded, "{kind}: the format changed; add a version instead");
        assert_eq!(Entry::decode(&encoded).unwrap(), entry, "{kind}");
        let back = serde_json::to_string(&Entry::decode(&encoded).unwrap().into_wit()).unwrap();
        assert_eq!(back, serde_json::to_string(&event).unwrap(), "{kind}: the WIT event survives the trip");
    }
}

#[test]
fn rows_of_the_previous_release_read_as_hop_zero() {
    for (kind, event) in samples() {
        let legacy = read(&golden(&format!("inbox_legacy_{kind}.json")));
        let entry = Entry::decode(&legacy).unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(entry, Entry::new(event), "{kind}");
    }
}

/// Version 3: an admin's action (the row targets the plugin).
#[test]
fn an_admin_action_row_has_a_golden_file_and_reads_back() {
    use wharf::inbox::{AdminAct, Row};
    use wharf::panel::{Surface, Value, Who};
    let act = AdminAct {
        action: "discount".into(),
        params: vec![
            ("percent".into(), Value::Integer(30)),
            ("city".into(), Value::Choice("Warsaw".into())),
            ("products".into(), Value::Ids(vec!["p1".into(), "p2".into()])),
            ("price".into(), Value::Amount(1250)),
        ],
        who: Who::telegram(1000, Surface::Web),
        request: "0f1e2d3c".into(),
    };
    let encoded = act.encode().unwrap();
    let path = golden("inbox_admin_act.json");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, format!("{encoded}\n")).unwrap();
    }
    assert_eq!(read(&path), encoded, "the format changed; add a version instead");
    assert_eq!(Row::decode(&encoded).unwrap(), Row::Act(act));
}

#[test]
fn unknown_versions_and_junk_are_errors_with_a_reason() {
    let newer = r#"{"v":4,"hops":0,"event":{"future":{}}}"#;
    assert!(matches!(Entry::decode(newer), Err(DecodeError::UnknownVersion(4))));
    let act = read(&golden("inbox_admin_act.json"));
    assert!(matches!(Entry::decode(&act), Err(DecodeError::NotAnEvent)), "an action never reaches a handle");
    for junk in ["", "[1]", "{\"v\":1}", "{\"Message\":{}}", "{\"v\":\"x\"}"] {
        let err = Entry::decode(junk).expect_err(junk);
        assert!(err.to_string().starts_with("not an inbox entry"), "{junk}: {err}");
    }
    let no_hops = r#"{"v":1,"event":{"lifecycle":"installed"}}"#;
    assert_eq!(Entry::decode(no_hops).unwrap().hops, 0, "hops defaults to 0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_rows_run_and_unreadable_rows_are_dead_lettered_with_the_reason() {
    for db in databases() {
        let h = start_on(&db, &plugin("echo", "echo", r#"grants = ["telegram.send"]"#), "").await;
        let raw = |payload: String, target: Option<&str>| NewInbox {
            lane: 42,
            target: target.map(str::to_owned),
            payload,
            dedupe: None,
        };
        let mut rows = Vec::new();
        for (kind, _) in samples() {
            let target = matches!(kind, "timer" | "lifecycle").then_some("echo");
            rows.push(raw(read(&golden(&format!("inbox_legacy_{kind}.json"))), target));
        }
        rows.push(raw(r#"{"v":9,"hops":0,"event":{"message":{}}}"#.into(), None));
        rows.push(raw("{\"not\": an event".into(), None));
        let current = Entry::new(text(42, "/echo after"));
        rows.push(NewInbox::entry(42, None, &current, None).unwrap());
        h.rt.storage().push_inbox(&rows, T0).await.unwrap();
        h.idle().await;
        assert_eq!(
            h.sent(42).await,
            ["legacy", "pong", "after"],
            "{db:?}: the old rows ran (message, button), then the new one"
        );
        let dead = h.rt.storage().inbox_dead().await.unwrap();
        assert_eq!(dead.len(), 2, "{db:?}: {dead:?}");
        assert!(dead.iter().all(|(lane, _, _)| *lane == 42));
        assert!(dead[0].2.contains("version 9"), "{db:?}: {}", dead[0].2);
        assert!(dead[1].2.starts_with("not an inbox entry"), "{db:?}: {}", dead[1].2);
        assert_eq!(dead[1].1, "{\"not\": an event", "{db:?}: the row is kept as it was");
        assert_eq!(h.rt.storage().inbox_len().await.unwrap(), 0);
        h.rt.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_emitted_by_a_turn_are_one_hop_further() {
    use sqlx::{Connection as _, Executor as _, Row as _};
    let dir = tempfile::tempdir().unwrap();
    let config = config_text(dir.path(), &Db::Sqlite, &plugin("probe", "probe", ALL), "");
    let config = wharf::config::Config::parse(&config, dir.path()).unwrap();
    let opts = wharf::RuntimeOptions { clock: wharf::clock::Clock::manual(T0), ..Default::default() };
    let rt = wharf::Runtime::start(&config, opts).await.unwrap();
    // Emitted entries are consumed at once: a test trigger keeps a copy of every insert.
    sqlx::any::install_default_drivers();
    let url = format!("sqlite:{}", dir.path().join("wharf.db").display());
    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    conn.execute(
        "CREATE TABLE seen (payload TEXT NOT NULL); \
         CREATE TRIGGER test_seen AFTER INSERT ON inbox BEGIN INSERT INTO seen VALUES (NEW.payload); END;",
    )
    .await
    .unwrap();
    let entry = Entry { hops: 4, ..Entry::new(text(5, "/emit probe.hop")) };
    rt.storage().push_inbox(&[NewInbox::entry(5, None, &entry, None).unwrap()], T0).await.unwrap();
    rt.wait_idle(IDLE).await.unwrap();
    let rows = sqlx::query("SELECT payload FROM seen").fetch_all(&mut conn).await.unwrap();
    let hops: Vec<(bool, u32)> = rows
        .iter()
        .map(|r| Entry::decode(&r.get::<String, _>(0)).unwrap())
        .map(|e| (matches!(e.event, wharf::inbox::Event::Custom(_)), e.hops))
        .collect();
    assert_eq!(hops, [(false, 4), (true, 5)]);
    rt.shutdown().await;
}
