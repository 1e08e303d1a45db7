//! Process metrics (`process_cpu_seconds_total`, `process_resident_memory_bytes`,
//! `process_open_fds`, `process_start_time_seconds`) read from `/proc` at scrape time
//! and encoded by the client crate. Elsewhere than on Linux the files are missing and
//! the metrics are left out.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

/// Clock ticks per second of the times in `/proc/PID/stat` (`USER_HZ`, fixed at 100 in
/// Linux's user-space ABI).
const USER_HZ: f64 = 100.0;

#[derive(Debug, Default)]
pub(super) struct ProcessCollector;

impl ProcessCollector {
    pub fn new() -> Self {
        Self
    }
}

/// What one read of `/proc` found.
#[derive(Debug, Default, PartialEq)]
struct Sample {
    cpu_seconds: Option<f64>,
    start_time_seconds: Option<f64>,
    resident_bytes: Option<f64>,
    open_fds: Option<f64>,
}

/// utime + stime (seconds) and the start time (ticks since boot) from `/proc/PID/stat`.
fn parse_stat(stat: &str) -> Option<(f64, u64)> {
    // The command name (field 2) is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // f[0] is field 3 (state): field n is f[n - 3].
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    let start: u64 = f.get(19)?.parse().ok()?;
    Some(((utime + stime) as f64 / USER_HZ, start))
}

/// Boot time (Unix seconds) from `/proc/stat`.
fn parse_btime(stat: &str) -> Option<u64> {
    stat.lines().find_map(|l| l.strip_prefix("btime "))?.trim().parse().ok()
}

/// Resident set size in bytes from `/proc/PID/status`.
fn parse_rss(status: &str) -> Option<f64> {
    let kb: f64 =
        status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kb * 1024.0)
}

fn read() -> Sample {
    let stat = std::fs::read_to_string("/proc/self/stat").ok();
    let parsed = stat.as_deref().and_then(parse_stat);
    let btime = std::fs::read_to_string("/proc/stat").ok().as_deref().and_then(parse_btime);
    Sample {
        cpu_seconds: parsed.map(|p| p.0),
        start_time_seconds: parsed.zip(btime).map(|((_, start), boot)| boot as f64 + start as f64 / USER_HZ),
        resident_bytes: std::fs::read_to_string("/proc/self/status").ok().as_deref().and_then(parse_rss),
        open_fds: std::fs::read_dir("/proc/self/fd").ok().map(|d| d.count() as f64),
    }
}

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let s = read();
        if let Some(v) = s.cpu_seconds {
            let c = ConstCounter::new(v);
            c.encode(encoder.encode_descriptor(
                "process_cpu_seconds",
                "User and system CPU time",
                None,
                c.metric_type(),
            )?)?;
        }
        let gauges = [
            ("process_resident_memory_bytes", "Resident memory size in bytes", s.resident_bytes),
            ("process_open_fds", "Open file descriptors", s.open_fds),
            ("process_start_time_seconds", "Start time of the process (Unix seconds)", s.start_time_seconds),
        ];
        for (name, help, value) in gauges {
            if let Some(v) = value {
                let g = ConstGauge::new(v);
                g.encode(encoder.encode_descriptor(name, help, None, g.metric_type())?)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_files_are_read_field_by_field() {
        let stat = "4242 (wharf (x) y) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 50 0 0 20 0 12 0 123400 1000 2000";
        assert_eq!(parse_stat(stat), Some((3.0, 123_400)));
        assert_eq!(parse_btime("cpu  1 2 3\nbtime 1700000000\nprocesses 9\n"), Some(1_700_000_000));
        assert_eq!(parse_rss("Name:\twharf\nVmRSS:\t  2048 kB\n"), Some(2_097_152.0));
        assert_eq!(parse_stat("garbage"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_has_all_four() {
        let s = read();
        assert!(s.cpu_seconds.is_some() && s.resident_bytes.is_some_and(|b| b > 0.0));
        assert!(s.open_fds.is_some_and(|n| n >= 3.0), "stdin, stdout, stderr at least");
        assert!(s.start_time_seconds.is_some_and(|t| t > 1_600_000_000.0));
    }
}
