//! `X-Request-Id` on every response, and the access log: one JSON line per request on the
//! component's stdout, naming route templates and never a secret.

use std::time::Duration;

use serde_json::{json, Value};
use spin_test_host::RedisServer;

use crate::helpers::{eventually, skip, unique, TestApp, TestResponse};

/// Whether `id` looks like an id the service made up: 128 bits as 32 lowercase hex digits.
fn is_fresh_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Sends a request with its own `X-Request-Id` and returns the response and the id.
fn send_with_id(app: &TestApp, request: reqwest::blocking::RequestBuilder) -> (TestResponse, String) {
    let id = unique("rid");
    let res = app.send(request.header("x-request-id", id.as_str()));
    assert_eq!(res.header("x-request-id"), Some(id.as_str()), "{}", res.text());
    (res, id)
}

/// The log lines whose request id is `id`, parsed. The log may lag the response a little under a
/// real Spin, so this waits (up to 10 s) for at least one.
fn log_lines(app: &TestApp, id: &str) -> Vec<Value> {
    let lines = || -> Vec<Value> {
        let stdout = app.component_stdout().expect("the component's stdout");
        stdout
            .lines()
            .filter(|line| line.contains(id))
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}")))
            .collect()
    };
    eventually(Duration::from_secs(10), || !lines().is_empty());
    lines()
}

/// The one log line of request `id`, checked for the fields every line has, without its time and
/// duration (which vary).
#[track_caller]
fn log_line(app: &TestApp, id: &str) -> Value {
    let lines = log_lines(app, id);
    let [line] = &lines[..] else { panic!("expected one line for {id}, found {lines:?}") };
    let mut line = line.as_object().expect("an object").clone();
    let time = line.remove("time").expect("time");
    let time = time.as_str().expect("time is text");
    assert!(time.len() == 27 && time.ends_with('Z') && &time[10..11] == "T", "{time}");
    assert!(line.remove("duration_us").expect("duration_us").is_u64());
    assert_eq!(line["request_id"], json!(id));
    Value::Object(line)
}

#[test]
fn a_well_formed_client_id_comes_back() {
    let app = TestApp::spawn();
    for id in ["a", "req-42_Z.", "0f8fad5b-d9cb-469f-a165-70867728950e", "{\"x\":\\}", &"x".repeat(128)] {
        let res = app.send(app.request("GET", "/healthz").header("x-request-id", id));
        assert_eq!((res.status, res.header("x-request-id")), (200, Some(id)));
    }
    // On the original endpoints too, with their bodies unchanged.
    let id = unique("rid");
    let res = app.send(app.request("GET", "/get_user/0").header("x-request-id", id.as_str()));
    assert_eq!(res.header("x-request-id"), Some(id.as_str()));
    assert_eq!(res.body, b"{\"error\":\"Utilisateur non trouv\\u00e9\"}\n");
}

#[test]
fn a_missing_or_malformed_id_is_replaced_by_a_fresh_one() {
    let app = TestApp::spawn();
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..2 {
        let res = app.get("/healthz");
        let id = res.header("x-request-id").expect("x-request-id").to_owned();
        assert!(is_fresh_id(&id), "{id}");
        assert!(seen.insert(id), "two requests got the same id");
    }
    let too_long = "x".repeat(129);
    for malformed in ["", "a b", "tab\there", too_long.as_str()] {
        let res = app.send(app.request("GET", "/no/such/path").header("x-request-id", malformed));
        let id = res.header("x-request-id").expect("x-request-id").to_owned();
        assert!(is_fresh_id(&id), "{malformed:?} gave {id:?}");
        assert!(seen.insert(id), "two requests got the same id");
    }
    let non_ascii = reqwest::header::HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap();
    let res = app.send(app.request("GET", "/healthz").header("x-request-id", non_ascii));
    assert!(is_fresh_id(res.header("x-request-id").unwrap()));
}

