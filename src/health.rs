//! `GET /healthz`: whether the service can serve requests now, i.e. whether Redis takes its writes.

use serde_json::json;

use crate::routing::Context;

use crate::error::ApiError;
use crate::http::Response;
use crate::response;
use crate::store::Store;

/// `200 {"status": "ok"}` when Redis takes a write, `503` problem when it does not, whatever the
/// reason (unreachable, loading, a replica, out of memory, credentials rejected): a probe only
/// needs to know whether to send traffic here, and the log says why.
pub fn check(cx: &Context) -> Result<Response, ApiError> {
    let address = cx.config.redis_url()?;
    Store::open(&address).and_then(|store| store.check_writable()).map_err(ApiError::unavailable)?;
    Ok(response::json(200, &json!({ "status": "ok" })))
}
