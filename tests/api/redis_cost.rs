//! What each endpoint costs in Redis, pinned so that a regression shows: Redis round trips as the
//! test host saw the component make them, and the commands Redis executed (`INFO commandstats`,
//! which also counts the commands run inside scripts). Each test owns its redis-server, because
//! commandstats are server-wide.

use std::collections::BTreeMap;

use serde_json::json;

use crate::helpers::{TestApp, TestResponse};

/// Commands Redis counted since the last `CONFIG RESETSTAT`, leaving out this test's own
/// `INFO`/`CONFIG` and the client library's connection set-up (`CLIENT SETINFO`, `HELLO`, `SELECT`).
fn commands_executed(redis: &mut redis::Connection) -> BTreeMap<String, u64> {
    let info: String = redis::cmd("INFO").arg("commandstats").query(redis).unwrap();
    info.lines()
        .filter_map(|line| {
            let (name, rest) = line.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = rest.split(',').find_map(|kv| kv.strip_prefix("calls="))?.parse().ok()?;
            let setup = name == "info" || name.starts_with("config") || name.starts_with("client") || name == "hello" || name == "select";
            (!setup).then(|| (name.to_owned(), calls))
        })
        .collect()
}

/// Runs one request and returns its response, the round trips the component made, and what Redis
/// executed for it.
fn measure(app: &TestApp, redis: &mut redis::Connection, send: impl FnOnce() -> TestResponse) -> (TestResponse, Vec<String>, BTreeMap<String, u64>) {
    redis::cmd("CONFIG").arg("RESETSTAT").exec(redis).unwrap();
    app.clear_host_records();
    let res = send();
    let records = app.host_records().unwrap();
    assert_eq!(records.len(), 1, "{records:?}");
    let record = &records[0];
    assert!(!record.trapped);
    let opens_expected = u32::from(!record.redis_commands.is_empty());
    assert_eq!(record.redis_opens, opens_expected, "one connection when Redis is used, none otherwise: {record:?}");
    assert!(record.variable_gets <= 1, "at most one variable lookup per request: {record:?}");
    (res, record.redis_commands.clone(), commands_executed(redis))
}

fn stats(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

#[test]
fn original_endpoints_cost_one_round_trip_each() {
    let Some(app) = TestApp::spawn_private(&[]) else { return };
    let mut redis = app.redis().unwrap();
    // Load the scripts into Redis's cache first: the very first run of a script costs an extra
    // EVAL (measured separately below).
    for path in ["/create_user", "/create_user"] {
        assert_eq!(app.post_json(path, &json!({ "nom": "Warm", "prenom": "Up" })).status, 201);
    }
    assert_eq!(app.delete("/delete_user/2").status, 200);
    assert_eq!(app.get("/list_users").status, 200);

    let (res, trips, executed) = measure(&app, &mut redis, || app.post_json("/create_user", &json!({ "nom": "Doe", "prenom": "John" })));
    assert_eq!(res.status, 201);
    assert_eq!(trips, ["EVALSHA"]);
    assert_eq!(executed, stats(&[("evalsha", 1), ("incr", 1), ("set", 1), ("zadd", 1)]));

    let (res, trips, executed) = measure(&app, &mut redis, || app.get("/get_user/3"));
    assert_eq!(res.status, 200);
    assert_eq!(trips, ["GET"]);
    assert_eq!(executed, stats(&[("get", 1)]));

    let (res, trips, executed) = measure(&app, &mut redis, || app.get("/list_users"));
    assert_eq!(res.json().as_array().unwrap().len(), 2);
    assert_eq!(trips, ["EVALSHA"]);
    assert_eq!(executed, stats(&[("evalsha", 1), ("mget", 1), ("zrangebyscore", 1)]));

    let (res, trips, executed) = measure(&app, &mut redis, || app.delete("/delete_user/3"));
    assert_eq!(res.status, 200);
    assert_eq!(trips, ["EVALSHA"]);
    // The user, its index entry, and its (here empty) session index.
    assert_eq!(executed, stats(&[("del", 2), ("evalsha", 1), ("get", 1), ("zrange", 1), ("zrem", 1)]));

    let (res, trips, executed) = measure(&app, &mut redis, || app.post_json("/create_session", &json!({ "session_id": "s1", "data": { "a": 1 } })));
    assert_eq!(res.status, 201);
    assert_eq!(trips, ["SET"]);
    assert_eq!(executed, stats(&[("set", 1)]));

    let (res, trips, executed) = measure(&app, &mut redis, || app.get("/get_session/s1"));
    assert_eq!(res.status, 200);
    assert_eq!(trips, ["GET"]);
    assert_eq!(executed, stats(&[("get", 1)]));
}

#[test]
fn requests_rejected_at_the_edge_never_touch_redis() {
    let Some(app) = TestApp::spawn_private(&[]) else { return };
    let mut redis = app.redis().unwrap();
    let (res, trips, executed) = measure(&app, &mut redis, || app.get("/get_user/abc"));
    assert_eq!((res.status, trips.len(), executed.len()), (404, 0, 0));
    let (res, trips, executed) = measure(&app, &mut redis, || app.post_json("/create_user", &json!({ "nom": "" })));
    assert_eq!((res.status, trips.len(), executed.len()), (400, 0, 0));
    let (res, trips, executed) = measure(&app, &mut redis, || app.send(app.request("PUT", "/list_users")));
    assert_eq!((res.status, trips.len(), executed.len()), (405, 0, 0));
}

#[test]
fn an_empty_script_cache_costs_one_extra_eval() {
    let Some(app) = TestApp::spawn_private(&[]) else { return };
    let mut redis = app.redis().unwrap();
    redis::cmd("SCRIPT").arg("FLUSH").exec(&mut redis).unwrap();
    let (res, trips, _) = measure(&app, &mut redis, || app.post_json("/create_user", &json!({ "nom": "A", "prenom": "B" })));
    assert_eq!(res.status, 201);
    assert_eq!(trips, ["EVALSHA", "EVAL"]);
    let (res, trips, _) = measure(&app, &mut redis, || app.post_json("/create_user", &json!({ "nom": "C", "prenom": "D" })));
    assert_eq!(res.status, 201);
    assert_eq!(trips, ["EVALSHA"]);
}
