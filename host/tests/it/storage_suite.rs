//! The storage contract, run against SQLite and (when configured) PostgreSQL.

use wharf::storage::{CommitOutcome, KeyRead, KvQuota, KvUsage, NewInbox, RangeRead, Storage, TimerOp, TurnCommit};

use crate::common::{Db, databases};

pub(crate) async fn open(db: &Db) -> (Storage, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let storage = match db {
        Db::Sqlite => Storage::open(&format!("sqlite:{}", dir.path().join("s.db").display()), None).await,
        Db::Postgres(url) => {
            let schema = format!(
                "wharf_s{}_{}",
                std::process::id(),
                dir.path().file_name().unwrap().to_string_lossy().to_lowercase().replace(['.', '-'], "_")
            );
            Storage::open(url, Some(&schema)).await
        }
    };
    (storage.expect("storage opens"), dir)
}

fn write(ns: &str, key: &str, v: &str) -> (String, String, Option<Vec<u8>>) {
    (ns.into(), key.into(), Some(v.as_bytes().to_vec()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_reads_conflict_and_fresh_ones_commit() {
    for db in databases() {
        let (s, _d) = open(&db).await;
        let absent = KeyRead { ns: "p".into(), key: "k".into(), version: 0 };
        let first =
            TurnCommit { reads: vec![absent.clone()], writes: vec![write("p", "k", "1")], ..Default::default() };
        assert_eq!(s.commit(first.clone()).await.unwrap(), CommitOutcome::Committed, "{db:?}");
        assert_eq!(s.commit(first).await.unwrap(), CommitOutcome::Conflict, "{db:?}: it was absent, now it exists");
        let (value, version) = s.kv_get("p", "k").await.unwrap();
        assert_eq!(value.as_deref(), Some(&b"1"[..]));
        assert!(version > 0);
        let fresh = KeyRead { ns: "p".into(), key: "k".into(), version };
        let del = TurnCommit {
            reads: vec![fresh.clone()],
            writes: vec![("p".into(), "k".into(), None)],
            ..Default::default()
        };
        assert_eq!(s.commit(del).await.unwrap(), CommitOutcome::Committed);
        // Recreating the key gives it a new version, so an old read cannot pass (no ABA).
        let recreate = TurnCommit { writes: vec![write("p", "k", "1")], ..Default::default() };
        assert_eq!(s.commit(recreate).await.unwrap(), CommitOutcome::Committed);
        let stale = TurnCommit { reads: vec![fresh], writes: vec![write("p", "k", "2")], ..Default::default() };
        assert_eq!(s.commit(stale).await.unwrap(), CommitOutcome::Conflict, "{db:?}");
        assert_eq!(s.kv_get("p", "k").await.unwrap().0.as_deref(), Some(&b"1"[..]));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_conflict_on_phantoms_and_ignore_like_wildcards() {
    for db in databases() {
        let (s, _d) = open(&db).await;
        let setup = TurnCommit {
            writes: vec![
                write("p", "a%1", "x"),
                write("p", "a_2", "x"),
                write("p", "ab", "x"),
                write("p", "b", "x"),
                write("q", "a%9", "x"),
            ],
            ..Default::default()
        };
        s.commit(setup).await.unwrap();
        assert_eq!(s.kv_keys("p", "a%", None, 10).await.unwrap(), ["a%1"], "{db:?}: % is not a wildcard");
        assert_eq!(
            s.kv_keys("p", "a", Some("a%1"), 10).await.unwrap(),
            ["a_2", "ab"],
            "{db:?}: after the cursor, byte order"
        );
        let listing = RangeRead {
            ns: "p".into(),
            prefix: "a".into(),
            after: None,
            limit: 10,
            seen: vec!["a%1".into(), "a_2".into(), "ab".into()],
        };
        let t = TurnCommit { ranges: vec![listing.clone()], ..Default::default() };
        assert_eq!(s.commit(t.clone()).await.unwrap(), CommitOutcome::Committed);
        s.commit(TurnCommit { writes: vec![write("p", "aa", "x")], ..Default::default() }).await.unwrap();
        assert_eq!(s.commit(t).await.unwrap(), CommitOutcome::Conflict, "{db:?}: a key appeared in the listed range");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inbox_entry_is_handled_once_and_dedupe_keys_hold() {
    for db in databases() {
        let (s, _d) = open(&db).await;
        let e =
            |d: Option<&str>| NewInbox { lane: 9, target: None, payload: "{}".into(), dedupe: d.map(str::to_owned) };
        s.push_inbox(&[e(Some("u1")), e(Some("u1")), e(None)], 0).await.unwrap();
        let rows = s.inbox_after(0, 10).await.unwrap();
        assert_eq!(rows.len(), 2, "{db:?}: the duplicate was skipped");
        let turn = TurnCommit { inbox_id: Some(rows[0].id), writes: vec![write("p", "k", "v")], ..Default::default() };
        assert_eq!(s.commit(turn.clone()).await.unwrap(), CommitOutcome::Committed);
        assert_eq!(s.commit(turn).await.unwrap(), CommitOutcome::AlreadyHandled, "{db:?}");
        assert_eq!(s.inbox_len().await.unwrap(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn due_timers_move_to_the_inbox_exactly_once() {
    for db in databases() {
        let (s, _d) = open(&db).await;
        let set = |name: &str, due: i64, every: Option<i64>| TimerOp::Set {
            plugin: "p".into(),
            name: name.into(),
            lane: 4,
            due_ms: due,
            interval_ms: every,
            payload: vec![1],
        };
        let t = TurnCommit {
            timers: vec![set("once", 100, None), set("job", 100, Some(50)), set("later", 10_000, None)],
            ..Default::default()
        };
        s.commit(t).await.unwrap();
        assert_eq!(s.fire_due_timers(99, |_| "{}".into()).await.unwrap(), 0);
        assert_eq!(s.fire_due_timers(260, |t| t.name.clone()).await.unwrap(), 2, "{db:?}");
        assert_eq!(s.fire_due_timers(260, |_| "{}".into()).await.unwrap(), 0, "{db:?}: not twice");
        let rows = s.inbox_after(0, 10).await.unwrap();
        let mut names: Vec<&str> = rows.iter().map(|r| r.payload.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["job", "once"]);
        assert!(rows.iter().all(|r| r.target.as_deref() == Some("p") && r.lane == 4));
        assert_eq!(s.next_timer_due().await.unwrap(), Some(300), "{db:?}: the job skipped its missed runs");
        assert!(!s.timer_exists("p", "once").await.unwrap());
        assert!(s.timer_exists("p", "job").await.unwrap());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_read_validate_write_loops_lose_no_update() {
    for db in databases() {
        let (s, _d) = open(&db).await;
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                let mut conflicts = 0;
                for _ in 0..10 {
                    loop {
                        let (v, version) = s.kv_get("p", "n").await.unwrap();
                        let n: i64 = v.map_or(0, |b| String::from_utf8(b).unwrap().parse().unwrap());
                        let t = TurnCommit {
                            reads: vec![KeyRead { ns: "p".into(), key: "n".into(), version }],
                            writes: vec![write("p", "n", &(n + 1).to_string())],
                            ..Default::default()
                        };
                        if s.commit(t).await.unwrap() == CommitOutcome::Committed {
                            break;
                        }
                        conflicts += 1;
                    }
                }
                conflicts
            }));
        }
        let mut conflicts = 0;
        for t in tasks {
            conflicts += t.await.unwrap();
        }
        let (v, _) = s.kv_get("p", "n").await.unwrap();
        assert_eq!(v.as_deref(), Some(&b"200"[..]), "{db:?} ({conflicts} conflicts)");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lanes_are_leased_through_the_database_and_served_round_robin() {
    for db in databases() {
        let (s, _d) = open(&db).await;
        let e = |lane: i64| NewInbox { lane, target: None, payload: "{}".into(), dedupe: None };
        s.push_inbox(&[e(1), e(1), e(1), e(2)], 0).await.unwrap();
        assert_eq!(s.lanes_waiting(10).await.unwrap(), [1, 2], "{db:?}");
        assert_eq!(s.claim_lanes("a", &[1, 2], 60_000).await.unwrap().len(), 2, "{db:?}");
        assert!(s.claim_lanes("b", &[1, 2], 60_000).await.unwrap().is_empty(), "{db:?}: held by a");
        assert!(s.lanes_waiting(10).await.unwrap().is_empty(), "{db:?}");

        let heads = s.lane_heads(&[1, 2], 2).await.unwrap();
        let lanes: Vec<i64> = heads.iter().map(|r| r.lane).collect();
        assert_eq!(lanes, [1, 1, 2], "{db:?}: two of lane 1, in order, and lane 2's one");
        assert!(heads[0].id < heads[1].id);

        let b: std::sync::Arc<str> = "b".into();
        let a: std::sync::Arc<str> = "a".into();
        let turn = |id: i64| TurnCommit { inbox_id: Some(id), ..Default::default() };
        assert_eq!(s.commit_as(turn(heads[0].id), &b).await.unwrap(), CommitOutcome::LeaseLost, "{db:?}");
        assert_eq!(s.commit_as(turn(heads[0].id), &a).await.unwrap(), CommitOutcome::Committed, "{db:?}");

        // An expired lease is taken over, and the old holder's commits are refused.
        s.claim_lanes("a", &[1], -1_000).await.unwrap();
        assert_eq!(s.lanes_waiting(10).await.unwrap(), [1], "{db:?}: the lease ran out");
        assert_eq!(s.claim_lanes("b", &[1], 60_000).await.unwrap(), [1], "{db:?}");
        assert_eq!(s.commit_as(turn(heads[1].id), &a).await.unwrap(), CommitOutcome::LeaseLost, "{db:?}");

        // A lane given back with work left goes behind lanes that waited.
        s.release_lanes("b", &[1]).await.unwrap();
        s.push_inbox(&[e(3)], 0).await.unwrap();
        assert_eq!(s.lanes_waiting(10).await.unwrap(), [3, 1], "{db:?}");

        // A drained lane disappears once given back; its held row survives until then.
        assert_eq!(s.commit_as(turn(heads[2].id), &a).await.unwrap(), CommitOutcome::Committed, "{db:?}");
        s.release_lanes("a", &[2]).await.unwrap();
        s.claim_lanes("c", &[3], 60_000).await.unwrap();
        s.release_all_lanes("c").await.unwrap();
        assert_eq!(s.lanes_waiting(10).await.unwrap(), [3, 1], "{db:?}");
        assert!(s.inbox_has_work().await.unwrap());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_lanes_are_claimed_and_drained_lanes_given_back_in_one_statement_each() {
    for db in databases() {
        let (s, _d) = open(&db).await;
        let e = |lane: i64| NewInbox { lane, target: None, payload: "{}".into(), dedupe: None };
        s.push_inbox(&[e(1), e(2), e(2), e(3)], 0).await.unwrap();
        let mut got = s.claim_waiting("a", 2, 60_000).await.unwrap();
        got.sort_unstable();
        assert_eq!(got, [1, 2], "{db:?}: the two longest waiting, no more than asked");
        assert!(s.claim_waiting("b", 10, 60_000).await.unwrap() == [3], "{db:?}: a's lanes are not b's to take");
        assert!(s.claim_waiting("c", 10, 60_000).await.unwrap().is_empty(), "{db:?}: all held");

        // Lane 1 runs its only entry; lane 2 runs one of two.
        let heads = s.lane_heads(&[1, 2], 10).await.unwrap();
        let a: std::sync::Arc<str> = "a".into();
        let turn = |id: i64| TurnCommit { inbox_id: Some(id), ..Default::default() };
        for id in [heads[0].id, heads[1].id] {
            assert_eq!(s.commit_as(turn(id), &a).await.unwrap(), CommitOutcome::Committed, "{db:?}");
        }
        assert_eq!(s.release_drained("b", &[1, 2]).await.unwrap(), Vec::<i64>::new(), "{db:?}: not b's");
        assert_eq!(s.release_drained("a", &[1, 2]).await.unwrap(), [1], "{db:?}: lane 2 still has work");
        s.push_inbox(&[e(1)], 0).await.unwrap();
        assert_eq!(s.claim_waiting("c", 10, 60_000).await.unwrap(), [1], "{db:?}: lane 1 came back, free");

        // An expired lease is taken over.
        s.claim_lanes("a", &[2], -1_000).await.unwrap();
        assert_eq!(s.claim_waiting("c", 10, 60_000).await.unwrap(), [2], "{db:?}");
    }
}

/// SQLite sends a batch's writes and its COMMIT as one multi-statement script; a statement
/// failing half-way must leave nothing applied (PostgreSQL sends them one by one inside
/// BEGIN/ROLLBACK as before).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_script_failing_half_way_applies_nothing_and_the_next_batch_commits() {
    use sqlx::{Connection, Executor};
    let (s, dir) = open(&Db::Sqlite).await;
    let e = NewInbox { lane: 1, target: None, payload: "{}".into(), dedupe: None };
    s.push_inbox(&[e], 0).await.unwrap();
    let id = s.lane_heads(&[1], 1).await.unwrap()[0].id;
    let mut raw = sqlx::AnyConnection::connect(&format!("sqlite:{}", dir.path().join("s.db").display())).await.unwrap();
    raw.execute("CREATE TRIGGER boom BEFORE INSERT ON event_log BEGIN SELECT RAISE(ABORT, 'boom'); END").await.unwrap();
    let log = wharf::storage::NewLogEvent { plugin: "p".into(), ..wharf::storage::NewLogEvent::host("k", "K", "•") };
    let turn =
        TurnCommit { inbox_id: Some(id), writes: vec![write("p", "k", "v")], log: vec![log], ..Default::default() };
    let failed = s.commit(turn.clone()).await;
    assert!(failed.is_err(), "the event_log insert fails: {failed:?}");
    assert_eq!(s.kv_get("p", "k").await.unwrap().0, None, "the KV write before it was rolled back");
    assert_eq!(s.lane_heads(&[1], 1).await.unwrap().len(), 1, "the entry is still queued");

    raw.execute("DROP TRIGGER boom").await.unwrap();
    assert_eq!(s.commit(turn.clone()).await.unwrap(), CommitOutcome::Committed);
    assert_eq!(s.commit(turn).await.unwrap(), CommitOutcome::AlreadyHandled, "once");
    let (value, v1) = s.kv_get("p", "k").await.unwrap();
    assert_eq!(value.as_deref(), Some(&b"v"[..]));
    assert_eq!(s.event_log().await.unwrap().len(), 1);
    s.commit(TurnCommit { writes: vec![write("p", "k", "w")], ..Default::default() }).await.unwrap();
    let (_, v2) = s.kv_get("p", "k").await.unwrap();
    assert!(v2 > v1, "versions keep growing across batches ({v1} then {v2})");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kv_usage_is_stored_with_the_writes_and_quotas_refuse_growth_at_commit() {
    use CommitOutcome::{Committed, Conflict};
    for db in databases() {
        let (s, _d) = open(&db).await;
        s.set_kv_quotas([("q".to_owned(), KvQuota { bytes: 100, keys: 2 })]);
        let turn = |writes| TurnCommit { writes, ..Default::default() };
        let commit = |writes| s.commit(turn(writes));
        assert_eq!(commit(vec![write("q", "a", "0123456789"), write("q", "b", "x")]).await.unwrap(), Committed);
        assert_eq!(s.kv_usage("q").await.unwrap(), KvUsage { bytes: 13, keys: 2 }, "{db:?}");
        assert_eq!(commit(vec![write("q", "c", "x")]).await.unwrap(), Conflict, "{db:?}: a third key");
        assert_eq!(s.kv_get("q", "c").await.unwrap().0, None);
        // Overwrite, delete and add in one turn: the key count stays, so it fits.
        let swap = vec![write("q", "a", "y"), ("q".into(), "b".into(), None), write("q", "c", "x")];
        assert_eq!(commit(swap).await.unwrap(), Committed, "{db:?}");
        assert_eq!(s.kv_usage("q").await.unwrap(), KvUsage { bytes: 4, keys: 2 });
        assert_eq!(commit(vec![write("q", "a", &"z".repeat(99))]).await.unwrap(), Conflict, "{db:?}: 102 bytes");
        // A namespace without a quota is counted, not limited; one over a lowered quota
        // may shrink but not grow.
        assert_eq!(commit(vec![write("free", "k", &"z".repeat(500))]).await.unwrap(), Committed);
        s.set_kv_quotas([("free".to_owned(), KvQuota { bytes: 10, keys: 10 })]);
        assert_eq!(commit(vec![write("free", "k2", "x")]).await.unwrap(), Conflict, "{db:?}");
        assert_eq!(commit(vec![write("free", "k", "small")]).await.unwrap(), Committed, "{db:?}");
        for ns in ["q", "free"] {
            assert_eq!(s.kv_usage(ns).await.unwrap(), s.kv_usage_recount(ns).await.unwrap(), "{db:?}: {ns}");
        }
        assert_eq!(s.kv_usage("free").await.unwrap(), KvUsage { bytes: 6, keys: 1 });
    }
}
