//! Access control: when the `api_token` variable holds tokens, every endpoint but `/healthz`
//! requires `Authorization: Bearer <one of them>`. Several tokens let clients move from an old one
//! to a new one without downtime. Empty (the default) leaves the service open, for local use.

use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::error::ApiError;
use crate::http::Request;

/// Who a request is, as far as access control goes: what the access log records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// No token is configured: the service is open.
    Open,
    /// The request presented the configured token at this position in `api_token` (from 1): the
    /// log names the token by position, never by its value.
    Token(usize),
}

/// Lets the request through, saying which token it presented, or answers 401.
pub fn check(req: &Request, config: &Config) -> Result<Caller, ApiError> {
    if cfg!(feature = "bench-skip-token-check") {
        return Ok(Caller::Open); // `benches/run parts`: the cost of the check
    }
    if config.api_tokens.is_empty() {
        return Ok(Caller::Open);
    }
    let presented = req
        .header("authorization")
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    presented.and_then(|token| position(token, &config.api_tokens)).map(Caller::Token).ok_or(ApiError::Unauthorized)
}

/// The position (from 1) of `presented` among `tokens`. Every token is compared, each in time that
/// depends on neither its contents nor its length (fixed-size digests, compared byte by byte
/// without stopping early), so timing tells neither which token matched nor how close a guess was.
fn position(presented: &str, tokens: &[String]) -> Option<usize> {
    let presented = Sha256::digest(presented.as_bytes());
    let mut found = 0;
    for (i, token) in tokens.iter().enumerate() {
        let expected = Sha256::digest(token.as_bytes());
        let diff = presented.iter().zip(expected.iter()).fold(0u8, |diff, (x, y)| diff | (x ^ y));
        // Branch-free: keeps the position of the (first) match.
        let matched = usize::from(diff == 0) & usize::from(found == 0);
        found |= matched * (i + 1);
    }
    (found > 0).then_some(found)
}

#[cfg(test)]
mod tests {
    use super::position;

    #[test]
    fn tokens_compare_by_value_and_report_their_position() {
        let tokens = ["s3cret".to_owned(), "n3w".to_owned()];
        assert_eq!(position("s3cret", &tokens), Some(1));
        assert_eq!(position("n3w", &tokens), Some(2));
        for wrong in ["s3creT", "s3cret ", "", "s3cret,n3w", "s3cret n3w"] {
            assert_eq!(position(wrong, &tokens), None, "{wrong:?}");
        }
        assert_eq!(position("s3cret", &[]), None);
    }
}
