//! A session's lifetime (issue 15): the absolute expiry no refresh can pass, rotation to a new
//! token, what is recorded about the caller, and reading that never writes.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::session_kit::*;
use crate::helpers::{assert_problem, eventually, redis_snapshot, TestApp};

fn pttl(redis: &mut redis::Connection, key: &str) -> i64 {
    redis::cmd("PTTL").arg(key).query(redis).unwrap()
}

fn exists(redis: &mut redis::Connection, key: &str) -> bool {
    redis::cmd("EXISTS").arg(key).query::<u32>(redis).unwrap() == 1
}

fn lifetime_ms(session: &Value) -> i64 {
    millis(&session["absolute_expires_at"]) - millis(&session["created_at"])
}

/// Writes Redis counts (`rdb_changes_since_last_save` goes up with every change to the data set,
/// whether or not Redis ever saves).
fn redis_changes(redis: &mut redis::Connection) -> u64 {
    let info: String = redis::cmd("INFO").arg("persistence").query(redis).unwrap();
    info.lines().find_map(|l| l.strip_prefix("rdb_changes_since_last_save:")).unwrap().trim().parse().unwrap()
}

#[test]
fn max_lifetime_seconds_is_a_whole_number_up_to_the_setting() {
    let Some(app) = TestApp::spawn_private(&[("SPIN_VARIABLE_TUNING", "session_max_lifetime_seconds=100")]) else {
        return;
    };
    let mut redis = app.redis().unwrap();
    let before = redis_snapshot(&mut redis);
    for bad in [json!(0), json!(-1), json!(101), json!(1.5), json!("60"), json!(true), json!([60])] {
        let res = app.post_json("/v1/sessions", &json!({ "max_lifetime_seconds": bad }));
        assert_problem(&res, 422);
        let detail = res.json()["detail"].as_str().unwrap().to_owned();
        assert!(detail.contains("max_lifetime_seconds"), "{bad}: the problem names the field: {detail}");
    }
    assert_eq!(redis_snapshot(&mut redis), before, "a refused session wrote nothing");

    // The setting is also the default.
    assert_eq!(lifetime_ms(&create(&app, &json!({}))), 100_000);
    for (asked, ms) in [(json!(100), 100_000), (json!(1), 1_000), (json!(60.0), 60_000)] {
        let session = create(&app, &json!({ "max_lifetime_seconds": asked }));
        assert_representation(&session, true);
        assert_eq!(lifetime_ms(&session), ms, "{asked}");
    }
}

#[test]
fn the_default_lifetime_is_thirty_days() {
    let app = TestApp::spawn();
    assert_eq!(lifetime_ms(&create(&app, &json!({}))), 2_592_000_000);
    assert_eq!(lifetime_ms(&create(&app, &json!({ "max_lifetime_seconds": 2_592_000 }))), 2_592_000_000);
    assert_problem(&app.post_json("/v1/sessions", &json!({ "max_lifetime_seconds": 2_592_001 })), 422);
}

#[test]
fn the_ttl_is_capped_to_the_lifetime_at_creation() {
    let app = TestApp::spawn();
    let Some(mut redis) = app.redis_or_skip() else { return };
    let capped = create(&app, &json!({ "ttl_seconds": 3600, "max_lifetime_seconds": 60 }));
    assert_eq!(capped["ttl_seconds"], 60);
    assert_eq!(capped["expires_at"], capped["absolute_expires_at"]);
    let left = pttl(&mut redis, &record_key(&token(&capped)));
    assert!((50_000..=60_000).contains(&left), "the key expires with the session: {left} ms");

    let within = create(&app, &json!({ "ttl_seconds": 30, "max_lifetime_seconds": 60 }));
    assert_eq!(within["ttl_seconds"], 30);
    assert_eq!(millis(&within["expires_at"]) - millis(&within["created_at"]), 30_000);
    assert_eq!(lifetime_ms(&within), 60_000);
}

