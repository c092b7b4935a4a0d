//! Building `/v1` success responses.

use serde_json::Value;
use spin_sdk::http::{Request, Response};

pub fn json(status: u16, body: &Value) -> Response {
    Response::builder().status(status).header("content-type", "application/json").body(body.to_string()).build()
}

pub fn no_content() -> Response {
    Response::builder().status(204).build()
}

/// The path the app is mounted under (`""` for Spin's `/...` route), for `Location` headers.
/// Spin passes it as `spin-component-route`.
pub fn base_path(req: &Request) -> String {
    req.header("spin-component-route").and_then(|v| v.as_str()).unwrap_or("").trim_end_matches('/').to_owned()
}
