//! The service's notion of "now".

/// The current time as RFC 3339 in UTC with microseconds, e.g. `2026-11-25T05:10:00.123456Z`.
/// Microseconds keep `updated_at` moving between two quick updates.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}
