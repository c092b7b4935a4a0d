//! `/healthz` and `/v1/admin/reindex-users`.

use serde_json::json;

use crate::helpers::TestApp;

#[test]
fn healthz_is_ok_while_redis_answers() {
    let app = TestApp::spawn();
    let res = app.get("/healthz");
    assert_eq!((res.status, res.json()), (200, json!({ "status": "ok" })));
}

#[test]
fn healthz_is_503_when_redis_is_down() {
    // An address that is allowed but where nothing listens.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let address = format!("redis://127.0.0.1:{port}");
    let Some(app) = TestApp::spawn_private(&[("SPIN_VARIABLE_REDIS_ADDRESS", &address)]) else { return };
    let res = app.get("/healthz");
    assert_eq!(res.status, 503, "{}", res.text());
    assert_eq!(res.header("content-type"), Some("application/problem+json"));
    assert!(res.header("retry-after").is_some());
    assert!(!res.text().contains(&port.to_string()), "no internal detail leaks: {}", res.text());
    // The original endpoints answer 503 in their own dialect.
    let res = app.get("/get_user/1");
    assert_eq!(res.status, 503);
    assert!(res.json()["error"].is_string());
}

#[test]
fn reindex_adopts_a_flask_database() {
    let Some(app) = TestApp::spawn_private(&[]) else { return };
    let mut redis = app.redis().unwrap();
    // What the Flask service left: users, its counter, sessions, and no index.
    let mut pipe = redis::pipe();
    for id in 1..=2500u64 {
        if id % 10 != 0 {
            pipe.cmd("SET")
                .arg(format!("user:{id}"))
                .arg(format!(r#"{{"id": {id}, "nom": "N{id}", "prenom": "P"}}"#))
                .ignore();
        }
    }
    pipe.cmd("SET").arg("user_id_counter").arg(2400).ignore(); // lower than the highest id, on purpose
    pipe.cmd("SET").arg("session:abc").arg("{}").ignore();
    pipe.cmd("SET").arg("user:notanid").arg("x").ignore();
    pipe.cmd("HSET").arg("user:9999").arg("f").arg("v").ignore(); // not a string: left alone
    pipe.exec(&mut redis).unwrap();
    assert_eq!(app.get("/list_users").json(), json!([]));

    let res = app.post_json("/v1/admin/reindex-users", &json!({}));
    assert_eq!(res.status, 200, "{}", res.text());
    let expected = json!({
        "indexed": 2250, "complete": true, "cursor": null, "unrepresentable": 0, "unrepresentable_ids": []
    });
    assert_eq!(res.json(), expected);
    let listed = app.get("/list_users").json();
    let ids: Vec<u64> = listed.as_array().unwrap().iter().map(|u| u["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, (1..=2500).filter(|id| id % 10 != 0).collect::<Vec<_>>());
    // The counter (2400) was raised to the highest adopted id (2499), so the next user is new.
    let created = app.post_json("/create_user", &json!({ "nom": "New", "prenom": "User" })).json();
    assert_eq!(created["user_id"], 2500);

    // Idempotent.
    let again = app.post_json("/v1/admin/reindex-users", &json!({})).json();
    let expected = json!({
        "indexed": 0, "complete": true, "cursor": null, "unrepresentable": 0, "unrepresentable_ids": []
    });
    assert_eq!(again, expected);
}

/// 2^53 − 1: the largest id every JSON client reads exactly.
const MAX_USER_ID: u64 = 9_007_199_254_740_991;

#[test]
fn reindex_reports_ids_it_cannot_represent_and_keeps_the_counter_exact() {
    let Some(app) = TestApp::spawn_private(&[]) else { return };
    let mut redis = app.redis().unwrap();
    // Ids past 2^53 − 1 that the Flask service could have written (its counter had no limit):
    // 2^53 + 1 rounds to 2^53 as a double, and 20 digits is past any 64-bit integer.
    let beyond = ["9007199254740993", "9007199254740992", "12345678901234567890"];
    for id in beyond.iter().copied().chain(["5"]) {
        let record = format!(r#"{{"id": {id}, "nom": "N{id}", "prenom": "P"}}"#);
        redis::cmd("SET").arg(format!("user:{id}")).arg(record).exec(&mut redis).unwrap();
    }
    let res = app.post_json("/v1/admin/reindex-users", &json!({}));
    assert_eq!(res.status, 200, "{}", res.text());
    let mut body = res.json();
    let mut reported: Vec<String> = serde_json::from_value(body["unrepresentable_ids"].take()).unwrap();
    reported.sort();
    let mut expected: Vec<String> = beyond.iter().map(|id| id.to_string()).collect();
    expected.sort();
    assert_eq!(reported, expected);
    assert_eq!(
        body,
        json!({ "indexed": 1, "complete": true, "cursor": null, "unrepresentable": 3, "unrepresentable_ids": null })
    );
    let counter: String = redis::cmd("GET").arg("user_id_counter").query(&mut redis).unwrap();
    assert_eq!(counter, "5");
    assert_eq!(crate::helpers::indexed_users(&mut redis), [5].into_iter().collect());
    assert!(app.stderr_says("reindex: 3 user ids above 9007199254740991 left unindexed"));

    // They stay readable and deletable by their paths, with their exact ids.
    let res = app.get("/get_user/9007199254740993");
    assert_eq!(
        (res.status, res.text().as_str()),
        (200, "{\"id\":9007199254740993,\"nom\":\"N9007199254740993\",\"prenom\":\"P\"}\n")
    );
    assert_eq!(app.get("/v1/users/9007199254740992").json()["id"], json!(9_007_199_254_740_992u64));
    assert_eq!(app.delete("/v1/users/9007199254740992").status, 204);

    // The largest representable id is adopted exactly, and the counter stops there.
    let record = format!(r#"{{"id": {MAX_USER_ID}, "nom": "Max", "prenom": "P"}}"#);
    redis::cmd("SET").arg(format!("user:{MAX_USER_ID}")).arg(record).exec(&mut redis).unwrap();
    let body = app.post_json("/v1/admin/reindex-users", &json!({})).json();
    assert_eq!((&body["indexed"], &body["unrepresentable"]), (&json!(1), &json!(2)));
    let counter: String = redis::cmd("GET").arg("user_id_counter").query(&mut redis).unwrap();
    assert_eq!(counter, MAX_USER_ID.to_string());
    let res = app.post_json("/create_user", &json!({ "nom": "No", "prenom": "Room" }));
    assert_eq!(res.status, 507, "{}", res.text());
    let listed: Vec<u64> =
        app.get("/list_users").json().as_array().unwrap().iter().map(|u| u["id"].as_u64().unwrap()).collect();
    assert_eq!(listed, [5, MAX_USER_ID]);
}
