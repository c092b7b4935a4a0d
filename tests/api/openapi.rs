//! `GET /openapi.json`: it is the document in the repository, and the responses the service really
//! gives match what it declares (status, content type, schema, headers) for every operation.

use serde_json::{json, Value};

use crate::helpers::{unique, TestApp, TestResponse};

fn document() -> Value {
    serde_json::from_str(include_str!("../../src/openapi.json")).expect("src/openapi.json is JSON")
}

/// Fails unless `res` is a response `doc` declares for `method` on `template`: its status, its
/// content type, a body valid against the declared schema, and the declared headers present.
#[track_caller]
fn assert_documented(doc: &Value, method: &str, template: &str, res: &TestResponse) {
    let path = &doc["paths"][template];
    assert!(path.is_object(), "{template} is not documented");
    // A 405 answers a method the path does not have: it is documented on the path's operations.
    let operation = match path.get(method.to_lowercase()) {
        Some(op) => op,
        None if res.status == 405 => path.as_object().unwrap().values().next().unwrap(),
        None => panic!("{method} {template} is not documented"),
    };
    let declared = &operation["responses"][res.status.to_string()];
    assert!(declared.is_object(), "{method} {template} answered {} which is not documented: {}", res.status, res.text());
    if let Some(headers) = declared["headers"].as_object() {
        for name in headers.keys() {
            assert!(res.header(name).is_some(), "{method} {template} {}: header {name} missing", res.status);
        }
    }
    let Some(content) = declared["content"].as_object() else {
        assert!(res.body.is_empty(), "{method} {template} {}: undocumented body {}", res.status, res.text());
        return;
    };
    let content_type = res.header("content-type").unwrap_or("").split(';').next().unwrap().trim();
    let schema = &content.get(content_type).unwrap_or_else(|| panic!("{method} {template} {}: content type {content_type:?} not documented", res.status))["schema"];
    // Local `$ref`s point into the document's components: carry them along.
    let mut root = schema.clone();
    root.as_object_mut().expect("schema object").insert("components".into(), doc["components"].clone());
    let validator = jsonschema::draft202012::new(&root).expect("a valid schema");
    let body = res.json();
    let errors: Vec<String> = validator.iter_errors(&body).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{method} {template} {}: body {body} does not match: {errors:?}", res.status);
}

#[test]
fn the_served_document_is_the_repositorys() {
    let app = TestApp::spawn();
    let res = app.get("/openapi.json");
    assert_eq!(res.status, 200);
    assert_eq!(res.json(), document());
    assert!(document()["openapi"].as_str().unwrap().starts_with("3.1"));
    assert_documented(&document(), "GET", "/openapi.json", &res);
}

