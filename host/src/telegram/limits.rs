//! Telegram's rate limits as token buckets: per chat (≈1 message/s with short bursts),
//! per group (20/min) and overall (30/s). The emulator enforces them; the outbox
//! sender paces itself by them (slightly below, so it never meets a 429).

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Limits; the defaults are Telegram's.
#[derive(Clone, Copy, Debug, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimits {
    /// Messages per second to one private chat.
    pub per_chat_per_sec: f64,
    /// Messages that may go to one private chat at once.
    pub per_chat_burst: f64,
    /// Messages per minute to one group.
    pub per_group_per_min: f64,
    /// Messages per second overall.
    pub global_per_sec: f64,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self { per_chat_per_sec: 1.0, per_chat_burst: 3.0, per_group_per_min: 20.0, global_per_sec: 30.0 }
    }
}

impl RateLimits {
    /// The same limits with every rate scaled by `factor` (bursts unchanged).
    pub fn scaled(self, factor: f64) -> Self {
        Self {
            per_chat_per_sec: self.per_chat_per_sec * factor,
            per_group_per_min: self.per_group_per_min * factor,
            global_per_sec: self.global_per_sec * factor,
            ..self
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    /// Refill, then the time until one token is available.
    fn wait(&mut self, cap: f64, rate: f64, now: Instant) -> Duration {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate).min(cap);
        self.at = now;
        if self.tokens >= 1.0 { Duration::ZERO } else { Duration::from_secs_f64((1.0 - self.tokens) / rate) }
    }
}

/// (capacity, tokens per second) of `chat`'s bucket: groups have negative ids.
fn params(l: RateLimits, chat: i64) -> (f64, f64) {
    if chat < 0 { (l.per_group_per_min, l.per_group_per_min / 60.0) } else { (l.per_chat_burst, l.per_chat_per_sec) }
}

/// Buckets for every chat seen plus the global one.
#[derive(Debug)]
pub struct Limiter {
    limits: RateLimits,
    /// Tokens every bucket keeps back (its capacity is that much smaller).
    reserve: f64,
    chats: HashMap<i64, Bucket>,
    global: Option<Bucket>,
}

impl Limiter {
    /// A limiter with full buckets.
    pub fn new(limits: RateLimits) -> Self {
        Self::with_reserve(limits, 0.0)
    }

    /// A limiter whose buckets hold `reserve` tokens less than the limits allow (at least
    /// one). A sender pacing itself keeps one in reserve: requests sent in order may reach
    /// Telegram out of order, and right after a full burst Telegram's bucket has no token
    /// to spare for one that overtook another.
    pub fn with_reserve(limits: RateLimits, reserve: f64) -> Self {
        Self { limits, reserve, chats: HashMap::new(), global: None }
    }

    fn chat_params(&self, chat: i64) -> (f64, f64) {
        let (cap, rate) = params(self.limits, chat);
        ((cap - self.reserve).max(1.0), rate)
    }

    fn global_params(&self) -> (f64, f64) {
        let g = self.limits.global_per_sec;
        ((g - self.reserve).max(1.0), g)
    }

    /// How long until a message to `chat` may go: (wait for the chat, wait overall).
    pub fn wait(&mut self, chat: i64, now: Instant) -> (Duration, Duration) {
        let (cap, rate) = self.chat_params(chat);
        let (gcap, g) = self.global_params();
        let chat_wait = self.chats.entry(chat).or_insert(Bucket { tokens: cap, at: now }).wait(cap, rate, now);
        let global_wait = self.global.get_or_insert(Bucket { tokens: gcap, at: now }).wait(gcap, g, now);
        (chat_wait, global_wait)
    }

    /// How long until `chat`'s own bucket has a token (the global one untouched).
    pub fn chat_wait(&mut self, chat: i64, now: Instant) -> Duration {
        let (cap, rate) = self.chat_params(chat);
        self.chats.entry(chat).or_insert(Bucket { tokens: cap, at: now }).wait(cap, rate, now)
    }

    /// Forget chats whose buckets are full again (they behave as new ones would).
    pub fn prune(&mut self, now: Instant) {
        let (l, reserve) = (self.limits, self.reserve);
        self.chats.retain(|chat, b| {
            let (cap, rate) = params(l, *chat);
            let cap = (cap - reserve).max(1.0);
            b.wait(cap, rate, now);
            b.tokens < cap
        });
    }

    /// Take a token for `chat` (call after [`Limiter::wait`] returned zeros).
    pub fn take(&mut self, chat: i64) {
        if let Some(b) = self.chats.get_mut(&chat) {
            b.tokens -= 1.0;
        }
        if let Some(g) = self.global.as_mut() {
            g.tokens -= 1.0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_then_paces() {
        let mut l = Limiter::new(RateLimits::default());
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(l.wait(5, t0), (Duration::ZERO, Duration::ZERO));
            l.take(5);
        }
        let (chat, global) = l.wait(5, t0);
        assert!(chat > Duration::from_millis(900) && global.is_zero());
        assert_eq!(l.wait(5, t0 + Duration::from_secs(1)).0, Duration::ZERO);
        assert_eq!(l.wait(-100, t0).0, Duration::ZERO, "groups have their own bucket");
    }

    #[test]
    fn a_reserve_keeps_a_token_back_in_every_bucket() {
        let mut l = Limiter::with_reserve(RateLimits::default(), 1.0);
        let t0 = Instant::now();
        for _ in 0..2 {
            assert_eq!(l.wait(5, t0).0, Duration::ZERO);
            l.take(5);
        }
        assert!(!l.wait(5, t0).0.is_zero(), "the third of a burst of 3 waits");
        let mut l = Limiter::with_reserve(RateLimits::default(), 1.0);
        for chat in 100..129 {
            assert!(l.wait(chat, t0).1.is_zero(), "chat {chat}");
            l.take(chat);
        }
        assert!(!l.wait(200, t0).1.is_zero(), "29 of the global 30 go at once");
    }
}
