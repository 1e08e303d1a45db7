//! The circuit breaker that disables a plugin after consecutive failures (its trips are
//! persisted in `plugin_state` by the runtime, see `runtime::disabled`).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use crate::config::PluginName;

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

    /// Open the breaker without counting (a trip recorded before a restart).
    pub fn open(&self, p: &PluginName) {
        if let Ok(mut s) = self.state.lock() {
            s.entry(p.clone()).or_default().1 = true;
        }
    }

    /// Close the breaker (a new version was loaded, or an admin re-enabled it).
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
