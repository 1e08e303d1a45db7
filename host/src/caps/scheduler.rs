//! `wharf:bot/scheduler`: timers are written with the turn's commit and fire as `timer`
//! events (see `runtime::timers`), in the lane of the turn that set them.

use wasmtime::Result;

use super::bindings::wharf::bot::scheduler::{Error, Host};
use super::budget::Kind;
use super::{PluginState, Requirement};
use crate::config::Grant;
use crate::storage::TimerOp;
use crate::validate;

type SchedResult<T> = Result<std::result::Result<T, Error>>;

/// Shortest repeat interval.
const MIN_INTERVAL_MS: u64 = 1_000;

impl PluginState {
    fn set_timer(
        &mut self,
        name: String,
        due_ms: i64,
        interval_ms: Option<i64>,
        payload: Vec<u8>,
    ) -> std::result::Result<(), Error> {
        if self.describing {
            return Err(Error::AccessDenied);
        }
        validate::name_like("timer name", &name, 64, &['.', '-', ':']).map_err(Error::InvalidInput)?;
        let q = &self.host.quotas;
        if payload.len() > q.max_payload_bytes {
            return Err(Error::InvalidInput(format!(
                "payload is {} bytes; at most {}",
                payload.len(),
                q.max_payload_bytes
            )));
        }
        if self.turn.totals(&self.call).timers >= q.max_turn_timers {
            return Err(Error::InvalidInput(format!("a turn may change at most {} timers", q.max_turn_timers)));
        }
        self.charge(Kind::Timers)?;
        let due_ms = self.rearm_floor(due_ms);
        let plugin = self.current().name().to_string();
        let lane = self.turn.lane;
        self.call.timers.push(TimerOp::Set { plugin, name, lane, due_ms, interval_ms, payload });
        Ok(())
    }
}

fn delay(now: i64, ms: u64) -> std::result::Result<i64, Error> {
    i64::try_from(ms)
        .ok()
        .and_then(|ms| now.checked_add(ms))
        .ok_or_else(|| Error::InvalidInput(format!("delay of {ms} ms is out of range")))
}

/// Importing any `scheduler` function (even `now`) needs the `scheduler` grant.
pub(super) fn requirement(_func: &str) -> Requirement {
    Requirement::Grant(Grant::Scheduler)
}

impl Host for PluginState {
    async fn now(&mut self) -> Result<i64> {
        Ok(self.host.clock.now_ms())
    }

    async fn schedule_at(&mut self, name: String, at_ms: i64, payload: Vec<u8>) -> SchedResult<()> {
        Ok(self.set_timer(name, at_ms, None, payload))
    }

    async fn schedule_after(&mut self, name: String, delay_ms: u64, payload: Vec<u8>) -> SchedResult<()> {
        let now = self.host.clock.now_ms();
        Ok(delay(now, delay_ms).and_then(|due| self.set_timer(name, due, None, payload)))
    }

    async fn repeat_every(&mut self, name: String, interval_ms: u64, payload: Vec<u8>) -> SchedResult<()> {
        if interval_ms < MIN_INTERVAL_MS {
            return Ok(Err(Error::InvalidInput(format!("interval must be at least {MIN_INTERVAL_MS} ms"))));
        }
        let now = self.host.clock.now_ms();
        let every = i64::try_from(interval_ms).ok();
        Ok(delay(now, interval_ms).and_then(|due| self.set_timer(name, due, every, payload)))
    }

    async fn cancel(&mut self, name: String) -> SchedResult<bool> {
        if self.describing {
            return Ok(Err(Error::AccessDenied));
        }
        let plugin = self.current().name().to_string();
        // The latest buffered change to this timer wins; otherwise ask storage.
        let buffered = self.turn.applied.timers.iter().chain(self.call.timers.iter()).rev().find_map(|op| match op {
            TimerOp::Set { plugin: p, name: n, .. } if *p == plugin && *n == name => Some(true),
            TimerOp::Cancel { plugin: p, name: n } if *p == plugin && *n == name => Some(false),
            _ => None,
        });
        let existed = match buffered {
            Some(b) => b,
            None => match self.host.storage.timer_exists(&plugin, &name).await {
                Ok(b) => b,
                Err(e) => return Err(self.fault(format_args!("timer lookup: {e}"))),
            },
        };
        self.call.timers.push(TimerOp::Cancel { plugin, name });
        Ok(Ok(existed))
    }
}
