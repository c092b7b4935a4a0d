//! `GET /openapi.json`: it is the document in the repository, and the responses the service really
//! gives match what it declares (status, content type, schema, headers) for every operation.

use std::cell::RefCell;
use std::collections::BTreeSet;

use reqwest::blocking::RequestBuilder;
use serde_json::{json, Value};

use crate::helpers::{unique, TestApp, TestResponse};

const TOKEN: &str = "openapi-t0ken";

fn document() -> Value {
    serde_json::from_str(include_str!("../../../src/openapi.json")).expect("src/openapi.json is JSON")
}

/// Follows a local `$ref` (`#/components/...`) until it reaches what it names.
fn resolve<'a>(doc: &'a Value, mut value: &'a Value) -> &'a Value {
    while let Some(reference) = value.get("$ref").and_then(Value::as_str) {
        let pointer = reference.strip_prefix('#').unwrap_or_else(|| panic!("non-local $ref {reference}"));
        value = doc.pointer(pointer).unwrap_or_else(|| panic!("dangling $ref {reference}"));
    }
    value
}

/// A validator for `schema`, whose local `$ref`s point into the document's components: they are
/// carried along. Formats (`date-time`) are asserted, not only annotated.
fn validator(doc: &Value, schema: &Value) -> jsonschema::Validator {
    let mut root = match schema {
        Value::Object(_) => schema.clone(),
        Value::Bool(b) => return jsonschema::draft202012::new(&json!(b)).expect("a boolean schema"),
        other => panic!("not a schema: {other}"),
    };
    root.as_object_mut().unwrap().insert("components".into(), doc["components"].clone());
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|e| panic!("invalid schema {schema}: {e}"))
}

/// Fails unless `res` is a response `doc` declares for `method` on `template`: its status, its
/// content type, a body valid against the declared schema, and the declared headers present with
/// values of their declared type.
#[track_caller]
pub fn assert_documented(doc: &Value, method: &str, template: &str, res: &TestResponse) {
    let path = &doc["paths"][template];
    assert!(path.is_object(), "{template} is not documented");
    // A method the path does not have is refused (405, or 401 before that) as documented on the
    // path's operations.
    let operation = match path.get(method.to_lowercase()) {
        Some(op) => op,
        None if [401, 405].contains(&res.status) => path.as_object().unwrap().values().next().unwrap(),
        None => panic!("{method} {template} is not documented"),
    };
    let declared = resolve(doc, &operation["responses"][res.status.to_string()]);
    assert!(
        declared.is_object(),
        "{method} {template} answered {} which is not documented: {}",
        res.status,
        res.text()
    );
    if let Some(headers) = declared["headers"].as_object() {
        for (name, header) in headers {
            // Headers are required unless the document says `"required": false`.
            let optional = resolve(doc, header)["required"] == json!(false);
            let value = match res.header(name) {
                Some(value) => value,
                None if optional => continue,
                None => panic!("{method} {template} {}: header {name} missing", res.status),
            };
            let schema = &resolve(doc, header)["schema"];
            // Header values are text: an integer header must be one written in decimal.
            let value = match schema["type"].as_str() {
                Some("integer") => {
                    json!(value.parse::<i64>().unwrap_or_else(|_| panic!("{name}: {value:?} is not an integer")))
                }
                _ => json!(value),
            };
            let errors: Vec<String> = validator(doc, schema).iter_errors(&value).map(|e| e.to_string()).collect();
            assert!(
                errors.is_empty(),
                "{method} {template} {}: header {name} {value} does not match: {errors:?}",
                res.status
            );
        }
    }
    let Some(content) = declared["content"].as_object() else {
        assert!(res.body.is_empty(), "{method} {template} {}: undocumented body {}", res.status, res.text());
        return;
    };
    let content_type = res.header("content-type").unwrap_or("").split(';').next().unwrap().trim();
    let schema = &content
        .get(content_type)
        .unwrap_or_else(|| panic!("{method} {template} {}: content type {content_type:?} not documented", res.status))
        ["schema"];
    let body = res.json();
    let errors: Vec<String> =
        validator(doc, schema).iter_errors(&body).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{method} {template} {}: body {body} does not match: {errors:?}", res.status);
}

