//! The soak run: not part of the default test run (it takes a while and prints figures). Run it with
//!
//! ```sh
//! SOAK_SECONDS=60 SOAK_CLIENTS=16 cargo test --release --test api soak -- --ignored --nocapture
//! ```

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{env_number, TestApp};

/// Resident memory of this process (the test host and every component instance it runs), in KiB.
/// The host's per-request records are cleared before each reading: they grow by design.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Many clients on a mixed workload for a fixed time; then every acknowledged write is checked and
/// memory growth is bounded.
#[test]
#[ignore = "soak: run on demand, see the module docs"]
fn soak() {
    let Some(app) = TestApp::spawn_private(&[]) else { return };
    let seconds = env_number("SOAK_SECONDS", 30);
    let clients = env_number("SOAK_CLIENTS", 16);
    let statuses: Mutex<BTreeMap<u16, u64>> = Mutex::new(BTreeMap::new());
    let alive: Mutex<Vec<u64>> = Mutex::new(Vec::new());
    let deleted: Mutex<Vec<u64>> = Mutex::new(Vec::new());
    let mut rss_after_warmup = 0;
    let started = Instant::now();
    std::thread::scope(|s| {
        for client in 0..clients {
            let (app, statuses, alive, deleted) = (&app, &statuses, &alive, &deleted);
            s.spawn(move || {
                let mut n: u64 = 0;
                let mut mine: Vec<u64> = Vec::new();
                let mut sessions: Vec<String> = Vec::new();
                while started.elapsed() < Duration::from_secs(seconds) {
                    n += 1;
                    let res = match n % 10 {
                        0..=2 => {
                            let res = app.post_json(
                                "/v1/users",
                                &json!({ "nom": format!("soak{client}"), "prenom": format!("{n}") }),
                            );
                            if res.status == 201 {
                                mine.push(res.json()["id"].as_u64().unwrap());
                            }
                            res
                        }
                        3 => match mine.first() {
                            Some(id) => app.send(
                                app.request("PATCH", &format!("/v1/users/{id}"))
                                    .json(&json!({ "prenom": format!("p{n}") })),
                            ),
                            None => app.get("/healthz"),
                        },
                        4 if mine.len() > 5 => {
                            let id = mine.remove(0);
                            let res = app.delete(&format!("/v1/users/{id}"));
                            if res.status == 204 {
                                deleted.lock().unwrap().push(id);
                            }
                            res
                        }
                        5 | 6 => {
                            let body = json!({ "user_id": mine.last(), "data": { "n": n } });
                            let res = app.post_json("/v1/sessions", &body);
                            if res.status == 201 {
                                sessions.push(res.json()["id"].as_str().unwrap().to_owned());
                            }
                            res
                        }
                        7 => match sessions.last() {
                            Some(sid) => app.get(&format!("/v1/sessions/{sid}")),
                            None => app.get("/list_users"),
                        },
                        8 => app.get("/v1/users?limit=20"),
                        _ => match mine.last() {
                            Some(id) => app.get(&format!("/get_user/{id}")),
                            None => app.get("/healthz"),
                        },
                    };
                    *statuses.lock().unwrap().entry(res.status).or_default() += 1;
                }
                alive.lock().unwrap().extend(mine);
            });
        }
        // A soak is a run of a set length: these sleeps are that time passing, not waits for an event.
        std::thread::sleep(Duration::from_secs((seconds / 5).max(1)));
        app.clear_host_records();
        rss_after_warmup = rss_kib();
        while started.elapsed() < Duration::from_secs(seconds) {
            std::thread::sleep(Duration::from_secs(1));
            app.clear_host_records();
        }
    });
    let elapsed = started.elapsed().as_secs_f64();
    app.clear_host_records();
    let rss_end = rss_kib();
    let statuses = statuses.into_inner().unwrap();
    let total: u64 = statuses.values().sum();
    println!("soak: {clients} clients, {elapsed:.1} s, {total} requests, {:.0} req/s", total as f64 / elapsed);
    println!("soak: responses by status: {statuses:?}");
    println!("soak: resident memory {rss_after_warmup} KiB after warm-up, {rss_end} KiB at the end");

    // No acknowledged write lost: every user that got a 201 and was not deleted is readable.
    let alive = alive.into_inner().unwrap();
    for id in &alive {
        assert_eq!(app.get(&format!("/v1/users/{id}")).status, 200, "acknowledged user {id} lost");
    }
    for id in deleted.into_inner().unwrap() {
        assert_eq!(app.get(&format!("/v1/users/{id}")).status, 404, "deleted user {id} is back");
    }
    println!("soak: {} surviving acknowledged users all readable", alive.len());
    assert!(statuses.keys().all(|s| *s < 500), "server errors: {statuses:?}");
    // Fresh instances per request: memory must not creep with the number of requests.
    assert!(rss_end < rss_after_warmup + 16 * 1024, "resident memory grew by more than 16 MiB");
}