#[test]
fn responses_match_the_document() {
    let doc = document();
    let app = TestApp::spawn();
    let check = |method: &str, template: &str, res: TestResponse| {
        assert_documented(&doc, method, template, &res);
        res
    };
    let send = |method: &str, path: &str, body: Option<&Value>| {
        let req = app.request(method, path);
        app.send(match body { Some(b) => req.json(b), None => req })
    };

    // The original API.
    let created = check("POST", "/create_user", send("POST", "/create_user", Some(&json!({ "nom": unique("O"), "prenom": "P" })))).json();
    let id = created["user_id"].as_u64().unwrap();
    check("POST", "/create_user", send("POST", "/create_user", Some(&json!({ "nom": "" }))));
    check("POST", "/create_user", app.send(app.request("POST", "/create_user").header("content-type", "text/plain").body("x")));
    check("GET", "/create_user", send("GET", "/create_user", None));
    check("GET", "/get_user/{id}", send("GET", &format!("/get_user/{id}"), None));
    check("GET", "/get_user/{id}", send("GET", "/get_user/abc", None));
    check("GET", "/list_users", send("GET", "/list_users", None));
    let sid = unique("s");
    check("POST", "/create_session", send("POST", "/create_session", Some(&json!({ "session_id": sid, "data": [1] }))));
    check("POST", "/create_session", send("POST", "/create_session", Some(&json!({}))));
    check("GET", "/get_session/{session_id}", send("GET", &format!("/get_session/{sid}"), None));
    check("GET", "/get_session/{session_id}", send("GET", "/get_session/none-such", None));
    check("DELETE", "/delete_user/{id}", send("DELETE", &format!("/delete_user/{id}"), None));
    check("DELETE", "/delete_user/{id}", send("DELETE", &format!("/delete_user/{id}"), None));

    // Users.
    let user = check("POST", "/v1/users", send("POST", "/v1/users", Some(&json!({ "nom": "Doe", "prenom": "John" })))).json();
    let path = format!("/v1/users/{}", user["id"]);
    check("POST", "/v1/users", send("POST", "/v1/users", Some(&json!({ "nom": "Doe" }))));
    check("POST", "/v1/users", send("POST", "/v1/users", Some(&json!({ "nom": "Doe", "prenom": "J", "x": 1 }))));
    check("POST", "/v1/users", app.send(app.request("POST", "/v1/users").header("content-type", "text/plain").body("{}")));
    check("PUT", "/v1/users", send("PUT", "/v1/users", None));
    check("GET", "/v1/users", send("GET", "/v1/users?limit=1", None));
    check("GET", "/v1/users", send("GET", "/v1/users?limit=0", None));
    check("GET", "/v1/users/{id}", send("GET", &path, None));
    check("GET", "/v1/users/{id}", send("GET", "/v1/users/0", None));
    check("PATCH", "/v1/users/{id}", send("PATCH", &path, Some(&json!({ "prenom": "Jane" }))));
    check("PATCH", "/v1/users/{id}", app.send(app.request("PATCH", &path).header("if-match", "\"stale\"").json(&json!({ "prenom": "X" }))));
    check("PATCH", "/v1/users/{id}", send("PATCH", &path, Some(&json!({ "prenom": 5 }))));

    // Sessions.
    let session = check("POST", "/v1/sessions", send("POST", "/v1/sessions", Some(&json!({ "user_id": user["id"], "data": { "a": 1 } })))).json();
    let spath = format!("/v1/sessions/{}", session["id"].as_str().unwrap());
    check("POST", "/v1/sessions", send("POST", "/v1/sessions", Some(&json!({ "user_id": 999_999_999 }))));
    check("GET", "/v1/sessions/{id}", send("GET", &spath, None));
    check("GET", "/v1/sessions/{id}", send("GET", &format!("/v1/sessions/{sid}"), None));
    check("PATCH", "/v1/sessions/{id}", send("PATCH", &spath, Some(&json!({ "ttl_seconds": 120 }))));
    check("PATCH", "/v1/sessions/{id}", send("PATCH", &spath, Some(&json!({ "ttl_seconds": 0 }))));
    check("GET", "/v1/users/{id}/sessions", send("GET", &format!("{path}/sessions"), None));
    check("DELETE", "/v1/sessions/{id}", send("DELETE", &spath, None));
    check("DELETE", "/v1/sessions/{id}", send("DELETE", &spath, None));
    check("DELETE", "/v1/users/{id}/sessions", send("DELETE", &format!("{path}/sessions"), None));
    check("DELETE", "/v1/users/{id}", send("DELETE", &path, None));
    check("DELETE", "/v1/users/{id}", send("DELETE", &path, None));
    check("GET", "/v1/users/{id}/sessions", send("GET", &format!("{path}/sessions"), None));

    // Operations.
    check("GET", "/healthz", send("GET", "/healthz", None));
    check("POST", "/v1/admin/reindex-users", send("POST", "/v1/admin/reindex-users", None));
    check("POST", "/v1/admin/reindex-users", send("POST", "/v1/admin/reindex-users?cursor=x", None));
}

#[test]
fn unavailable_responses_match_the_document() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let address = format!("redis://127.0.0.1:{port}");
    let Some(app) = TestApp::spawn_private(&[("SPIN_VARIABLE_REDIS_ADDRESS", &address)]) else { return };
    let doc = document();
    assert_documented(&doc, "GET", "/healthz", &app.get("/healthz"));
    assert_documented(&doc, "GET", "/v1/users/{id}", &app.get("/v1/users/1"));
    assert_documented(&doc, "GET", "/list_users", &app.get("/list_users"));
}
