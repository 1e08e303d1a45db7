//! Budgets across turns: the per-plugin limits on what a plugin may produce over time
//! (timers, events and messages per second, event-chain depth, KV size), as configured
//! in `[runtime]` (defaults) and `[plugins.NAME.limits]` (overrides), and resolved into
//! one [`Budget`] per plugin. Enforcement lives in `caps::budget`.

/// A token bucket's shape: a sustained rate and a burst.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Tokens added per second.
    pub per_sec: f64,
    /// Most tokens held (and the bucket's starting level).
    pub burst: u32,
}

/// One plugin's budgets, resolved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    /// Timers set.
    pub timers: Rate,
    /// Events emitted.
    pub events: Rate,
    /// Telegram calls queued.
    pub messages: Rate,
    /// Shortest delay of a timer set while the plugin handles one of its own timers.
    pub rearm_delay_ms: u64,
    /// Deepest event chain: an event emitted at a deeper hop is dropped.
    pub max_hops: u32,
    /// Most bytes (keys plus values) in the plugin's KV namespace.
    pub kv_bytes: u64,
    /// Most keys in the plugin's KV namespace.
    pub kv_keys: u64,
    /// Timers, events and messages a plugin may produce free of charge in a turn that
    /// handles an update from Telegram (a user's message, button or member change).
    pub update_allowance: u32,
}

/// Budget keys as they appear in `[runtime]` (every key set) or in
/// `[plugins.NAME.limits]` (unset keys take the `[runtime]` value).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BudgetKeys {
    /// Timers set per second.
    pub timers_per_sec: Option<f64>,
    /// Timers set in a burst.
    pub timers_burst: Option<u32>,
    /// Events emitted per second.
    pub events_per_sec: Option<f64>,
    /// Events emitted in a burst.
    pub events_burst: Option<u32>,
    /// Telegram calls queued per second.
    pub messages_per_sec: Option<f64>,
    /// Telegram calls queued in a burst.
    pub messages_burst: Option<u32>,
    /// Minimum delay of a self-re-arming timer, in ms.
    pub rearm_delay_ms: Option<u64>,
    /// Deepest event chain.
    pub max_hops: Option<u32>,
    /// KV size quota, in MiB.
    pub kv_mib: Option<u64>,
    /// KV key-count quota.
    pub kv_keys: Option<u64>,
    /// Free timers, events and messages per plugin in a turn handling a Telegram update.
    pub update_allowance: Option<u32>,
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            timers: Rate { per_sec: 10.0, burst: 100 },
            events: Rate { per_sec: 50.0, burst: 200 },
            messages: Rate { per_sec: 30.0, burst: 200 },
            rearm_delay_ms: 1_000,
            max_hops: 8,
            kv_bytes: 64 << 20,
            kv_keys: 100_000,
            update_allowance: 10,
        }
    }
}

impl BudgetKeys {
    /// These keys over `base`.
    pub fn over(&self, base: &Budget) -> Budget {
        let rate = |per_sec: Option<f64>, burst: Option<u32>, b: Rate| Rate {
            per_sec: per_sec.unwrap_or(b.per_sec),
            burst: burst.unwrap_or(b.burst),
        };
        Budget {
            timers: rate(self.timers_per_sec, self.timers_burst, base.timers),
            events: rate(self.events_per_sec, self.events_burst, base.events),
            messages: rate(self.messages_per_sec, self.messages_burst, base.messages),
            rearm_delay_ms: self.rearm_delay_ms.unwrap_or(base.rearm_delay_ms),
            max_hops: self.max_hops.unwrap_or(base.max_hops),
            kv_bytes: self.kv_mib.map_or(base.kv_bytes, |m| m << 20),
            kv_keys: self.kv_keys.unwrap_or(base.kv_keys),
            update_allowance: self.update_allowance.unwrap_or(base.update_allowance),
        }
    }

    /// The first key outside its range, as `key = value must be between lo and hi`.
    pub fn check(&self) -> Result<(), String> {
        let f = |v: Option<f64>| v;
        let n = |v: Option<u32>| v.map(f64::from);
        let u = |v: Option<u64>| v.map(|v| v as f64);
        let keys = [
            ("timers_per_sec", f(self.timers_per_sec), 0.01, 100_000.0),
            ("timers_burst", n(self.timers_burst), 1.0, 1_000_000.0),
            ("events_per_sec", f(self.events_per_sec), 0.01, 100_000.0),
            ("events_burst", n(self.events_burst), 1.0, 1_000_000.0),
            ("messages_per_sec", f(self.messages_per_sec), 0.01, 100_000.0),
            ("messages_burst", n(self.messages_burst), 1.0, 1_000_000.0),
            ("rearm_delay_ms", u(self.rearm_delay_ms), 0.0, 86_400_000.0),
            ("max_hops", n(self.max_hops), 1.0, 1_000.0),
            ("kv_mib", u(self.kv_mib), 1.0, 1_048_576.0),
            ("kv_keys", u(self.kv_keys), 1.0, 1_000_000_000.0),
            ("update_allowance", n(self.update_allowance), 0.0, 1_000.0),
        ];
        for (key, value, lo, hi) in keys {
            if let Some(v) = value.filter(|v| !(lo..=hi).contains(v)) {
                return Err(format!("{key} = {v} must be between {lo} and {hi}"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_replace_only_the_keys_they_set() {
        let keys = BudgetKeys { timers_burst: Some(3), kv_mib: Some(2), ..BudgetKeys::default() };
        let b = keys.over(&Budget::default());
        assert_eq!(b.timers, Rate { per_sec: 10.0, burst: 3 });
        assert_eq!(b.kv_bytes, 2 << 20);
        assert_eq!(b.max_hops, 8);
        assert!(BudgetKeys { max_hops: Some(0), ..keys }.check().unwrap_err().starts_with("max_hops = 0"));
        assert!(BudgetKeys { events_per_sec: Some(f64::NAN), ..keys }.check().is_err());
        assert!(keys.check().is_ok());
    }
}
