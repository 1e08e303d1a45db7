//! Turn latency samples and their percentiles (what the benchmarks print).

use std::sync::Mutex;

/// Most latency samples kept.
const MAX_SAMPLES: usize = 1 << 20;

#[derive(Debug, Default)]
pub(super) struct Latencies {
    samples: Mutex<Samples>,
}

#[derive(Debug, Default)]
struct Samples {
    service_us: Vec<u64>,
    queued_ms: Vec<u64>,
}

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

impl Latencies {
    pub fn record(&self, service: std::time::Duration, queued_ms: i64) {
        if let Ok(mut l) = self.samples.lock()
            && l.service_us.len() < MAX_SAMPLES
        {
            l.service_us.push(u64::try_from(service.as_micros()).unwrap_or(u64::MAX));
            l.queued_ms.push(u64::try_from(queued_ms).unwrap_or(0));
        }
    }

    pub fn summary(&self) -> LatencySummary {
        let Ok(l) = self.samples.lock() else { return LatencySummary::default() };
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

    pub fn reset(&self) {
        if let Ok(mut l) = self.samples.lock() {
            *l = Samples::default();
        }
    }
}
