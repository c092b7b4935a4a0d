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
    let value = variables::get(name)
        .map_err(|e| ApiError::Internal(format!("cannot read the {name} variable: {e}")))?;
    value
        .trim()
        .parse::<u64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::Internal(format!("the {name} variable must be a positive integer, not {value:?}")))
}