/// `assert_documented` over one app, remembering which `(method, template, status)` it has seen.
struct Checker<'a> {
    doc: &'a Value,
    app: &'a TestApp,
    seen: RefCell<BTreeSet<(String, String, u16)>>,
}

impl<'a> Checker<'a> {
    fn new(doc: &'a Value, app: &'a TestApp) -> Self {
        Checker { doc, app, seen: RefCell::default() }
    }

    #[track_caller]
    fn check(&self, method: &str, template: &str, res: TestResponse) -> TestResponse {
        assert_documented(self.doc, method, template, &res);
        self.seen.borrow_mut().insert((method.to_owned(), template.to_owned(), res.status));
        res
    }

    /// Sends `method path` (with a JSON body if given) and checks the answer against `template`.
    #[track_caller]
    fn send(&self, method: &str, template: &str, path: &str, body: Option<&Value>) -> TestResponse {
        self.send_json(method, template, self.app.request(method, path), body)
    }

    /// Sends a request built by the caller, with a JSON body if given, and checks the answer.
    #[track_caller]
    fn send_json(&self, method: &str, template: &str, req: RequestBuilder, body: Option<&Value>) -> TestResponse {
        let req = match body {
            Some(b) => req.json(b),
            None => req,
        };
        self.check(method, template, self.app.send(req))
    }

    /// Sends a raw body with this content type.
    #[track_caller]
    fn send_raw(
        &self,
        method: &str,
        template: &str,
        path: &str,
        content_type: &str,
        body: impl Into<String>,
    ) -> TestResponse {
        let req = self.app.request(method, path).header("content-type", content_type).body(body.into());
        self.check(method, template, self.app.send(req))
    }

    /// Sends with one extra header and a JSON body if given.
    #[track_caller]
    fn send_with(
        &self,
        method: &str,
        template: &str,
        path: &str,
        header: (&str, &str),
        body: Option<&Value>,
    ) -> TestResponse {
        self.send_json(method, template, self.app.request(method, path).header(header.0, header.1), body)
    }

    fn seen(&self, method: &str, template: &str, status: u16) -> bool {
        self.seen.borrow().contains(&(method.to_owned(), template.to_owned(), status))
    }
}

/// A session token no session has: the shape of one.
const EXAMPLE_TOKEN: &str = "tttttttttttttttttttttttttttttttt";

/// Every operation the document lists, as `(METHOD, template)`.
fn operations(doc: &Value) -> Vec<(String, String)> {
    doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(template, item)| {
            item.as_object().unwrap().keys().map(move |m| (m.to_uppercase(), template.clone()))
        })
        .collect()
}

/// A concrete path for a template (the ids need not exist).
fn example_path(template: &str) -> String {
    // A session path needs a token's shape (32 base64url characters) to go as far as Redis.
    template
        .replace("/v1/sessions/{id}", &format!("/v1/sessions/{EXAMPLE_TOKEN}"))
        .replace("{id}", "1")
        .replace("{session_id}", "x")
        .replace("{public_id}", &"a".repeat(40))
}

#[test]
fn the_served_document_is_the_repositorys() {
    let app = TestApp::spawn();
    let res = app.get("/openapi.json");
    assert_eq!(res.status, 200);
    assert_eq!(res.json(), document());
    assert!(document()["openapi"].as_str().unwrap().starts_with("3.1"));
    assert_eq!(document()["info"]["version"], json!(env!("CARGO_PKG_VERSION")));
    assert_documented(&document(), "GET", "/openapi.json", &res);
}

