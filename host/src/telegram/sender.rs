//! The outbox sender: delivers committed outbox rows to Telegram, in order within each
//! chat and concurrently across chats, paced by Telegram's rate limits.
//!
//! - **Per-chat queues.** Commits tell the supervisor which chats got rows
//!   (`ready::OutboxReady`); at start, every second (rows of other replicas) and when
//!   asked, it also looks through the outbox by skipping through the `(chat_id, id)` index
//!   (one probe per chat, never a global window of rows). It runs one worker per chat. A worker reads its chat's head a few rows at a
//!   time and sends them one after another, so order within a chat is kept while other
//!   chats proceed: a group's backlog at 20/min holds up nobody else.
//! - **Claimed through the database.** A worker first takes the chat's lease
//!   (`outbox_lease`: owner + expiry, a conditional upsert) and renews it while it
//!   works; a chat leased by another replica is left alone until the lease lapses. The
//!   owner is `[telegram] replica_id`, so a restarted process takes its own leases back
//!   at once.
//! - **Limits.** At most `[telegram] max_in_flight` requests are in flight at once.
//!   Each send waits for its chat's token bucket (1/s with a burst of 3 for private
//!   chats, 20/min for groups), then, in arrival order (a fair queue), for the global
//!   bucket (30/s); all at 97 % of the configured rates and with one token of every
//!   bucket kept back (requests sent in order may reach Telegram out of order), so
//!   Telegram never answers 429 for our pace. A 429's `retry_after` pauses that chat; 5xx and network errors retry
//!   that chat with backoff and jitter; 403 "blocked" marks the user and emits a member
//!   event instead of retrying; other 400s go to the dead letters with the reason, as
//!   does a row that cannot be read.
//! - **Crash rule.** A row is removed in the transaction that follows its successful
//!   send (one transaction records every delivery reported meanwhile). The worker sends
//!   its chat's next row while that happens; each delivery keeps its in-flight slot until
//!   it is recorded, an edit or delete by handle first waits for the records, and all
//!   are written before the chat's lease is given back. After a kill -9, at most the
//!   messages sent but not yet recorded at that moment (at most `max_in_flight` in all)
//!   may be sent again; a committed message is never lost. `host/tests/it/crash.rs`
//!   checks this.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::Front;
use super::backoff::Backoff;
use super::deliver::{Delivery, deliver};
use super::limits::Limiter;
use crate::event::{Event, MemberStatus, MemberUpdate, private_chat, user};
use crate::metrics::{Queue, SendOutcome};
use crate::storage::{NewInbox, OutboxRow};

/// The sender stays this far under the configured rates, so clock jitter between it and
/// Telegram never turns into a 429.
const MARGIN: f64 = 0.97;
/// How long a chat lease lasts; renewed when half of it is left.
const LEASE_MS: i64 = 30_000;
/// Rows a worker reads from its chat's head at a time.
const BATCH: i64 = 16;
/// Chats worked on at once (workers); more wait for a later round.
const MAX_WORKERS: usize = 10_000;
/// Chats found per look at the outbox.
const DISCOVER: i64 = 2_000;
/// Looking for new rows when nothing told us of any (rows from other replicas).
const POLL: Duration = Duration::from_secs(1);
/// Least time between two looks at the outbox, so bursts of commits share one look.
const SPACING: Duration = Duration::from_millis(2);
/// How soon a chat named while its worker was leaving is looked at again, and how often.
const RECHECK: Duration = Duration::from_millis(5);
const RECHECKS: u32 = 20;

/// What every worker shares: the rate limits and the bound on requests in flight.
struct Pace {
    limiter: std::sync::Mutex<Limiter>,
    /// Taken in arrival order for the global bucket: chats are served fairly.
    gate: tokio::sync::Mutex<()>,
    in_flight: Arc<Semaphore>,
}

