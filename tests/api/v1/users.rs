//! `/v1/users`: create, list pages, read, update with `If-Match`, delete.

use serde_json::{json, Value};

use crate::helpers::{assert_problem, redis_snapshot, unique, walk_users, TestApp, TestResponse};

pub fn create_user(app: &TestApp, nom: &str, prenom: &str) -> Value {
    let res = app.post_json("/v1/users", &json!({ "nom": nom, "prenom": prenom }));
    assert_eq!(res.status, 201, "{}", res.text());
    res.json()
}

fn patch(app: &TestApp, path: &str, body: &Value, if_match: Option<&str>) -> TestResponse {
    let mut req = app.request("PATCH", path).json(body);
    if let Some(tag) = if_match {
        req = req.header("if-match", tag);
    }
    app.send(req)
}

fn is_rfc3339_utc(s: &Value) -> bool {
    s.as_str().is_some_and(|s| s.ends_with('Z') && s.len() >= 20 && &s[4..5] == "-" && &s[10..11] == "T")
}

#[test]
fn create_returns_the_user_with_location_and_etag() {
    let app = TestApp::spawn();
    let nom = unique("Doe");
    let res = app.post_json("/v1/users", &json!({ "nom": nom, "prenom": "John" }));
    assert_eq!(res.status, 201, "{}", res.text());
    let user = res.json();
    let id = user["id"].as_u64().unwrap();
    assert_eq!(res.header("location"), Some(format!("/v1/users/{id}").as_str()));
    assert!(res.header("etag").is_some_and(|t| t.starts_with('"') && t.ends_with('"')));
    assert_eq!((&user["nom"], &user["prenom"]), (&json!(nom), &json!("John")));
    assert!(is_rfc3339_utc(&user["created_at"]), "{user}");
    assert_eq!(user["created_at"], user["updated_at"]);
    assert_eq!(user.as_object().unwrap().len(), 5);

    let got = app.get(&format!("/v1/users/{id}"));
    assert_eq!(got.status, 200);
    assert_eq!(got.json(), user);
    assert_eq!(got.header("etag"), res.header("etag"));
}

#[test]
fn one_store_for_both_apis() {
    let app = TestApp::spawn();
    let nom = unique("Shared");
    let res = app.post_json("/create_user", &json!({ "nom": nom, "prenom": "A" }));
    let id = res.json()["user_id"].as_u64().unwrap();
    let user = app.get(&format!("/v1/users/{id}")).json();
    assert_eq!((&user["id"], &user["nom"]), (&json!(id), &json!(nom)));

    let v1 = create_user(&app, &nom, "B");
    let v1_id = v1["id"].as_u64().unwrap();
    app.get(&format!("/get_user/{v1_id}")).assert(200, json!({ "id": v1_id, "nom": nom, "prenom": "B" }));
    assert!(app.get("/list_users").json().as_array().unwrap().iter().any(|u| u["id"] == json!(v1_id)));
    let res = app.delete(&format!("/v1/users/{id}"));
    assert_eq!(res.status, 204);
    app.get(&format!("/get_user/{id}")).assert(404, json!({ "error": "Utilisateur non trouvé" }));
}

#[test]
fn a_flask_user_has_null_timestamps() {
    let Some(app) = TestApp::spawn_private(&[]) else { return };
    let mut redis = app.redis().unwrap();
    redis::cmd("SET").arg("user:41").arg(r#"{"id": 41, "nom": "Old", "prenom": "Timer"}"#).exec(&mut redis).unwrap();
    let res = app.get("/v1/users/41");
    assert_eq!(
        res.json(),
        json!({ "id": 41, "nom": "Old", "prenom": "Timer", "created_at": null, "updated_at": null })
    );
    // And it can be patched: the record gains updated_at, keeps its id.
    let res = patch(&app, "/v1/users/41", &json!({ "prenom": "New" }), res.header("etag"));
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["prenom"], "New");
    assert!(is_rfc3339_utc(&res.json()["updated_at"]));
    app.get("/get_user/41").assert(200, json!({ "id": 41, "nom": "Old", "prenom": "New" }));
}

