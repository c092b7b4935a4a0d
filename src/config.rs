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
