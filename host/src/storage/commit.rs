//! The commit path: what a turn hands to storage, and the group-commit task that
//! validates read sets and applies writes in one transaction per batch.

use std::collections::{BTreeMap, HashSet};
use std::sync::Weak;

use sqlx::{AnyConnection, Executor, Row};
use tokio::sync::{mpsc, oneshot};

use super::event_log::{NewLogEvent, SeenUser};
use super::script::{Script, Tx, Val};
use super::usage::{KvUsage, Ledger, UsageBook};
use super::{Backend, Inner, StorageError, bulk, queries};

/// A KV key the turn read, with the version it saw (0 = absent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyRead {
    /// Namespace (plugin name).
    pub ns: String,
    /// Key.
    pub key: String,
    /// Version seen; 0 when the key was absent.
    pub version: i64,
}

/// A prefix listing the turn made from the database, with the keys it saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RangeRead {
    /// Namespace.
    pub ns: String,
    /// Key prefix.
    pub prefix: String,
    /// Exclusive lower bound (the cursor), if any.
    pub after: Option<String>,
    /// Row limit of the query.
    pub limit: i64,
    /// Keys the query returned.
    pub seen: Vec<String>,
}

impl RangeRead {
    /// Whether writing `key` could change what this listing returns: the key is in the
    /// listed range and, when the listing stopped at its limit, not beyond the last key
    /// it saw (a full page is not changed by keys after its end).
    pub fn covers(&self, key: &str) -> bool {
        let in_range = key.starts_with(&self.prefix) && self.after.as_deref().is_none_or(|a| key > a);
        let full = i64::try_from(self.seen.len()).is_ok_and(|n| n >= self.limit);
        in_range && (!full || self.seen.last().is_none_or(|last| key <= last.as_str()))
    }
}

/// A queued Telegram call.
#[derive(Clone, Debug)]
pub struct NewOutbox {
    /// Target chat.
    pub chat_id: i64,
    /// Plugin that queued it (or `wharf` for the host).
    pub plugin: String,
    /// The call.
    pub call: crate::telegram::outbox_call::OutboxCall,
}

impl NewOutbox {
    /// The host's own plain-text message to `chat_id` (a notice, an alert).
    pub fn host_text(chat_id: i64, text: &str) -> Self {
        Self {
            chat_id,
            plugin: "wharf".into(),
            call: crate::telegram::outbox_call::OutboxCall::SendMessage(crate::telegram::outbox_call::SendMessage {
                chat_id,
                text: text.to_owned(),
                ..Default::default()
            }),
        }
    }
}

/// A new inbox entry (an emitted event, a lifecycle event, an update).
#[derive(Clone, Debug)]
pub struct NewInbox {
    /// Ordering lane (chat id; 0 for events without a chat).
    pub lane: i64,
    /// Only this plugin receives it; `None` routes by event kind.
    pub target: Option<String>,
    /// The event, as JSON.
    pub payload: String,
    /// Skip the insert if an entry with this key was ever inserted and is still queued.
    pub dedupe: Option<String>,
}

impl NewInbox {
    /// An entry for `lane`, encoded in the current inbox format.
    pub fn entry(
        lane: i64,
        target: Option<String>,
        entry: &crate::inbox::Entry,
        dedupe: Option<String>,
    ) -> Result<Self, serde_json::Error> {
        Ok(Self { lane, target, payload: entry.encode()?, dedupe })
    }
}

/// A change to a plugin's timers.
#[derive(Clone, Debug)]
pub enum TimerOp {
    /// Create or replace a timer.
    Set {
        /// Owner.
        plugin: String,
        /// Name, unique per plugin.
        name: String,
        /// Lane its event runs in.
        lane: i64,
        /// When it is due (Unix ms).
        due_ms: i64,
        /// Repeat interval, for jobs.
        interval_ms: Option<i64>,
        /// Payload handed back when it fires.
        payload: Vec<u8>,
    },
    /// Remove a timer.
    Cancel {
        /// Owner.
        plugin: String,
        /// Name.
        name: String,
    },
}

