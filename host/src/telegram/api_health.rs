//! Whether the Bot API answers: the last successful call and since when calls have been
//! failing (host clock, Unix ms), for `/readyz` and the "Bot API unreachable" alert.

use std::sync::atomic::{AtomicI64, Ordering};

/// Shared by the poller, the sender, readiness and alerts; 0 means "never" / "not failing".
#[derive(Debug, Default)]
pub struct ApiHealth {
    last_ok_ms: AtomicI64,
    failing_since_ms: AtomicI64,
}

impl ApiHealth {
    /// A call got an answer from Telegram (any answer but a network error or a 5xx).
    pub fn ok(&self, now_ms: i64) {
        self.last_ok_ms.store(now_ms, Ordering::Relaxed);
        self.failing_since_ms.store(0, Ordering::Relaxed);
    }

    /// A call failed on the network or with a 5xx.
    pub fn failed(&self, now_ms: i64) {
        let _ = self.failing_since_ms.compare_exchange(0, now_ms.max(1), Ordering::Relaxed, Ordering::Relaxed);
    }

    /// When the last call got an answer.
    pub fn last_ok_ms(&self) -> Option<i64> {
        Some(self.last_ok_ms.load(Ordering::Relaxed)).filter(|&t| t != 0)
    }

    /// Since when every call has failed, if the last one did.
    pub fn failing_since_ms(&self) -> Option<i64> {
        Some(self.failing_since_ms.load(Ordering::Relaxed)).filter(|&t| t != 0)
    }
}