#[test]
fn a_refresh_is_capped_to_the_absolute_expiry() {
    let app = TestApp::spawn();
    let Some(mut redis) = app.redis_or_skip() else { return };
    let user = user(&app);
    let session = create(&app, &json!({ "user_id": user["id"], "ttl_seconds": 10, "max_lifetime_seconds": 120 }));
    let token = token(&session);
    for res in [
        header_patch(&app, &token, &json!({ "ttl_seconds": 3600 })),
        path_patch(&app, &token, &json!({ "ttl_seconds": 2_592_000 })),
    ] {
        assert_eq!(res.status, 200, "{}", res.text());
        let refreshed = res.json();
        assert_eq!(refreshed["expires_at"], session["absolute_expires_at"], "{refreshed}");
        assert_eq!(refreshed["absolute_expires_at"], session["absolute_expires_at"]);
        let ttl = refreshed["ttl_seconds"].as_i64().unwrap();
        assert!((110..=120).contains(&ttl), "{ttl}");
        let left = pttl(&mut redis, &record_key(&token));
        assert!((100_000..=120_000).contains(&left), "{left} ms");
        // The user's index expires the entry with the session.
        let score: f64 =
            redis::cmd("ZSCORE").arg(by_expiry_key(&user["id"])).arg(digest(&token)).query(&mut redis).unwrap();
        assert_eq!(score as i64, millis(&session["absolute_expires_at"]));
    }
    // A shorter refresh than what is left is taken as asked: it restarts the expiry from now.
    let res = header_patch(&app, &token, &json!({ "ttl_seconds": 5 }));
    assert_eq!(res.json()["ttl_seconds"], 5, "{}", res.text());
}

/// Sliding refresh cannot keep a session alive past `absolute_expires_at` (here 3 s after
/// creation): refreshed as often as the client can, it answers 404 from then on, and its key is
/// gone from Redis.
#[test]
fn a_session_ends_at_its_absolute_expiry_whatever_the_refreshes() {
    let Some(app) = TestApp::spawn_private(&[("SPIN_VARIABLE_TUNING", "session_max_lifetime_seconds=3")]) else {
        return;
    };
    let mut redis = app.redis().unwrap();
    let user = user(&app);
    let session = create(&app, &json!({ "user_id": user["id"], "ttl_seconds": 60 }));
    assert_eq!(session["ttl_seconds"], 3, "capped to the lifetime at creation");
    let token = token(&session);
    let absolute = millis(&session["absolute_expires_at"]);
    assert_eq!(absolute - millis(&session["created_at"]), 3_000);

    let mut refreshes = 0;
    let mut ended_at = 0;
    let ended = eventually(Duration::from_secs(15), || {
        let res = header_patch(&app, &token, &json!({ "ttl_seconds": 60 }));
        if res.status == 200 {
            refreshes += 1;
            let ttl = res.json()["ttl_seconds"].as_i64().unwrap();
            assert!(ttl <= 3, "a refresh went past the lifetime: {}", res.text());
            return false;
        }
        assert_problem(&res, 404);
        ended_at = now_ms();
        true
    });
    assert!(ended, "still refreshable 15 s into a 3 s lifetime");
    assert!(refreshes > 0, "the session was refreshed while it lived");
    assert!(ended_at >= absolute - 250, "ended {} ms before its absolute expiry", absolute - ended_at);
    assert_problem(&header_get(&app, &token), 404);
    assert_problem(&app.get(&format!("/v1/sessions/{token}")), 404);
    assert_problem(&header_rotate(&app, &token), 404);
    assert!(!exists(&mut redis, &record_key(&token)), "the record outlived its absolute expiry");
    assert_eq!(listed_public_ids(&app, &user["id"]), Vec::<String>::new());
}

