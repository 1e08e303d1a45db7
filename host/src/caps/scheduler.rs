//! `wharf:bot/scheduler`: timers are written with the turn's commit and fire as `timer`
//! events (see `runtime::timers`), in the lane of the turn that set them.

use wasmtime::Result;
use wasmtime::component::{HasData, Linker};

use super::bindings::wharf::bot::scheduler::{self as wit, Error, Host};
use super::budget::Kind;
use super::{Access, PluginState, Requirement};
use crate::config::Grant;
use crate::storage::TimerOp;
use crate::validate;

type SchedResult<T> = Result<std::result::Result<T, Error>>;

/// Shortest repeat interval.
const MIN_INTERVAL_MS: u64 = 1_000;

/// Per-turn limits on timers.
#[derive(Clone, Copy, Debug)]
pub struct SchedulerQuotas {
    /// Most timer changes by one turn.
    pub max_turn_timers: usize,
    /// Largest payload, in bytes.
    pub max_payload_bytes: usize,
}

impl Default for SchedulerQuotas {
    fn default() -> Self {
        Self { max_turn_timers: 100, max_payload_bytes: 64 << 10 }
    }
}

/// Importing any `scheduler` function (even `now`) needs the `scheduler` grant.
pub(super) fn requirement(_func: &str) -> Requirement {
    Requirement::Grant(Grant::Scheduler)
}

/// `scheduler` as the running plugin may use it in one host call.
pub(crate) struct Scheduler<'a> {
    state: &'a mut PluginState,
    access: Access,
    quotas: SchedulerQuotas,
}

impl PluginState {
    /// The `scheduler` view for this host call.
    pub(super) fn scheduler(&mut self) -> Scheduler<'_> {
        Scheduler { access: self.access(requirement("")), quotas: self.host.quotas.scheduler, state: self }
    }
}

/// [`HasData`] for linking `scheduler` to [`Scheduler`] views.
pub(super) struct SchedulerCap;

impl HasData for SchedulerCap {
    type Data<'a> = Scheduler<'a>;
}

/// Link `wharf:bot/scheduler` (the current version) to [`Scheduler`] views.
pub(super) fn add_to_linker(linker: &mut Linker<PluginState>) -> Result<()> {
    wit::add_to_linker::<_, SchedulerCap>(linker, PluginState::scheduler)
}

impl Scheduler<'_> {
    /// `access-denied` unless the running plugin may use `scheduler` now.
    fn allowed(&self) -> std::result::Result<(), Error> {
        self.access.check(self.state.current().name(), "").map_err(|_| Error::AccessDenied)
    }

    /// `access-denied` unless the running plugin may change timers now (not in a view).
    fn may_change(&self) -> std::result::Result<(), Error> {
        self.allowed()?;
        if self.state.read_only { Err(Error::AccessDenied) } else { Ok(()) }
    }

    fn set_timer(
        &mut self,
        name: String,
        due_ms: i64,
        interval_ms: Option<i64>,
        payload: Vec<u8>,
    ) -> std::result::Result<(), Error> {
        self.may_change()?;
        validate::name_like("timer name", &name, 64, &['.', '-', ':']).map_err(Error::InvalidInput)?;
        let q = self.quotas;
        if payload.len() > q.max_payload_bytes {
            return Err(Error::InvalidInput(format!(
                "payload is {} bytes; at most {}",
                payload.len(),
                q.max_payload_bytes
            )));
        }
        let s = &mut *self.state;
        if s.turn.totals(&s.call).timers >= q.max_turn_timers {
            return Err(Error::InvalidInput(format!("a turn may change at most {} timers", q.max_turn_timers)));
        }
        s.charge(Kind::Timers)?;
        let due_ms = s.rearm_floor(due_ms);
        let plugin = s.current().name().to_string();
        let lane = s.turn.lane;
        s.call.timers.push(TimerOp::Set { plugin, name, lane, due_ms, interval_ms, payload });
        Ok(())
    }

    fn now_ms(&self) -> i64 {
        self.state.host.clock.now_ms()
    }
}

fn delay(now: i64, ms: u64) -> std::result::Result<i64, Error> {
    i64::try_from(ms)
        .ok()
        .and_then(|ms| now.checked_add(ms))
        .ok_or_else(|| Error::InvalidInput(format!("delay of {ms} ms is out of range")))
}

impl Host for Scheduler<'_> {
    /// `now` has no error case: a call the running plugin may not make traps.
    async fn now(&mut self) -> Result<i64> {
        if let Err(why) = self.access.check(self.state.current().name(), "describe() may not use the scheduler") {
            return Err(wasmtime::Error::msg(format!("scheduler.now refused: {why}")));
        }
        Ok(self.now_ms())
    }

    async fn schedule_at(&mut self, name: String, at_ms: i64, payload: Vec<u8>) -> SchedResult<()> {
        Ok(self.set_timer(name, at_ms, None, payload))
    }

    async fn schedule_after(&mut self, name: String, delay_ms: u64, payload: Vec<u8>) -> SchedResult<()> {
        Ok(delay(self.now_ms(), delay_ms).and_then(|due| self.set_timer(name, due, None, payload)))
    }

    async fn repeat_every(&mut self, name: String, interval_ms: u64, payload: Vec<u8>) -> SchedResult<()> {
        if interval_ms < MIN_INTERVAL_MS {
            return Ok(Err(Error::InvalidInput(format!("interval must be at least {MIN_INTERVAL_MS} ms"))));
        }
        let every = i64::try_from(interval_ms).ok();
        Ok(delay(self.now_ms(), interval_ms).and_then(|due| self.set_timer(name, due, every, payload)))
    }

    async fn cancel(&mut self, name: String) -> SchedResult<bool> {
        if let Err(e) = self.may_change() {
            return Ok(Err(e));
        }
        let s = &mut *self.state;
        let plugin = s.current().name().to_string();
        // The latest buffered change to this timer wins; otherwise ask storage.
        let buffered = s.turn.applied.timers.iter().chain(s.call.timers.iter()).rev().find_map(|op| match op {
            TimerOp::Set { plugin: p, name: n, .. } if *p == plugin && *n == name => Some(true),
            TimerOp::Cancel { plugin: p, name: n } if *p == plugin && *n == name => Some(false),
            _ => None,
        });
        let existed = match buffered {
            Some(b) => b,
            None => match s.host.storage.timer_exists(&plugin, &name).await {
                Ok(b) => b,
                Err(e) => return Err(s.fault(format_args!("timer lookup: {e}"))),
            },
        };
        s.call.timers.push(TimerOp::Cancel { plugin, name });
        Ok(Ok(existed))
    }
}
