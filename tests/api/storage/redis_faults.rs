//! Redis going away: the service answers 503 (with `Retry-After`) while it is gone, recovers by
//! itself when it is back (even with an empty script cache), never half-applies a write across a
//! crash, and works with a password-protected Redis (`redis_password`) without ever showing the password.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::json;
use spin_test_host::RedisServer;

use crate::helpers::{assert_no_secret, assert_problem, eventually, indexed_users, session_indexes, TestApp};

fn app_for(redis_url: &str) -> Option<TestApp> {
    TestApp::spawn_private(&[("SPIN_VARIABLE_REDIS_ADDRESS", redis_url)])
}

#[test]
fn down_then_back_without_restarting_the_app() {
    let mut redis = RedisServer::start().unwrap();
    let Some(app) = app_for(&redis.url()) else { return };
    assert_eq!(app.post_json("/v1/users", &json!({ "nom": "A", "prenom": "B" })).status, 201);

    redis.stop();
    for res in
        [app.get("/v1/users"), app.post_json("/v1/users", &json!({ "nom": "A", "prenom": "B" })), app.get("/healthz")]
    {
        assert_problem(&res, 503);
        assert_eq!(res.header("retry-after"), Some("1"));
    }
    let res = app.get("/list_users");
    assert_eq!(res.status, 503);
    assert!(res.json()["error"].is_string());

    // Back, with an empty database and script cache (no persistence here): scripts are reloaded.
    redis.restart().unwrap();
    assert_eq!(app.get("/healthz").status, 200);
    let res = app.post_json("/v1/users", &json!({ "nom": "C", "prenom": "D" }));
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(app.get("/v1/users").json()["items"].as_array().unwrap().len(), 1);
}

#[test]
fn down_at_start_then_up_without_restarting_the_app() {
    let mut redis = RedisServer::start().unwrap();
    redis.stop();
    let Some(app) = app_for(&redis.url()) else { return };
    for res in [app.get("/healthz"), app.get("/v1/users/1"), app.post_json("/v1/sessions", &json!({}))] {
        assert_problem(&res, 503);
        assert_eq!(res.header("retry-after"), Some("1"));
    }
    let res = app.post_json("/create_user", &json!({ "nom": "A", "prenom": "B" }));
    assert_eq!(res.status, 503);
    assert!(res.json()["error"].is_string());

    redis.restart().unwrap();
    assert_eq!(app.get("/healthz").status, 200);
    app.post_json("/create_user", &json!({ "nom": "A", "prenom": "B" }))
        .assert(201, json!({ "message": "Utilisateur créé", "user_id": 1 }));
}

#[test]
fn a_crash_mid_load_leaves_no_half_applied_write() {
    let mut redis = RedisServer::start_with_args(&["--appendonly", "yes", "--appendfsync", "always"]).unwrap();
    let Some(app) = app_for(&redis.url()) else { return };
    let acknowledged: Mutex<Vec<u64>> = Mutex::new(Vec::new());
    let statuses: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        for client in 0..6 {
            let (app, acknowledged, statuses, stop) = (&app, &acknowledged, &statuses, &stop);
            s.spawn(move || {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) && n < 2000 {
                    n += 1;
                    let res =
                        app.post_json("/v1/users", &json!({ "nom": format!("c{client}"), "prenom": format!("{n}") }));
                    statuses.lock().unwrap().insert(res.status);
                    if res.status == 201 {
                        let id = res.json()["id"].as_u64().unwrap();
                        acknowledged.lock().unwrap().push(id);
                        // Some sessions too, so a crash can land in a multi-key session write.
                        let _ = app.post_json("/v1/sessions", &json!({ "user_id": id }));
                    }
                }
            });
        }
        // The crash must land while writes are in flight: wait for some to be acknowledged, then
        // kill Redis, and keep the clients writing until they have seen it gone.
        let written = eventually(Duration::from_secs(30), || acknowledged.lock().unwrap().len() >= 50);
        redis.stop(); // SIGKILL while the clients write
        let seen = eventually(Duration::from_secs(30), || statuses.lock().unwrap().contains(&503));
        stop.store(true, Ordering::Relaxed);
        assert!(written && seen, "50 writes acknowledged ({written}), then the crash seen ({seen})");
    });
    let statuses = statuses.into_inner().unwrap();
    assert!(statuses.iter().all(|s| [201, 503].contains(s)), "only success or 503 while Redis dies: {statuses:?}");
    assert!(statuses.contains(&503), "the crash was seen");

    redis.restart().unwrap();
    let acknowledged = acknowledged.into_inner().unwrap();
    assert!(!acknowledged.is_empty());
    let mut conn = redis::Client::open(redis.url()).unwrap().get_connection().unwrap();
    let indexed: BTreeSet<u64> = indexed_users(&mut conn);
    let stored: BTreeSet<u64> = redis::cmd("SCAN")
        .cursor_arg(0)
        .arg("MATCH")
        .arg("user:*")
        .arg("COUNT")
        .arg(1000)
        .clone()
        .iter::<String>(&mut conn)
        .unwrap()
        .filter_map(|k| k.strip_prefix("user:")?.parse().ok())
        .collect();
    assert_eq!(indexed, stored, "every user indexed, every index entry a user: no script half-applied");
    for id in &acknowledged {
        assert!(stored.contains(id), "acknowledged user {id} was lost (appendfsync always)");
    }
    let counter: u64 = redis::cmd("GET").arg("user_id_counter").query(&mut conn).unwrap();
    assert!(stored.iter().all(|id| *id <= counter), "no id above the counter");
    // Sessions: every index entry's owner exists.
    for (index, uid) in session_indexes(&mut conn) {
        assert!(stored.contains(&uid), "{index} without its user");
    }
    // And the app, never restarted, serves again.
    assert_eq!(app.get("/healthz").status, 200);
    assert_eq!(app.get(&format!("/v1/users/{}", acknowledged[0])).status, 200);
}

#[test]
fn a_password_protected_redis_works_and_the_password_never_shows() {
    let redis = RedisServer::start_with_args(&["--requirepass", "pa55-w0rd"]).unwrap();
    let address = redis.url();
    let app_with_password = |password| {
        TestApp::spawn_private(&[("SPIN_VARIABLE_REDIS_ADDRESS", &address), ("SPIN_VARIABLE_REDIS_PASSWORD", password)])
    };
    let Some(app) = app_with_password("pa55-w0rd") else { return };
    let res = app.post_json("/v1/users", &json!({ "nom": "A", "prenom": "B" }));
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(app.get("/healthz").status, 200);

    // A wrong password is a server-side misconfiguration: an error, without the secret in it.
    let app = app_with_password("not-the-pa55").unwrap();
    for res in [app.get("/v1/users"), app.get("/healthz"), app.get("/list_users")] {
        assert!(res.status >= 500, "{}", res.text());
        assert_no_secret(&res, "pa55");
    }

    // The password inside redis_address: Spin could not match that allowed host, so it is refused
    // (the log says which variables to use), again without showing the secret.
    let in_address = format!("redis://:pa55-w0rd@127.0.0.1:{}", redis.port());
    let app = app_for(&in_address).unwrap();
    for res in [app.get("/v1/users"), app.get("/healthz"), app.get("/list_users")] {
        assert_eq!(res.status, 500, "{}", res.text());
        assert_no_secret(&res, "pa55");
    }
}