#[test]
fn rotation_moves_the_session_to_a_new_token_in_one_step() {
    let app = TestApp::spawn();
    let Some(mut redis) = app.redis_or_skip() else { return };
    let user = user(&app);
    let created = create(
        &app,
        &json!({ "user_id": user["id"], "data": { "cart": [1, 2] }, "ttl_seconds": 600, "max_lifetime_seconds": 3600 }),
    );
    let old = token(&created);
    let before_rotation = now_ms();
    let session = rotated(header_rotate(&app, &old));
    assert_representation(&session, true);
    let new = token(&session);
    assert_ne!(new, old);
    assert_eq!(new.len(), old.len(), "a token like any other");
    assert_eq!(public_id(&session), public_id_of(&new));
    assert_ne!(public_id(&session), public_id(&created));
    for kept in ["user_id", "data", "created_at", "absolute_expires_at", "expires_at"] {
        assert_eq!(session[kept], created[kept], "{kept}");
    }
    let refreshed = millis(&session["last_refreshed_at"]);
    assert!(refreshed >= before_rotation - 1_000 && refreshed <= now_ms() + 1_000, "last_refreshed_at is now");

    // The old token is dead, in every form and for every operation.
    assert_problem(&header_get(&app, &old), 404);
    assert_problem(&app.get(&format!("/v1/sessions/{old}")), 404);
    assert_problem(&header_patch(&app, &old, &json!({ "ttl_seconds": 60 })), 404);
    assert_problem(&header_rotate(&app, &old), 404);
    assert_problem(&path_rotate(&app, &old), 404);
    assert_problem(&header_delete(&app, &old), 404);

    // The new one reads the same session.
    let got = header_get(&app, &new).json();
    for field in FIELDS.iter().filter(|f| **f != "ttl_seconds") {
        assert_eq!(got[field], session[field], "{field}");
    }
    assert_eq!(listed_public_ids(&app, &user["id"]), vec![public_id(&session)]);

    // In Redis: one record, under the new digest; the user's indexes name the new digest only.
    assert!(!exists(&mut redis, &record_key(&old)));
    assert!(exists(&mut redis, &record_key(&new)));
    for index in [by_creation_key(&user["id"]), by_expiry_key(&user["id"])] {
        let members: Vec<String> = redis::cmd("ZRANGE").arg(&index).arg(0).arg(-1).query(&mut redis).unwrap();
        assert_eq!(members, vec![digest(&new)], "{index}");
    }

    // A session of no user rotates too.
    let anonymous = create(&app, &json!({ "data": "anon" }));
    let rotated_anonymous = rotated(path_rotate(&app, &token(&anonymous)));
    assert_eq!((&rotated_anonymous["user_id"], &rotated_anonymous["data"]), (&Value::Null, &json!("anon")));
    assert_problem(&header_get(&app, &token(&anonymous)), 404);
}

/// The old token dies in the same atomic step: of clients rotating one token at once, exactly
/// one gets a new token, and only that one works.
#[test]
fn concurrent_rotations_of_one_token_yield_one_session() {
    let app = TestApp::spawn();
    let user = user(&app);
    let old = token(&create(&app, &json!({ "user_id": user["id"] })));
    let answers: Vec<(u16, Value)> = std::thread::scope(|s| {
        let rotations: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    let res = header_rotate(&app, &old);
                    (res.status, res.json())
                })
            })
            .collect();
        rotations.into_iter().map(|r| r.join().unwrap()).collect()
    });
    let winners: Vec<&Value> = answers.iter().filter(|(status, _)| *status == 201).map(|(_, body)| body).collect();
    assert_eq!(winners.len(), 1, "{answers:?}");
    assert!(answers.iter().all(|(status, _)| *status == 201 || *status == 404), "{answers:?}");
    assert_eq!(header_get(&app, &token(winners[0])).status, 200);
    assert_eq!(listed_public_ids(&app, &user["id"]), vec![public_id(winners[0])]);
}

