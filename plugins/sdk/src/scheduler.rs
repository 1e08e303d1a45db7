//! Time and timers (grant `scheduler`). A timer fires once as [`Event::Timer`](crate::Event)
//! to the plugin that set it, in the chat of the turn that set it; a repeating job fires
//! every interval until cancelled. Setting a timer under a name that exists replaces it.
//! Timers are written with the turn's commit (a failed turn sets none). The payload is
//! opaque bytes, handed back in [`TimerFired::payload`](crate::TimerFired).
//!
//! ```
//! use wharf_sdk::{prelude::*, scheduler};
//!
//! fn remind_in_an_hour(order: i64) -> Result<(), wharf_sdk::Error> {
//!     scheduler::after(&format!("remind:{order}"), 3_600_000, order.to_string().as_bytes())
//! }
//!
//! fn on_timer(t: &TimerFired) -> Option<i64> {
//!     let order = std::str::from_utf8(&t.payload).ok()?.parse().ok()?;
//!     Some(order)
//! }
//! ```

use crate::Error;
use crate::host::scheduler as raw;

/// The host's time now, in Unix milliseconds (the same clock as `Context::now_ms`; in
/// tests, the harness's manual clock).
pub fn now() -> i64 {
    raw::now()
}

/// Fire timer `name` once at `at_ms` (Unix milliseconds; a time in the past fires at once).
pub fn at(name: &str, at_ms: i64, payload: &[u8]) -> Result<(), Error> {
    Ok(raw::schedule_at(name, at_ms, payload)?)
}

/// Fire timer `name` once, `delay_ms` from now.
pub fn after(name: &str, delay_ms: u64, payload: &[u8]) -> Result<(), Error> {
    Ok(raw::schedule_after(name, delay_ms, payload)?)
}

/// Fire job `name` every `interval_ms` (at least 1000), the first time one interval from
/// now, until [`cancel`]led.
pub fn every(name: &str, interval_ms: u64, payload: &[u8]) -> Result<(), Error> {
    Ok(raw::repeat_every(name, interval_ms, payload)?)
}

/// Cancel timer or job `name`; whether one was set.
pub fn cancel(name: &str) -> Result<bool, Error> {
    Ok(raw::cancel(name)?)
}