#[test]
fn every_kind_of_answer_carries_an_id() {
    let Some(app) = TestApp::spawn_private(&[("SPIN_VARIABLE_API_TOKEN", "tok-en")]) else { return };
    let bearer = "Bearer tok-en";
    let big = vec![b' '; 70_000];
    let cases = [
        (401, app.request("GET", "/v1/users")),
        (401, app.request("GET", "/list_users")),
        (404, app.request("GET", "/nowhere")),
        (405, app.request("PUT", "/healthz")),
        (405, app.request("PUT", "/create_user").header("authorization", bearer)),
        (
            413,
            app.request("POST", "/v1/users")
                .header("authorization", bearer)
                .header("content-type", "application/json")
                .body(big),
        ),
        (200, app.request("GET", "/openapi.json").header("authorization", bearer)),
    ];
    for (status, request) in cases {
        let res = app.send(request);
        assert_eq!(res.status, status, "{}", res.text());
        assert!(is_fresh_id(res.header("x-request-id").unwrap_or("")), "{status}: {:?}", res.headers);
    }
}

#[test]
fn one_line_per_request_names_the_route_template() {
    let app = TestApp::spawn();
    if app.component_stdout().is_none() {
        skip("needs the component's stdout, and APP_URL is set without APP_LOG_DIR");
        return;
    }
    let res = app.post_json("/v1/sessions", &json!({ "data": { "k": 1 } }));
    assert_eq!(res.status, 201, "{}", res.text());
    let token = res.json()["id"].as_str().expect("session id").to_owned();

    // Reading a session is one GET (no script to load into a fresh Redis first).
    let (res, id) = send_with_id(&app, app.request("GET", &format!("/v1/sessions/{token}")));
    assert_eq!(res.status, 200);
    let line = log_line(&app, &id);
    assert_eq!(
        line,
        json!({
            "request_id": id,
            "method": "GET",
            "route": "/v1/sessions/{id}",
            "status": 200,
            "api_token": null,
            "redis_round_trips": 1,
        })
    );

    let (res, id) = send_with_id(&app, app.request("GET", &format!("/no/such/{token}?q={token}")));
    assert_eq!(res.status, 404);
    let line = log_line(&app, &id);
    assert_eq!(
        line,
        json!({
            "request_id": id,
            "method": "GET",
            "route": null,
            "status": 404,
            "api_token": null,
            "redis_round_trips": 0,
        })
    );

    let (res, id) = send_with_id(&app, app.request("DELETE", "/v1/users"));
    assert_eq!(res.status, 405);
    assert_eq!(log_line(&app, &id)["route"], json!("/v1/users"));

    let (res, id) = send_with_id(&app, app.request("POST", "/create_user").json(&json!({ "nom": "A", "prenom": "B" })));
    assert_eq!(res.status, 201);
    let user_id = res.json()["user_id"].as_u64().unwrap();
    let line = log_line(&app, &id);
    assert_eq!(line["route"], json!("/create_user"));
    assert_eq!((&line["method"], &line["status"]), (&json!("POST"), &json!(201)));

    let (res, id) = send_with_id(&app, app.request("GET", &format!("/get_user/{user_id}")));
    assert_eq!(res.status, 200);
    assert_eq!(
        log_line(&app, &id),
        json!({
            "request_id": id,
            "method": "GET",
            "route": "/get_user/{id}",
            "status": 200,
            "api_token": null,
            "redis_round_trips": 1,
        })
    );

    // The token reached the log in no line.
    assert!(!app.component_stdout().unwrap().contains(&token));
}

