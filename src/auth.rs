//! Access control: when the `api_token` variable is set, every endpoint but `/healthz` requires
//! `Authorization: Bearer <api_token>`. Empty (the default) leaves the service open, for local use.

use spin_sdk::http::Request;

use crate::config::Config;
use crate::error::ApiError;

/// Lets the request through, or answers 401.
pub fn check(req: &Request, config: &Config) -> Result<(), ApiError> {
    if cfg!(feature = "bench-skip-token-check") {
        return Ok(()); // `benches/run parts`: the cost of the check
    }
    let expected = config.api_token.as_str();
    if expected.is_empty() {
        return Ok(());
    }
    let presented = req
        .header("authorization")
        .and_then(|v| v.as_str())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    match presented {
        Some(token) if same_secret(token, expected) => Ok(()),
        _ => Err(ApiError::Unauthorized),
    }
}

/// Compares two secrets in time that depends on neither their contents nor their lengths: it
/// compares fixed-size digests, byte by byte, without stopping early.
fn same_secret(a: &str, b: &str) -> bool {
    let (da, db) = (sha1_smol::Sha1::from(a).digest().bytes(), sha1_smol::Sha1::from(b).digest().bytes());
    da.iter().zip(db.iter()).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::same_secret;

    #[test]
    fn secrets_compare_by_value() {
        assert!(same_secret("s3cret", "s3cret"));
        assert!(!same_secret("s3cret", "s3creT"));
        assert!(!same_secret("s3cret", "s3cret "));
        assert!(!same_secret("", "s3cret"));
    }
}