impl Pace {
    fn limiter(&self) -> std::sync::MutexGuard<'_, Limiter> {
        self.limiter.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Wait until `chat`'s own bucket has a token.
    async fn chat_ready(&self, chat: i64) {
        loop {
            let wait = self.limiter().chat_wait(chat, Instant::now());
            if wait.is_zero() {
                return;
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// Wait, in turn with other chats, until a message to `chat` may go; charge it.
    async fn charge(&self, chat: i64) {
        let _turn = self.gate.lock().await;
        loop {
            let (c, g) = self.limiter().wait(chat, Instant::now());
            if c.is_zero() && g.is_zero() {
                self.limiter().take(chat);
                return;
            }
            tokio::time::sleep(c.max(g)).await;
        }
    }
}

/// How long the message id behind a handle is remembered (a plugin can edit or delete
/// its message through the handle for this long).
const REMEMBER_SENT_MS: i64 = 30 * 24 * 3_600_000;
/// How often records older than that are removed.
const FORGET_EVERY: Duration = Duration::from_secs(3_600);

/// Why a worker stopped.
enum Exit {
    /// Its chat's outbox is empty.
    Drained,
    /// Another replica holds the chat; look again after this.
    Held(Instant),
}

pub(super) async fn run(front: Arc<Front>) {
    let pace = Arc::new(Pace {
        limiter: std::sync::Mutex::new(Limiter::with_reserve(front.limits.scaled(MARGIN), 1.0)),
        gate: tokio::sync::Mutex::new(()),
        in_flight: Arc::new(Semaphore::new(front.sender.max_in_flight.max(1))),
    });
    let mut workers: JoinSet<(i64, Exit)> = JoinSet::new();
    let live: Live = Arc::default();
    let mut held: HashMap<i64, Instant> = HashMap::new();
    let mut cursor = i64::MIN;
    let mut errors = Backoff::new(Duration::from_millis(200), Duration::from_secs(30));
    let mut forgot: Option<Instant> = None;
    // When the outbox was last looked through (a full look first, for rows from before
    // a restart).
    let mut last_look: Option<Instant> = None;
    // Chats named while their worker was still live, with how often they were.
    let mut recheck: Vec<(i64, u32)> = Vec::new();
    loop {
        if forgot.is_none_or(|t| t.elapsed() >= FORGET_EVERY) {
            forgot = Some(Instant::now());
            let before = front.clock.now_ms() - REMEMBER_SENT_MS;
            if let Err(e) = front.storage.forget_sent_messages(before).await {
                tracing::warn!(target: "wharf.telegram", error = %e, "cannot forget old sent messages");
            }
        }
        let ready = front.outbox_ready.notified();
        tokio::pin!(ready);
        ready.as_mut().enable();
        let looked = Instant::now();
        // The chats commits named; a full look at the outbox when asked for, when one
        // is due (rows of other replicas, missed signals), or to go on past a full page.
        let (chats, asked) = front.outbox_ready.take();
        let mut chats: Vec<(i64, u32)> = chats.into_iter().map(|c| (c, 0)).collect();
        chats.append(&mut recheck);
        if asked || cursor != i64::MIN || last_look.is_none_or(|t| t.elapsed() >= POLL) {
            match front.storage.outbox_chats(cursor, DISCOVER).await {
                Ok(found) => {
                    errors.reset();
                    let full = i64::try_from(found.len()).is_ok_and(|n| n >= DISCOVER);
                    cursor = if full { found.last().copied().unwrap_or(i64::MIN) } else { i64::MIN };
                    last_look = Some(looked);
                    chats.extend(found.into_iter().map(|c| (c, 0)));
                }
                Err(e) => {
                    tracing::warn!(target: "wharf.telegram", error = %e, "cannot read the outbox");
                    front.outbox_ready.look();
                    errors.wait().await;
                    continue;
                }
            }
        }
        let now = Instant::now();
        held.retain(|_, until| *until > now);
        let full_house: bool;
        // Spawned after the lock is let go: a task spawned while the runtime shuts down
        // is dropped at once, in this thread, and its `Leaving` takes the lock.
        let mut starting = Vec::new();
        {
            let mut working = lock(&live);
            for (chat, tries) in chats {
                if working.len() >= MAX_WORKERS {
                    front.outbox_ready.look();
                    break;
                }
                if held.contains_key(&chat) {
                    continue;
                }
                if working.contains(&chat) {
                    // Its worker may be leaving after finding the chat drained: look
                    // again shortly, so a row committed meanwhile is not left behind
                    // (a worker that stays finds the row itself).
                    if tries < RECHECKS && !recheck.iter().any(|(c, _)| *c == chat) {
                        recheck.push((chat, tries + 1));
                    }
                    continue;
                }
                working.insert(chat);
                starting.push(chat);
            }
            full_house = working.len() >= MAX_WORKERS;
            if working.is_empty() {
                pace.limiter().prune(now);
            }
        }
        for chat in starting {
            let leaving = Leaving { live: live.clone(), chat };
            workers.spawn(work(front.clone(), pace.clone(), chat, leaving));
        }
        let mut exited = |r: Result<(i64, Exit), tokio::task::JoinError>| match r {
            Ok((chat, Exit::Held(until))) => {
                held.insert(chat, until);
            }
            Ok((_, Exit::Drained)) => {}
            Err(e) => tracing::error!(target: "wharf.telegram", error = %e, "a sender worker failed"),
        };
        // A worker leaves `live` itself once its chat is drained and released, so rows
        // committed after that are found by the look their commit's notice starts: a
        // worker's exit needs no look of its own (unless the workers were capped).
        let wait = if recheck.is_empty() { POLL } else { RECHECK };
        tokio::select! {
            () = &mut ready => {}
            Some(r) = workers.join_next(), if full_house => exited(r),
            () = tokio::time::sleep(wait) => {}
        }
        while let Some(r) = workers.try_join_next() {
            exited(r);
        }
        tokio::time::sleep_until((looked + SPACING).into()).await;
    }
}

/// Chats with a worker.
type Live = Arc<std::sync::Mutex<HashSet<i64>>>;

fn lock(live: &Live) -> std::sync::MutexGuard<'_, HashSet<i64>> {
    live.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Held by a chat's worker: takes the chat out of [`Live`] when the worker ends,
/// however it ends.
struct Leaving {
    live: Live,
    chat: i64,
}

impl Drop for Leaving {
    fn drop(&mut self) {
        lock(&self.live).remove(&self.chat);
    }
}

/// Deliver `chat`'s rows until none are left (or the chat is another replica's).
async fn work(front: Arc<Front>, pace: Arc<Pace>, chat: i64, _leaving: Leaving) -> (i64, Exit) {
    let owner = front.sender.replica_id.as_str();
    let mut lease_until = 0;
    let mut rows: VecDeque<OutboxRow> = VecDeque::new();
    let mut after = i64::MIN;
    let mut blocked = false;
    // A row was delivered since the head was last read.
    let mut delivered = false;
    // Deliveries being recorded: the next row goes out meanwhile (each record holds its
    // slot until it is written), and all are written before the lease is given back.
    let mut recording: JoinSet<()> = JoinSet::new();
    let mut retry = Backoff::new(Duration::from_millis(200), Duration::from_secs(60));
    loop {
        let now_ms = front.clock.now_ms();
        if lease_until - now_ms < LEASE_MS / 2 {
            match front.storage.claim_chat(chat, owner, now_ms, now_ms + LEASE_MS).await {
                Ok(true) => lease_until = now_ms + LEASE_MS,
                Ok(false) => {
                    tracing::debug!(target: "wharf.telegram", chat_id = chat, "chat is leased by another replica");
                    while recording.join_next().await.is_some() {}
                    return (chat, Exit::Held(Instant::now() + Duration::from_millis(LEASE_MS as u64 / 2)));
                }
                Err(e) => {
                    tracing::warn!(target: "wharf.telegram", chat_id = chat, error = %e, "cannot lease the chat");
                    retry.wait().await;
                    continue;
                }
            }
        }
        if rows.is_empty() {
            while recording.join_next().await.is_some() {}
            // After a delivery, the common case is a drained chat: give the lease back in
            // one statement that first checks nothing new is queued.
            if delivered {
                delivered = false;
                match front.storage.release_chat_if_drained(chat, owner, after).await {
                    Ok(true) => return (chat, Exit::Drained),
                    Ok(false) => {}
                    Err(e) => {
                        tracing::warn!(target: "wharf.telegram", chat_id = chat, error = %e, "cannot release the chat")
                    }
                }
            }
            match front.storage.outbox_chat_next(chat, after, BATCH).await {
                Ok((head, _)) if head.is_empty() => {
                    if let Err(e) = front.storage.release_chat(chat, owner).await {
                        tracing::warn!(target: "wharf.telegram", chat_id = chat, error = %e, "cannot release the chat");
                    }
                    return (chat, Exit::Drained);
                }
                Ok((head, b)) => {
                    blocked = chat > 0 && b;
                    rows.extend(head);
                }
                Err(e) => {
                    tracing::warn!(target: "wharf.telegram", chat_id = chat, error = %e, "cannot read the chat's outbox");
                    retry.wait().await;
                    continue;
                }
            }
        }
        let Some(row) = rows.front().cloned() else { continue };
        if blocked {
            dead(&front, &row, "the user blocked the bot", None).await;
            after = row.id;
            rows.pop_front();
            continue;
        }
        // The chat's own pace first (no slot held while a group waits its 3 s), then a
        // slot, then the global bucket: tokens are taken right before the request. The
        // slot is held until a delivered row is removed, so at most `max_in_flight`
        // messages are ever sent but not yet recorded (the crash rule).
        // An edit or delete by handle needs the send it names recorded first.
        let call = row.call();
        if call.as_ref().is_ok_and(|c| c.target_handle().is_some()) {
            while recording.join_next().await.is_some() {}
        }
        pace.chat_ready(chat).await;
        let Ok(slot) = pace.in_flight.clone().acquire_owned().await else {
            // The semaphore is never closed; end like a drained chat if it were.
            while recording.join_next().await.is_some() {}
            return (chat, Exit::Drained);
        };
        pace.charge(chat).await;
        let outcome = deliver(&front, &row, call).await;
        match &outcome {
            Delivery::Transient(_) => front.api.failed(front.clock.now_ms()),
            _ => front.api.ok(front.clock.now_ms()),
        }
        match outcome {
            Delivery::Delivered(sent) => {
                retry.reset();
                let (storage, id, now_ms) = (front.storage.clone(), row.id, front.clock.now_ms());
                recording.spawn(async move {
                    if let Err(e) = storage.outbox_delivered(id, sent.as_ref(), now_ms).await {
                        tracing::warn!(target: "wharf.telegram", chat_id = chat, error = %e, "sent, but cannot mark it; it may be sent again");
                    }
                    drop(slot);
                });
                after = row.id;
                rows.pop_front();
                delivered = true;
            }
            Delivery::RetryAfter(d) => {
                drop(slot);
                tracing::warn!(target: "wharf.telegram", chat_id = chat, seconds = d.as_secs(), "rate-limited by Telegram");
                tokio::time::sleep(d).await;
            }
            Delivery::Transient(reason) => {
                drop(slot);
                let delay = retry.delay();
                tracing::warn!(target: "wharf.telegram", chat_id = chat, %reason, retry_in_ms = delay.as_millis() as u64, "send failed; will retry");
                tokio::time::sleep(delay).await;
            }
            Delivery::Blocked(reason) => {
                drop(slot);
                blocked = chat > 0;
                if let Err(e) = front.storage.set_blocked(chat, true, front.clock.now_ms()).await {
                    tracing::warn!(target: "wharf.telegram", chat_id = chat, error = %e, "cannot mark the user blocked");
                }
                dead(&front, &row, &reason, blocked_event(chat, row.id)).await;
                after = row.id;
                rows.pop_front();
                (front.wake)();
            }
            Delivery::Rejected(reason) => {
                drop(slot);
                dead(&front, &row, &reason, None).await;
                dead_letter_event(&front, &row, &reason).await;
                after = row.id;
                rows.pop_front();
            }
        }
    }
}

/// The member event plugins hear when a send found the user had blocked the bot.
fn blocked_event(chat: i64, row: i64) -> Option<NewInbox> {
    let event =
        Event::Member(MemberUpdate { chat: private_chat(chat), user: user(chat), status: MemberStatus::Blocked });
    NewInbox::entry(chat, None, &crate::inbox::Entry::new(event), Some(format!("blocked:{chat}:{row}"))).ok()
}

/// Record a plugin's message Telegram refused for good (not the host's own: the log sink
/// reports its channel's refusals itself, and a blocked user is `user.blocked`).
async fn dead_letter_event(front: &Front, row: &OutboxRow, reason: &str) {
    if row.plugin == "wharf" {
        return;
    }
    let event = crate::storage::NewLogEvent::host("dead_letter.outbox", "Message refused by Telegram", "📪")
        .level(crate::config::LogLevel::Warn)
        .field("plugin", row.plugin.as_str())
        .field("chat", row.chat_id.to_string())
        .field("reason", crate::validate::escape_controls(reason));
    if let Err(e) = front.storage.record_events(&[event], front.clock.now_ms()).await {
        tracing::warn!(target: "wharf.telegram", error = %e, "cannot record a dead letter event");
    }
}

async fn dead(front: &Front, row: &OutboxRow, reason: &str, also: Option<NewInbox>) {
    tracing::warn!(target: "wharf.telegram", chat_id = row.chat_id, plugin = %row.plugin, %reason, "message dead-lettered");
    let method = row.call().map_or("unknown", |c| c.method());
    front.metrics.telegram_send(method, SendOutcome::Dead);
    front.metrics.dead_letter(Queue::Outbox);
    if let Err(e) = front.storage.outbox_dead(row, reason, also, front.clock.now_ms()).await {
        tracing::error!(target: "wharf.telegram", error = %e, "cannot dead-letter a message");
    }
}
