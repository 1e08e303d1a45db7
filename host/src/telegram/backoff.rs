//! Exponential backoff with jitter, for retrying Telegram calls without busy loops.

use std::time::Duration;

use rand::Rng;

/// Doubles from `min` to `max` on each failure; `reset` after a success.
#[derive(Debug)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    /// A backoff between `min` and `max`.
    pub fn new(min: Duration, max: Duration) -> Self {
        Self { min, max, next: min }
    }

    /// The delay for this failure (with up to 50 % jitter), doubling the next one.
    pub fn delay(&mut self) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(self.max);
        let jitter = rand::rng().random_range(0.0..0.5);
        base + base.mul_f64(jitter)
    }

    /// Sleep for [`Backoff::delay`].
    pub async fn wait(&mut self) {
        tokio::time::sleep(self.delay()).await;
    }

    /// Sleep for at least `floor`.
    pub async fn wait_at_least(&mut self, floor: Duration) {
        tokio::time::sleep(self.delay().max(floor)).await;
    }

    /// A success: start again from `min`.
    pub fn reset(&mut self) {
        self.next = self.min;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_to_max_and_resets() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_millis(400));
        let d: Vec<Duration> = (0..4).map(|_| b.delay()).collect();
        assert!(d[0] >= Duration::from_millis(100) && d[0] < Duration::from_millis(150));
        assert!(d[3] >= Duration::from_millis(400) && d[3] < Duration::from_millis(600));
        b.reset();
        assert!(b.delay() < Duration::from_millis(150));
    }
}
