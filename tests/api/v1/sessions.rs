//! `/v1/sessions` and `/v1/users/<id>/sessions`: create, read, refresh, revoke.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::{json, Value};

use super::token_storage::digest;
use super::users::create_user;
use crate::helpers::{assert_problem, eventually, redis_snapshot, unique, TestApp};

fn create_session(app: &TestApp, body: &Value) -> Value {
    let res = app.post_json("/v1/sessions", body);
    assert_eq!(res.status, 201, "{}", res.text());
    res.json()
}

fn is_session_id(id: &str) -> bool {
    id.len() >= 22 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[test]
fn create_and_read_a_session() {
    let app = TestApp::spawn();
    let user = create_user(&app, "Doe", "John");
    let res = app.post_json("/v1/sessions", &json!({ "user_id": user["id"], "data": { "theme": "sombre" } }));
    assert_eq!(res.status, 201, "{}", res.text());
    let session = res.json();
    let id = session["id"].as_str().unwrap();
    assert!(is_session_id(id), "{id}");
    assert_eq!(res.header("location"), Some(format!("/v1/sessions/{id}").as_str()));
    assert_eq!(
        (&session["user_id"], &session["data"], &session["ttl_seconds"]),
        (&user["id"], &json!({ "theme": "sombre" }), &json!(3600))
    );
    assert!(session["created_at"].is_string() && session["expires_at"].is_string());

    let got = app.get(&format!("/v1/sessions/{id}")).json();
    assert_eq!(
        (&got["id"], &got["user_id"], &got["data"], &got["created_at"]),
        (&session["id"], &user["id"], &session["data"], &session["created_at"])
    );
    let ttl = got["ttl_seconds"].as_u64().unwrap();
    assert!((3590..=3600).contains(&ttl), "{ttl}");
}

#[test]
fn defaults_and_anonymous_sessions() {
    let app = TestApp::spawn();
    let session = create_session(&app, &json!({}));
    assert_eq!(
        (&session["user_id"], &session["data"], &session["ttl_seconds"]),
        (&Value::Null, &json!({}), &json!(3600))
    );
    let session = create_session(&app, &json!({ "user_id": null, "data": [1, "two"], "ttl_seconds": 60 }));
    assert_eq!(session["ttl_seconds"], 60);
    let got = app.get(&format!("/v1/sessions/{}", session["id"].as_str().unwrap())).json();
    assert_eq!(got["data"], json!([1, "two"]));
    assert!(got["ttl_seconds"].as_u64().unwrap() <= 60);
}

#[test]
fn ttl_default_and_bound_come_from_variables() {
    let Some(app) =
        TestApp::spawn_private(&[("SPIN_VARIABLE_TUNING", "session_ttl_seconds=120, session_max_ttl_seconds=600")])
    else {
        return;
    };
    assert_eq!(create_session(&app, &json!({}))["ttl_seconds"], 120);
    assert_eq!(create_session(&app, &json!({ "ttl_seconds": 600 }))["ttl_seconds"], 600);
    assert_problem(&app.post_json("/v1/sessions", &json!({ "ttl_seconds": 601 })), 422);
}

#[test]
fn the_session_keys_expire_in_redis() {
    let app = TestApp::spawn();
    let Some(mut redis) = app.redis_or_skip() else { return };
    let user = create_user(&app, "Doe", "John");
    let session = create_session(&app, &json!({ "user_id": user["id"], "ttl_seconds": 100 }));
    let digest = digest(session["id"].as_str().unwrap());
    for key in [
        format!("session_record:{digest}"),
        format!("user_sessions_by_creation:{}", user["id"]),
        format!("user_sessions_by_expiry:{}", user["id"]),
    ] {
        let ttl: i64 = redis::cmd("TTL").arg(&key).query(&mut redis).unwrap();
        assert!((95..=100).contains(&ttl), "{key}: {ttl}");
    }
}

#[test]
fn session_for_a_missing_user_is_422_and_writes_nothing() {
    let Some(app) = TestApp::spawn_private(&[]) else { return };
    let mut redis = app.redis().unwrap();
    let before = redis_snapshot(&mut redis);
    assert_problem(&app.post_json("/v1/sessions", &json!({ "user_id": 999 })), 422);
    for body in [
        json!({ "user_id": 0 }),
        json!({ "user_id": -1 }),
        json!({ "user_id": "1" }),
        json!({ "user_id": 1.5 }),
        json!({ "ttl_seconds": 0 }),
        json!({ "ttl_seconds": -5 }),
        json!({ "ttl_seconds": "60" }),
        json!({ "ttl_seconds": 2592001 }),
    ] {
        assert_problem(&app.post_json("/v1/sessions", &body), 422);
    }
    assert_problem(&app.post_json("/v1/sessions", &json!({ "id": "mine" })), 400);
    assert_problem(&app.post_json("/v1/sessions", &json!([])), 400);
    assert_eq!(redis_snapshot(&mut redis), before);
}

#[test]
fn patch_replaces_data_and_extends_expiry() {
    let app = TestApp::spawn();
    let session = create_session(&app, &json!({ "data": { "a": 1 }, "ttl_seconds": 60 }));
    let path = format!("/v1/sessions/{}", session["id"].as_str().unwrap());
    let res = app.send(app.request("PATCH", &path).json(&json!({ "data": { "b": 2 } })));
    assert_eq!(res.status, 200, "{}", res.text());
    let patched = res.json();
    assert_eq!(patched["data"], json!({ "b": 2 }));
    assert!(patched["ttl_seconds"].as_u64().unwrap() <= 60, "data-only patch keeps the expiry");
    let res = app.send(app.request("PATCH", &path).json(&json!({ "ttl_seconds": 7200 })));
    let patched = res.json();
    assert_eq!((&patched["data"], &patched["ttl_seconds"]), (&json!({ "b": 2 }), &json!(7200)));
    assert_eq!(app.get(&path).json()["data"], json!({ "b": 2 }));
    assert_problem(&app.send(app.request("PATCH", &path).json(&json!({ "user_id": 3 }))), 400);
    assert_problem(&app.send(app.request("PATCH", &path).json(&json!({ "ttl_seconds": 0 }))), 422);
}

#[test]
fn delete_logs_out() {
    let app = TestApp::spawn();
    let user = create_user(&app, "Doe", "John");
    let session = create_session(&app, &json!({ "user_id": user["id"] }));
    let path = format!("/v1/sessions/{}", session["id"].as_str().unwrap());
    assert_eq!(app.delete(&path).status, 204);
    assert_problem(&app.get(&path), 404);
    assert_problem(&app.delete(&path), 404);
    assert_problem(&app.send(app.request("PATCH", &path).json(&json!({ "data": 1 }))), 404);
    let listed = app.get(&format!("/v1/users/{}/sessions", user["id"])).json();
    assert_eq!(listed["items"], json!([]));
}

#[test]
fn list_and_revoke_a_users_sessions() {
    let app = TestApp::spawn();
    let user = create_user(&app, "Doe", "John");
    let other = create_user(&app, "Roe", "Jane");
    let sessions: Vec<Value> =
        (0..3).map(|i| create_session(&app, &json!({ "user_id": user["id"], "data": { "device": i } }))).collect();
    let ids: HashSet<String> = sessions.iter().map(|s| s["id"].as_str().unwrap().to_owned()).collect();
    let public_ids: HashSet<String> = sessions.iter().map(|s| s["public_id"].as_str().unwrap().to_owned()).collect();
    let others = create_session(&app, &json!({ "user_id": other["id"] }));
    let listed = app.get(&format!("/v1/users/{}/sessions", user["id"])).json();
    let listed_ids: HashSet<String> =
        listed["items"].as_array().unwrap().iter().map(|s| s["public_id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(listed_ids, public_ids, "listings show public ids");
    assert!(listed["items"].as_array().unwrap().iter().all(|s| s["user_id"] == user["id"] && s.get("id").is_none()));

    let res = app.delete(&format!("/v1/users/{}/sessions", user["id"]));
    assert_eq!((res.status, res.json()), (200, json!({ "revoked": 3 })));
    for id in &ids {
        assert_problem(&app.get(&format!("/v1/sessions/{id}")), 404);
    }
    assert_eq!(app.get(&format!("/v1/sessions/{}", others["id"].as_str().unwrap())).status, 200);
    assert_eq!(app.delete(&format!("/v1/users/{}/sessions", user["id"])).json(), json!({ "revoked": 0 }));
    assert_problem(&app.get("/v1/users/999999999/sessions"), 404);
    assert_problem(&app.delete("/v1/users/999999999/sessions"), 404);
}

#[test]
fn deleting_a_user_deletes_its_sessions() {
    let app = TestApp::spawn();
    let user = create_user(&app, "Doe", "John");
    let session = create_session(&app, &json!({ "user_id": user["id"] }));
    let id = session["id"].as_str().unwrap();
    assert_eq!(app.delete(&format!("/v1/users/{}", user["id"])).status, 204);
    assert_problem(&app.get(&format!("/v1/sessions/{id}")), 404);
    app.get(&format!("/get_session/{id}")).assert(404, json!({ "error": "Session introuvable ou expirée" }));
    // What the API shows is checked above; what is left in Redis needs a look inside.
    let Some(mut redis) = app.redis_or_skip() else { return };
    let exists: u32 = redis::cmd("EXISTS")
        .arg(format!("session_record:{}", digest(id)))
        .arg(format!("user_sessions_by_creation:{}", user["id"]))
        .arg(format!("user_sessions_by_expiry:{}", user["id"]))
        .query(&mut redis)
        .unwrap();
    assert_eq!(exists, 0);
}

/// An expired session is gone from reads and listings at once; its index entries go with the next
/// write of the index (reads never write).
#[test]
fn expired_sessions_vanish_everywhere_and_leave_no_index_entries() {
    let app = TestApp::spawn();
    let Some(mut redis) = app.redis_or_skip() else { return };
    let user = create_user(&app, "Doe", "John");
    let short = create_session(&app, &json!({ "user_id": user["id"], "ttl_seconds": 1 }));
    let long = create_session(&app, &json!({ "user_id": user["id"] }));
    let short_key = format!("session_record:{}", digest(short["id"].as_str().unwrap()));
    let expired = || redis::cmd("EXISTS").arg(&short_key).query::<u32>(&mut redis).unwrap() == 0;
    assert!(eventually(Duration::from_secs(10), expired), "a session of one second still in Redis after 10 s");
    assert_problem(&app.get(&format!("/v1/sessions/{}", short["id"].as_str().unwrap())), 404);
    let listed = app.get(&format!("/v1/users/{}/sessions", user["id"])).json();
    let public_ids = |listed: &Value| -> Vec<Value> {
        listed["items"].as_array().unwrap().iter().map(|s| s["public_id"].clone()).collect()
    };
    assert_eq!(public_ids(&listed), vec![long["public_id"].clone()]);
    // The next write of the index (a refresh of the other session) drops the expired entries.
    let path = format!("/v1/sessions/{}", long["id"].as_str().unwrap());
    assert_eq!(app.send(app.request("PATCH", &path).json(&json!({ "ttl_seconds": 600 }))).status, 200);
    for index in ["user_sessions_by_creation", "user_sessions_by_expiry"] {
        let index = format!("{index}:{}", user["id"]);
        let members: Vec<String> = redis::cmd("ZRANGE").arg(&index).arg(0).arg(-1).query(&mut redis).unwrap();
        assert_eq!(members, vec![digest(long["id"].as_str().unwrap())], "{index}: the expired entry was cleaned");
    }
}

/// The APIs' sessions are kept apart: `/v1` reads only its own (by token), while the original
/// `/get_session/<id>` reads both a `/v1` session by its token and the sessions `/create_session`
/// stored under ids their clients chose.
#[test]
fn both_session_apis_read_each_others_sessions() {
    let app = TestApp::spawn();
    // Original → v1: not found, whatever the id looks like.
    let id = unique("legacy");
    app.post_json("/create_session", &json!({ "session_id": id, "data": { "x": 1 } }))
        .assert(201, json!({ "message": "Session enregistrée" }));
    assert_problem(&app.get(&format!("/v1/sessions/{id}")), 404);
    // v1 → original.
    let session = create_session(&app, &json!({ "data": { "y": [2] } }));
    app.get(&format!("/get_session/{}", session["id"].as_str().unwrap())).assert(200, json!({ "y": [2] }));
    // `/create_session` under a v1 token's text stores a session of the original API beside it
    // (under the id as given): the v1 session, stored under the token's digest, is the one both
    // APIs read by that token, unchanged.
    let v1_id = session["id"].as_str().unwrap();
    app.post_json("/create_session", &json!({ "session_id": v1_id, "data": { "z": 3 } }))
        .assert(201, json!({ "message": "Session enregistrée" }));
    assert_eq!(app.get(&format!("/v1/sessions/{v1_id}")).json()["data"], json!({ "y": [2] }));
    app.get(&format!("/get_session/{v1_id}")).assert(200, json!({ "y": [2] }));
    // Logging the v1 session out leaves the original API's session of that name to its client.
    assert_eq!(app.delete(&format!("/v1/sessions/{v1_id}")).status, 204);
    assert_problem(&app.get(&format!("/v1/sessions/{v1_id}")), 404);
    app.get(&format!("/get_session/{v1_id}")).assert(200, json!({ "z": 3 }));
    assert_problem(&app.delete(&format!("/v1/sessions/{id}")), 404);
    app.get(&format!("/get_session/{id}")).assert(200, json!({ "x": 1 }));
}

#[test]
fn generated_ids_are_distinct_and_well_formed() {
    let app = TestApp::spawn();
    let ids: HashSet<String> = (0..200)
        .map(|_| create_session(&app, &json!({ "ttl_seconds": 5 }))["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 200);
    assert!(ids.iter().all(|id| is_session_id(id) && id.len() == 32));
}

#[test]
fn ten_thousand_generated_ids_are_distinct_and_well_formed() {
    let Some(app) = TestApp::spawn_private(&[]) else { return };
    let ids: Vec<String> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..8)
            .map(|_| {
                let app = &app;
                s.spawn(move || {
                    (0..1250)
                        .map(|_| create_session(app, &json!({ "ttl_seconds": 30 }))["id"].as_str().unwrap().to_owned())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap()).collect()
    });
    assert_eq!(ids.len(), 10_000);
    assert!(ids.iter().all(|id| is_session_id(id) && id.len() == 32), "32 URL-safe characters");
    let distinct: HashSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), 10_000);
    // 192 random bits are exactly 32 base64url characters of 6 bits each: with 10,000 ids, each of
    // the 64 characters shows up at every position (a coarse check against constant or
    // low-entropy bytes).
    for position in 0..32 {
        let chars: HashSet<u8> = ids.iter().map(|id| id.as_bytes()[position]).collect();
        assert_eq!(chars.len(), 64, "position {position}");
    }
}

/// JSON Schema counts `60.0` as an integer, and so does the service (schemathesis sent
/// `"ttl_seconds": 3461.0`); a fraction is still refused.
#[test]
fn whole_numbers_written_as_floats_are_integers() {
    let app = TestApp::spawn();
    let user = create_user(&app, "Doe", "John");
    let uid = user["id"].as_u64().unwrap();
    let session = create_session(&app, &json!({ "user_id": uid as f64, "ttl_seconds": 3461.0 }));
    assert_eq!((&session["user_id"], &session["ttl_seconds"]), (&user["id"], &json!(3461)));
    let path = format!("/v1/sessions/{}", session["id"].as_str().unwrap());
    let res = app.send(app.request("PATCH", &path).json(&json!({ "ttl_seconds": 60.0 })));
    assert_eq!((res.status, res.json()["ttl_seconds"].clone()), (200, json!(60)));
    let res = app.post_json("/v1/sessions", &json!({ "ttl_seconds": 60.5 }));
    assert_problem(&res, 422);
}
