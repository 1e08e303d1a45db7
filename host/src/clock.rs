//! Time, owned by the host and injectable: production uses the system clock, tests a
//! manual clock they advance instead of sleeping. Plugins see this time through
//! `scheduler.now`, the turn context and WASI's wall clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::Notify;

/// A source of Unix-millisecond time that can also wait for a moment to arrive.
#[derive(Clone, Debug)]
pub struct Clock(Arc<Inner>);

#[derive(Debug)]
enum Inner {
    System,
    Manual { now_ms: AtomicI64, moved: Notify },
}

impl Clock {
    /// The operating system's clock.
    pub fn system() -> Self {
        Self(Arc::new(Inner::System))
    }

    /// A clock that stands still until [`Clock::advance`] moves it.
    pub fn manual(start_ms: i64) -> Self {
        Self(Arc::new(Inner::Manual { now_ms: AtomicI64::new(start_ms), moved: Notify::new() }))
    }

    /// Unix time in milliseconds.
    pub fn now_ms(&self) -> i64 {
        match &*self.0 {
            Inner::System => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
                .unwrap_or(0),
            Inner::Manual { now_ms, .. } => now_ms.load(Ordering::SeqCst),
        }
    }

    /// Move a manual clock forward (no effect on the system clock) and wake waiters.
    pub fn advance(&self, by: Duration) {
        if let Inner::Manual { now_ms, moved } = &*self.0 {
            let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
            now_ms.fetch_add(by, Ordering::SeqCst);
            moved.notify_waiters();
        }
    }

    /// Wait until the clock reads at least `at_ms`, or until `cap` of real time passed
    /// (whichever is first), so callers re-check other conditions regularly.
    pub async fn sleep_until(&self, at_ms: i64, cap: Duration) {
        match &*self.0 {
            Inner::System => {
                let wait = u64::try_from(at_ms.saturating_sub(self.now_ms())).unwrap_or(0);
                tokio::time::sleep(Duration::from_millis(wait).min(cap)).await;
            }
            Inner::Manual { moved, .. } => {
                let notified = moved.notified();
                if self.now_ms() >= at_ms {
                    return;
                }
                let _ = tokio::time::timeout(cap, notified).await;
            }
        }
    }
}

/// WASI's wall clock, backed by the host clock.
#[derive(Debug)]
pub(crate) struct WasiWallClock(pub Clock);

impl wasmtime_wasi::HostWallClock for WasiWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_millis(1)
    }

    fn now(&self) -> Duration {
        Duration::from_millis(u64::try_from(self.0.now_ms()).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn manual_clock_wakes_sleepers_when_advanced() {
        let clock = Clock::manual(1_000);
        let c = clock.clone();
        let waiter = tokio::spawn(async move {
            c.sleep_until(61_000, Duration::from_secs(3600)).await;
            c.now_ms()
        });
        tokio::task::yield_now().await;
        clock.advance(Duration::from_secs(60));
        let seen = tokio::time::timeout(Duration::from_secs(10), waiter).await.unwrap().unwrap();
        assert_eq!(seen, 61_000);
    }
}
