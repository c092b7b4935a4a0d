//! What each `/v1` session operation costs (issue 15): a read is one `GET`, every write one
//! `EVALSHA`, a listing page one round trip; each on one connection, with one variable lookup.
//! Seen from Redis's side, so that it holds under the test host and under real Spin alike.

use serde_json::{json, Value};

use super::session_kit::*;
use crate::helpers::{Observation, TestApp, TestResponse};

/// Runs one request under observation and checks its status and what every request that needs
/// Redis costs at least: one connection, one variable lookup (`settings`).
#[track_caller]
fn observe(app: &TestApp, status: u16, send: impl FnOnce() -> TestResponse) -> Observation {
    let seen = app.observe(send);
    assert_eq!(seen.response.status, status, "{}", seen.response.text());
    assert_eq!((seen.redis_opens, seen.variable_gets), (1, 1), "one connection, one lookup: {seen:?}");
    seen
}

/// Every write operation once: run first to load each script into Redis's cache (a script's first
/// run costs an `EVAL` after the `EVALSHA` Redis did not know), then again to be measured.
fn writes(app: &TestApp, uid: &Value, measure: bool) {
    let check = |what: &str, status: u16, send: &dyn Fn() -> TestResponse| -> Value {
        let seen = if measure { observe(app, status, send) } else { app.observe(send) };
        if measure {
            assert_eq!(seen.round_trips, ["EVALSHA"], "{what}");
        }
        assert_eq!(seen.response.status, status, "{what}: {}", seen.response.text());
        if seen.response.body.is_empty() {
            Value::Null
        } else {
            seen.response.json()
        }
    };
    let users_sessions = format!("/v1/users/{uid}/sessions");
    let a = token(&check("create with a user", 201, &|| app.post_json("/v1/sessions", &json!({ "user_id": uid }))));
    let b = token(&check("create without a user", 201, &|| app.post_json("/v1/sessions", &json!({ "data": 1 }))));
    check("PATCH /v1/session, data", 200, &|| header_patch(app, &a, &json!({ "data": 2 })));
    check("PATCH /v1/session, ttl", 200, &|| header_patch(app, &a, &json!({ "ttl_seconds": 600 })));
    let a = token(&check("POST /v1/session/rotate", 201, &|| header_rotate(app, &a)));
    let b = token(&check("POST /v1/sessions/{token}/rotate", 201, &|| path_rotate(app, &b)));
    check("DELETE /v1/session", 204, &|| header_delete(app, &b));
    let c = check("create", 201, &|| app.post_json("/v1/sessions", &json!({ "user_id": uid })));
    check("revoke one", 204, &|| app.delete(&format!("{users_sessions}/{}", public_id(&c))));
    check("create", 201, &|| app.post_json("/v1/sessions", &json!({ "user_id": uid })));
    check("revoke all but one", 200, &|| app.delete(&format!("{users_sessions}?except={}", public_id_of(&a))));
    check("revoke all", 200, &|| app.delete(&users_sessions));
    check("DELETE /v1/sessions/{token}, already revoked", 404, &|| app.delete(&format!("/v1/sessions/{a}")));
}

#[test]
fn a_read_is_one_get_and_every_write_one_script() {
    let Some(app) = TestApp::spawn_observed(&[]) else { return };
    let user = user(&app);
    writes(&app, &user["id"], false);
    writes(&app, &user["id"], true);

    let session = create(&app, &json!({ "user_id": user["id"] }));
    let token = token(&session);
    for (status, read) in [
        (200, Box::new(|| header_get(&app, &token)) as Box<dyn Fn() -> TestResponse>),
        (200, Box::new(|| app.get(&format!("/v1/sessions/{token}")))),
        (404, Box::new(|| header_get(&app, &unknown_token()))),
    ] {
        assert_eq!(observe(&app, status, read).round_trips, ["GET"]);
    }
    let list = || app.get(&format!("/v1/users/{}/sessions?limit=10", user["id"]));
    assert_eq!(list().status, 200, "loads the listing's script");
    let seen = observe(&app, 200, list);
    assert_eq!(seen.round_trips.len(), 1, "{seen:?}");

    // Deleting a user with sessions: one script too (loaded by a first deletion).
    let warm = super::session_kit::user(&app);
    create(&app, &json!({ "user_id": warm["id"] }));
    assert_eq!(app.delete(&format!("/v1/users/{}", warm["id"])).status, 204);
    let seen = observe(&app, 204, || app.delete(&format!("/v1/users/{}", user["id"])));
    assert_eq!(seen.round_trips, ["EVALSHA"]);
    assert_eq!(header_get(&app, &token).status, 404, "the user's session went with the user");
}

/// Refusing a request that names no session needs nothing from Redis.
#[test]
fn a_missing_token_header_costs_no_redis_command() {
    let Some(app) = TestApp::spawn_observed(&[]) else { return };
    for (method, path) in
        [("GET", "/v1/session"), ("PATCH", "/v1/session"), ("DELETE", "/v1/session"), ("POST", "/v1/session/rotate")]
    {
        let mut request = app.request(method, path);
        if method == "PATCH" {
            request = request.json(&json!({ "data": 1 }));
        }
        let seen = app.observe(|| app.send(request));
        assert_eq!(seen.response.status, 400, "{method} {path}: {}", seen.response.text());
        assert_eq!(seen.round_trips, Vec::<String>::new(), "{method} {path}");
    }
}