#[test]
fn no_secret_reaches_a_log() {
    const API_TOKEN: &str = "api-t0ken-LOGCHECK";
    const PASSWORD: &str = "redis-pa55-LOGCHECK";
    const WRONG_PASSWORD: &str = "wrong-pa55-LOGCHECK";
    const MARKER: &str = "body-marker-LOGCHECK";
    let redis = RedisServer::start_with_args(&["--requirepass", PASSWORD]).unwrap();
    let address = redis.url();
    let app_with_password = |password| {
        TestApp::spawn_private(&[
            ("SPIN_VARIABLE_REDIS_ADDRESS", address.as_str()),
            ("SPIN_VARIABLE_REDIS_PASSWORD", password),
            ("SPIN_VARIABLE_API_TOKEN", API_TOKEN),
        ])
    };
    let Some(app) = app_with_password(PASSWORD) else { return };
    let bearer = format!("Bearer {API_TOKEN}");
    let send = |method: &str, path: &str, body: Option<Value>| {
        let mut request = app.request(method, path).header("authorization", bearer.as_str());
        if let Some(body) = body {
            request = request.json(&body);
        }
        app.send(request)
    };

    let res = send("POST", "/v1/users", Some(json!({ "nom": MARKER, "prenom": MARKER })));
    assert_eq!(res.status, 201, "{}", res.text());
    let user_id = res.json()["id"].as_u64().unwrap();
    let res = send("POST", "/v1/sessions", Some(json!({ "user_id": user_id, "data": { "m": MARKER } })));
    assert_eq!(res.status, 201, "{}", res.text());
    let token = res.json()["id"].as_str().unwrap().to_owned();
    let legacy_id = format!("legacy-session-{MARKER}");
    let mut secrets = vec![API_TOKEN.to_owned(), PASSWORD.to_owned(), WRONG_PASSWORD.to_owned(), MARKER.to_owned()];
    secrets.push(token.clone());
    secrets.push(legacy_id.clone());

    let requests = [
        ("GET", format!("/v1/sessions/{token}"), None, 200),
        ("PATCH", format!("/v1/sessions/{token}"), Some(json!({ "data": { "m": MARKER } })), 200),
        ("GET", format!("/get_session/{token}"), None, 200),
        ("GET", format!("/v1/users/{user_id}/sessions"), None, 200),
        ("POST", "/create_session".to_owned(), Some(json!({ "session_id": legacy_id, "data": { "m": MARKER } })), 201),
        ("GET", format!("/get_session/{legacy_id}"), None, 200),
        ("GET", format!("/v1/users?cursor={MARKER}"), None, 400),
        ("POST", "/v1/users".to_owned(), Some(json!({ "nom": MARKER, "extra": MARKER })), 400),
        ("POST", "/create_user".to_owned(), Some(json!({ "nom": MARKER, "prenom": MARKER })), 201),
        ("GET", format!("/nowhere/{MARKER}"), None, 404),
        ("DELETE", format!("/v1/sessions/{token}"), None, 204),
    ];
    let sent = requests.len();
    for (method, path, body, status) in requests {
        let res = send(method, &path, body);
        assert_eq!(res.status, status, "{method} {path}: {}", res.text());
    }
    // Refused tokens are secrets too (a client's typo of the real one).
    let wrong_token = format!("{API_TOKEN}-typo");
    let res = app.send(app.request("GET", "/v1/users").header("authorization", format!("Bearer {wrong_token}")));
    assert_eq!(res.status, 401);
    secrets.push(wrong_token);

    // A wrong Redis password: the failure is logged, the password is not.
    let misconfigured = app_with_password(WRONG_PASSWORD).unwrap();
    let res = misconfigured.send(misconfigured.request("GET", "/v1/users").header("authorization", bearer.as_str()));
    assert!(res.status >= 500, "{}", res.text());

    for app in [&app, &misconfigured] {
        let stdout = app.component_stdout().expect("the component's stdout");
        let stderr = app.component_stderr().expect("the component's stderr");
        assert!(stdout.lines().count() >= 1);
        for line in stdout.lines() {
            serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        }
        for secret in &secrets {
            assert!(!stdout.contains(secret.as_str()), "{secret} in stdout:\n{stdout}");
            assert!(!stderr.contains(secret.as_str()), "{secret} in stderr:\n{stderr}");
        }
        assert!(!stdout.contains("LOGCHECK") && !stderr.contains("LOGCHECK"));
    }
    // Every request was logged once: 1 + 1 + the list above + the refused one.
    let logged = || app.component_stdout().unwrap().lines().count();
    eventually(Duration::from_secs(10), || logged() == 2 + sent + 1);
    assert_eq!(logged(), 2 + sent + 1);
}
