//! The log sink: feeds the admin log channel (`[log_sink] chat_id`) from the event log.
//!
//! Turns only write event-log rows (committed with them), so no turn ever waits on the
//! channel. This task reads the rows after its cursor, turns them into one digest
//! message ([`format`]) and queues it in the outbox *in the same transaction* that moves
//! the cursor, so after a crash an event is either still ahead of the cursor or already
//! queued: it reaches the channel once. It queues the next digest only when the previous
//! one left the outbox and at most one per [`MIN_GAP`], which keeps the channel within
//! Telegram's 20 messages a minute and merges bursts. A channel that refuses (403, chat
//! not found) raises one alert to the admins; the digest's events are put back and tried
//! again every [`REFUSED_RETRY`], and nothing else waits.
//!
//! | module | what |
//! | --- | --- |
//! | `format` | an event's block, digests, escaping |

pub mod format;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::clock::Clock;
use crate::config::{LogLevel, LogSinkConfig};
use crate::storage::{CommitOutcome, EventFilter, KeyRead, NewLogEvent, NewOutbox, Storage, StorageError, TurnCommit};
use crate::telegram::outbox_call::{OutboxCall, ParseMode, SendMessage};
use crate::telegram::ready::OutboxReady;

/// Least time between two digests (Telegram allows 20 messages a minute in a channel).
pub const MIN_GAP: Duration = Duration::from_secs(3);

/// How often a refusing channel is tried again.
pub const REFUSED_RETRY: Duration = Duration::from_secs(300);

/// How often the sink looks for events without being woken (other replicas' turns).
const IDLE_LOOK: Duration = Duration::from_secs(5);

/// How often it looks whether its digest left the outbox.
const PENDING_LOOK: Duration = Duration::from_millis(250);

/// Most events read for one digest.
const BATCH: i64 = 2000;

/// KV namespace and key of the cursor (a plugin name cannot contain a dot).
const CURSOR_NS: &str = "wharf.sink";
const CURSOR_KEY: &str = "cursor";

/// What the sink needs from the runtime.
pub struct SinkDeps {
    /// Database.
    pub storage: Storage,
    /// Host clock (event times, outbox rows).
    pub clock: Clock,
    /// Told which chats got outbox rows.
    pub outbox_ready: Arc<OutboxReady>,
    /// Woken when turns committed business events.
    pub wake: Arc<Notify>,
    /// Told when the channel refuses.
    pub admins: Vec<i64>,
}

/// The digest in the outbox: the cursor it moved from and the newest dead letter to the
/// channel before it was queued.
struct InFlight {
    from: i64,
    dead_before: Option<i64>,
}

/// The sink task; runs until aborted.
pub async fn run(deps: SinkDeps, config: LogSinkConfig) {
    let Some(chat) = config.chat_id else { return };
    let mut sink = Sink { deps, config, chat, in_flight: None, next_at: Instant::now(), refused: None };
    loop {
        match sink.step().await {
            // Nothing to do until then, whatever commits meanwhile: a wake now would
            // only read the database for nothing (a burst of turns wakes it per commit).
            Ok(Next::Sleep(wait)) => tokio::time::sleep(wait).await,
            Ok(Next::Idle(wait)) => {
                let wake = sink.deps.wake.clone();
                tokio::select! {
                    () = wake.notified() => {}
                    () = tokio::time::sleep(wait) => {}
                }
            }
            Ok(Next::Now) => {}
            Err(e) => {
                tracing::warn!(target: "wharf.sink", error = %e, "cannot feed the admin log channel; will retry");
                tokio::time::sleep(IDLE_LOOK).await;
            }
        }
    }
}

/// What the sink does after a step.
enum Next {
    /// Step again at once.
    Now,
    /// Sleep this long (a digest is in flight, or the gap between digests runs).
    Sleep(Duration),
    /// Sleep this long unless turns commit events first (nothing to send).
    Idle(Duration),
}

fn parse_cursor(value: Option<Vec<u8>>) -> Option<i64> {
    std::str::from_utf8(&value?).ok()?.parse().ok()
}

/// A commit that moves the cursor to `to` if it is still at `version`.
fn move_cursor(to: i64, version: i64, now_ms: i64) -> TurnCommit {
    TurnCommit {
        reads: vec![KeyRead { ns: CURSOR_NS.into(), key: CURSOR_KEY.into(), version }],
        writes: vec![(CURSOR_NS.into(), CURSOR_KEY.into(), Some(to.to_string().into_bytes()))],
        now_ms,
        ..TurnCommit::default()
    }
}

/// Give the sink a cursor if it has none: at the newest event, so turning the channel on
/// does not replay the whole history into it. The runtime calls this before it serves
/// any turn, so every event committed afterwards is ahead of the cursor, even if the
/// process dies before the sink task first runs.
pub async fn init_cursor(storage: &Storage, now_ms: i64) -> Result<(), StorageError> {
    let (value, version) = storage.kv_get(CURSOR_NS, CURSOR_KEY).await?;
    if parse_cursor(value).is_none() {
        let start = storage.last_event_id().await?;
        // A conflict means another replica set it first: fine.
        storage.commit(move_cursor(start, version, now_ms)).await?;
    }
    Ok(())
}

struct Sink {
    deps: SinkDeps,
    config: LogSinkConfig,
    chat: i64,
    in_flight: Option<InFlight>,
    /// No digest is queued before this.
    next_at: Instant,
    /// Why the channel refused, while it does.
    refused: Option<String>,
}

