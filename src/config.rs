//! Configuration, read from the Spin variables declared in `spin.toml`. Nothing is hard-coded:
//! `SPIN_VARIABLE_<NAME>` overrides a default at `spin up` time.

use spin_sdk::variables;

use crate::error::ApiError;

/// The Redis URL (`redis://[:password@]host:port[/db]`). It must also be listed in the component's
/// `allowed_outbound_hosts`, which `spin.toml` templates from this same variable.
pub fn redis_address() -> Result<String, ApiError> {
    variables::get("redis_address")
        .map_err(|e| ApiError::Internal(format!("cannot read the redis_address variable: {e}")))
}

/// How long a `/v1` session lives when the client does not say (`session_ttl_seconds`).
pub fn session_ttl_seconds() -> Result<u64, ApiError> {
    positive_integer("session_ttl_seconds")
}

/// The longest life a client may ask for a `/v1` session (`session_max_ttl_seconds`).
pub fn session_max_ttl_seconds() -> Result<u64, ApiError> {
    positive_integer("session_max_ttl_seconds")
}

fn positive_integer(name: &str) -> Result<u64, ApiError> {
    let value = variables::get(name)
        .map_err(|e| ApiError::Internal(format!("cannot read the {name} variable: {e}")))?;
    value
        .trim()
        .parse::<u64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::Internal(format!("the {name} variable must be a positive integer, not {value:?}")))
}
