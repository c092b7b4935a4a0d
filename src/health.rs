//! `GET /healthz`: whether the service can reach Redis.

use serde_json::json;
use spin_sdk::http::{Request, Response};

use crate::config::Config;

use crate::error::ApiError;
use crate::response;
use crate::store::Store;

/// `200 {"status": "ok"}` when Redis answers `PING`, `503` problem when it does not.
pub fn check(_: &Request, _: &str, config: &Config) -> Result<Response, ApiError> {
    Store::open(&config.redis_url()?)?.ping()?;
    Ok(response::json(200, &json!({ "status": "ok" })))
}
