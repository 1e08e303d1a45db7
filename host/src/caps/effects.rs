//! Buffered effects of a turn. A plugin call writes into [`CallEffects`]; if the call
//! succeeds they are absorbed into the [`TurnState`], otherwise dropped. Reads are
//! recorded in the turn (with the version seen) whatever the call's outcome, and serve
//! repeated reads, so a turn sees one consistent view and its commit can be validated.

use std::collections::{BTreeMap, HashMap};

use crate::storage::{KeyRead, NewInbox, NewLogEvent, NewOutbox, RangeRead, TimerOp, TurnCommit};

/// A namespaced KV key.
pub(crate) type Key = (String, String);

/// Effects of one plugin call, kept only if it succeeds.
#[derive(Debug, Default)]
pub(crate) struct CallEffects {
    pub writes: BTreeMap<Key, Option<Vec<u8>>>,
    pub outbox: Vec<NewOutbox>,
    pub inbox: Vec<NewInbox>,
    pub timers: Vec<TimerOp>,
    pub log: Vec<NewLogEvent>,
}

impl CallEffects {
    fn absorb(&mut self, other: CallEffects) {
        self.writes.extend(other.writes);
        self.outbox.extend(other.outbox);
        self.inbox.extend(other.inbox);
        self.timers.extend(other.timers);
        self.log.extend(other.log);
    }
}

/// Everything a turn has read and (successfully) buffered so far.
#[derive(Debug)]
pub(crate) struct TurnState {
    pub inbox_id: Option<i64>,
    pub lane: i64,
    pub now_ms: i64,
    /// Values read from storage with their versions (0 = absent): the read set.
    pub reads: HashMap<Key, (i64, Option<Vec<u8>>)>,
    pub ranges: Vec<RangeRead>,
    pub applied: CallEffects,
    /// Budget bookkeeping: the turn's cause, free units used, budgets hit.
    pub budget: super::budget::TurnBudget,
}

impl TurnState {
    pub fn new(inbox_id: Option<i64>, lane: i64, now_ms: i64) -> Self {
        Self {
            inbox_id,
            lane,
            now_ms,
            reads: HashMap::new(),
            ranges: Vec::new(),
            applied: CallEffects::default(),
            budget: Default::default(),
        }
    }

    /// Keep a successful call's effects.
    pub fn absorb(&mut self, call: CallEffects) {
        self.applied.absorb(call);
    }

    /// Totals of the buffered effects plus a pending call's, for quota checks.
    pub fn totals(&self, call: &CallEffects) -> Totals {
        let bytes =
            |w: &BTreeMap<Key, Option<Vec<u8>>>| w.values().map(|v| v.as_ref().map_or(0, Vec::len)).sum::<usize>();
        Totals {
            writes: self.applied.writes.len() + call.writes.len(),
            write_bytes: bytes(&self.applied.writes) + bytes(&call.writes),
            outbox: self.applied.outbox.len() + call.outbox.len(),
            events: self.applied.inbox.len() + call.inbox.len(),
            timers: self.applied.timers.len() + call.timers.len(),
            log: self.applied.log.len() + call.log.len(),
        }
    }

    /// What to hand to storage.
    pub fn into_commit(self) -> TurnCommit {
        let reads = self.reads.into_iter().map(|((ns, key), (version, _))| KeyRead { ns, key, version }).collect();
        let writes = self.applied.writes.into_iter().map(|((ns, key), v)| (ns, key, v)).collect();
        TurnCommit {
            inbox_id: self.inbox_id,
            reads,
            ranges: self.ranges,
            writes,
            outbox: self.applied.outbox,
            inbox: self.applied.inbox,
            timers: self.applied.timers,
            log: self.applied.log,
            versions: Vec::new(),
            users: Vec::new(),
            now_ms: self.now_ms,
        }
    }
}

/// Sizes used by quota checks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Totals {
    pub writes: usize,
    pub write_bytes: usize,
    pub outbox: usize,
    pub events: usize,
    pub timers: usize,
    pub log: usize,
}
