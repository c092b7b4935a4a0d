//! The original service's session endpoints: `/create_session` and `/get_session/<session_id>`.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{eventually, redis_snapshot, unique, unique_number, TestApp};

const NOT_FOUND: &str = "Session introuvable ou expirée";
const CREATED: &str = "Session enregistrée";

#[test]
fn create_then_get_returns_the_data() {
    let app = TestApp::spawn();
    let id = unique("abc");
    let data = json!({ "user_id": 1, "panier": ["pomme", "poire"], "nested": { "a": [1, 2.5, null, true] } });
    app.post_json("/create_session", &json!({ "session_id": id, "data": data }))
        .assert(201, json!({ "message": CREATED }));
    app.get(&format!("/get_session/{id}")).assert(200, data);
}

#[test]
fn data_defaults_to_an_empty_object() {
    let app = TestApp::spawn();
    let id = unique("nodata");
    app.post_json("/create_session", &json!({ "session_id": id })).assert(201, json!({ "message": CREATED }));
    app.get(&format!("/get_session/{id}")).assert(200, json!({}));
}

#[test]
fn creating_again_replaces_the_data() {
    let app = TestApp::spawn();
    let id = unique("again");
    app.post_json("/create_session", &json!({ "session_id": id, "data": { "v": 1 } }))
        .assert(201, json!({ "message": CREATED }));
    app.post_json("/create_session", &json!({ "session_id": id, "data": { "v": 2 } }))
        .assert(201, json!({ "message": CREATED }));
    app.get(&format!("/get_session/{id}")).assert(200, json!({ "v": 2 }));
}

#[test]
fn the_session_key_expires_after_an_hour() {
    let app = TestApp::spawn();
    let Some(mut redis) = app.redis_or_skip() else { return };
    let id = unique("ttl");
    app.post_json("/create_session", &json!({ "session_id": id, "data": { "a": 1 } }))
        .assert(201, json!({ "message": CREATED }));
    let ttl: i64 = redis::cmd("TTL").arg(format!("session:{id}")).query(&mut redis).unwrap();
    assert!((3590..=3600).contains(&ttl), "TTL was {ttl}");
    let stored: String = redis::cmd("GET").arg(format!("session:{id}")).query(&mut redis).unwrap();
    assert_eq!(serde_json::from_str::<serde_json::Value>(&stored).unwrap(), json!({ "a": 1 }));
}

#[test]
fn an_expired_session_is_not_found() {
    let app = TestApp::spawn();
    let Some(mut redis) = app.redis_or_skip() else { return };
    let id = unique("expiring");
    app.post_json("/create_session", &json!({ "session_id": id })).assert(201, json!({ "message": CREATED }));
    app.get(&format!("/get_session/{id}")).assert(200, json!({}));
    let key = format!("session:{id}");
    redis::cmd("PEXPIRE").arg(&key).arg(200).exec(&mut redis).unwrap();
    let expired = || redis::cmd("EXISTS").arg(&key).query::<u32>(&mut redis).unwrap() == 0;
    assert!(eventually(Duration::from_secs(5), expired), "a key of 200 ms still in Redis after 5 s");
    app.get(&format!("/get_session/{id}")).assert(404, json!({ "error": NOT_FOUND }));
}

#[test]
fn unknown_session_is_not_found() {
    let app = TestApp::spawn();
    app.get(&format!("/get_session/{}", unique("never"))).assert(404, json!({ "error": NOT_FOUND }));
}

#[test]
fn missing_session_id_is_rejected() {
    let app = TestApp::spawn();
    for body in [
        json!({}),
        json!({ "data": {} }),
        json!({ "session_id": "" }),
        json!({ "session_id": null }),
        json!({ "session_id": [1] }),
    ] {
        app.post_json("/create_session", &body).assert(400, json!({ "error": "session_id manquant" }));
    }
}

#[test]
fn an_integer_session_id_works_as_in_the_original() {
    let app = TestApp::spawn();
    let id = unique_number();
    app.post_json("/create_session", &json!({ "session_id": id, "data": [1] }))
        .assert(201, json!({ "message": CREATED }));
    app.get(&format!("/get_session/{id}")).assert(200, json!([1]));
}

#[test]
fn malformed_bodies_are_rejected_and_write_nothing() {
    let Some(app) = TestApp::spawn_private(&[]) else { return };
    let mut redis = app.redis().unwrap();
    let before = redis_snapshot(&mut redis);
    for (body, content_type, status) in [
        ("{\"session_id\": ", "application/json", 400),
        ("[\"abc\"]", "application/json", 400),
        ("null", "application/json", 400),
        ("{\"session_id\": \"abc\"}", "text/plain", 415),
        ("{\"session_id\": \"abc\"}", "application/x-www-form-urlencoded", 415),
    ] {
        let res = app.send(app.request("POST", "/create_session").header("content-type", content_type).body(body));
        assert_eq!(res.status, status, "{body:?} as {content_type}: {}", res.text());
        assert!(res.json()["error"].is_string());
    }
    assert_eq!(redis_snapshot(&mut redis), before);
}

#[test]
fn a_session_written_by_the_flask_service_is_readable() {
    let Some(app) = TestApp::spawn_private(&[]) else { return };
    let mut redis = app.redis().unwrap();
    redis::cmd("SETEX")
        .arg("session:flask1")
        .arg(3600)
        .arg(r#"{"theme": "sombre", "caf\u00e9": true}"#)
        .exec(&mut redis)
        .unwrap();
    let res = app.get("/get_session/flask1");
    res.assert(200, json!({ "theme": "sombre", "café": true }));
    assert_eq!(res.text(), "{\"caf\\u00e9\":true,\"theme\":\"sombre\"}\n");
}

#[test]
fn numbers_in_data_come_back_as_flask_wrote_them() {
    let app = TestApp::spawn();
    let id = unique("numbers");
    // Sent as raw text so the test's own JSON encoder has no say. The expected bytes are what
    // CPython 3.11's json (Flask's jsonify) prints for the same document.
    let body = format!(
        r#"{{"session_id":"{id}","data":{{"a":[0.1,1e16,1.5e-7,-0.0,100.0,1e15,1222222222222222229922222222222300,-7,18446744073709551615]}}}}"#
    );
    let res = app.send(app.request("POST", "/create_session").header("content-type", "application/json").body(body));
    assert_eq!(res.status, 201, "{}", res.text());
    let res = app.get(&format!("/get_session/{id}"));
    assert_eq!(res.status, 200);
    // Integers beyond 64 bits are kept as the nearest double (Python would keep them exact).
    assert_eq!(
        res.text(),
        "{\"a\":[0.1,1e+16,1.5e-07,-0.0,100.0,1000000000000000.0,1.2222222222222223e+33,-7,18446744073709551615]}\n"
    );
}

#[test]
fn wrong_methods_get_405() {
    let app = TestApp::spawn();
    for (method, path, allow) in
        [("GET", "/create_session", "OPTIONS, POST"), ("DELETE", "/get_session/x", "GET, HEAD, OPTIONS")]
    {
        let res = app.send(app.request(method, path));
        assert_eq!(res.header("allow"), Some(allow));
        res.assert(405, json!({ "error": "Méthode non autorisée" }));
    }
}