/// Every `$ref` in the document resolves, and every schema in it compiles.
#[test]
fn the_document_is_self_consistent() {
    fn walk<'a>(value: &'a Value, refs: &mut Vec<&'a str>, schemas: &mut Vec<&'a Value>) {
        match value {
            Value::Object(map) => {
                if let Some(r) = map.get("$ref").and_then(Value::as_str) {
                    refs.push(r);
                }
                if let Some(schema) = map.get("schema") {
                    schemas.push(schema);
                }
                map.values().for_each(|v| walk(v, refs, schemas));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, refs, schemas)),
            _ => {}
        }
    }
    let doc = document();
    let (mut refs, mut schemas) = (Vec::new(), Vec::new());
    walk(&doc, &mut refs, &mut schemas);
    for r in refs {
        assert!(doc.pointer(r.strip_prefix('#').unwrap()).is_some(), "dangling $ref {r}");
    }
    for schema in schemas {
        validator(&doc, schema);
    }
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        assert!(jsonschema::meta::is_valid(schema), "{name} is not a valid JSON Schema");
    }
}

#[test]
fn responses_match_the_document() {
    let doc = document();
    let app = TestApp::spawn();
    let c = Checker::new(&doc, &app);

    // The original API.
    let created =
        c.send("POST", "/create_user", "/create_user", Some(&json!({ "nom": unique("O"), "prenom": "P" }))).json();
    let id = created["user_id"].as_u64().unwrap();
    c.send("POST", "/create_user", "/create_user", Some(&json!({ "nom": "" })));
    c.send_raw("POST", "/create_user", "/create_user", "application/json", "[1]");
    c.send_raw("POST", "/create_user", "/create_user", "text/plain", "x");
    c.send("POST", "/create_user", "/create_user", Some(&json!({ "nom": "a\u{1}b", "prenom": "P" })));
    c.send("POST", "/create_user", "/create_user", Some(&json!({ "nom": "x".repeat(70_000), "prenom": "P" })));
    c.send("GET", "/get_user/{id}", &format!("/get_user/{id}"), None);
    c.send("GET", "/get_user/{id}", "/get_user/abc", None);
    c.send("GET", "/list_users", "/list_users", None);
    let sid = unique("s");
    c.send("POST", "/create_session", "/create_session", Some(&json!({ "session_id": sid, "data": [1] })));
    c.send("POST", "/create_session", "/create_session", Some(&json!({})));
    c.send("POST", "/create_session", "/create_session", Some(&json!({ "session_id": "s".repeat(200) })));
    c.send(
        "POST",
        "/create_session",
        "/create_session",
        Some(&json!({ "session_id": unique("s"), "data": "x".repeat(20_000) })),
    );
    let deep = (0..40).fold(json!(1), |v, _| json!([v]));
    c.send("POST", "/create_session", "/create_session", Some(&json!({ "session_id": unique("s"), "data": deep })));
    c.send("GET", "/get_session/{session_id}", &format!("/get_session/{sid}"), None);
    c.send("GET", "/get_session/{session_id}", "/get_session/none-such", None);
    c.send("DELETE", "/delete_user/{id}", &format!("/delete_user/{id}"), None);
    c.send("DELETE", "/delete_user/{id}", &format!("/delete_user/{id}"), None);

    // Users.
    let users = "/v1/users";
    let user = c.send("POST", users, users, Some(&json!({ "nom": "Doe", "prenom": "John" }))).json();
    c.send("POST", users, users, Some(&json!({ "nom": unique("Doe"), "prenom": "Jim" })));
    let path = format!("/v1/users/{}", user["id"]);
    let key = unique("key");
    let once = json!({ "nom": "Once", "prenom": "Only" });
    c.send_with("POST", users, users, ("idempotency-key", &key), Some(&once));
    c.send_with("POST", users, users, ("idempotency-key", &key), Some(&once));
    c.send_with("POST", users, users, ("idempotency-key", &key), Some(&json!({ "nom": "Twice", "prenom": "Only" })));
    c.send_with("POST", users, users, ("idempotency-key", &"k".repeat(256)), Some(&once));
    c.send("POST", users, users, Some(&json!({ "nom": "Doe" })));
    c.send("POST", users, users, Some(&json!({ "nom": "Doe", "prenom": "J", "x": 1 })));
    c.send_raw("POST", users, users, "application/json", "{\"nom\": ");
    c.send_raw("POST", users, users, "text/plain", "{}");
    c.send("POST", users, users, Some(&json!({ "nom": "x".repeat(70_000), "prenom": "P" })));
    let page = c.send("GET", users, "/v1/users?limit=1", None).json();
    let cursor = page["next_cursor"].as_str().expect("at least two users, so a next page");
    c.send("GET", users, &format!("/v1/users?limit=1000&cursor={cursor}"), None);
    c.send("GET", users, "/v1/users?limit=0", None);
    c.send("GET", users, "/v1/users?limit=1001", None);
    c.send("GET", users, "/v1/users?cursor=not-a-cursor", None);

    let one = "/v1/users/{id}";
    let etag = c.send("GET", one, &path, None).header("etag").unwrap().to_owned();
    c.send("GET", one, "/v1/users/0", None);
    c.send("GET", one, "/v1/users/abc", None);
    let etag = c
        .send_with("PATCH", one, &path, ("if-match", &etag), Some(&json!({ "prenom": "Jane" })))
        .header("etag")
        .unwrap()
        .to_owned();
    c.send_with("PATCH", one, &path, ("if-match", "\"stale\""), Some(&json!({ "prenom": "X" })));
    c.send_raw("PATCH", one, &path, "application/merge-patch+json", r#"{"nom":"Roe"}"#);
    c.send("PATCH", one, &path, Some(&json!({ "prenom": 5 })));
    c.send("PATCH", one, &path, Some(&json!({ "prenom": null })));
    c.send("PATCH", one, &path, Some(&json!({ "age": 5 })));
    c.send_raw("PATCH", one, &path, "application/json", "[]");
    c.send_raw("PATCH", one, &path, "text/plain", "{}");
    c.send("PATCH", one, "/v1/users/999999999999", Some(&json!({ "prenom": "X" })));
    c.send_with("DELETE", one, &path, ("if-match", &etag), None); // changed since by the merge patch

    // Sessions.
    let sessions = "/v1/sessions";
    let session =
        c.send("POST", sessions, sessions, Some(&json!({ "user_id": user["id"], "data": { "a": 1 } }))).json();
    let spath = format!("/v1/sessions/{}", session["id"].as_str().unwrap());
    c.send("POST", sessions, sessions, Some(&json!({ "user_id": null, "ttl_seconds": 60 })));
    c.send("POST", sessions, sessions, Some(&json!({ "user_id": 999_999_999 })));
    c.send("POST", sessions, sessions, Some(&json!({ "ttl_seconds": 0 })));
    c.send("POST", sessions, sessions, Some(&json!({ "owner": 1 })));
    c.send("POST", sessions, sessions, Some(&json!({ "data": "x".repeat(20_000) })));
    c.send_raw("POST", sessions, sessions, "application/json", "nope");
    c.send_raw("POST", sessions, sessions, "text/plain", "{}");

    let s = "/v1/sessions/{id}";
    c.send("GET", s, &spath, None);
    // A session of the original API is not one of /v1's.
    assert_eq!(c.send("GET", s, &format!("/v1/sessions/{sid}"), None).status, 404);
    c.send("GET", s, "/v1/sessions/none-such", None);
    c.send("GET", s, &format!("/v1/sessions/{EXAMPLE_TOKEN}"), None);
    c.send("GET", s, &format!("/v1/sessions/{}", "s".repeat(300)), None);
    c.send("PATCH", s, &spath, Some(&json!({ "ttl_seconds": 120 })));
    c.send("PATCH", s, &spath, Some(&json!({ "data": null })));
    c.send("PATCH", s, &spath, Some(&json!({ "ttl_seconds": 0 })));
    c.send("PATCH", s, &spath, Some(&json!({ "user_id": 1 })));
    c.send("PATCH", s, &spath, Some(&json!({ "data": "x".repeat(20_000) })));
    c.send_raw("PATCH", s, &spath, "text/plain", "{}");
    c.send("PATCH", s, "/v1/sessions/none-such", Some(&json!({ "ttl_seconds": 120 })));
    c.send("POST", sessions, sessions, Some(&json!({ "max_lifetime_seconds": 60, "ttl_seconds": 600 })));
    c.send("POST", sessions, sessions, Some(&json!({ "max_lifetime_seconds": 0 })));

    // The same in the header form, and rotation in both.
    let current = "/v1/session";
    let token_of = |session: &Value| session["id"].as_str().unwrap().to_owned();
    let header_session = c.send("POST", sessions, sessions, Some(&json!({ "user_id": user["id"] }))).json();
    let token = token_of(&header_session);
    c.send_with("GET", current, current, ("x-session-token", &token), None);
    c.send("GET", current, current, None);
    c.send_with("GET", current, current, ("x-session-token", EXAMPLE_TOKEN), None);
    c.send_with("PATCH", current, current, ("x-session-token", &token), Some(&json!({ "ttl_seconds": 120 })));
    c.send_with("PATCH", current, current, ("x-session-token", &token), Some(&json!({ "ttl_seconds": 0 })));
    c.send("PATCH", current, current, Some(&json!({ "ttl_seconds": 120 })));
    let rotate = "/v1/session/rotate";
    let token = token_of(&c.send_with("POST", rotate, rotate, ("x-session-token", &token), None).json());
    c.send_with("POST", rotate, rotate, ("x-session-token", EXAMPLE_TOKEN), None);
    c.send("POST", rotate, rotate, None);
    let rotate_path = "/v1/sessions/{id}/rotate";
    let token = token_of(&c.send("POST", rotate_path, &format!("/v1/sessions/{token}/rotate"), None).json());
    c.send("POST", rotate_path, &format!("/v1/sessions/{EXAMPLE_TOKEN}/rotate"), None);
    c.send_with("DELETE", current, current, ("x-session-token", &token), None);
    c.send_with("DELETE", current, current, ("x-session-token", &token), None);
    c.send("DELETE", current, current, None);

    let us = "/v1/users/{id}/sessions";
    let listed = c.send("GET", us, &format!("{path}/sessions"), None).json();
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(1));
    c.send("POST", sessions, sessions, Some(&json!({ "user_id": user["id"] })));
    let page = c.send("GET", us, &format!("{path}/sessions?limit=1"), None).json();
    let cursor = page["next_cursor"].as_str().expect("a next page").to_owned();
    c.send("GET", us, &format!("{path}/sessions?limit=1&cursor={cursor}"), None);
    c.send("GET", us, &format!("{path}/sessions?limit=0"), None);
    c.send("GET", us, &format!("{path}/sessions?cursor=nope"), None);
    let kept = listed["items"][0]["public_id"].as_str().unwrap().to_owned();
    c.send("DELETE", us, &format!("{path}/sessions?except={kept}"), None);
    c.send("DELETE", us, &format!("{path}/sessions?except={}", "a".repeat(40)), None);
    let one_of_us = "/v1/users/{id}/sessions/{public_id}";
    let revocable = c.send("POST", sessions, sessions, Some(&json!({ "user_id": user["id"] }))).json();
    let revoke = format!("{path}/sessions/{}", revocable["public_id"].as_str().unwrap());
    c.send("DELETE", one_of_us, &revoke, None);
    c.send("DELETE", one_of_us, &revoke, None);
    c.send("DELETE", one_of_us, &format!("{path}/sessions/not-a-public-id"), None);
    c.send("DELETE", s, &spath, None);
    c.send("DELETE", s, &spath, None);
    c.send("POST", sessions, sessions, Some(&json!({ "user_id": user["id"] })));
    c.send("DELETE", us, &format!("{path}/sessions"), None);

    let etag = c.send("GET", one, &path, None).header("etag").unwrap().to_owned();
    c.send_with("DELETE", one, &path, ("if-match", &etag), None);
    c.send("DELETE", one, &path, None);
    c.send("GET", us, &format!("{path}/sessions"), None);
    c.send("DELETE", us, &format!("{path}/sessions"), None);

    // Operations.
    c.send("GET", "/healthz", "/healthz", None);
    c.send("GET", "/openapi.json", "/openapi.json", None);
    let reindex = "/v1/admin/reindex-users";
    c.send("POST", reindex, reindex, None);
    c.send("POST", reindex, "/v1/admin/reindex-users?cursor=x", None);
    c.send("POST", reindex, "/v1/admin/reindex-users?cursor=0", None);

    // Every path refuses a method it does not have with 405 and an `Allow` that lists exactly the
    // methods the document gives it, plus those every path takes as Flask's did (the document's
    // description says so): HEAD where there is GET, and OPTIONS.
    for (template, item) in doc["paths"].as_object().unwrap() {
        let res = c.send("PUT", template, &example_path(template), None);
        assert_eq!(res.status, 405, "PUT {template}");
        let mut allowed: Vec<String> = res.header("allow").unwrap().split(',').map(|m| m.trim().to_owned()).collect();
        let mut documented: Vec<String> = item.as_object().unwrap().keys().map(|m| m.to_uppercase()).collect();
        if documented.iter().any(|m| m == "GET") {
            documented.push("HEAD".into());
        }
        documented.push("OPTIONS".into());
        allowed.sort();
        documented.sort();
        assert_eq!(allowed, documented, "Allow of {template}");
    }

    // Each operation was seen succeeding, and the statuses that matter were all seen somewhere.
    for (method, template) in operations(&doc) {
        let succeeded = (200..300).any(|status| c.seen(&method, &template, status));
        assert!(succeeded, "{method} {template} was never seen succeeding");
    }
    for status in [200, 201, 204, 400, 404, 405, 412, 413, 415, 422] {
        assert!(c.seen.borrow().iter().any(|(_, _, s)| *s == status), "no {status} was checked");
    }
}

