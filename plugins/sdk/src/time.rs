//! Calendar dates in UTC without a time-zone database: formatting host timestamps and
//! parsing `YYYY-MM-DD` (e.g. for report ranges). Timestamps are Unix milliseconds, as
//! the host gives them (`Context::now_ms`, `scheduler::now`).

use crate::Error;

const DAY_MS: i64 = 86_400_000;

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let m = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// (year, month, day) → days since 1970-01-01.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `2026-11-21`.
pub fn date(ms: i64) -> String {
    let (y, m, d) = civil(ms.div_euclid(DAY_MS));
    format!("{y:04}-{m:02}-{d:02}")
}

/// `2026-11-21 14:03 UTC`.
pub fn date_time(ms: i64) -> String {
    let in_day = ms.rem_euclid(DAY_MS) / 60_000;
    format!("{} {:02}:{:02} UTC", date(ms), in_day / 60, in_day % 60)
}

/// `YYYY-MM-DD` → Unix milliseconds at 00:00 UTC of that day.
pub fn parse_date(text: &str) -> Result<i64, Error> {
    let bad = || Error::InvalidInput(format!("{text:?} is not a date like 2026-11-21"));
    let mut parts = text.trim().splitn(3, '-');
    let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else { return Err(bad()) };
    let (y, m, d): (i64, u32, u32) =
        (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?, d.parse().map_err(|_| bad())?);
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || d < 1 {
        return Err(bad());
    }
    let days = days_from_civil(y, m, d);
    if civil(days) != (y, m, d) {
        return Err(bad());
    }
    Ok(days * DAY_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_dates() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date_time(1_700_000_000_000), "2023-11-14 22:13 UTC");
        assert_eq!(parse_date("2023-11-14").unwrap(), 1_699_920_000_000);
        assert_eq!(date(parse_date("2024-02-29").unwrap()), "2024-02-29");
        for bad in ["2023-02-29", "2023-13-01", "2023-1", "x", "2023-00-10", "1969-12-31"] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
    }
}
