//! The entry point of `cargo fuzz` (see `fuzz/`): the pure request handling, natively, without Spin
//! or Redis. Inputs stay within the limits' floors, so no Spin variable is ever read (there is no
//! Spin host natively).

use spin_sdk::http::{Method, Request};

use crate::config::Config;
use crate::{flask, json, request, users};

/// Splits the input into a header value, a path segment and a body, runs every parser over them,
/// and checks what must always hold. Panics on a violation.
pub fn request_handling(data: &[u8]) {
    if data.len() > 4096 {
        return;
    }
    // Every setting empty: no limit can be read, so any input beyond a floor is an error, not a panic.
    let config = Config::default();
    let mut parts = data.splitn(3, |b| *b == 0);
    let header = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let segment = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let body = parts.next().unwrap_or_default().to_vec();

    // Bodies: strict parsing agrees with serde_json whenever it accepts, and an accepted document
    // survives the Flask-style encoding unchanged (which must be pure ASCII).
    if let Ok(value) = json::parse(&body) {
        let lenient: serde_json::Value =
            serde_json::from_slice(&body).expect("serde_json accepts what strict parsing accepts");
        assert_eq!(value, lenient);
        let encoded = flask::flask_json(&value);
        assert!(encoded.is_ascii());
        let decoded: serde_json::Value = serde_json::from_slice(&encoded).expect("flask_json writes JSON");
        assert_eq!(decoded, value);
        let _ = json::depth(&value);
    }

    // Ids and path segments: a parsed user id prints back as the same text.
    if let Some(id) = request::user_id(&segment) {
        assert_eq!(id.to_string(), segment);
        assert!(id >= 1);
    }
    if let Some(decoded) = request::path_segment(&segment) {
        if decoded.len() <= 64 {
            let _ = request::session_id_acceptable(&config, &decoded);
        }
    }
    let _ = users::decode_cursor(&segment);

    // A whole request: headers, query, body.
    let mut req = Request::builder();
    req.method(Method::Post)
        .uri(format!("http://localhost/v1/users?{segment}"))
        .header("content-type", header.clone())
        .header("if-match", header)
        .body(body);
    let req = req.build();
    let _ = request::if_match(&req);
    let _ = request::query_param(&req, "limit");
    let _ = request::json_object(&req);
}