/// Everything one turn wants to commit.
#[derive(Clone, Debug, Default)]
pub struct TurnCommit {
    /// The inbox entry the turn handled; it is removed by the commit.
    pub inbox_id: Option<i64>,
    /// Keys read (validated).
    pub reads: Vec<KeyRead>,
    /// Prefix listings made (validated).
    pub ranges: Vec<RangeRead>,
    /// KV writes; `None` deletes.
    pub writes: Vec<(String, String, Option<Vec<u8>>)>,
    /// Telegram calls.
    pub outbox: Vec<NewOutbox>,
    /// Emitted events.
    pub inbox: Vec<NewInbox>,
    /// Timer changes.
    pub timers: Vec<TimerOp>,
    /// Business events.
    pub log: Vec<NewLogEvent>,
    /// Users seen in the update, recorded (first seen, username) with the turn.
    pub users: Vec<SeenUser>,
    /// Plugin versions to record.
    pub versions: Vec<(String, String)>,
    /// Commit time (host clock).
    pub now_ms: i64,
}

/// How a commit ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommitOutcome {
    /// Applied.
    Committed,
    /// Something the turn read changed; nothing was applied. Run the turn again.
    Conflict,
    /// The inbox entry was already handled (by another worker); nothing was applied.
    AlreadyHandled,
    /// The committing runtime no longer holds the lease on the entry's lane (another
    /// runtime took it over); nothing was applied. Stop serving the lane.
    LeaseLost,
}

pub(super) struct Pending {
    pub turn: TurnCommit,
    /// The runtime committing a turn under its lease on the entry's lane, if any.
    pub owner: Option<std::sync::Arc<str>>,
    pub reply: oneshot::Sender<Result<CommitOutcome, StorageError>>,
}

pub(super) async fn run_committer(inner: Weak<Inner>, mut rx: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(256);
    // SQLite: the last committed sequence number, once read.
    let mut last_seq = None;
    while rx.recv_many(&mut batch, 256).await > 0 {
        let Some(inner) = inner.upgrade() else { return };
        let mut conn = inner.writer.lock().await;
        let turns: Vec<&TurnCommit> = batch.iter().map(|p| &p.turn).collect();
        let owners: Vec<Option<&str>> = batch.iter().map(|p| p.owner.as_deref()).collect();
        let result = commit_batch(&mut conn, inner.backend, &inner.usage, &turns, &owners, &mut last_seq).await;
        drop(conn);
        match result {
            Ok((seq, outcomes, usage)) => {
                inner.usage.committed(usage);
                for (turn, outcome) in turns.iter().zip(&outcomes) {
                    match outcome {
                        CommitOutcome::Committed => {
                            for (ns, key, value) in &turn.writes {
                                inner.cache.committed(ns, key, value.clone(), seq);
                            }
                        }
                        CommitOutcome::Conflict => {
                            for r in &turn.reads {
                                inner.cache.evict(&r.ns, &r.key);
                            }
                        }
                        CommitOutcome::AlreadyHandled | CommitOutcome::LeaseLost => {}
                    }
                }
                inner.cache.advance(seq);
                for (p, outcome) in batch.drain(..).zip(outcomes) {
                    let _ = p.reply.send(Ok(outcome));
                }
            }
            Err(e) => {
                tracing::warn!(target: "wharf.storage", error = %e, turns = batch.len(), "group commit failed; turns will re-run");
                let msg = e.to_string();
                for p in batch.drain(..) {
                    for r in &p.turn.reads {
                        inner.cache.evict(&r.ns, &r.key);
                    }
                    let _ = p.reply.send(Err(StorageError::Db(sqlx::Error::Protocol(msg.clone()))));
                }
            }
        }
    }
}

/// Run `f` inside a write transaction on the writer connection.
pub(super) async fn begin(conn: &mut AnyConnection, backend: Backend) -> Result<(), sqlx::Error> {
    let sql = match backend {
        Backend::Sqlite => "BEGIN IMMEDIATE",
        Backend::Postgres => "BEGIN",
    };
    conn.execute(sql).await.map(|_| ())
}

pub(super) async fn finish<T>(conn: &mut AnyConnection, result: Result<T, sqlx::Error>) -> Result<T, sqlx::Error> {
    match result {
        Ok(v) => {
            conn.execute("COMMIT").await?;
            Ok(v)
        }
        Err(e) => {
            let _ = conn.execute("ROLLBACK").await;
            Err(e)
        }
    }
}

/// What a committed batch reports: its sequence number, each turn's outcome, and the
/// KV usage of the namespaces it wrote.
type BatchResult = (i64, Vec<CommitOutcome>, Vec<(String, KvUsage)>);

