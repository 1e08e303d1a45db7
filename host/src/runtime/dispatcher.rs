//! Inbox → lanes. Entries of one lane (chat) run strictly in order, one at a time;
//! different lanes run concurrently, bounded by `[runtime] concurrency`. A lane gives
//! up its slot after a few turns so a busy chat cannot starve the others.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;

use super::{Shared, turn};
use crate::storage::InboxRow;

/// Turns a lane runs before letting another lane have its slot.
const FAIR_SHARE: usize = 16;
/// Entries fetched per read of the inbox.
const FETCH: i64 = 1_000;
/// Most entries held in memory.
const MAX_QUEUED: usize = 20_000;

#[derive(Default)]
pub(crate) struct Lanes {
    queues: HashMap<i64, VecDeque<InboxRow>>,
    active: HashSet<i64>,
    queued: usize,
}

impl Lanes {
    pub fn is_idle(&self) -> bool {
        self.queued == 0 && self.active.is_empty()
    }
}

pub(crate) async fn run(shared: Arc<Shared>) {
    let slots = Arc::new(Semaphore::new(shared.concurrency));
    let mut cursor = 0i64;
    loop {
        let woken = shared.wake.notified();
        if shared.is_shutting_down() {
            return;
        }
        let room = MAX_QUEUED.saturating_sub(lock(&shared.lanes).queued);
        let mut fetched = 0;
        if room > 0 {
            match shared.host.storage.inbox_after(cursor, FETCH.min(i64::try_from(room).unwrap_or(FETCH))).await {
                Ok(rows) => {
                    fetched = rows.len();
                    let mut start = Vec::new();
                    {
                        let mut lanes = lock(&shared.lanes);
                        for row in rows {
                            cursor = cursor.max(row.id);
                            let lane = row.lane;
                            lanes.queues.entry(lane).or_default().push_back(row);
                            lanes.queued += 1;
                            if lanes.active.insert(lane) {
                                start.push(lane);
                            }
                        }
                    }
                    for lane in start {
                        tokio::spawn(worker(shared.clone(), slots.clone(), lane));
                    }
                }
                Err(e) => tracing::warn!(target: "wharf.dispatch", error = %e, "cannot read the inbox"),
            }
        }
        if i64::try_from(fetched).unwrap_or(0) >= FETCH {
            continue;
        }
        tokio::select! {
            () = woken => {}
            () = tokio::time::sleep(Duration::from_millis(250)) => {}
        }
    }
}

fn lock(lanes: &Mutex<Lanes>) -> std::sync::MutexGuard<'_, Lanes> {
    lanes.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

async fn worker(shared: Arc<Shared>, slots: Arc<Semaphore>, lane: i64) {
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else { return };
        for _ in 0..FAIR_SHARE {
            let row = {
                let mut lanes = lock(&shared.lanes);
                match lanes.queues.get(&lane).and_then(|q| q.front().cloned()) {
                    Some(row) => row,
                    None => {
                        lanes.queues.remove(&lane);
                        lanes.active.remove(&lane);
                        return;
                    }
                }
            };
            if shared.is_shutting_down() {
                let mut lanes = lock(&shared.lanes);
                lanes.active.remove(&lane);
                return;
            }
            turn::run(&shared, &row).await;
            let mut lanes = lock(&shared.lanes);
            if let Some(q) = lanes.queues.get_mut(&lane) {
                q.pop_front();
            }
            lanes.queued = lanes.queued.saturating_sub(1);
        }
        drop(permit);
        tokio::task::yield_now().await;
    }
}