#[test]
fn patch_updates_fields_and_moves_updated_at() {
    let app = TestApp::spawn();
    let user = create_user(&app, "Doe", "John");
    let path = format!("/v1/users/{}", user["id"]);
    let res = patch(&app, &path, &json!({ "prenom": "Jane 🦀 \"/\\" }), None);
    assert_eq!(res.status, 200, "{}", res.text());
    let updated = res.json();
    assert_eq!((&updated["nom"], &updated["prenom"]), (&json!("Doe"), &json!("Jane 🦀 \"/\\")));
    assert_eq!(updated["created_at"], user["created_at"]);
    assert!(updated["updated_at"].as_str() > user["updated_at"].as_str(), "{updated}");
    let got = app.get(&path);
    assert_eq!(got.json(), updated);
    assert_eq!(got.header("etag"), res.header("etag"));
}

#[test]
fn if_match_prevents_lost_updates() {
    let app = TestApp::spawn();
    let res = app.post_json("/v1/users", &json!({ "nom": "Doe", "prenom": "John" }));
    let etag = res.header("etag").unwrap().to_owned();
    let path = format!("/v1/users/{}", res.json()["id"]);

    // Client A wins with the current ETag; client B, holding the same old ETag, is refused.
    let a = patch(&app, &path, &json!({ "nom": "A" }), Some(&etag));
    assert_eq!(a.status, 200);
    let new_etag = a.header("etag").unwrap().to_owned();
    assert_ne!(new_etag, etag);
    assert_problem(&patch(&app, &path, &json!({ "nom": "B" }), Some(&etag)), 412);
    assert_eq!(app.get(&path).json()["nom"], "A");

    // A list of tags, `*`, and weak tags.
    assert_eq!(patch(&app, &path, &json!({ "nom": "C" }), Some(&format!("\"nope\", {new_etag}"))).status, 200);
    assert_eq!(patch(&app, &path, &json!({ "nom": "D" }), Some("*")).status, 200);
    let current = app.get(&path).header("etag").unwrap().to_owned();
    assert_problem(&patch(&app, &path, &json!({ "nom": "E" }), Some(&format!("W/{current}"))), 412);

    // DELETE honours it too.
    assert_problem(&app.send(app.request("DELETE", &path).header("if-match", etag.as_str())), 412);
    assert_eq!(app.send(app.request("DELETE", &path).header("if-match", current.as_str())).status, 204);
    assert_problem(&app.get(&path), 404);
}

#[test]
fn delete_is_204_then_404() {
    let app = TestApp::spawn();
    let user = create_user(&app, "Doe", "John");
    let path = format!("/v1/users/{}", user["id"]);
    let res = app.delete(&path);
    assert_eq!((res.status, res.body.len()), (204, 0));
    assert_problem(&app.delete(&path), 404);
    assert_problem(&app.get(&path), 404);
    assert_problem(&patch(&app, &path, &json!({ "nom": "X" }), None), 404);
}

#[test]
fn invalid_ids_are_404() {
    let app = TestApp::spawn();
    for id in ["0", "abc", "-3", "01", "18446744073709551616", "1%2F2"] {
        assert_problem(&app.get(&format!("/v1/users/{id}")), 404);
    }
}

