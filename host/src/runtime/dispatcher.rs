//! Inbox → lanes, served fairly from the database. Entries of one lane (chat) run
//! strictly in order, one at a time; different lanes run concurrently on
//! `[runtime] concurrency` workers.
//!
//! The `lanes` table is the authority on who serves a lane: this runtime claims lanes
//! with work through a lease (its owner id, fresh at every start; renewed while held;
//! an expired lease is taken over), reads each held lane's next entries by (lane, id)
//! and commits every turn under its lease ([`Storage::commit_as`]). Nothing reads the
//! inbox through a global id window, so a lane with a million entries holds one worker
//! at most and hides no other lane's entries, also after a restart.
//!
//! Fairness: held lanes take turns on the workers round-robin (one turn each while
//! other held lanes are ready); while lanes with work wait for a lease, a held lane gives
//! its lease back after [`QUANTUM`] turns and goes behind them (`lanes.served`).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::Shared;
use super::turn::{self, Served};
use crate::storage::{Backend, InboxRow, Storage, StorageError};

/// Entries read from a lane's head at a time.
const HEAD: u32 = 32;
/// Turns a lane runs per lease while other lanes wait for one.
const QUANTUM: u32 = 16;
/// How long a lease lasts unless renewed.
const LEASE_MS: i64 = 15_000;
/// How often held leases are renewed.
const RENEW: Duration = Duration::from_secs(3);
/// Look for work at least this often (leases that expired elsewhere, missed wake-ups).
const RESCAN: Duration = Duration::from_millis(250);

/// This runtime's view of the lanes it holds (the database stays the authority).
#[derive(Default)]
pub(crate) struct Lanes {
    /// Lanes this runtime holds a lease on, with entries read but not yet run.
    held: HashMap<i64, Held>,
    /// Held lanes with entries, waiting for a worker, in turn order.
    ready: VecDeque<i64>,
    /// Held lanes handed back to the dispatcher: out of entries (`false`: read more or
    /// release) or out of their quantum while others wait (`true`: release).
    returned: Vec<(i64, bool)>,
    /// Turns running now.
    running: usize,
    /// The last look found lanes with work that this runtime had no room for.
    others_waiting: bool,
}

#[derive(Default)]
struct Held {
    rows: VecDeque<InboxRow>,
    turns: u32,
}

impl Lanes {
    /// No lane held and no turn running.
    pub fn is_idle(&self) -> bool {
        self.held.is_empty() && self.running == 0
    }

    /// Turns running now.
    pub fn running(&self) -> usize {
        self.running
    }

    /// Forget every held lane (after their leases were given back).
    pub fn clear(&mut self) {
        self.held.clear();
        self.ready.clear();
        self.returned.clear();
    }
}

/// A fresh owner id for this runtime's leases.
pub(crate) fn owner_id() -> Arc<str> {
    format!("{}-{:016x}", std::process::id(), rand::random::<u64>()).into()
}

pub(crate) async fn run(shared: Arc<Shared>) {
    let storage = &shared.host.storage;
    if storage.backend() == Backend::Sqlite {
        // One runtime serves a SQLite database: leases left by a stopped one are stale.
        if let Err(e) = storage.reset_leases().await {
            tracing::warn!(target: "wharf.dispatch", error = %e, "cannot reset stale leases");
        }
    }
    for _ in 0..shared.concurrency {
        tokio::spawn(worker(shared.clone()));
    }
    let max_held = shared.concurrency.saturating_mul(2).max(8);
    let mut renewed = Instant::now();
    loop {
        let woken = shared.wake.notified();
        if shared.is_shutting_down() {
            return;
        }
        if renewed.elapsed() >= RENEW {
            if let Err(e) = storage.renew_leases(&shared.owner, LEASE_MS).await {
                tracing::warn!(target: "wharf.dispatch", error = %e, "cannot renew leases");
            }
            renewed = Instant::now();
        }
        let again = match step(&shared, storage, max_held).await {
            Ok(again) => again,
            Err(e) => {
                tracing::warn!(target: "wharf.dispatch", error = %e, "cannot read the lanes");
                false
            }
        };
        if again {
            continue;
        }
        tokio::select! {
            () = woken => {}
            () = tokio::time::sleep(RESCAN) => {}
        }
    }
}

