//! Configuration, read from the Spin variables declared in `spin.toml`. Nothing is hard-coded:
//! `SPIN_VARIABLE_<NAME>` overrides a default at `spin up` time.

use spin_sdk::variables;

use crate::error::ApiError;

/// The Redis URL to connect to: `redis_address` (`redis[s]://host:port`) with `redis_username` and
/// `redis_password` as its userinfo.
///
/// The credentials are separate variables because Spin matches `allowed_outbound_hosts` entries
/// without recognising userinfo: the entry templated from an address with a password in it would
/// allow nothing. `spin.toml` joins the three into one component variable, `redis_connection`
/// (`<address>#<username>:<password>`), so that this costs one lookup. The address cannot contain
/// `#` (Spin would refuse it as an allowed host), so the first `#` splits it off.
pub fn redis_url() -> Result<String, ApiError> {
    let joined = variables::get("redis_connection")
        .map_err(|e| ApiError::Internal(format!("cannot read the redis_connection variable: {e}")))?;
    join_redis_url(&joined)
}

fn join_redis_url(joined: &str) -> Result<String, ApiError> {
    let (address, credentials) = joined.split_once('#').unwrap_or((joined, ":"));
    let (scheme, host) = address
        .split_once("://")
        .ok_or_else(|| ApiError::Internal("redis_address must look like redis://host:port".into()))?;
    if host.contains('@') {
        return Err(ApiError::Internal(
            "redis_address must not carry credentials (Spin could not match it in allowed_outbound_hosts): \
             set redis_username / redis_password instead"
                .into(),
        ));
    }
    let (username, password) = credentials.split_once(':').unwrap_or((credentials, ""));
    let userinfo = match (username, password) {
        ("", "") => return Ok(address.to_owned()),
        (user, "") => format!("{}@", encode(user)),
        (user, password) => format!("{}:{}@", encode(user), encode(password)),
    };
    Ok(format!("{scheme}://{userinfo}{host}"))
}

/// Percent-encodes a URL userinfo part: everything but unreserved characters.
fn encode(part: &str) -> String {
    const USERINFO: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
    percent_encoding::utf8_percent_encode(part, USERINFO).to_string()
}

/// The bearer token every request but `/healthz` must present; empty means no access control.
pub fn api_token() -> Result<String, ApiError> {
    variables::get("api_token").map_err(|e| ApiError::Internal(format!("cannot read the api_token variable: {e}")))
}

/// How long a `/v1` session lives when the client does not say (`session_ttl_seconds`).
pub fn session_ttl_seconds() -> Result<u64, ApiError> {
    positive_integer("session_ttl_seconds")
}

/// The longest life a client may ask for a `/v1` session (`session_max_ttl_seconds`).
pub fn session_max_ttl_seconds() -> Result<u64, ApiError> {
    positive_integer("session_max_ttl_seconds")
}

/// A limit on client input that operators tune with a Spin variable (default in `spin.toml`), but
/// never below `floor`. Inputs within the floor are accepted without reading the variable, so an
/// ordinary request pays no extra variable lookup.
pub struct Limit {
    pub variable: &'static str,
    pub floor: u64,
}

impl Limit {
    /// `Ok(())` when `size` is within the limit, else `Err(limit)`.
    pub fn check(&self, size: u64) -> Result<Result<(), u64>, ApiError> {
        if size <= self.floor {
            return Ok(Ok(()));
        }
        let limit = self.value()?;
        Ok(if size <= limit { Ok(()) } else { Err(limit) })
    }

    /// The limit in force: the variable, raised to the floor.
    pub fn value(&self) -> Result<u64, ApiError> {
        Ok(positive_integer(self.variable)?.max(self.floor))
    }
}

/// Request body size in bytes (413 beyond).
pub const MAX_BODY_BYTES: Limit = Limit { variable: "max_body_bytes", floor: 4096 };
/// `nom` / `prenom` length in characters (422 beyond).
pub const MAX_NAME_CHARS: Limit = Limit { variable: "max_name_chars", floor: 64 };
/// Session `data` size in bytes, as stored (413 beyond).
pub const MAX_SESSION_DATA_BYTES: Limit = Limit { variable: "max_session_data_bytes", floor: 1024 };
/// Session `data` nesting depth (422 beyond).
pub const MAX_SESSION_DATA_DEPTH: Limit = Limit { variable: "max_session_data_depth", floor: 4 };
/// Session id length in bytes, for ids chosen by clients of `/create_session` (400 beyond) and
/// ids in paths (404 beyond: no such session can exist).
pub const MAX_SESSION_ID_BYTES: Limit = Limit { variable: "max_session_id_bytes", floor: 64 };
/// The largest `limit` of a `/v1/users` page (400 beyond).
pub const MAX_PAGE_SIZE: Limit = Limit { variable: "max_page_size", floor: 50 };

fn positive_integer(name: &str) -> Result<u64, ApiError> {
    let value =
        variables::get(name).map_err(|e| ApiError::Internal(format!("cannot read the {name} variable: {e}")))?;
    value
        .trim()
        .parse::<u64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::Internal(format!("the {name} variable must be a positive integer, not {value:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_join_the_address() {
        let url = |joined: &str| join_redis_url(joined).map_err(|e| format!("{e:?}"));
        assert_eq!(url("redis://127.0.0.1:6379#:").unwrap(), "redis://127.0.0.1:6379");
        assert_eq!(url("redis://h:1#:s3cret").unwrap(), "redis://:s3cret@h:1");
        assert_eq!(url("rediss://h:1#app:p@ss:w#rd/").unwrap(), "rediss://app:p%40ss%3Aw%23rd%2F@h:1");
        assert_eq!(url("redis://h:1#app:").unwrap(), "redis://app@h:1");
        assert!(url("redis://:s3cret@h:1#:").unwrap_err().contains("must not carry credentials"));
        assert!(!url("redis://:s3cret@h:1#:").unwrap_err().contains("s3cret"));
        assert!(url("h:1#:").is_err());
    }
}
