//! The benchmark: not part of the default test run (it prints figures rather than asserting
//! timings). Run it with
//!
//! ```sh
//! cargo test --release --test api benchmark -- --ignored --nocapture
//! ```

use std::time::Instant;

use serde_json::json;

use crate::helpers::{env_number, TestApp};

/// A request to time: sends it and returns the status.
type Request<'a> = dyn Fn() -> u16 + 'a;

/// Mean latency of each operation, one client at a time, and its ratio to `/healthz` (a variable
/// lookup, a connection and one `SET`) measured in the same run: what the component adds on top of
/// the per-request platform cost.
#[test]
#[ignore = "benchmark: run on demand, see the module docs"]
fn benchmark() {
    let Some(app) = TestApp::spawn_private(&[]) else { return };
    let rounds = env_number("BENCH_ROUNDS", 2000) as u32;
    let user = app.post_json("/v1/users", &json!({ "nom": "Bench", "prenom": "Mark" })).json();
    let session = app.post_json("/v1/sessions", &json!({ "user_id": user["id"] })).json();
    let user_path = format!("/v1/users/{}", user["id"]);
    let session_path = format!("/v1/sessions/{}", session["id"].as_str().unwrap());
    let legacy_path = format!("/get_user/{}", user["id"]);
    let time = |f: &dyn Fn() -> u16| {
        for _ in 0..rounds / 10 {
            f();
        }
        let start = Instant::now();
        for _ in 0..rounds {
            assert!(f() < 300);
        }
        start.elapsed() / rounds
    };
    let baseline = time(&|| app.get("/healthz").status);
    let cases: Vec<(&str, Box<Request>)> = vec![
        ("GET /healthz", Box::new(|| app.get("/healthz").status)),
        ("GET /get_user/<id>", Box::new(|| app.get(&legacy_path).status)),
        ("GET /v1/users/<id>", Box::new(|| app.get(&user_path).status)),
        ("GET /v1/sessions/<id>", Box::new(|| app.get(&session_path).status)),
        ("GET /v1/users?limit=50", Box::new(|| app.get("/v1/users?limit=50").status)),
        ("POST /create_user", Box::new(|| app.post_json("/create_user", &json!({ "nom": "B", "prenom": "M" })).status)),
        ("POST /v1/users", Box::new(|| app.post_json("/v1/users", &json!({ "nom": "B", "prenom": "M" })).status)),
        (
            "PATCH /v1/sessions/<id>",
            Box::new(|| app.send(app.request("PATCH", &session_path).json(&json!({ "ttl_seconds": 600 }))).status),
        ),
    ];
    println!("benchmark: {rounds} sequential requests each, mean latency and ratio to GET /healthz ({baseline:?})");
    for (name, case) in &cases {
        let mean = time(case.as_ref());
        println!(
            "  {name:<28} {:>8.1} µs  x{:.2}",
            mean.as_secs_f64() * 1e6,
            mean.as_secs_f64() / baseline.as_secs_f64()
        );
    }
}
