//! `--since` and `--until`: a time ago (`30m`, `2h`, `7d`) or a moment (`2026-11-30`,
//! `2026-11-30T12:00`, in the configured time zone, or an RFC 3339 time with its offset).

use std::str::FromStr;

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp, Zoned};

/// A `--since`/`--until` value as typed, before the time zone and the clock are known.
#[derive(Clone, Debug)]
pub enum When {
    /// This long before now.
    Ago(Span),
    /// A calendar day in the configured zone.
    Day(Date),
    /// A wall-clock time in the configured zone.
    Local(DateTime),
    /// An exact instant.
    Instant(Timestamp),
}

/// Which end of a range a [`When`] is: a day starts a range at its first moment and ends
/// it after its last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// `--since`: inclusive.
    Start,
    /// `--until`: exclusive, and a whole day is included.
    Stop,
}

const HINT: &str = "expected a time ago (30m, 2h, 7d) or a date (2026-11-30, 2026-11-30T12:00)";

impl FromStr for When {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let looks_like_date = s.len() >= 10 && s.as_bytes()[4] == b'-';
        if looks_like_date {
            if !s.contains(['T', 't', ' ']) {
                return Date::from_str(s).map(When::Day).map_err(|e| format!("{s:?}: {e}"));
            }
            if let Ok(ts) = Timestamp::from_str(s) {
                return Ok(When::Instant(ts));
            }
            return DateTime::from_str(s).map(When::Local).map_err(|e| format!("{s:?}: {e}"));
        }
        match Span::from_str(s) {
            Ok(span) if span.is_negative() => Err(format!("{s:?}: a time ago cannot be negative")),
            Ok(span) => Ok(When::Ago(span)),
            Err(_) => Err(format!("{s:?}: {HINT}")),
        }
    }
}

impl When {
    /// Unix milliseconds in `tz`, as of `now_ms`.
    pub fn resolve(&self, tz: &TimeZone, now_ms: i64, end: End) -> Result<i64, String> {
        let ts = match self {
            When::Ago(span) => {
                let now = Timestamp::from_millisecond(now_ms).map_err(|e| e.to_string())?.to_zoned(tz.clone());
                now.checked_sub(*span).map_err(|e| format!("{span}: {e}"))?.timestamp()
            }
            When::Day(day) => {
                let day = match end {
                    End::Start => *day,
                    End::Stop => day.tomorrow().map_err(|e| format!("{day}: {e}"))?,
                };
                start_of(day, tz)?.timestamp()
            }
            When::Local(dt) => dt.to_zoned(tz.clone()).map_err(|e| format!("{dt}: {e}"))?.timestamp(),
            When::Instant(ts) => *ts,
        };
        Ok(ts.as_millisecond())
    }
}

/// The first moment of `day` in `tz`.
pub(super) fn start_of(day: Date, tz: &TimeZone) -> Result<Zoned, String> {
    day.to_zoned(tz.clone()).map_err(|e| format!("{day}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn when(s: &str) -> When {
        s.parse().unwrap()
    }

    #[test]
    fn durations_and_dates_parse() {
        assert!(matches!(when("2h"), When::Ago(s) if s.get_hours() == 2));
        assert!(matches!(when("30m"), When::Ago(s) if s.get_minutes() == 30));
        assert!(matches!(when("7d"), When::Ago(s) if s.get_days() == 7));
        let day = jiff::civil::date(2026, 11, 30);
        assert!(matches!(when("2026-11-30"), When::Day(d) if d == day));
        assert!(matches!(when("2026-11-30T12:00"), When::Local(t) if t == day.at(12, 0, 0, 0)));
        assert!(matches!(when("2026-11-30 12:00:05"), When::Local(t) if t == day.at(12, 0, 5, 0)));
        assert!(matches!(when("2026-11-30T12:00:00Z"), When::Instant(_)));
        for bad in ["yesterday", "2x", "2026-13-01", "-2h", ""] {
            assert!(bad.parse::<When>().is_err(), "{bad}");
        }
    }

    #[test]
    fn times_resolve_in_the_zone() {
        let warsaw = TimeZone::get("Europe/Warsaw").unwrap();
        // 2026-11-30 00:00 in Warsaw (CET, +01:00) is 2026-11-29 23:00 UTC.
        let midnight = 1_796_079_600_000 - 86_400_000;
        assert_eq!(when("2026-11-30").resolve(&warsaw, 0, End::Start), Ok(midnight));
        assert_eq!(when("2026-11-30").resolve(&warsaw, 0, End::Stop), Ok(midnight + 86_400_000));
        assert_eq!(when("2026-11-30T12:00").resolve(&warsaw, 0, End::Start), Ok(midnight + 12 * 3_600_000));
        assert_eq!(when("2h").resolve(&warsaw, 10_000_000, End::Start), Ok(10_000_000 - 7_200_000));
    }
}
