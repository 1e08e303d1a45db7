//! Counters and the circuit breaker that disables a plugin after consecutive failures.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;

use crate::config::PluginName;

/// Named counters (`turns.committed`, `plugin.failures.NAME`, …) and turn latencies.
#[derive(Debug, Default)]
pub struct Metrics {
    counters: Mutex<BTreeMap<String, u64>>,
    latencies: Mutex<Latencies>,
}

#[derive(Debug, Default)]
struct Latencies {
    service_us: Vec<u64>,
    queued_ms: Vec<u64>,
}

/// Most latency samples kept.
const MAX_SAMPLES: usize = 1 << 20;

/// Percentiles of committed turns' latencies since the last reset.
#[derive(Debug, Clone, Copy, Default)]
pub struct LatencySummary {
    /// Turns measured.
    pub count: usize,
    /// Median time from picking the entry up to its commit, in µs.
    pub service_p50_us: u64,
    /// 99th percentile of the same.
    pub service_p99_us: u64,
    /// Median time from queueing to commit (host clock), in ms.
    pub queued_p50_ms: u64,
    /// 99th percentile of the same.
    pub queued_p99_ms: u64,
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

impl Metrics {
    /// Record one committed turn.
    pub fn record_turn(&self, service: std::time::Duration, queued_ms: i64) {
        if let Ok(mut l) = self.latencies.lock()
            && l.service_us.len() < MAX_SAMPLES
        {
            l.service_us.push(u64::try_from(service.as_micros()).unwrap_or(u64::MAX));
            l.queued_ms.push(u64::try_from(queued_ms).unwrap_or(0));
        }
    }

    /// Latency percentiles since the last [`Metrics::reset`].
    pub fn latencies(&self) -> LatencySummary {
        let Ok(l) = self.latencies.lock() else { return LatencySummary::default() };
        let mut s = l.service_us.clone();
        let mut q = l.queued_ms.clone();
        s.sort_unstable();
        q.sort_unstable();
        LatencySummary {
            count: s.len(),
            service_p50_us: percentile(&s, 0.50),
            service_p99_us: percentile(&s, 0.99),
            queued_p50_ms: percentile(&q, 0.50),
            queued_p99_ms: percentile(&q, 0.99),
        }
    }

    /// Forget latency samples and counters.
    pub fn reset(&self) {
        if let Ok(mut l) = self.latencies.lock() {
            *l = Latencies::default();
        }
        if let Ok(mut c) = self.counters.lock() {
            c.clear();
        }
    }

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

/// Window in which `threshold` budget hits open the breaker (host clock, ms).
pub(crate) const BUDGET_WINDOW_MS: i64 = 60_000;

/// Disables a plugin after `threshold` consecutive failures (traps, timeouts, memory),
/// or after `threshold` turns within [`BUDGET_WINDOW_MS`] in which it hit a budget
/// (successes in between do not clear those: a plugin that keeps hitting its budgets
/// is failing even when some of its turns still fit).
#[derive(Debug)]
pub(crate) struct Breaker {
    threshold: u32,
    state: Mutex<HashMap<PluginName, (u32, bool)>>,
    budget_hits: Mutex<HashMap<PluginName, VecDeque<i64>>>,
}

impl Breaker {
    pub fn new(threshold: u32) -> Self {
        Self { threshold: threshold.max(1), state: Mutex::new(HashMap::new()), budget_hits: Mutex::default() }
    }

    /// Count a turn in which `p` hit a budget, at `now_ms`; true exactly when this hit
    /// opened the breaker.
    pub fn budget_hit(&self, p: &PluginName, now_ms: i64) -> bool {
        let recent = {
            let Ok(mut hits) = self.budget_hits.lock() else { return false };
            let q = hits.entry(p.clone()).or_default();
            q.push_back(now_ms);
            while q.front().is_some_and(|t| *t <= now_ms - BUDGET_WINDOW_MS) || q.len() > self.threshold as usize {
                q.pop_front();
            }
            q.len()
        };
        if recent < self.threshold as usize {
            return false;
        }
        let Ok(mut s) = self.state.lock() else { return false };
        let e = s.entry(p.clone()).or_default();
        if e.1 {
            return false;
        }
        e.1 = true;
        true
    }

    /// The plugins whose breaker is open, by name.
    pub fn open_plugins(&self) -> Vec<String> {
        let Ok(s) = self.state.lock() else { return Vec::new() };
        let mut open: Vec<String> = s.iter().filter(|(_, e)| e.1).map(|(p, _)| p.to_string()).collect();
        open.sort();
        open
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
        if let Ok(mut h) = self.budget_hits.lock() {
            h.remove(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_hits_open_the_breaker_within_a_window_despite_successes() {
        let b = Breaker::new(3);
        let p = PluginName::parse("storm").unwrap();
        assert!(!b.budget_hit(&p, 0));
        b.success(&p);
        assert!(!b.budget_hit(&p, 1_000));
        b.success(&p);
        assert!(b.budget_hit(&p, 2_000), "the third hit within a minute opens it");
        assert!(b.is_open(&p));
        assert!(!b.budget_hit(&p, 3_000), "it opens once");
        let q = PluginName::parse("slow").unwrap();
        for minute in 0..5 {
            assert!(!b.budget_hit(&q, minute * 40_000), "hits spread out never add up");
        }
        assert!(!b.is_open(&q));
    }
}