#[test]
fn invalid_bodies_are_rejected_and_write_nothing() {
    let Some(app) = TestApp::spawn_private(&[]) else { return };
    let user = create_user(&app, "Doe", "John");
    let path = format!("/v1/users/{}", user["id"]);
    let mut redis = app.redis().unwrap();
    let before = redis_snapshot(&mut redis);
    for (method, path, body, status) in [
        ("POST", "/v1/users", json!({ "nom": "A" }), 422),
        ("POST", "/v1/users", json!({ "prenom": "A" }), 422),
        ("POST", "/v1/users", json!({ "nom": "", "prenom": "A" }), 422),
        ("POST", "/v1/users", json!({ "nom": "   ", "prenom": "A" }), 422),
        ("POST", "/v1/users", json!({ "nom": 1, "prenom": "A" }), 422),
        ("POST", "/v1/users", json!({ "nom": "A\u{0}B", "prenom": "A" }), 422),
        ("POST", "/v1/users", json!({ "nom": "A\nB", "prenom": "A" }), 422),
        ("POST", "/v1/users", json!({ "nom": "x".repeat(201), "prenom": "A" }), 422),
        ("POST", "/v1/users", json!({ "nom": "A", "prenom": "B", "age": 3 }), 400),
        ("POST", "/v1/users", json!(["A", "B"]), 400),
        ("PATCH", path.as_str(), json!({ "nom": null }), 422),
        ("PATCH", path.as_str(), json!({ "email": "a@b" }), 400),
        ("PATCH", path.as_str(), json!("A"), 400),
    ] {
        let res = app.send(app.request(method, path).json(&body));
        assert_problem(&res, status);
    }
    for (body, content_type, status) in
        [("{", "application/json", 400), ("{\"nom\":\"A\",\"prenom\":\"B\"}", "text/plain", 415)]
    {
        let res = app.send(app.request("POST", "/v1/users").header("content-type", content_type).body(body));
        assert_problem(&res, status);
    }
    assert_eq!(redis_snapshot(&mut redis), before);
    // Accepted at the limit: 200 characters, whatever their byte length.
    let res = app.post_json("/v1/users", &json!({ "nom": "é".repeat(200), "prenom": "A" }));
    assert_eq!(res.status, 201);
}

