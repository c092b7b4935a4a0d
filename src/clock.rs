//! The service's notion of "now".

use chrono::{Duration, SecondsFormat, Utc};

/// The current time as RFC 3339 in UTC with microseconds, e.g. `2026-11-25T05:10:00.123456Z`.
/// Microseconds keep `updated_at` moving between two quick updates.
pub fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// `ms` milliseconds from now, as RFC 3339 in UTC with milliseconds (for expiry times).
pub fn now_plus_ms(ms: u64) -> String {
    let later = Utc::now() + Duration::milliseconds(i64::try_from(ms).unwrap_or(i64::MAX / 2));
    later.to_rfc3339_opts(SecondsFormat::Millis, true)
}
