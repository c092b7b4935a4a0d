//! The service's notion of "now": the host's wall clock (WASI `clock_time_get`), written as
//! RFC 3339 in UTC. A few lines of calendar arithmetic instead of a date library keep the `.wasm`
//! small.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Serialize, Serializer};

/// The current time with microseconds, e.g. `2026-11-25T05:10:00.123456Z`. Microseconds keep
/// `updated_at` moving between two quick updates.
pub fn now() -> String {
    let t = since_epoch(SystemTime::now());
    Text::new(t.as_secs(), u64::from(t.subsec_micros()), 6).as_str().to_owned()
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> u64 {
    since_epoch(SystemTime::now()).as_millis().try_into().unwrap_or(u64::MAX)
}

/// A time given in milliseconds since the Unix epoch, written with milliseconds, e.g.
/// `2026-11-30T10:00:00.123Z` (sessions' times, which Redis's clock sets). Formatted in place when
/// serialized: every session representation writes three or four of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Millis(pub u64);

impl Millis {
    fn text(self) -> Text {
        Text::new(self.0 / 1000, self.0 % 1000, 3)
    }
}

impl Serialize for Millis {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.text().as_str())
    }
}

#[cfg(test)]
fn at_ms(ms: u64) -> String {
    Millis(ms).text().as_str().to_owned()
}

fn since_epoch(t: SystemTime) -> Duration {
    t.duration_since(UNIX_EPOCH).unwrap_or_default()
}

/// RFC 3339 in UTC, written on the stack: `YYYY-MM-DDTHH:MM:SS.<fraction>Z` (a year past 9999,
/// which only a huge configured lifetime could give, takes as many digits as it needs).
struct Text {
    bytes: [u8; 48],
    len: usize,
}

impl Text {
    fn new(secs: u64, fraction: u64, width: usize) -> Text {
        let (days, rem) = (secs / 86_400, secs % 86_400);
        let (year, month, day) = civil_from_days(days);
        let mut text = Text { bytes: [0; 48], len: 0 };
        text.number(year, 4);
        text.push(b'-');
        text.number(month, 2);
        text.push(b'-');
        text.number(day, 2);
        text.push(b'T');
        text.number(rem / 3600, 2);
        text.push(b':');
        text.number(rem % 3600 / 60, 2);
        text.push(b':');
        text.number(rem % 60, 2);
        text.push(b'.');
        text.number(fraction, width);
        text.push(b'Z');
        text
    }

    fn push(&mut self, byte: u8) {
        self.bytes[self.len] = byte;
        self.len += 1;
    }

    /// `value` in decimal, zero-padded to at least `width` digits.
    fn number(&mut self, value: u64, width: usize) {
        let mut digits = [0u8; 20];
        let mut start = digits.len();
        let mut rest = value;
        while rest > 0 || digits.len() - start < width {
            start -= 1;
            digits[start] = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        for &digit in &digits[start..] {
            self.push(digit);
        }
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).expect("a timestamp is ASCII")
    }
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
    use super::{at_ms, now};

    #[test]
    fn dates_are_utc_calendar_dates() {
        assert_eq!(at_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(at_ms(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(at_ms(1_795_000_000_007), "2026-11-18T11:06:40.007Z");
        assert_eq!(at_ms(4_107_542_399_999), "2100-02-28T23:59:59.999Z");
        assert_eq!(at_ms(253_402_300_799_000), "9999-12-31T23:59:59.000Z");
        assert_eq!(at_ms(u64::MAX), "584556019-04-03T14:25:51.615Z");
        assert_eq!(serde_json::to_string(&super::Millis(1_795_000_000_120)).unwrap(), "\"2026-11-18T11:06:40.120Z\"");
    }

    #[test]
    fn now_has_microseconds() {
        let text = now();
        assert_eq!((text.len(), &text[19..20], &text[26..]), (27, ".", "Z"), "{text}");
        assert!(text.starts_with("20"), "{text}");
    }
}