#[test]
fn merge_patch_content_type_is_accepted() {
    let app = TestApp::spawn();
    let user = create_user(&app, "Doe", "John");
    let res = app.send(
        app.request("PATCH", &format!("/v1/users/{}", user["id"]))
            .header("content-type", "application/merge-patch+json")
            .body(r#"{"nom":"Merged"}"#),
    );
    assert_eq!((res.status, &res.json()["nom"]), (200, &json!("Merged")));
}

#[test]
fn pages_walk_every_user_once_in_ascending_order() {
    let Some(app) = TestApp::spawn_private(&[]) else { return };
    let ids: Vec<u64> = (0..23).map(|i| create_user(&app, &format!("N{i}"), "P")["id"].as_u64().unwrap()).collect();
    assert_eq!(walk_users(&app, 5), ids);
    assert_eq!(walk_users(&app, 23), ids);
    assert_eq!(walk_users(&app, 1000), ids);
    let first = app.get("/v1/users").json();
    assert_eq!(first["items"].as_array().unwrap().len(), 23);
    assert_eq!(first["next_cursor"], Value::Null);
    // Default page size is 50.
    for i in 0..30 {
        create_user(&app, &format!("M{i}"), "P");
    }
    let first = app.get("/v1/users").json();
    assert_eq!(first["items"].as_array().unwrap().len(), 50);
    assert!(first["next_cursor"].is_string());
}

#[test]
fn bad_limits_and_cursors_are_400() {
    let app = TestApp::spawn();
    for query in
        ["limit=0", "limit=1001", "limit=-1", "limit=abc", "limit=", "cursor=%%%", "cursor=bm90LWEtbnVtYmVy", "cursor="]
    {
        assert_problem(&app.get(&format!("/v1/users?{query}")), 400);
    }
    assert_eq!(app.get("/v1/users?limit=1000").status, 200);
}

#[test]
fn wrong_methods_are_405_with_allow() {
    let app = TestApp::spawn();
    for (method, path, allow) in [
        ("PUT", "/v1/users", "GET, HEAD, OPTIONS, POST"),
        ("DELETE", "/v1/users", "GET, HEAD, OPTIONS, POST"),
        ("POST", "/v1/users/1", "DELETE, GET, HEAD, OPTIONS, PATCH"),
        ("PUT", "/v1/users/1/sessions", "DELETE, GET, HEAD, OPTIONS"),
        ("GET", "/v1/sessions", "OPTIONS, POST"),
        ("PUT", "/v1/sessions/abc", "DELETE, GET, HEAD, OPTIONS, PATCH"),
    ] {
        let res = app.send(app.request(method, path));
        assert_problem(&res, 405);
        assert_eq!(res.header("allow"), Some(allow), "{method} {path}");
    }
}

#[test]
fn unknown_paths_are_404_problems() {
    let app = TestApp::spawn();
    for path in ["/", "/v2/users", "/v1/users/1/friends", "/nothing"] {
        assert_problem(&app.get(path), 404);
    }
}

#[test]
fn records_outside_the_schema_are_left_out_of_pages_and_logged() {
    let Some(app) = TestApp::spawn_private(&[]) else { return };
    let mut redis = app.redis().unwrap();
    let user = create_user(&app, "Doe", "John");
    let id = user["id"].as_u64().unwrap();
    // Fields of other types, an id that is text, a missing name, an array, and text that is not
    // JSON and holds the byte the listing script separates records with.
    let records: [(u64, &[u8]); 5] = [
        (777, br#"{"id":777,"nom":42,"prenom":null}"#),
        (778, br#"{"id":"778","nom":"N","prenom":"P"}"#),
        (779, br#"{"id":779,"nom":"N"}"#),
        (780, br#"[1, 2]"#),
        (781, b"not json \x1e at all"),
    ];
    for (key_id, record) in records {
        redis::cmd("SET").arg(format!("user:{key_id}")).arg(record).exec(&mut redis).unwrap();
        redis::cmd("ZADD").arg("users:index").arg(key_id).arg(key_id).exec(&mut redis).unwrap();
    }
    let last = create_user(&app, "Roe", "Jane")["id"].as_u64().unwrap();
    for limit in [1, 2, 3, 50] {
        assert_eq!(walk_users(&app, limit), [id, last], "limit {limit}");
    }
    let page = app.get("/v1/users?limit=50").json();
    assert_eq!(page["items"][0], user, "a user of the schema is shown as before");
    for (key_id, _) in records {
        assert!(app.stderr_says(&format!("user:{key_id} is not a /v1 user, left out of GET /v1/users")));
        // Asked for by id: it exists, but /v1 cannot show it.
        assert_problem(&app.get(&format!("/v1/users/{key_id}")), 500);
    }
    assert_eq!(app.traps(), Vec::<String>::new());

    // A PATCH of both names makes one a user again; DELETE removes another.
    let res = patch(&app, "/v1/users/777", &json!({ "nom": "Now", "prenom": "Fixed" }), None);
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!((&res.json()["id"], &res.json()["nom"]), (&json!(777), &json!("Now")));
    assert_eq!(app.delete("/v1/users/780").status, 204);
    assert_eq!(walk_users(&app, 2), [id, last, 777]);
}

#[test]
fn session_data_that_is_not_json_is_left_out_of_the_listing() {
    let Some(app) = TestApp::spawn_private(&[]) else { return };
    let mut redis = app.redis().unwrap();
    let id = create_user(&app, "Doe", "John")["id"].as_u64().unwrap();
    let public_ids: Vec<String> = (0..2)
        .map(|_| {
            let res = app.post_json("/v1/sessions", &json!({ "user_id": id }));
            assert_eq!(res.status, 201, "{}", res.text());
            res.json()["public_id"].as_str().unwrap().to_owned()
        })
        .collect();
    // Another program overwrites one session's data (under its token's digest) with text that is
    // not JSON, keeping its expiry.
    let digests: Vec<String> =
        redis::cmd("ZRANGE").arg(format!("user_sessions_by_creation:{id}")).arg(0).arg(-1).query(&mut redis).unwrap();
    assert_eq!(digests.len(), 2);
    redis::cmd("SET")
        .arg(format!("session_record:{}", digests[0]))
        .arg("not json")
        .arg("KEEPTTL")
        .exec(&mut redis)
        .unwrap();

    let res = app.get(&format!("/v1/users/{id}/sessions"));
    assert_eq!(res.status, 200, "{}", res.text());
    let items = res.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{items:?}");
    let shown = items[0]["public_id"].as_str().unwrap();
    let left_out = public_ids.iter().find(|p| *p != shown).expect("the other session");
    assert!(public_ids.iter().any(|p| p == shown));
    assert!(app.stderr_says(&format!("session {left_out} of user {id} left out of its listing")));
    assert_eq!(app.traps(), Vec::<String>::new());
}