#[test]
fn device_details_are_recorded_at_creation() {
    let app = TestApp::spawn();
    let user = user(&app);
    let res = app.send(
        app.request("POST", "/v1/sessions").header("user-agent", "curl/8.5.0").json(&json!({ "user_id": user["id"] })),
    );
    assert_eq!(res.status, 201, "{}", res.text());
    let session = res.json();
    assert_representation(&session, true);
    assert_eq!(session["user_agent"], "curl/8.5.0");
    let address = session["client_address"].as_str().unwrap_or_else(|| panic!("no client_address: {session}"));
    let address: std::net::SocketAddr = address.parse().unwrap_or_else(|_| panic!("not an address: {address}"));
    assert!(address.ip().is_loopback(), "the test's own address: {address}");
    assert_eq!(session["last_refreshed_at"], Value::Null);

    // Recorded once: reading with another User-Agent changes nothing.
    let held = token(&session);
    let got =
        app.send(app.request("GET", "/v1/session").header(TOKEN_HEADER, &held).header("user-agent", "other/1")).json();
    assert_eq!((&got["user_agent"], &got["client_address"]), (&session["user_agent"], &session["client_address"]));

    // No User-Agent: null. One of 300 characters: its first 256.
    let anonymous = create(&app, &json!({}));
    assert_eq!(anonymous["user_agent"], Value::Null, "the test client sends no User-Agent of its own");
    let long: String = (0..300).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
    let res = app.send(app.request("POST", "/v1/sessions").header("user-agent", &long).json(&json!({})));
    let truncated = res.json();
    assert_eq!(truncated["user_agent"], json!(long[..256]));
    assert_eq!(header_get(&app, &token(&truncated)).json()["user_agent"], json!(long[..256]));

    // last_refreshed_at: still null after a data-only PATCH, set by a refresh.
    let res = header_patch(&app, &held, &json!({ "data": 1 }));
    assert_eq!(res.json()["last_refreshed_at"], Value::Null, "{}", res.text());
    let before = now_ms();
    let res = header_patch(&app, &held, &json!({ "ttl_seconds": 120 }));
    let refreshed = res.json();
    let at = millis(&refreshed["last_refreshed_at"]);
    assert!(at >= millis(&session["created_at"]) && at >= before - 1_000 && at <= now_ms() + 1_000, "{refreshed}");
    assert_eq!(header_get(&app, &held).json()["last_refreshed_at"], refreshed["last_refreshed_at"]);

    // Listings show all three.
    let listed = app.get(&format!("/v1/users/{}/sessions", user["id"])).json();
    let item = &listed["items"][0];
    assert_representation(item, false);
    for field in ["user_agent", "client_address", "last_refreshed_at", "public_id", "created_at"] {
        assert_eq!(item[field], refreshed[field], "{field}");
    }
}

/// The hot path stays one read: reading a session, in either form, changes nothing in Redis (no
/// last-seen time, no TTL bump), so Redis's count of changes stands still.
#[test]
fn reading_a_session_never_writes() {
    let Some(app) = TestApp::spawn_private(&[]) else { return };
    let mut redis = app.redis().unwrap();
    let user = user(&app);
    let token = token(&create(&app, &json!({ "user_id": user["id"], "ttl_seconds": 600 })));
    let snapshot = redis_snapshot(&mut redis);
    let changes = redis_changes(&mut redis);
    let ttl_before = pttl(&mut redis, &record_key(&token));
    let started = Instant::now();
    for _ in 0..3 {
        assert_eq!(header_get(&app, &token).status, 200);
        let res = app.send(app.request("GET", &format!("/v1/sessions/{token}")).header("user-agent", "reader/2"));
        assert_eq!(res.status, 200);
        assert_eq!(res.json()["last_refreshed_at"], Value::Null);
    }
    assert_eq!(redis_changes(&mut redis), changes, "reads changed the data set");
    assert_eq!(redis_snapshot(&mut redis), snapshot);
    let ttl_after = pttl(&mut redis, &record_key(&token));
    let elapsed = started.elapsed().as_millis() as i64;
    assert!(ttl_after <= ttl_before && ttl_after >= ttl_before - elapsed - 1_000, "{ttl_before} → {ttl_after}");
}
