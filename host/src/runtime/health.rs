//! Counters and the circuit breaker that disables a plugin after consecutive failures.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use crate::config::PluginName;

/// Named counters (`turns.committed`, `plugin.failures.NAME`, …).
#[derive(Debug, Default)]
pub struct Metrics {
    counters: Mutex<BTreeMap<String, u64>>,
}

impl Metrics {
    /// Add 1 to `key`.
    pub fn incr(&self, key: &str) {
        self.add(key, 1);
    }

    /// Add `n` to `key`.
    pub fn add(&self, key: &str, n: u64) {
        if let Ok(mut c) = self.counters.lock() {
            *c.entry(key.to_owned()).or_default() += n;
        }
    }

    /// Current value of `key`.
    pub fn get(&self, key: &str) -> u64 {
        self.counters.lock().ok().and_then(|c| c.get(key).copied()).unwrap_or(0)
    }

    /// All counters.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.counters.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

/// Disables a plugin after `threshold` consecutive failures (traps, timeouts, memory).
#[derive(Debug)]
pub(crate) struct Breaker {
    threshold: u32,
    state: Mutex<HashMap<PluginName, (u32, bool)>>,
}

impl Breaker {
    pub fn new(threshold: u32) -> Self {
        Self { threshold: threshold.max(1), state: Mutex::new(HashMap::new()) }
    }

    pub fn is_open(&self, p: &PluginName) -> bool {
        self.state.lock().ok().and_then(|s| s.get(p).map(|e| e.1)).unwrap_or(false)
    }

    pub fn success(&self, p: &PluginName) {
        if let Ok(mut s) = self.state.lock()
            && let Some(e) = s.get_mut(p)
        {
            e.0 = 0;
        }
    }

    /// Count a failure; true exactly when this failure opened the breaker.
    pub fn failure(&self, p: &PluginName) -> bool {
        let Ok(mut s) = self.state.lock() else { return false };
        let e = s.entry(p.clone()).or_default();
        e.0 += 1;
        if !e.1 && e.0 >= self.threshold {
            e.1 = true;
            return true;
        }
        false
    }

    /// Close the breaker (a new version was loaded).
    pub fn reset(&self, p: &PluginName) {
        if let Ok(mut s) = self.state.lock() {
            s.remove(p);
        }
    }
}
