//! The entry point of `cargo fuzz` (see `fuzz/`): the pure request handling, natively, without Spin
//! or Redis, with the default settings (natively there is no Spin host to read variables from).

use spin_sdk::http::Method;

use crate::config::Config;
use crate::domain::{SessionToken, UserId};
use crate::http::Request;
use crate::{flask, json, request, users};

/// Splits the input into a header value, a path segment and a body, runs every parser over them,
/// and checks what must always hold. Panics on a violation.
pub fn request_handling(data: &[u8]) {
    if data.len() > 4096 {
        return;
    }
    // The default settings, as `tuning` left empty gives them.
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
    if let Some(id) = UserId::parse(&segment) {
        assert_eq!(id.to_string(), segment);
        assert!(id.get() >= 1);
    }
    if let Some(id) = request::session_id(&config, &segment) {
        assert!(!id.as_str().is_empty() && !id.as_str().chars().any(char::is_control));
    }
    // A session token is exactly what was sent: 32 URL-safe characters, nothing else.
    if let Some(token) = SessionToken::parse(&segment) {
        assert_eq!(token.as_str(), segment);
        assert!(segment.len() == 32 && segment.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    }
    let _ = users::decode_cursor(&segment);

    // A whole request: headers, query, body.
    let headers =
        vec![("content-type".to_owned(), header.clone().into_bytes()), ("if-match".to_owned(), header.into_bytes())];
    let mut req = Request::new(Method::Post, format!("/v1/users?{segment}"), headers);
    req.set_body(body);
    let _ = request::if_match(&req);
    let _ = request::query_param(&req, "limit");
    let _ = request::json_object(&req);
}
