//! What the session tests of issue 15 share: the header form (`X-Session-Token`), the names Redis
//! stores a session under, and times as the API writes them.

use reqwest::blocking::RequestBuilder;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{TestApp, TestResponse};

/// The request header that carries a session's token in the header form.
pub const TOKEN_HEADER: &str = "X-Session-Token";

/// What the service stores a session under: the SHA-256 of its token, base64url without padding.
pub fn digest(token: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// A session's public id: the hex SHA-1 of its token's digest.
pub fn public_id_of(token: &str) -> String {
    sha1_smol::Sha1::from(digest(token)).digest().to_string()
}

/// The one Redis key that holds a session.
pub fn record_key(token: &str) -> String {
    format!("session_record:{}", digest(token))
}

pub fn by_creation_key(user_id: &Value) -> String {
    format!("user_sessions_by_creation:{user_id}")
}

pub fn by_expiry_key(user_id: &Value) -> String {
    format!("user_sessions_by_expiry:{user_id}")
}

/// `POST /v1/sessions`, which must answer 201.
pub fn create(app: &TestApp, body: &Value) -> Value {
    let res = app.post_json("/v1/sessions", body);
    assert_eq!(res.status, 201, "{}", res.text());
    res.json()
}

pub fn token(session: &Value) -> String {
    session["id"].as_str().unwrap_or_else(|| panic!("no id in {session}")).to_owned()
}

pub fn public_id(session: &Value) -> String {
    session["public_id"].as_str().unwrap_or_else(|| panic!("no public_id in {session}")).to_owned()
}

/// A request to `path` with the token in the header.
pub fn with_token(app: &TestApp, method: &str, path: &str, token: &str) -> RequestBuilder {
    app.request(method, path).header(TOKEN_HEADER, token)
}

pub fn header_get(app: &TestApp, token: &str) -> TestResponse {
    app.send(with_token(app, "GET", "/v1/session", token))
}

pub fn header_patch(app: &TestApp, token: &str, body: &Value) -> TestResponse {
    app.send(with_token(app, "PATCH", "/v1/session", token).json(body))
}

pub fn header_delete(app: &TestApp, token: &str) -> TestResponse {
    app.send(with_token(app, "DELETE", "/v1/session", token))
}

pub fn header_rotate(app: &TestApp, token: &str) -> TestResponse {
    app.send(with_token(app, "POST", "/v1/session/rotate", token))
}

pub fn path_patch(app: &TestApp, token: &str, body: &Value) -> TestResponse {
    app.send(app.request("PATCH", &format!("/v1/sessions/{token}")).json(body))
}

pub fn path_rotate(app: &TestApp, token: &str) -> TestResponse {
    app.send(app.request("POST", &format!("/v1/sessions/{token}/rotate")))
}

/// Asserts a 201 of a rotation and returns the session it shows under its new token.
#[track_caller]
pub fn rotated(res: TestResponse) -> Value {
    assert_eq!(res.status, 201, "{}", res.text());
    let session = res.json();
    assert_eq!(res.header("location"), Some(format!("/v1/sessions/{}", token(&session)).as_str()));
    session
}

/// The members of a session representation (`id` only where addressed by a token).
pub const FIELDS: [&str; 10] = [
    "public_id",
    "user_id",
    "data",
    "created_at",
    "expires_at",
    "ttl_seconds",
    "absolute_expires_at",
    "last_refreshed_at",
    "user_agent",
    "client_address",
];

/// Asserts that `session` has exactly the representation's members, with `id` or without.
#[track_caller]
pub fn assert_representation(session: &Value, with_id: bool) {
    let mut expected: Vec<&str> = FIELDS.to_vec();
    if with_id {
        expected.push("id");
    }
    expected.sort_unstable();
    let mut got: Vec<&str> = session.as_object().expect("an object").keys().map(String::as_str).collect();
    got.sort_unstable();
    assert_eq!(got, expected, "{session}");
    for time in ["created_at", "expires_at", "absolute_expires_at"] {
        millis(&session[time]);
    }
    if !session["last_refreshed_at"].is_null() {
        millis(&session["last_refreshed_at"]);
    }
}

/// Milliseconds since 1970 of an RFC 3339 UTC time with milliseconds, as the API writes them
/// (`2026-11-30T10:00:00.123Z`); panics on anything else.
#[track_caller]
pub fn millis(time: &Value) -> i64 {
    let text = time.as_str().unwrap_or_else(|| panic!("not a time: {time}"));
    let b = text.as_bytes();
    let well_formed = b.len() == 24
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'.'
        && b[23] == b'Z';
    assert!(well_formed, "not RFC 3339 UTC with milliseconds: {text}");
    let n = |range: std::ops::Range<usize>| -> i64 { text[range].parse().unwrap_or_else(|_| panic!("{text}")) };
    let (year, month, day) = (n(0..4), n(5..7), n(8..10));
    // Days from civil (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    ((days * 24 + n(11..13)) * 60 + n(14..16)) * 60_000 + n(17..19) * 1000 + n(20..23)
}

/// Now, in milliseconds since 1970, by this machine's clock (the service's runs on the same).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

/// A well-formed token that names no session.
pub fn unknown_token() -> String {
    digest(&crate::helpers::unique("no-such-session"))[..32].to_owned()
}

/// The public ids `GET /v1/users/{uid}/sessions` lists, in order (one page of up to 1000).
pub fn listed_public_ids(app: &TestApp, user_id: &Value) -> Vec<String> {
    let res = app.get(&format!("/v1/users/{user_id}/sessions?limit=1000"));
    assert_eq!(res.status, 200, "{}", res.text());
    let page = res.json();
    assert_eq!(page["next_cursor"], Value::Null, "{page}");
    page["items"].as_array().expect("items").iter().map(public_id).collect()
}

pub fn user(app: &TestApp) -> Value {
    let res = app.post_json("/v1/users", &json!({ "nom": "Doe", "prenom": "John" }));
    assert_eq!(res.status, 201, "{}", res.text());
    res.json()
}

#[test]
fn times_are_read_as_the_api_writes_them() {
    assert_eq!(millis(&json!("1970-01-01T00:00:00.000Z")), 0);
    assert_eq!(millis(&json!("2000-03-01T00:00:01.250Z")), 951_868_801_250);
    assert_eq!(millis(&json!("2026-11-30T10:00:00.123Z")), 1_796_032_800_123);
}
