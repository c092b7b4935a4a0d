//! Hostile and malformed input on every endpoint: each gets a clear error with the right status,
//! never a 5xx, and nothing already stored changes (compared key by key before and after).

use serde_json::{json, Value};

use crate::helpers::{assert_problem, redis_snapshot, TestApp, TestResponse};

fn raw(
    app: &TestApp,
    method: &str,
    path: &str,
    content_type: &str,
    body: impl Into<reqwest::blocking::Body>,
) -> TestResponse {
    app.send(app.request(method, path).header("content-type", content_type).body(body))
}

/// What `seeded` returns: the app, a connection to its Redis, the snapshot, the user id, the session id.
type Seeded = (TestApp, redis::Connection, Vec<(String, String, String)>, u64, String);

/// A private app with one user and one session of each kind, and a snapshot of its Redis.
fn seeded(env: &[(&str, &str)]) -> Option<Seeded> {
    let app = TestApp::spawn_private(env)?;
    let user = app.post_json("/v1/users", &json!({ "nom": "Doe", "prenom": "John" })).json();
    let session = app.post_json("/v1/sessions", &json!({ "user_id": user["id"], "data": { "a": 1 } })).json();
    app.post_json("/create_session", &json!({ "session_id": "legacy", "data": [1] }));
    let mut redis = app.redis().unwrap();
    let before = redis_snapshot(&mut redis);
    Some((app, redis, before, user["id"].as_u64().unwrap(), session["id"].as_str().unwrap().to_owned()))
}

