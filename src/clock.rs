//! The service's notion of "now": the host's wall clock (WASI `clock_time_get`), written as
//! RFC 3339 in UTC. A few lines of calendar arithmetic instead of a date library keep the `.wasm`
//! small.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The current time with microseconds, e.g. `2026-11-25T05:10:00.123456Z`. Microseconds keep
/// `updated_at` moving between two quick updates.
pub fn now() -> String {
    let t = since_epoch(SystemTime::now());
    format!("{}.{:06}Z", date_time(t.as_secs()), t.subsec_micros())
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> u64 {
    since_epoch(SystemTime::now()).as_millis().try_into().unwrap_or(u64::MAX)
}

/// A time given in milliseconds since the Unix epoch, with milliseconds, e.g.
/// `2026-11-30T10:00:00.123Z` (sessions' times, which Redis's clock sets).
pub fn at_ms(ms: u64) -> String {
    let t = Duration::from_millis(ms);
    format!("{}.{:03}Z", date_time(t.as_secs()), t.subsec_millis())
}

fn since_epoch(t: SystemTime) -> Duration {
    t.duration_since(UNIX_EPOCH).unwrap_or_default()
}

/// `YYYY-MM-DDTHH:MM:SS` for seconds since the Unix epoch, in UTC.
fn date_time(secs: u64) -> String {
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, for days on or after the epoch).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::{at_ms, date_time};

    #[test]
    fn dates_are_utc_calendar_dates() {
        assert_eq!(date_time(0), "1970-01-01T00:00:00");
        assert_eq!(date_time(951_782_400), "2000-02-29T00:00:00");
        assert_eq!(date_time(1_795_000_000), "2026-11-18T11:06:40");
        assert_eq!(date_time(4_107_542_399), "2100-02-28T23:59:59");
        assert_eq!(date_time(253_402_300_799), "9999-12-31T23:59:59");
        assert_eq!(at_ms(1_795_000_000_007), "2026-11-18T11:06:40.007Z");
    }
}
