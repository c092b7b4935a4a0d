//! Access control with the `api_token` variable.

use serde_json::json;

use std::time::Duration;

use crate::helpers::{assert_problem, eventually, TestApp};

const TOKEN: &str = "s3cret-t0ken";

#[test]
fn with_a_token_set_every_endpoint_but_healthz_requires_it() {
    let Some(app) = TestApp::spawn_observed(&[("SPIN_VARIABLE_API_TOKEN", TOKEN)]) else { return };
    assert_eq!(app.get("/healthz").status, 200);

    let res = app.get("/v1/users");
    assert_problem(&res, 401);
    assert_eq!(res.header("www-authenticate"), Some("Bearer realm=\"user-session-service\""));
    let res = app.get("/list_users");
    res.assert(401, json!({ "error": "Authentification requise" }));
    assert!(res.header("www-authenticate").is_some());
    // Even a wrong method learns nothing before the token check.
    assert_problem(&app.send(app.request("PUT", "/v1/users")), 401);

    for wrong in
        ["Bearer wrong", "Bearer s3cret-t0ke", "Bearer s3cret-t0ken2", "Basic czNjcmV0LXQwa2Vu", TOKEN, "Bearer"]
    {
        assert_problem(&app.send(app.request("GET", "/v1/users").header("authorization", wrong)), 401);
    }
    for right in [format!("Bearer {TOKEN}"), format!("bearer {TOKEN}")] {
        let res = app.send(app.request("GET", "/v1/users").header("authorization", right.as_str()));
        assert_eq!(res.status, 200, "{right}: {}", res.text());
    }
    let res = app.send(
        app.request("POST", "/create_user")
            .header("authorization", format!("Bearer {TOKEN}"))
            .json(&json!({ "nom": "A", "prenom": "B" })),
    );
    assert_eq!(res.status, 201);

    // Refused requests never reach Redis.
    let seen = app.observe(|| app.get("/v1/users/1"));
    assert_eq!((seen.response.status, seen.redis_opens, seen.round_trips.len()), (401, 0, 0));
}

#[test]
fn without_a_token_the_service_is_open() {
    let Some(app) = TestApp::spawn_private(&[]) else { return };
    assert_eq!(app.get("/v1/users").status, 200);
    assert_eq!(app.send(app.request("GET", "/v1/users").header("authorization", "Bearer anything")).status, 200);
}

/// Rotation: `api_token` holds the new token and the old one while clients move; each works, the
/// list as a whole does not, and the log names the token by its position, never by its value.
#[test]
fn several_tokens_each_work_and_the_log_names_them_by_position() {
    let (new, old) = ("n3w-t0ken-a8f", "0ld-t0ken-c41");
    let list = format!("{new}, {old}");
    let Some(app) = TestApp::spawn_private(&[("SPIN_VARIABLE_API_TOKEN", &list)]) else { return };
    let get_with = |token: &str, id: &str| {
        let req = app.request("GET", "/v1/users").header("authorization", format!("Bearer {token}"));
        app.send(req.header("x-request-id", id)).status
    };
    assert_eq!(get_with(new, "rid-new"), 200);
    assert_eq!(get_with(old, "rid-old"), 200);
    for wrong in [list.as_str(), &format!("{new} {old}"), &format!("{new},{old}"), ",", "n3w-t0ken"] {
        assert_eq!(get_with(wrong, "rid-wrong"), 401, "{wrong:?}");
    }
    let log = wait_for_log(&app, "rid-wrong");
    let token_of = |id: &str| -> serde_json::Value {
        let line = log.lines().find(|l| l.contains(&format!("\"{id}\""))).expect("a log line");
        serde_json::from_str::<serde_json::Value>(line).unwrap()["api_token"].clone()
    };
    assert_eq!(token_of("rid-new"), json!(1));
    assert_eq!(token_of("rid-old"), json!(2));
    assert_eq!(token_of("rid-wrong"), json!(null));
    for secret in [new, old] {
        assert!(!log.contains(secret), "the log holds a token");
    }
}

/// The component's stdout once the line of request `id` is in it (it is written after the answer).
fn wait_for_log(app: &TestApp, id: &str) -> String {
    let stdout = || app.component_stdout().expect("a private app has a component log");
    assert!(eventually(Duration::from_secs(10), || stdout().contains(id)), "no log line of {id}:\n{}", stdout());
    stdout()
}

/// A secret made from a file usually ends with a line break: it is trimmed, and it shifts no
/// other setting (before settings were read by name, it turned the Redis password into "\n").
#[test]
fn a_token_ending_with_a_line_break_is_trimmed() {
    let Some(app) = TestApp::spawn_private(&[("SPIN_VARIABLE_API_TOKEN", "s3cret\n")]) else { return };
    let res = app.send(app.request("GET", "/v1/users").header("authorization", "Bearer s3cret"));
    assert_eq!(res.status, 200, "{}", res.text());
    assert_problem(&app.get("/v1/users"), 401);
}

/// A line break inside a setting fails closed: every request is refused with 500, the log names
/// the setting, and no prefix of the token opens anything.
#[test]
fn a_line_break_inside_a_token_fails_closed() {
    let Some(app) = TestApp::spawn_private(&[("SPIN_VARIABLE_API_TOKEN", "ab\ncd")]) else { return };
    for bearer in ["Bearer ab", "Bearer cd", "Bearer ab\ncd"] {
        let res = app.send(app.request("GET", "/v1/users").header("authorization", bearer.replace('\n', " ")));
        assert_problem(&res, 500);
    }
    app.get("/get_user/1").assert(500, json!({ "error": "Erreur interne du serveur" }));
    assert_problem(&app.get("/healthz"), 500);
    assert!(app.stderr_says("`api_token` variable has a line break inside its value"));
    let log = app.component_stderr().expect("a private app has a component log");
    assert!(!log.contains("ab\ncd") && !log.contains("cd"), "the log shows the token: {log}");
}

/// A line break after the username never leaves the token empty (the old positional parser
/// turned access control off that way).
#[test]
fn a_line_break_in_another_setting_never_opens_the_service() {
    let env = [("SPIN_VARIABLE_API_TOKEN", "t0k"), ("SPIN_VARIABLE_REDIS_USERNAME", "\n")];
    let Some(app) = TestApp::spawn_private(&env) else { return };
    assert_problem(&app.get("/v1/users"), 401);
    assert_eq!(app.send(app.request("GET", "/v1/users").header("authorization", "Bearer t0k")).status, 200);
}

/// Malformed tuning fails closed for every request, with the setting named in the log.
#[test]
fn malformed_tuning_makes_every_request_500_naming_the_setting() {
    for (tuning, named) in [
        ("max_body_bytes=12k", "`max_body_bytes` must be a positive integer"),
        ("max_bodybytes=1", "`max_bodybytes` is not a setting"),
        ("max_page_size=1 max_page_size=2", "sets `max_page_size` twice"),
    ] {
        let Some(app) = TestApp::spawn_private(&[("SPIN_VARIABLE_TUNING", tuning)]) else { return };
        assert_problem(&app.get("/v1/users"), 500);
        assert_problem(&app.get("/healthz"), 500);
        app.post_json("/create_user", &json!({ "nom": "A", "prenom": "B" }))
            .assert(500, json!({ "error": "Erreur interne du serveur" }));
        assert!(app.stderr_says(named), "{tuning}");
    }
}