#[test]
fn malformed_bodies_everywhere() {
    let Some((app, mut redis, before, uid, sid)) = seeded(&[]) else { return };
    let deep_array = format!("{}{}", "[".repeat(300), "]".repeat(300));
    let bodies: Vec<(&str, Vec<u8>, u16)> = vec![
        ("not JSON", b"nom=Doe".to_vec(), 400),
        ("truncated", br#"{"nom": "Doe", "prenom": "Jo"#.to_vec(), 400),
        ("duplicate keys", br#"{"nom": "Doe", "nom": "Roe", "prenom": "J"}"#.to_vec(), 400),
        ("nested duplicate keys", br#"{"data": {"a": 1, "a": 2}, "session_id": "d"}"#.to_vec(), 400),
        ("deeply nested arrays", deep_array.into_bytes(), 400),
        ("huge number", br#"{"nom": 1e400, "prenom": "J"}"#.to_vec(), 400),
        ("invalid UTF-8", b"{\"nom\": \"\xff\xfe\", \"prenom\": \"J\"}".to_vec(), 400),
        ("array", b"[1, 2]".to_vec(), 400),
        ("null", b"null".to_vec(), 400),
        ("trailing junk", br#"{"nom": "Doe", "prenom": "J"} {}"#.to_vec(), 400),
        ("empty", Vec::new(), 400),
    ];
    let targets = [
        ("POST", "/create_user".to_owned()),
        ("POST", "/create_session".to_owned()),
        ("POST", "/v1/users".to_owned()),
        ("PATCH", format!("/v1/users/{uid}")),
        ("POST", "/v1/sessions".to_owned()),
        ("PATCH", format!("/v1/sessions/{sid}")),
    ];
    for (method, path) in &targets {
        for (what, body, status) in &bodies {
            let res = raw(&app, method, path, "application/json", body.clone());
            assert_eq!(res.status, *status, "{what} to {method} {path}: {}", res.text());
            assert!(res.json().is_object(), "{what}: JSON error body");
        }
        for content_type in
            ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "application/jsonx"]
        {
            let res = raw(&app, method, path, content_type, r#"{"nom":"A","prenom":"B"}"#);
            assert_eq!(res.status, 415, "{content_type} to {method} {path}");
        }
    }
    assert_eq!(redis_snapshot(&mut redis), before, "a rejected request changed Redis");
}

#[test]
fn wrong_types_are_422_on_v1() {
    let Some((app, mut redis, before, uid, sid)) = seeded(&[]) else { return };
    for (method, path, body) in [
        ("POST", "/v1/users".to_owned(), json!({ "nom": ["Doe"], "prenom": "J" })),
        ("POST", "/v1/users".to_owned(), json!({ "nom": { "x": 1 }, "prenom": "J" })),
        ("PATCH", format!("/v1/users/{uid}"), json!({ "prenom": true })),
        ("POST", "/v1/sessions".to_owned(), json!({ "user_id": 99_999_999_999_999_999_999.0 })),
        ("POST", "/v1/sessions".to_owned(), json!({ "user_id": u64::MAX })),
        ("POST", "/v1/sessions".to_owned(), json!({ "ttl_seconds": 1e10 })),
        ("PATCH", format!("/v1/sessions/{sid}"), json!({ "ttl_seconds": [] })),
    ] {
        assert_problem(&app.send(app.request(method, &path).json(&body)), 422);
    }
    assert_eq!(redis_snapshot(&mut redis), before);
}

#[test]
fn limits_apply_with_their_defaults() {
    let Some((app, mut redis, before, uid, sid)) = seeded(&[]) else { return };
    // Body over 64 KiB.
    let big = json!({ "nom": "a".repeat(70_000), "prenom": "b" });
    assert_problem(&app.post_json("/v1/users", &big), 413);
    app.post_json("/create_user", &big)
        .assert(413, json!({ "error": "Requête trop volumineuse : le corps dépasse 65536 octets" }));
    // Names over 200 characters, or with control characters.
    // The original endpoints answer 400 with a French message, as Flask answered invalid input.
    let too_long = "Champ 'nom' invalide : 200 caractères au plus";
    let control = "Champ 'nom' invalide : ne doit pas contenir de caractères de contrôle";
    for (name, message) in [
        ("x".repeat(201), too_long),
        ("a\u{7}b".to_owned(), control),
        ("a\u{202e}\u{0}".to_owned(), control),
        ("tab\tulation".to_owned(), control),
    ] {
        assert_problem(&app.post_json("/v1/users", &json!({ "nom": name, "prenom": "J" })), 422);
        assert_problem(&app.send(app.request("PATCH", &format!("/v1/users/{uid}")).json(&json!({ "nom": name }))), 422);
        app.post_json("/create_user", &json!({ "nom": name, "prenom": "J" })).assert(400, json!({ "error": message }));
    }
    // Session data over 16 KiB or nested deeper than 32.
    let large = json!({ "blob": "z".repeat(17_000) });
    let deep = (0..33).fold(json!(1), |inner, _| json!([inner]));
    for (data, status) in [(&large, 413), (&deep, 422)] {
        assert_problem(&app.post_json("/v1/sessions", &json!({ "data": data })), status);
        assert_problem(
            &app.send(app.request("PATCH", &format!("/v1/sessions/{sid}")).json(&json!({ "data": data }))),
            status,
        );
    }
    app.post_json("/create_session", &json!({ "session_id": "s", "data": large }))
        .assert(413, json!({ "error": "Requête trop volumineuse : les données de session dépassent 16384 octets" }));
    app.post_json("/create_session", &json!({ "session_id": "s", "data": deep }))
        .assert(400, json!({ "error": "Champ 'data' invalide : 32 niveaux d'imbrication au plus" }));
    // Client-chosen session ids: at most 128 bytes, no control characters.
    for bad in [json!("x".repeat(129)), json!("a\nb"), json!("\u{0}")] {
        app.post_json("/create_session", &json!({ "session_id": bad }))
            .assert(400, json!({ "error": "session_id invalide : trop long ou avec des caractères de contrôle" }));
    }
    // Page size over 1000.
    assert_problem(&app.get("/v1/users?limit=1001"), 400);
    assert_problem(&app.get("/v1/users?limit=99999999999999999999"), 400);
    assert_eq!(redis_snapshot(&mut redis), before);

    // And just within the limits, accepted.
    assert_eq!(app.post_json("/v1/users", &json!({ "nom": "é".repeat(200), "prenom": "J" })).status, 201);
    let within = (0..31).fold(json!(1), |inner, _| json!([inner]));
    assert_eq!(app.post_json("/v1/sessions", &json!({ "data": within })).status, 201);
    assert_eq!(app.post_json("/create_session", &json!({ "session_id": "y".repeat(128) })).status, 201);
    assert_eq!(app.get(&format!("/get_session/{}", "y".repeat(128))).status, 200);
}

#[test]
fn limits_follow_their_variables_but_not_below_their_floors() {
    let env = [
        // max_body_bytes is below its 4096-byte floor.
        ("SPIN_VARIABLE_TUNING", "max_name_chars=100 max_body_bytes=10 max_page_size=60"),
    ];
    let Some(app) = TestApp::spawn_private(&env) else { return };
    assert_eq!(app.post_json("/v1/users", &json!({ "nom": "n".repeat(100), "prenom": "J" })).status, 201);
    assert_problem(&app.post_json("/v1/users", &json!({ "nom": "n".repeat(101), "prenom": "J" })), 422);
    assert_eq!(
        app.post_json("/v1/users", &json!({ "nom": "n".repeat(64), "prenom": "p".repeat(3000) })).status,
        422,
        "prenom too long, body within the floor"
    );
    assert_problem(&app.post_json("/v1/users", &json!({ "nom": "n", "prenom": "p".repeat(5000) })), 413);
    assert_eq!(app.get("/v1/users?limit=60").status, 200);
    assert_problem(&app.get("/v1/users?limit=61"), 400);
}

#[test]
fn hostile_ids_never_reach_another_key() {
    let Some((app, mut redis, before, _, _)) = seeded(&[]) else { return };
    let long = "9".repeat(300);
    for path in [
        "/get_user/",
        "/get_user/1%2F2",
        "/get_user/-1",
        "/get_user/0",
        "/get_user/01",
        "/get_user/1e3",
        "/get_user/18446744073709551616",
        "/get_user/%2A",
        "/get_user/user_id_counter",
        &format!("/get_user/{long}"),
        "/v1/users/%31",
        "/v1/users/1%00",
        "/v1/users/*",
    ] {
        let res = app.get(path);
        assert_eq!(res.status, 404, "{path}: {}", res.text());
    }
    // Session ids are looked up exactly: glob characters and separators match nothing else.
    for id in ["*", "leg*", "legac?", "[l]egacy", "%2A", "..%2F..%2Fuser_id_counter", "legacy%00", &"s".repeat(200)] {
        assert_eq!(app.get(&format!("/get_session/{id}")).status, 404, "{id}");
        assert_problem(&app.get(&format!("/v1/sessions/{id}")), 404);
    }
    assert_eq!(app.get("/get_session/legacy").status, 200);
    assert_eq!(redis_snapshot(&mut redis), before);
}

#[test]
fn unicode_names_round_trip_byte_for_byte() {
    let app = TestApp::spawn();
    // Composed and decomposed forms are kept apart, not normalized.
    for name in ["Zoë", "Zoe\u{308}", "李小龍", "🦀🦀", "Ǆemal", "ʻŌlelo", "a\u{200d}b", "मनीष"] {
        let user = app.post_json("/v1/users", &json!({ "nom": name, "prenom": name })).json();
        let got = app.get(&format!("/v1/users/{}", user["id"])).json();
        assert_eq!(got["nom"].as_str().unwrap().as_bytes(), name.as_bytes());
        let original = app.get(&format!("/get_user/{}", user["id"])).json();
        assert_eq!(original["prenom"], Value::from(name));
    }
}