/// Claim waiting lanes while there is room, read more entries for lanes that ran out,
/// give back lanes that are done or used their quantum. Returns whether to go again
/// at once.
async fn step(shared: &Shared, storage: &Storage, max_held: usize) -> Result<bool, StorageError> {
    let room = max_held.saturating_sub(lock(&shared.lanes).held.len());
    let claimed = match i64::try_from(room) {
        Ok(n) if n > 0 => storage.claim_waiting(&shared.owner, n, LEASE_MS).await?,
        _ => Vec::new(),
    };
    // Whether lanes wait that this runtime has no room for: only worth a look when the
    // claim filled the room.
    if claimed.len() >= room {
        let others = !storage.lanes_waiting(1).await?.is_empty();
        lock(&shared.lanes).others_waiting = others;
    } else {
        lock(&shared.lanes).others_waiting = false;
    }
    let returned = {
        let mut lanes = lock(&shared.lanes);
        for lane in &claimed {
            lanes.held.entry(*lane).or_default();
            lanes.returned.push((*lane, false));
        }
        std::mem::take(&mut lanes.returned)
    };
    if returned.is_empty() {
        return Ok(false);
    }
    let mut release: Vec<i64> = returned.iter().filter(|(_, used_up)| *used_up).map(|(l, _)| *l).collect();
    let ran_out: Vec<i64> =
        returned.iter().filter(|(l, used_up)| !*used_up && !claimed.contains(l)).map(|(l, _)| *l).collect();
    // Lanes that ran out of entries read: most have none left. Those are given back in
    // one statement; the others (and the lanes just claimed) get their next entries read.
    let gone = if ran_out.is_empty() {
        Vec::new()
    } else {
        match storage.release_drained(&shared.owner, &ran_out).await {
            Ok(gone) => gone,
            Err(e) => {
                lock(&shared.lanes).returned.extend(returned);
                return Err(e);
            }
        }
    };
    if !gone.is_empty() {
        let mut lanes = lock(&shared.lanes);
        for lane in &gone {
            lanes.held.remove(lane);
        }
    }
    let drained: Vec<i64> =
        returned.iter().filter(|(l, used_up)| !*used_up && !gone.contains(l)).map(|(l, _)| *l).collect();
    let rows = if drained.is_empty() {
        Vec::new()
    } else {
        storage.lane_heads(&drained, HEAD).await.inspect_err(|_| {
            lock(&shared.lanes).returned.extend(returned.iter().filter(|(l, _)| !gone.contains(l)));
        })?
    };
    let mut by_lane: HashMap<i64, VecDeque<InboxRow>> = HashMap::new();
    for row in rows {
        by_lane.entry(row.lane).or_default().push_back(row);
    }
    let mut started = 0;
    {
        let mut lanes = lock(&shared.lanes);
        for lane in drained {
            match (by_lane.remove(&lane), lanes.held.get_mut(&lane)) {
                (Some(rows), Some(held)) => {
                    held.rows = rows;
                    lanes.ready.push_back(lane);
                    started += 1;
                }
                (None, Some(_)) => release.push(lane),
                (_, None) => {}
            }
        }
        for lane in &release {
            lanes.held.remove(lane);
        }
    }
    for _ in 0..started {
        shared.work.notify_one();
    }
    if !release.is_empty()
        && let Err(e) = storage.release_lanes(&shared.owner, &release).await
    {
        // Still ours in the database: hold them again and retry the release.
        let mut lanes = lock(&shared.lanes);
        for lane in release {
            lanes.held.entry(lane).or_default();
            lanes.returned.push((lane, true));
        }
        return Err(e);
    }
    Ok(!claimed.is_empty())
}

async fn worker(shared: Arc<Shared>) {
    loop {
        let notified = shared.work.notified();
        if shared.is_shutting_down() {
            return;
        }
        let next = {
            let mut lanes = lock(&shared.lanes);
            let lane = lanes.ready.pop_front();
            if lane.is_some() {
                lanes.running += 1;
            }
            lane
        };
        match next {
            Some(lane) => serve(&shared, lane).await,
            None => notified.await,
        }
    }
}

/// Run a held lane's entries in order until it runs out of read entries, another held
/// lane is ready (round-robin), its quantum is used up while others wait, or the
/// runtime stops.
async fn serve(shared: &Shared, lane: i64) {
    loop {
        let row = lock(&shared.lanes).held.get_mut(&lane).and_then(|h| h.rows.pop_front());
        let Some(row) = row else {
            finish(&shared.lanes, |l| l.returned.push((lane, false)));
            shared.wake.notify_one();
            return;
        };
        if shared.is_shutting_down() {
            finish(&shared.lanes, |_| {});
            return;
        }
        let served = turn::run(shared, &row).await;
        let mut lanes = lock(&shared.lanes);
        let others_waiting = lanes.others_waiting;
        let others_ready = !lanes.ready.is_empty();
        let Some(held) = lanes.held.get_mut(&lane) else {
            lanes.running -= 1;
            return;
        };
        match served {
            Served::Done => held.turns += 1,
            Served::LeaseLost => {
                tracing::info!(target: "wharf.dispatch", chat_id = lane, "lease lost; another runtime serves the lane");
                lanes.held.remove(&lane);
                lanes.running -= 1;
                return;
            }
            Served::Stopped => {
                lanes.running -= 1;
                return;
            }
        }
        let used_up = others_waiting && held.turns >= QUANTUM;
        if used_up || held.rows.is_empty() {
            lanes.returned.push((lane, used_up));
            lanes.running -= 1;
            drop(lanes);
            shared.wake.notify_one();
            return;
        }
        if others_ready {
            lanes.ready.push_back(lane);
            lanes.running -= 1;
            drop(lanes);
            shared.work.notify_one();
            return;
        }
    }
}

pub(crate) fn lock(lanes: &Mutex<Lanes>) -> std::sync::MutexGuard<'_, Lanes> {
    lanes.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn finish(lanes: &Mutex<Lanes>, f: impl FnOnce(&mut Lanes)) {
    let mut lanes = lock(lanes);
    f(&mut lanes);
    lanes.running -= 1;
}