/// What the Flask service left in Redis (users without timestamps, a session key without expiry)
/// is shown with the nulls the document allows.
#[test]
fn data_written_by_the_flask_service_matches_the_document() {
    let doc = document();
    let app = TestApp::spawn();
    let Some(mut redis) = app.redis_or_skip() else { return };
    let c = Checker::new(&doc, &app);

    // A user as the Flask service wrote it: an id from the shared counter, no index entry.
    let id: u64 = redis::cmd("INCR").arg("user_id_counter").query(&mut redis).unwrap();
    let record = format!(r#"{{"id": {id}, "nom": "Fl\u00e4sk", "prenom": "Old"}}"#);
    redis::cmd("SET").arg(format!("user:{id}")).arg(record).exec(&mut redis).unwrap();
    let path = format!("/v1/users/{id}");
    let user = c.send("GET", "/v1/users/{id}", &path, None).json();
    assert_eq!((&user["created_at"], &user["updated_at"]), (&Value::Null, &Value::Null));
    c.send("GET", "/get_user/{id}", &format!("/get_user/{id}"), None);
    c.send("GET", "/v1/users/{id}/sessions", &format!("{path}/sessions"), None);
    let user = c.send("PATCH", "/v1/users/{id}", &path, Some(&json!({ "prenom": "New" }))).json();
    assert!(user["created_at"].is_null() && user["updated_at"].is_string(), "{user}");
    let mut reindex = "/v1/admin/reindex-users".to_owned();
    while let Some(cursor) = c.send("POST", "/v1/admin/reindex-users", &reindex, None).json()["cursor"].as_str() {
        reindex = format!("/v1/admin/reindex-users?cursor={cursor}");
    }
    let page = c.send("GET", "/v1/users", &format!("/v1/users?limit=1{}", cursor_before(id)), None).json();
    assert_eq!(page["items"][0]["id"], json!(id));

    // A session key without expiry (written by hand) is the original API's, not /v1's.
    let sid = unique("forever");
    redis::cmd("SET").arg(format!("session:{sid}")).arg(r#"{"k": [true, null]}"#).exec(&mut redis).unwrap();
    let spath = format!("/v1/sessions/{sid}");
    assert_eq!(c.send("GET", "/v1/sessions/{id}", &spath, None).status, 404);
    c.send("GET", "/get_session/{session_id}", &format!("/get_session/{sid}"), None);
    c.send("DELETE", "/delete_user/{id}", &format!("/delete_user/{id}"), None);
}

/// The `cursor` query of a page that starts at `id`. Cursors are opaque to clients; this test knows
/// they are the base64url of the last id of the previous page.
fn cursor_before(id: u64) -> String {
    use base64::Engine as _;
    match id {
        1 => String::new(),
        _ => format!("&cursor={}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode((id - 1).to_string())),
    }
}

/// 401 (with `WWW-Authenticate`) in both dialects, and 500 when a stored record is broken.
#[test]
fn refusals_and_internal_errors_match_the_document() {
    let Some(app) = TestApp::spawn_private(&[("SPIN_VARIABLE_API_TOKEN", TOKEN)]) else { return };
    let doc = document();
    let c = Checker::new(&doc, &app);
    for (method, template) in operations(&doc) {
        let res = c.send(&method, &template, &example_path(&template), None);
        let expected = if template == "/healthz" { 200 } else { 401 };
        assert_eq!(res.status, expected, "{method} {template}: {}", res.text());
    }
    c.send("DELETE", "/v1/users/{id}", "/v1/users/1", None);
    c.send("PUT", "/list_users", "/list_users", None);

    // A user record that is not JSON: the service answers 500 without details.
    let mut redis = app.redis().unwrap();
    redis::cmd("SET").arg("user:424242").arg("not json").exec(&mut redis).unwrap();
    let bearer = format!("Bearer {TOKEN}");
    let res = c.send_with("GET", "/v1/users/{id}", "/v1/users/424242", ("authorization", &bearer), None);
    assert_eq!(res.status, 500);
    let res = c.send_with("GET", "/get_user/{id}", "/get_user/424242", ("authorization", &bearer), None);
    assert_eq!(res.status, 500);
}

#[test]
fn unavailable_responses_match_the_document() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let address = format!("redis://127.0.0.1:{port}");
    let Some(app) = TestApp::spawn_private(&[("SPIN_VARIABLE_REDIS_ADDRESS", &address)]) else { return };
    let doc = document();
    let c = Checker::new(&doc, &app);
    for (method, template) in operations(&doc) {
        if template == "/openapi.json" {
            continue; // needs no Redis
        }
        // A body each endpoint accepts, so that it goes as far as Redis.
        let body = match (method.as_str(), template.as_str()) {
            ("POST", "/create_user" | "/v1/users") => Some(json!({ "nom": "N", "prenom": "P" })),
            ("POST", "/create_session") => Some(json!({ "session_id": "x" })),
            ("POST", "/v1/sessions") => Some(json!({})),
            ("PATCH", "/v1/users/{id}") => Some(json!({ "prenom": "P" })),
            ("PATCH", "/v1/sessions/{id}" | "/v1/session") => Some(json!({ "ttl_seconds": 60 })),
            _ => None,
        };
        // The header form's token too.
        let token = ("x-session-token", EXAMPLE_TOKEN);
        let res = c.send_with(&method, &template, &example_path(&template), token, body.as_ref());
        assert_eq!(res.status, 503, "{method} {template}: {}", res.text());
    }
}