async fn commit_batch(
    conn: &mut AnyConnection,
    backend: Backend,
    book: &UsageBook,
    turns: &[&TurnCommit],
    owners: &[Option<&str>],
    last_seq: &mut Option<i64>,
) -> Result<BatchResult, sqlx::Error> {
    match backend {
        // The writer connection is SQLite's only writer and the caller holds it, so the
        // checks read committed state that cannot change before the script's own
        // transaction: one round trip for all the writes, and the sequence number is
        // kept here (read once, stored by each batch).
        Backend::Sqlite => {
            let seq = match *last_seq {
                Some(n) => n + 1,
                None => {
                    sqlx::query("SELECT n FROM commit_seq WHERE id = 1")
                        .fetch_one(&mut *conn)
                        .await?
                        .try_get::<i64, _>(0)?
                        + 1
                }
            };
            let mut script = Script::default();
            let result = check_batch(conn, book, turns, owners, seq, &mut script).await?;
            script.push("UPDATE commit_seq SET n = $1 WHERE id = 1", vec![Val::Int(seq)]);
            *last_seq = None;
            script.run(conn, backend, Tx::Whole).await?;
            *last_seq = Some(seq);
            Ok(result)
        }
        Backend::Postgres => {
            let begun = async {
                conn.execute("BEGIN").await?;
                sqlx::query("UPDATE commit_seq SET n = n + 1 WHERE id = 1 RETURNING n").fetch_one(&mut *conn).await
            };
            let seq: i64 = match begun.await {
                Ok(row) => row.try_get(0)?,
                Err(e) => {
                    let _ = conn.execute("ROLLBACK").await;
                    return Err(e);
                }
            };
            let mut script = Script::default();
            match check_batch(conn, book, turns, owners, seq, &mut script).await {
                Ok(result) => {
                    script.run(conn, backend, Tx::Finish).await?;
                    Ok(result)
                }
                Err(e) => {
                    let _ = conn.execute("ROLLBACK").await;
                    Err(e)
                }
            }
        }
    }
}

/// Validate every turn in order against the database and the turns committed before it
/// in this batch (its reads, then the KV quotas of what it writes), then add the
/// committed ones' writes to `script` as a few multi-row statements. A turn committed
/// under a lease (`owners`) applies only while its runtime holds the lane.
async fn check_batch(
    conn: &mut AnyConnection,
    book: &UsageBook,
    turns: &[&TurnCommit],
    owners: &[Option<&str>],
    seq: i64,
    script: &mut Script,
) -> Result<BatchResult, sqlx::Error> {
    let mut read_keys: Vec<(&str, &str)> =
        turns.iter().flat_map(|t| t.reads.iter().map(|r| (r.ns.as_str(), r.key.as_str()))).collect();
    read_keys.sort_unstable();
    read_keys.dedup();
    let current = bulk::versions(conn, &read_keys).await?;
    let ids: Vec<i64> = turns.iter().filter_map(|t| t.inbox_id).collect();
    let present = bulk::present_inbox(conn, &ids).await?;
    let mut ledger = Ledger::load(conn, book, turns).await?;

    let mut outcomes = Vec::with_capacity(turns.len());
    let mut written: HashSet<(&str, &str)> = HashSet::new();
    let mut handled: HashSet<i64> = HashSet::new();
    for (turn, owner) in turns.iter().zip(owners) {
        let holder = |id: &i64| present.get(id).and_then(Option::as_deref);
        let outcome = if turn.inbox_id.is_some_and(|id| !present.contains_key(&id) || handled.contains(&id)) {
            CommitOutcome::AlreadyHandled
        } else if owner.is_some() && turn.inbox_id.is_some_and(|id| holder(&id) != *owner) {
            CommitOutcome::LeaseLost
        } else if turn.reads.iter().any(|r| {
            let k = (r.ns.as_str(), r.key.as_str());
            written.contains(&k) || current.get(&(r.ns.clone(), r.key.clone())).copied().unwrap_or(0) != r.version
        }) || ranges_changed(conn, turn, &written).await?
            || !ledger.admit(turn)
        {
            CommitOutcome::Conflict
        } else {
            CommitOutcome::Committed
        };
        if outcome == CommitOutcome::Committed {
            written.extend(turn.writes.iter().map(|(ns, key, _)| (ns.as_str(), key.as_str())));
            handled.extend(turn.inbox_id);
        }
        outcomes.push(outcome);
    }
    let committed: Vec<&TurnCommit> =
        turns.iter().zip(&outcomes).filter(|(_, o)| **o == CommitOutcome::Committed).map(|(t, _)| *t).collect();
    apply(script, &committed, seq)?;
    ledger.store(script);
    Ok((seq, outcomes, ledger.totals()))
}

