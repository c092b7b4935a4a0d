//! Access control with the `api_token` variable.

use serde_json::json;

use crate::helpers::{assert_problem, TestApp};

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
