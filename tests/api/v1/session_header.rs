//! The header form of a session (issue 15): `GET`, `PATCH`, `DELETE /v1/session` and
//! `POST /v1/session/rotate` take the token in `X-Session-Token`, so that it stays out of URL paths
//! (which proxies and Spin's own traces record). The path forms keep working, with the same answers.

use serde_json::{json, Value};

use super::session_kit::*;
use crate::helpers::{assert_problem, TestApp};

#[test]
fn the_header_form_reads_refreshes_and_ends_a_session() {
    let app = TestApp::spawn();
    let user = user(&app);
    let created = create(&app, &json!({ "user_id": user["id"], "data": { "theme": "dark" }, "ttl_seconds": 600 }));
    let token = token(&created);

    let res = header_get(&app, &token);
    assert_eq!(res.status, 200, "{}", res.text());
    let got = res.json();
    assert_representation(&got, true);
    assert_eq!(
        (&got["id"], &got["public_id"], &got["user_id"], &got["data"]),
        (&json!(token), &json!(public_id_of(&token)), &user["id"], &json!({ "theme": "dark" }))
    );
    // The same session as the path form shows, member for member (but the TTL, which counts down).
    let by_path = app.get(&format!("/v1/sessions/{token}")).json();
    for field in FIELDS.iter().filter(|f| **f != "ttl_seconds") {
        assert_eq!(got[field], by_path[field], "{field}");
    }

    let res = header_patch(&app, &token, &json!({ "data": { "theme": "light" } }));
    assert_eq!(res.status, 200, "{}", res.text());
    let patched = res.json();
    assert_representation(&patched, true);
    assert_eq!((&patched["id"], &patched["data"]), (&json!(token), &json!({ "theme": "light" })));
    assert_eq!(patched["expires_at"], created["expires_at"], "a data-only PATCH keeps the expiry");
    let res = header_patch(&app, &token, &json!({ "ttl_seconds": 1200 }));
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!((&res.json()["ttl_seconds"], &res.json()["data"]), (&json!(1200), &json!({ "theme": "light" })));
    assert_eq!(header_get(&app, &token).json()["data"], json!({ "theme": "light" }));
    assert_problem(&header_patch(&app, &token, &json!({ "user_id": 3 })), 400);
    assert_problem(&header_patch(&app, &token, &json!({ "ttl_seconds": 0 })), 422);

    let res = header_delete(&app, &token);
    assert_eq!((res.status, res.body.len()), (204, 0), "{}", res.text());
    assert_problem(&header_get(&app, &token), 404);
    assert_problem(&app.get(&format!("/v1/sessions/{token}")), 404);
    assert_problem(&header_delete(&app, &token), 404);
    assert_problem(&header_patch(&app, &token, &json!({ "data": 1 })), 404);
    assert_eq!(listed_public_ids(&app, &user["id"]), Vec::<String>::new());
}

#[test]
fn a_missing_header_is_a_400_problem() {
    let app = TestApp::spawn();
    let session = create(&app, &json!({}));
    for (method, path) in
        [("GET", "/v1/session"), ("PATCH", "/v1/session"), ("DELETE", "/v1/session"), ("POST", "/v1/session/rotate")]
    {
        let mut request = app.request(method, path);
        if method == "PATCH" {
            request = request.json(&json!({ "data": 1 }));
        }
        let res = app.send(request);
        assert_problem(&res, 400);
        let detail = res.json()["detail"].as_str().unwrap().to_ascii_lowercase();
        assert!(detail.contains(&TOKEN_HEADER.to_ascii_lowercase()), "{method} {path}: the detail names the header");
    }
    // Nothing happened to the session that exists.
    assert_eq!(header_get(&app, &token(&session)).json()["data"], json!({}));
}

