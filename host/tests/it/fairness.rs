//! Fair dispatch from the database: a lane with a huge backlog does not hide another
//! chat's entries (also after a restart), a lane's entries run in order, and inbox rows
//! are read in every format a release wrote; an unreadable row is dead-lettered with
//! the reason, never dropped.

use std::time::{Duration, Instant};

use wharf::clock::Clock;
use wharf::config::Config;
use wharf::storage::NewInbox;
use wharf::{Runtime, RuntimeOptions};

use crate::common::*;

/// The chat with the backlog.
const NOISY: i64 = 777;
/// How long another chat may wait for its answer (a liveness check, not a timing).
const DEADLINE: Duration = Duration::from_secs(60);

async fn runtime(dir: &std::path::Path, db: &Db, schema: &Option<String>) -> Runtime {
    let text = config_text(dir, db, &plugin("echo", "echo", r#"grants = ["telegram.send"]"#), "");
    let config = Config::parse(&text, dir).unwrap();
    let opts = RuntimeOptions { clock: Clock::manual(T0), pg_schema: schema.clone(), ..RuntimeOptions::default() };
    Runtime::start(&config, opts).await.unwrap()
}

fn schema_for(db: &Db, name: &str) -> Option<String> {
    match db {
        Db::Sqlite => None,
        Db::Postgres(_) => Some(format!("wharf_fair_{name}_{}_{}", std::process::id(), rand::random::<u32>())),
    }
}

/// Texts of the replies queued for `chat`, oldest first.
async fn replies(rt: &Runtime, chat: i64) -> Vec<String> {
    rt.storage()
        .outbox(Some(chat))
        .await
        .unwrap()
        .iter()
        .filter_map(|row| {
            let v: serde_json::Value = serde_json::from_str(&row.payload).ok()?;
            v["params"]["text"].as_str().map(str::to_owned)
        })
        .collect()
}

async fn wait_reply(rt: &Runtime, chat: i64, text: &str) -> bool {
    let deadline = Instant::now() + DEADLINE;
    while Instant::now() < deadline {
        if replies(rt, chat).await.iter().any(|t| t == text) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// `n` `/echo` entries for the noisy chat, pushed straight into storage in bulk.
async fn flood(rt: &Runtime, n: usize) {
    for start in (0..n).step_by(10_000) {
        let entries: Vec<NewInbox> = (start..(start + 10_000).min(n))
            .map(|i| {
                let entry = wharf::inbox::Entry::new(wharf::event::text(NOISY, &format!("/echo n{i}")));
                NewInbox::entry(NOISY, None, &entry, None).unwrap()
            })
            .collect();
        rt.storage().push_inbox(&entries, T0).await.unwrap();
    }
}

/// The noisy chat's replies are `n0, n1, …` with no gap and no reordering.
fn assert_in_order(texts: &[String], db: &Db) {
    for (i, t) in texts.iter().enumerate() {
        assert_eq!(t, &format!("n{i}"), "{db:?}: the noisy lane ran out of order");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_backlog_in_one_chat_does_not_hide_another_chat_also_after_a_restart() {
    for db in databases() {
        let dir = tempfile::tempdir().unwrap();
        let schema = schema_for(&db, "backlog");
        let rt = runtime(dir.path(), &db, &schema).await;
        flood(&rt, 200_000).await;
        rt.enqueue(5, &wharf::event::text(5, "/echo hello")).await.unwrap();
        assert!(wait_reply(&rt, 5, "hello").await, "{db:?}: chat 5 got no answer behind the backlog");
        let before = replies(&rt, NOISY).await;
        assert!(before.len() < 190_000, "{db:?}: the backlog was not what held the answer up");
        drop(rt);

        let rt = runtime(dir.path(), &db, &schema).await;
        rt.enqueue(6, &wharf::event::text(6, "/echo again")).await.unwrap();
        assert!(wait_reply(&rt, 6, "again").await, "{db:?}: after a restart, chat 6 got no answer");
        let deadline = Instant::now() + DEADLINE;
        while replies(&rt, NOISY).await.len() <= before.len() + 10 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let after = replies(&rt, NOISY).await;
        assert!(after.len() > before.len() + 10, "{db:?}: the noisy lane resumed after the restart");
        assert_in_order(&after, &db);
        drop(rt);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_busy_chats_are_served_round_robin_and_each_in_order() {
    for db in databases() {
        let dir = tempfile::tempdir().unwrap();
        let rt = runtime(dir.path(), &db, &schema_for(&db, "busy")).await;
        // More busy chats than the runtime holds at once (2 × concurrency), then one more.
        let chats: Vec<i64> = (100..200).collect();
        let mut events = Vec::new();
        for i in 0..30 {
            for c in &chats {
                events.push((*c, None, wharf::event::text(*c, &format!("/echo n{i}"))));
            }
        }
        rt.enqueue_many(&events).await.unwrap();
        rt.enqueue(5, &wharf::event::text(5, "/echo late")).await.unwrap();
        assert!(wait_reply(&rt, 5, "late").await, "{db:?}: the late chat was not served");
        rt.wait_idle(IDLE).await.unwrap();
        for c in &chats {
            let texts = replies(&rt, *c).await;
            assert_eq!(texts.len(), 30, "{db:?}: chat {c}");
            assert_in_order(&texts, &db);
        }
        rt.shutdown().await;
    }
}
