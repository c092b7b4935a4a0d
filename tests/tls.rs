//! A Redis reached over TLS (`rediss://`) through the `redis_address` variable. Spin connects with
//! native-tls (OpenSSL on Linux), which verifies the server against the system's CAs or the file
//! named by `SSL_CERT_FILE`; the test host does the same.
//!
//! This is its own test binary because `SSL_CERT_FILE` is process-wide: it is set once, first,
//! while no other thread reads the environment.

#[allow(dead_code)]
#[path = "api/helpers/mod.rs"]
mod helpers;

use std::path::PathBuf;

use serde_json::json;
use spin_test_host::RedisServer;

use helpers::{assert_no_secret, TestApp};

const PASSWORD: &str = "tls-pa55-w0rd";

fn app_for(redis_url: &str) -> Option<TestApp> {
    TestApp::spawn_private(&[("SPIN_VARIABLE_REDIS_ADDRESS", redis_url), ("SPIN_VARIABLE_REDIS_PASSWORD", PASSWORD)])
}

#[test]
fn a_tls_redis_works_when_its_certificate_is_trusted() {
    if std::env::var("APP_URL").is_ok() {
        helpers::skip("needs a private app and Redis, and APP_URL is set");
        return;
    }
    let trusted: PathBuf = std::env::temp_dir().join(format!("user-session-service-tls-ca-{}.pem", std::process::id()));
    std::env::set_var("SSL_CERT_FILE", &trusted);

    let redis = RedisServer::start_tls(&["--requirepass", PASSWORD]).unwrap();
    let address = redis.url();
    let app = app_for(&address).unwrap();

    // Not trusted yet: the certificate is refused (500, a misconfiguration; /healthz says 503, as
    // for any reason the service cannot serve), and the error shows neither secret nor host.
    for (res, status) in [(app.get("/healthz"), 503), (app.get("/v1/users"), 500), (app.get("/list_users"), 500)] {
        assert_eq!(res.status, status, "{}", res.text());
        assert_no_secret(&res, PASSWORD);
    }

    // Trusted from the start, as README says (a CA file named when Spin starts): everything works
    // over TLS, and the data is really in that Redis. A fresh app, because Spin 3.6.3 was seen to
    // keep refusing a CA that appeared after its first TLS attempt (Spin 4.0.2 and the test host
    // accepted it).
    std::fs::copy(redis.ca_file(), &trusted).unwrap();
    let app = app_for(&address).unwrap();
    assert_eq!(app.get("/healthz").status, 200);
    let res = app.post_json("/v1/users", &json!({ "nom": "Chiffré", "prenom": "Canal" }));
    assert_eq!(res.status, 201, "{}", res.text());
    let id = res.json()["id"].as_u64().unwrap();
    app.post_json("/create_session", &json!({ "session_id": "tls1", "data": { "a": 1 } }))
        .assert(201, json!({ "message": "Session enregistrée" }));
    app.get("/get_session/tls1").assert(200, json!({ "a": 1 }));
    let with_password = format!("rediss://:{PASSWORD}@127.0.0.1:{}", redis.port());
    let mut conn = redis::Client::open(with_password.as_str()).unwrap().get_connection().unwrap();
    let stored: String = redis::cmd("GET").arg(format!("user:{id}")).query(&mut conn).unwrap();
    assert!(stored.contains("Canal"), "{stored}");

    // Plain text to the TLS port is not Redis speaking: an error, not a hang, and no secret.
    let plain = format!("redis://127.0.0.1:{}", redis.port());
    let app = app_for(&plain).unwrap();
    let res = app.get("/v1/users");
    assert!(res.status >= 500, "{}", res.text());
    assert_no_secret(&res, PASSWORD);

    let _ = std::fs::remove_file(&trusted);
}