impl Sink {
    /// One step, and when to take the next.
    async fn step(&mut self) -> Result<Next, StorageError> {
        let storage = self.deps.storage.clone();
        if let Some(f) = &self.in_flight {
            if storage.outbox_waiting_for(self.chat).await? {
                return Ok(Next::Sleep(PENDING_LOOK));
            }
            let dead = storage.last_dead_for(self.chat).await?;
            let from = f.from;
            let refused = dead.as_ref().is_some_and(|(id, _)| Some(*id) != f.dead_before);
            self.in_flight = None;
            if let (true, Some((_, reason))) = (refused, dead) {
                self.on_refused(from, reason).await?;
                return Ok(Next::Sleep(REFUSED_RETRY));
            }
            if let Some(reason) = self.refused.take() {
                tracing::info!(target: "wharf.sink", chat_id = self.chat, "the admin log channel takes messages again");
                let event = NewLogEvent::host("log_sink.resumed", "Log channel works again", "✅")
                    .field("was_refused_with", reason);
                storage.record_events(&[event], self.deps.clock.now_ms()).await?;
            }
        }
        let now = Instant::now();
        if now < self.next_at {
            return Ok(Next::Sleep(self.next_at - now));
        }
        let (cursor, version) = self.cursor().await?;
        let rows = storage.events_matching_after(&EventFilter::default(), cursor, BATCH).await?;
        let Some(last) = rows.last().map(|r| r.id) else { return Ok(Next::Idle(IDLE_LOOK)) };
        let wanted: Vec<_> = rows.into_iter().filter(|r| self.config.wants(&r.kind, r.level)).collect();
        let mut commit = self.move_cursor(last, version);
        if !wanted.is_empty() {
            let users: Vec<i64> = wanted.iter().filter_map(|r| r.user_id).collect::<HashSet<_>>().into_iter().collect();
            let names = storage.usernames(&users).await?;
            let digest = format::digest(&wanted, &names, &self.config);
            commit.outbox.push(self.message(digest.text, wanted.iter().any(|r| r.level >= LogLevel::Warn)));
        }
        let queued = !commit.outbox.is_empty();
        let dead_before = if queued { storage.last_dead_for(self.chat).await?.map(|(id, _)| id) } else { None };
        match storage.commit(commit).await? {
            CommitOutcome::Committed => {
                if queued {
                    self.in_flight = Some(InFlight { from: cursor, dead_before });
                    self.next_at = Instant::now() + MIN_GAP;
                    self.deps.outbox_ready.chats([self.chat]);
                    return Ok(Next::Sleep(PENDING_LOOK));
                }
                Ok(Next::Now)
            }
            // Another replica's sink moved the cursor first: read again.
            _ => Ok(Next::Now),
        }
    }

    /// The cursor and its KV version.
    async fn cursor(&self) -> Result<(i64, i64), StorageError> {
        let storage = &self.deps.storage;
        let (mut value, mut version) = storage.kv_get(CURSOR_NS, CURSOR_KEY).await?;
        if value.is_none() {
            // Only if it was deleted while running: the runtime set it up at start.
            init_cursor(storage, self.deps.clock.now_ms()).await?;
            (value, version) = storage.kv_get(CURSOR_NS, CURSOR_KEY).await?;
        }
        Ok((parse_cursor(value).unwrap_or(0), version))
    }

    /// A commit that moves the cursor to `to` if it is still at `version`.
    fn move_cursor(&self, to: i64, version: i64) -> TurnCommit {
        move_cursor(to, version, self.deps.clock.now_ms())
    }

    /// A digest message; below `warn` it arrives without a notification sound.
    fn message(&self, text: String, loud: bool) -> NewOutbox {
        NewOutbox {
            chat_id: self.chat,
            plugin: "wharf".into(),
            call: OutboxCall::SendMessage(SendMessage {
                chat_id: self.chat,
                text,
                parse_mode: Some(ParseMode::Html),
                disable_notification: !loud,
                ..SendMessage::default()
            }),
        }
    }

    /// The channel refused the digest queued at cursor `from`: put its events back, and
    /// on the first refusal of a series tell the admins and record it.
    async fn on_refused(&mut self, from: i64, reason: String) -> Result<(), StorageError> {
        let storage = &self.deps.storage;
        let (_, version) = storage.kv_get(CURSOR_NS, CURSOR_KEY).await?;
        storage.commit(self.move_cursor(from, version)).await?;
        self.next_at = Instant::now() + REFUSED_RETRY;
        if self.refused.is_some() {
            return Ok(());
        }
        tracing::error!(target: "wharf.sink", chat_id = self.chat, %reason, "the admin log channel refuses messages");
        let now_ms = self.deps.clock.now_ms();
        let event = NewLogEvent::host("log_sink.refused", "Log channel refuses messages", "🚨")
            .level(LogLevel::Error)
            .field("channel", self.chat.to_string())
            .field("reason", reason.as_str());
        storage.record_events(&[event], now_ms).await?;
        let text = format!(
            "🚨 The admin log channel {} refuses messages: {reason}\n\nMake the bot an admin there who can post, \
             or fix [log_sink] chat_id. Events stay in the event log (wharf logs); the channel is tried again every {} minutes.",
            self.chat,
            REFUSED_RETRY.as_secs() / 60
        );
        let outbox = self.deps.admins.iter().filter(|a| **a > 0).map(|a| NewOutbox::host_text(*a, &text)).collect();
        storage.commit(TurnCommit { outbox, now_ms, ..TurnCommit::default() }).await?;
        self.deps.outbox_ready.chats(self.deps.admins.iter().copied());
        self.refused = Some(reason);
        Ok(())
    }
}
