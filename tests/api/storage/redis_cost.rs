//! What each endpoint costs in Redis, pinned so that a regression shows: Redis round trips as the
//! test host saw the component make them, and the commands Redis executed (`INFO commandstats`,
//! which also counts the commands run inside scripts). Each test owns its redis-server, because
//! commandstats are server-wide.

use std::collections::BTreeMap;

use serde_json::json;

use crate::helpers::{manifest, TestApp, TestResponse};

/// Commands Redis counted since the last `CONFIG RESETSTAT`, leaving out this test's own
/// `INFO`/`CONFIG`, the observer's `MONITOR`/`ECHO`, and the client library's connection set-up
/// (`CLIENT SETINFO`, `HELLO`, `SELECT`).
fn commands_executed(redis: &mut redis::Connection) -> BTreeMap<String, u64> {
    let info: String = redis::cmd("INFO").arg("commandstats").query(redis).unwrap();
    info.lines()
        .filter_map(|line| {
            let (name, rest) = line.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = rest.split(',').find_map(|kv| kv.strip_prefix("calls="))?.parse().ok()?;
            let setup = ["info", "echo", "monitor"].contains(&name)
                || name.starts_with("config")
                || name.starts_with("client")
                || name == "hello"
                || name == "select";
            (!setup).then(|| (name.to_owned(), calls))
        })
        .collect()
}

/// Runs one request and returns its response, the round trips the component made, and what Redis
/// executed for it. Checks that the request opened one connection if it used Redis (none
/// otherwise) and read exactly `variables` Spin variables. Under the test host and under real Spin
/// alike: round trips and connections are counted from Redis's side.
fn measure_with(
    app: &TestApp,
    redis: &mut redis::Connection,
    variables: u32,
    send: impl FnOnce() -> TestResponse,
) -> (TestResponse, Vec<String>, BTreeMap<String, u64>) {
    redis::cmd("CONFIG").arg("RESETSTAT").exec(redis).unwrap();
    let seen = app.observe(send);
    let opens_expected = u64::from(!seen.round_trips.is_empty());
    assert_eq!(seen.redis_opens, opens_expected, "one connection when Redis is used, none otherwise: {seen:?}");
    assert_eq!(seen.variable_gets, variables, "variable lookups: {seen:?}");
    (seen.response, seen.round_trips, commands_executed(redis))
}

/// `measure_with` for the common case: one variable, `settings` (spin.toml), with every setting.
fn measure(
    app: &TestApp,
    redis: &mut redis::Connection,
    send: impl FnOnce() -> TestResponse,
) -> (TestResponse, Vec<String>, BTreeMap<String, u64>) {
    measure_with(app, redis, 1, send)
}

/// Commands by name with their counts; a name listed twice counts the sum (a script's parts).
fn stats(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    let mut stats = BTreeMap::new();
    for (name, count) in pairs {
        *stats.entry(name.to_string()).or_insert(0) += count;
    }
    stats
}

