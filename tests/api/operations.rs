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
    assert_eq!(res.json(), json!({ "indexed": 2250, "complete": true, "cursor": null }));
    let listed = app.get("/list_users").json();
    let ids: Vec<u64> = listed.as_array().unwrap().iter().map(|u| u["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, (1..=2500).filter(|id| id % 10 != 0).collect::<Vec<_>>());
    // The counter (2400) was raised to the highest adopted id (2499), so the next user is new.
    let created = app.post_json("/create_user", &json!({ "nom": "New", "prenom": "User" })).json();
    assert_eq!(created["user_id"], 2500);

    // Idempotent.
    let again = app.post_json("/v1/admin/reindex-users", &json!({})).json();
    assert_eq!(again, json!({ "indexed": 0, "complete": true, "cursor": null }));
}