#[test]
fn an_unknown_or_malformed_token_is_404_in_both_forms() {
    let app = TestApp::spawn();
    let live = create(&app, &json!({ "data": "kept" }));
    let long = "a".repeat(300);
    let tokens = [
        unknown_token(),
        "x".to_owned(),
        long,
        "not a token!".to_owned(),
        // A session's public id is not its token.
        public_id(&live),
    ];
    for token in &tokens {
        assert_problem(&header_get(&app, token), 404);
        assert_problem(&header_patch(&app, token, &json!({ "data": 1 })), 404);
        assert_problem(&header_delete(&app, token), 404);
        assert_problem(&header_rotate(&app, token), 404);
        // The path form, for those a path segment can carry as they are.
        if token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            assert_problem(&app.get(&format!("/v1/sessions/{token}")), 404);
            assert_problem(&path_patch(&app, token, &json!({ "data": 1 })), 404);
            assert_problem(&app.delete(&format!("/v1/sessions/{token}")), 404);
            assert_problem(&path_rotate(&app, token), 404);
        }
    }
    assert_eq!(header_get(&app, &token(&live)).json()["data"], json!("kept"));
}

/// The header names the session: a token in the path of the header form's URL is not read.
#[test]
fn the_header_form_takes_the_token_only_from_the_header() {
    let app = TestApp::spawn();
    let mine = create(&app, &json!({ "data": "mine" }));
    let theirs = create(&app, &json!({ "data": "theirs" }));
    let res = app.send(with_token(&app, "GET", &format!("/v1/session?token={}", token(&theirs)), &token(&mine)));
    assert_eq!((res.status, &res.json()["data"]), (200, &json!("mine")), "{}", res.text());
    // Header names are case-insensitive.
    let res = app.send(app.request("GET", "/v1/session").header("x-session-token", token(&mine)));
    assert_eq!((res.status, &res.json()["id"]), (200, &json!(token(&mine))));
}

#[test]
fn the_path_forms_keep_working_with_the_same_answers() {
    let app = TestApp::spawn();
    let user = user(&app);
    let created = create(&app, &json!({ "user_id": user["id"], "data": [1], "ttl_seconds": 300 }));
    let old = token(&created);
    let path = format!("/v1/sessions/{old}");

    let got = app.get(&path);
    assert_eq!(got.status, 200, "{}", got.text());
    assert_representation(&got.json(), true);
    let res = path_patch(&app, &old, &json!({ "data": [2], "ttl_seconds": 900 }));
    assert_eq!(res.status, 200, "{}", res.text());
    let patched = res.json();
    assert_representation(&patched, true);
    assert_eq!((&patched["data"], &patched["ttl_seconds"]), (&json!([2]), &json!(900)));
    assert!(patched["last_refreshed_at"].is_string(), "{patched}");

    let session = rotated(path_rotate(&app, &old));
    assert_representation(&session, true);
    let new = token(&session);
    assert_ne!(new, old);
    assert_eq!((&session["data"], &session["user_id"]), (&json!([2]), &user["id"]));
    assert_problem(&app.get(&path), 404);
    assert_problem(&header_get(&app, &old), 404);
    assert_eq!(header_get(&app, &new).json()["data"], json!([2]), "the header form reads the rotated session");

    assert_eq!(app.delete(&format!("/v1/sessions/{new}")).status, 204);
    assert_problem(&header_get(&app, &new), 404);
    assert_problem(&app.get(&format!("/v1/sessions/{new}")), 404);
}

/// `/v1/session` is a `/v1` route like the others: without the API token, the session token in
/// the header opens nothing.
#[test]
fn the_header_form_needs_the_api_token() {
    const API_TOKEN: &str = "header-form-api-token";
    let Some(app) = TestApp::spawn_private(&[("SPIN_VARIABLE_API_TOKEN", API_TOKEN)]) else { return };
    let bearer = format!("Bearer {API_TOKEN}");
    let res = app.send(app.request("POST", "/v1/sessions").header("authorization", &bearer).json(&json!({})));
    assert_eq!(res.status, 201, "{}", res.text());
    let session: Value = res.json();
    let token = token(&session);
    for (method, path) in
        [("GET", "/v1/session"), ("PATCH", "/v1/session"), ("DELETE", "/v1/session"), ("POST", "/v1/session/rotate")]
    {
        let mut request = with_token(&app, method, path, &token);
        if method == "PATCH" {
            request = request.json(&json!({ "ttl_seconds": 60 }));
        }
        let res = app.send(request);
        assert_eq!(res.status, 401, "{method} {path}: {}", res.text());
    }
    let res = app.send(with_token(&app, "GET", "/v1/session", &token).header("authorization", &bearer));
    assert_eq!((res.status, &res.json()["id"]), (200, &json!(token)), "the session outlived the refused requests");
}
