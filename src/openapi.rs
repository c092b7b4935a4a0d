//! `GET /openapi.json`: the OpenAPI 3.1 description of every endpoint.

use crate::routing::Context;

use crate::error::ApiError;
use crate::http::Response;

/// The document, kept beside the code (`src/openapi.json`, minified by `build.rs`); a unit test
/// checks it against the route table.
pub const DOCUMENT: &str = include_str!(concat!(env!("OUT_DIR"), "/openapi.min.json"));

pub fn document(_: &Context) -> Result<Response, ApiError> {
    Ok(Response::with_body(200, "application/json", DOCUMENT))
}