#[test]
fn original_endpoints_cost_one_round_trip_each() {
    let Some(app) = TestApp::spawn_observed(&[]) else { return };
    let mut redis = app.redis().unwrap();
    // Load the scripts into Redis's cache first: the very first run of a script costs an extra
    // EVAL (measured separately below).
    for path in ["/create_user", "/create_user"] {
        assert_eq!(app.post_json(path, &json!({ "nom": "Warm", "prenom": "Up" })).status, 201);
    }
    assert_eq!(app.delete("/delete_user/2").status, 200);
    assert_eq!(app.get("/list_users").status, 200);

    let (res, trips, executed) =
        measure(&app, &mut redis, || app.post_json("/create_user", &json!({ "nom": "Doe", "prenom": "John" })));
    assert_eq!(res.status, 201);
    assert_eq!(trips, ["EVALSHA"]);
    // The counter is read before INCR, so a create past the last id writes nothing.
    assert_eq!(executed, stats(&[("evalsha", 1), ("get", 1), ("incr", 1), ("set", 1), ("zadd", 1)]));

    let (res, trips, executed) = measure(&app, &mut redis, || app.get("/get_user/3"));
    assert_eq!(res.status, 200);
    assert_eq!(trips, ["GET"]);
    assert_eq!(executed, stats(&[("get", 1)]));

    let (res, trips, executed) = measure(&app, &mut redis, || app.get("/list_users"));
    assert_eq!(res.json().as_array().unwrap().len(), 2);
    assert_eq!(trips, ["SORT"]);
    assert_eq!(executed, stats(&[("sort", 1)]));

    // A record that is not a JSON object costs the listing a second SORT, which names the
    // records, so that the one left out is logged by its key; the others cost the one SORT.
    redis::cmd("SET").arg("user:900").arg(r#"{"id":900,"nom":42,"prenom":null}"#).exec(&mut redis).unwrap();
    redis::cmd("ZADD").arg("users:index").arg(900).arg(900).exec(&mut redis).unwrap();
    let (res, trips, executed) = measure(&app, &mut redis, || app.get("/list_users"));
    assert_eq!(res.json().as_array().unwrap().len(), 3);
    assert_eq!((trips, executed), (vec!["SORT".to_owned()], stats(&[("sort", 1)])));
    redis::cmd("SET").arg("user:900").arg("[]").exec(&mut redis).unwrap();
    let (res, trips, executed) = measure(&app, &mut redis, || app.get("/list_users"));
    assert_eq!(res.json().as_array().unwrap().len(), 2);
    assert_eq!((trips, executed), (vec!["SORT".to_owned(), "SORT".to_owned()], stats(&[("sort", 2)])));
    redis::cmd("DEL").arg("user:900").exec(&mut redis).unwrap();
    redis::cmd("ZREM").arg("users:index").arg(900).exec(&mut redis).unwrap();

    let (res, trips, executed) = measure(&app, &mut redis, || app.delete("/delete_user/3"));
    assert_eq!(res.status, 200);
    assert_eq!(trips, ["EVALSHA"]);
    // The user, its index entry, and its (here empty) session index.
    assert_eq!(executed, stats(&[("del", 2), ("evalsha", 1), ("get", 1), ("zrange", 1), ("zrem", 1)]));

    let (res, trips, executed) = measure(&app, &mut redis, || {
        app.post_json("/create_session", &json!({ "session_id": "s1", "data": { "a": 1 } }))
    });
    assert_eq!(res.status, 201);
    assert_eq!(trips, ["SET"]);
    assert_eq!(executed, stats(&[("set", 1)]));

    // The key of a `/v1` session's token digest and the key of the id as given, in one MGET.
    let (res, trips, executed) = measure(&app, &mut redis, || app.get("/get_session/s1"));
    assert_eq!(res.status, 200);
    assert_eq!(trips, ["MGET"]);
    assert_eq!(executed, stats(&[("mget", 1)]));
}

/// Each application variable costs host CPU under Spin on every request that resolves it
/// (src/config.rs): a request resolves each of the five once for its one lookup of `settings`, and
/// once more when it opens Redis (Spin resolves them all then, `real_spin_facts`). Five, not the
/// twelve of earlier versions: the tuning settings share one variable.
#[test]
fn a_request_resolves_each_of_the_five_variables_twice() {
    let Some(app) = TestApp::spawn_observed(&[]) else { return };
    let user = app.post_json("/v1/users", &json!({ "nom": "Doe", "prenom": "John" })).json();
    let seen = app.observe(|| app.get(&format!("/v1/users/{}", user["id"])));
    assert_eq!((seen.response.status, seen.variable_gets), (200, 1));
    let names: Vec<&str> = seen.variables_resolved.keys().map(String::as_str).collect();
    assert_eq!(names, ["api_token", "redis_address", "redis_password", "redis_username", "tuning"], "{seen:?}");
    assert!(seen.variables_resolved.values().all(|times| *times == 2), "{seen:?}");
    assert_eq!(seen.variables_resolved.len(), manifest().variables.len(), "{seen:?}");
}

#[test]
fn requests_rejected_at_the_edge_never_touch_redis() {
    let Some(app) = TestApp::spawn_observed(&[]) else { return };
    let mut redis = app.redis().unwrap();
    // Only `settings` is read (for the API token).
    let (res, trips, executed) = measure_with(&app, &mut redis, 1, || app.get("/get_user/abc"));
    assert_eq!((res.status, trips.len(), executed.len()), (404, 0, 0));
    let (res, trips, executed) =
        measure_with(&app, &mut redis, 1, || app.post_json("/create_user", &json!({ "nom": "" })));
    assert_eq!((res.status, trips.len(), executed.len()), (400, 0, 0));
    let (res, trips, executed) = measure_with(&app, &mut redis, 1, || app.send(app.request("PUT", "/list_users")));
    assert_eq!((res.status, trips.len(), executed.len()), (405, 0, 0));
}

#[test]
fn an_empty_script_cache_costs_one_extra_eval() {
    let Some(app) = TestApp::spawn_observed(&[]) else { return };
    let mut redis = app.redis().unwrap();
    redis::cmd("SCRIPT").arg("FLUSH").exec(&mut redis).unwrap();
    let (res, trips, _) =
        measure(&app, &mut redis, || app.post_json("/create_user", &json!({ "nom": "A", "prenom": "B" })));
    assert_eq!(res.status, 201);
    assert_eq!(trips, ["EVALSHA", "EVAL"]);
    let (res, trips, _) =
        measure(&app, &mut redis, || app.post_json("/create_user", &json!({ "nom": "C", "prenom": "D" })));
    assert_eq!(res.status, 201);
    assert_eq!(trips, ["EVALSHA"]);
}

#[test]
fn v1_endpoints_cost_one_round_trip_each() {
    let Some(app) = TestApp::spawn_observed(&[]) else { return };
    let mut redis = app.redis().unwrap();
    // Warm the script cache with one of each operation.
    let warm = app.post_json("/v1/users", &json!({ "nom": "Warm", "prenom": "Up" })).json();
    let warm_path = format!("/v1/users/{}", warm["id"]);
    let warm_session = app.post_json("/v1/sessions", &json!({ "user_id": warm["id"], "ttl_seconds": 60 })).json();
    let warm_session_path = format!("/v1/sessions/{}", warm_session["id"].as_str().unwrap());
    let warm_second = app.post_json("/v1/sessions", &json!({ "user_id": warm["id"], "ttl_seconds": 60 })).json();
    let warm_third = app.post_json("/v1/sessions", &json!({ "user_id": warm["id"], "ttl_seconds": 60 })).json();
    for res in [
        app.send(app.request("PATCH", &warm_path).json(&json!({ "nom": "W" }))),
        app.get("/v1/users"),
        app.get(&warm_session_path),
        app.send(app.request("PATCH", &warm_session_path).json(&json!({ "ttl_seconds": 60 }))),
        app.get(&format!("{warm_path}/sessions")),
        app.send(app.request("POST", &format!("/v1/sessions/{}/rotate", warm_third["id"].as_str().unwrap()))),
        app.delete(&warm_session_path),
        app.delete(&format!("{warm_path}/sessions?except={}", warm_second["public_id"].as_str().unwrap())),
        app.delete(&format!("{warm_path}/sessions/{}", warm_second["public_id"].as_str().unwrap())),
        app.delete(&format!("{warm_path}/sessions")),
        app.delete(&warm_path),
    ] {
        assert!(res.status < 300, "{}", res.text());
    }
    let one_trip = |expected: &[(&str, u64)],
                    (res, trips, executed): (TestResponse, Vec<String>, BTreeMap<String, u64>)| {
        assert!(res.status < 300, "{}", res.text());
        assert_eq!(trips, ["EVALSHA"], "{}", res.text());
        assert_eq!(executed, stats(expected));
        res
    };

    let user = one_trip(
        &[("evalsha", 1), ("get", 1), ("incr", 1), ("set", 1), ("zadd", 1)],
        measure(&app, &mut redis, || app.post_json("/v1/users", &json!({ "nom": "Doe", "prenom": "John" }))),
    )
    .json();
    let path = format!("/v1/users/{}", user["id"]);

    // With an Idempotency-Key: the key's record is read, then written with the user, in the same
    // script; a replay only reads it.
    let keyed = || {
        app.send(
            app.request("POST", "/v1/users")
                .header("idempotency-key", "cost-1")
                .json(&json!({ "nom": "Doe", "prenom": "Kay" })),
        )
    };
    one_trip(
        &[("evalsha", 1), ("hmget", 1), ("get", 1), ("incr", 1), ("set", 1), ("zadd", 1), ("hset", 1), ("expire", 1)],
        measure(&app, &mut redis, keyed),
    );
    one_trip(&[("evalsha", 1), ("hmget", 1)], measure(&app, &mut redis, keyed));

    let (res, trips, executed) = measure(&app, &mut redis, || app.get(&path));
    assert_eq!((res.status, trips, executed), (200, vec!["GET".to_owned()], stats(&[("get", 1)])));

    one_trip(
        &[("evalsha", 1), ("get", 1), ("set", 1)],
        measure(&app, &mut redis, || app.send(app.request("PATCH", &path).json(&json!({ "nom": "Roe" })))),
    );
    one_trip(
        &[("evalsha", 1), ("mget", 1), ("zrangebyscore", 1)],
        measure(&app, &mut redis, || app.get("/v1/users?limit=10")),
    );

    // Creating a session for a user: the existence check, the one key with its expiry, and the
    // user's two index entries (a unique creation score after the last one) with their clean-up:
    // expired entries, the cap, the index's own expiry; all in the one script. The default TTL and
    // the cap are tuning, read with everything else in the one lookup.
    // Every write of a user's index drops its expired entries; one that can move an expiry later
    // also sets the index's own expiry from its last entry.
    let prune = [("time", 1), ("zrangebyscore", 1)];
    let index_write = [("time", 1), ("zrangebyscore", 1), ("zrange", 1), ("pexpireat", 2)];
    let session = one_trip(
        &[&index_write[..], &[("evalsha", 1), ("exists", 1), ("set", 1), ("zadd", 2), ("zcard", 1), ("zrange", 1)]]
            .concat(),
        measure(&app, &mut redis, || app.post_json("/v1/sessions", &json!({ "user_id": user["id"] }))),
    )
    .json();
    let token = session["id"].as_str().unwrap().to_owned();
    let session_path = format!("/v1/sessions/{token}");
    // Reading a session, in either form, is one GET of its one key: no script, nothing written.
    for read in [app.request("GET", &session_path), app.request("GET", "/v1/session").header("x-session-token", &token)]
    {
        let (res, trips, executed) = measure(&app, &mut redis, || app.send(read));
        assert_eq!((res.status, trips, executed), (200, vec!["GET".to_owned()], stats(&[("get", 1)])));
    }
    // New data keeps the expiry: the index is not touched.
    one_trip(
        &[("evalsha", 1), ("get", 1), ("set", 1)],
        measure(&app, &mut redis, || {
            app.send(app.request("PATCH", &session_path).json(&json!({ "data": { "a": 1 } })))
        }),
    );
    // A refresh moves the session's expiry entry and tidies the index.
    one_trip(
        &[&index_write[..], &[("evalsha", 1), ("get", 1), ("set", 1), ("zadd", 1)]].concat(),
        measure(&app, &mut redis, || {
            app.send(app.request("PATCH", &session_path).json(&json!({ "ttl_seconds": 600 })))
        }),
    );
    // A page: the user, the page of the index, and each session's one key.
    one_trip(
        &[("evalsha", 1), ("exists", 1), ("zrangebyscore", 1), ("get", 1)],
        measure(&app, &mut redis, || app.get(&format!("{path}/sessions"))),
    );
    // Rotation: the old key read and deleted, the new one written, the index entries moved.
    let rotated = one_trip(
        &[&prune[..], &[("evalsha", 1), ("get", 1), ("set", 1), ("del", 1), ("zscore", 1), ("zrem", 2), ("zadd", 2)]]
            .concat(),
        measure(&app, &mut redis, || {
            app.send(app.request("POST", "/v1/session/rotate").header("x-session-token", &token))
        }),
    )
    .json();
    let session_path = format!("/v1/sessions/{}", rotated["id"].as_str().unwrap());
    // Logging out: the key (read for its user) and its index entries (the user's last session:
    // Redis deletes the emptied index).
    one_trip(
        &[&prune[..], &[("evalsha", 1), ("get", 1), ("del", 1), ("zrem", 2)]].concat(),
        measure(&app, &mut redis, || app.delete(&session_path)),
    );
    // Revoking one session by its public id: the user's index, the session's key and its entries.
    let second = app.post_json("/v1/sessions", &json!({ "user_id": user["id"] })).json();
    app.post_json("/v1/sessions", &json!({ "user_id": user["id"] }));
    one_trip(
        &[&prune[..], &[("evalsha", 1), ("zrange", 1), ("del", 1), ("zrem", 2)]].concat(),
        measure(&app, &mut redis, || app.delete(&format!("{path}/sessions/{}", second["public_id"].as_str().unwrap()))),
    );
    // Revoking all but one (of three): the user, the index (read to find the kept session, which is
    // checked live, and again to revoke), the two others' keys and entries.
    let kept = app.post_json("/v1/sessions", &json!({ "user_id": user["id"] })).json();
    app.post_json("/v1/sessions", &json!({ "user_id": user["id"] }));
    one_trip(
        &[&prune[..], &[("evalsha", 1), ("exists", 2), ("zrange", 2), ("del", 2), ("zrem", 4)]].concat(),
        measure(&app, &mut redis, || {
            app.delete(&format!("{path}/sessions?except={}", kept["public_id"].as_str().unwrap()))
        }),
    );
    one_trip(
        &[("evalsha", 1), ("exists", 1), ("zrange", 1), ("del", 2), ("zrem", 2)],
        measure(&app, &mut redis, || app.delete(&format!("{path}/sessions"))),
    );
    one_trip(
        &[("evalsha", 1), ("get", 1), ("del", 2), ("zrem", 1), ("zrange", 1)],
        measure(&app, &mut redis, || app.delete(&path)),
    );

    // The health check is one write (it must see what a PING cannot: a replica, a full Redis).
    let (res, trips, executed) = measure_with(&app, &mut redis, 1, || app.get("/healthz"));
    assert_eq!((res.status, trips, executed), (200, vec!["SET".to_owned()], stats(&[("set", 1)])));
}
