//! Moves due timers into the inbox (exactly once, in one transaction per batch) and
//! wakes the dispatcher. Time comes from the host clock, so tests advance a manual
//! clock instead of sleeping.

use std::sync::Arc;
use std::time::Duration;

use super::Shared;
use crate::inbox::{Entry, Event, TimerFired};
use crate::storage::TimerRow;

/// A fired timer as an inbox entry (a chain starts: hops 0). Encoding a timer cannot
/// fail; if it ever did, the empty row would be dead-lettered with the reason.
fn render(t: &TimerRow) -> String {
    let entry = Entry::new(Event::Timer(TimerFired {
        name: t.name.clone(),
        payload: t.payload.clone(),
        due_at: t.due_ms,
        repeating: t.interval_ms.is_some(),
    }));
    entry.encode().unwrap_or_default()
}

pub(crate) async fn run(shared: Arc<Shared>) {
    loop {
        let changed = shared.timers_changed.notified();
        if shared.is_shutting_down() {
            return;
        }
        let clock = &shared.host.clock;
        let storage = &shared.host.storage;
        match storage.fire_due_timers(clock.now_ms(), render).await {
            Ok(0) => {}
            Ok(n) => {
                shared.metrics.timers_fired(n as u64);
                shared.wake.notify_one();
                continue;
            }
            Err(e) => tracing::warn!(target: "wharf.timers", error = %e, "cannot fire timers"),
        }
        let next = storage.next_timer_due().await.ok().flatten();
        let at = next.unwrap_or_else(|| clock.now_ms().saturating_add(60_000));
        tokio::select! {
            () = clock.sleep_until(at, Duration::from_secs(1)) => {}
            () = changed => {}
        }
    }
}