/// Whether a listing the turn made would now return other keys: either the database
/// changed, or an earlier turn of this batch wrote a key in the listed range.
async fn ranges_changed(
    conn: &mut AnyConnection,
    turn: &TurnCommit,
    written: &HashSet<(&str, &str)>,
) -> Result<bool, sqlx::Error> {
    for range in &turn.ranges {
        let touched = written.iter().any(|(ns, key)| *ns == range.ns && range.covers(key));
        if touched {
            return Ok(true);
        }
        let now = queries::kv_range(&mut *conn, &range.ns, &range.prefix, range.after.as_deref(), range.limit).await?;
        if now != range.seen {
            return Ok(true);
        }
    }
    Ok(false)
}

fn apply(script: &mut Script, turns: &[&TurnCommit], seq: i64) -> Result<(), sqlx::Error> {
    // Last write of a key in the batch wins.
    let mut kv: BTreeMap<(&str, &str), Option<&[u8]>> = BTreeMap::new();
    for t in turns {
        for (ns, key, value) in &t.writes {
            kv.insert((ns.as_str(), key.as_str()), value.as_deref());
        }
    }
    let upserts: Vec<(&str, &str, &[u8])> = kv.iter().filter_map(|((n, k), v)| v.map(|v| (*n, *k, v))).collect();
    let deletes: Vec<(&str, &str)> = kv.iter().filter(|(_, v)| v.is_none()).map(|(k, _)| *k).collect();
    bulk::upsert_kv(script, &upserts, seq);
    bulk::delete_kv(script, &deletes);
    let ids: Vec<i64> = turns.iter().filter_map(|t| t.inbox_id).collect();
    bulk::delete_inbox(script, &ids);
    let now_ms = turns.iter().map(|t| t.now_ms).max().unwrap_or_default();
    let outbox: Vec<&NewOutbox> = turns.iter().flat_map(|t| &t.outbox).collect();
    bulk::insert_outbox(script, &outbox, now_ms)?;
    let inbox: Vec<&NewInbox> = turns.iter().flat_map(|t| &t.inbox).collect();
    bulk::insert_inbox(script, &inbox, now_ms);
    let log: Vec<&NewLogEvent> = turns.iter().flat_map(|t| &t.log).collect();
    super::event_log::insert_log(script, &log, now_ms);
    let users: Vec<&SeenUser> = turns.iter().flat_map(|t| &t.users).collect();
    super::event_log::upsert_users(script, &users, now_ms);
    for t in turns {
        timers_and_versions(script, t);
    }
    Ok(())
}

fn timers_and_versions(script: &mut Script, turn: &TurnCommit) {
    for t in &turn.timers {
        match t {
            TimerOp::Set { plugin, name, lane, due_ms, interval_ms, payload } => script.push(
                "INSERT INTO timers (plugin, name, lane, due_ms, interval_ms, payload) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (plugin, name) DO UPDATE SET lane = excluded.lane, due_ms = excluded.due_ms, \
                 interval_ms = excluded.interval_ms, payload = excluded.payload",
                vec![
                    Val::Text(plugin.clone()),
                    Val::Text(name.clone()),
                    Val::Int(*lane),
                    Val::Int(*due_ms),
                    Val::OptInt(*interval_ms),
                    Val::Blob(payload.clone()),
                ],
            ),
            TimerOp::Cancel { plugin, name } => script.push(
                "DELETE FROM timers WHERE plugin = $1 AND name = $2",
                vec![Val::Text(plugin.clone()), Val::Text(name.clone())],
            ),
        }
    }
    for (plugin, ver) in &turn.versions {
        script.push(
            "INSERT INTO plugin_versions (plugin, version) VALUES ($1, $2) \
             ON CONFLICT (plugin) DO UPDATE SET version = excluded.version",
            vec![Val::Text(plugin.clone()), Val::Text(ver.clone())],
        );
    }
}

#[cfg(test)]
mod range_tests {
    use super::RangeRead;

    #[test]
    fn a_full_page_is_not_touched_by_keys_after_it() {
        let seen = vec!["a:2".to_owned(), "a:5".to_owned()];
        let full = RangeRead { ns: "n".into(), prefix: "a:".into(), after: Some("a:1".into()), limit: 2, seen };
        assert!(full.covers("a:3") && full.covers("a:5"));
        assert!(!full.covers("a:6") && !full.covers("a:1") && !full.covers("a:0") && !full.covers("b:3"));
        let short = RangeRead { limit: 3, ..full.clone() };
        assert!(short.covers("a:6"), "a listing that reached the end sees any new key after the cursor");
        let empty = RangeRead { seen: Vec::new(), limit: 1, after: None, ..full };
        assert!(empty.covers("a:9"));
    }
}
