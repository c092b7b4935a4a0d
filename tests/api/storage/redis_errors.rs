//! Redis refusing requests, by kind, against a real redis-server wherever one can be put in that
//! state: a read-only replica (`READONLY`: 503, reads still work), a full Redis (`OOM`: 507, reads
//! still work, nothing half-written), wrong or missing credentials (500, with a log line naming
//! the variables to check); and a small fake server for the states a real one only passes through
//! (`LOADING`, `MASTERDOWN`, `TRYAGAIN`, `BUSY`: 503). `/healthz` answers 503 in every one.
//!
//! The fake tests also pin, on whichever backend runs, the exact text Spin hands the component for
//! each (the component logs it): under real Spin that is Spin's behaviour, under the test host its
//! model of it (`src/store/redis_error.rs` holds the same texts as fixtures).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use spin_test_host::RedisServer;

use crate::helpers::{assert_no_secret, assert_problem, eventually, redis_snapshot, TestApp, TestResponse};

fn app_for(redis_url: &str, extra: &[(&str, &str)]) -> Option<TestApp> {
    let mut env = vec![("SPIN_VARIABLE_REDIS_ADDRESS", redis_url)];
    env.extend_from_slice(extra);
    TestApp::spawn_private(&env)
}

/// Asserts a 503 with `Retry-After`, in the dialect of the path (`/v1`, `/healthz`: problem
/// documents; the original endpoints: `{"error": ...}`).
#[track_caller]
fn assert_retry_later(path: &str, res: &TestResponse) {
    assert_status_in_dialect(path, res, 503);
    assert_eq!(res.header("retry-after"), Some("1"), "{path}");
}

#[track_caller]
fn assert_status_in_dialect(path: &str, res: &TestResponse, status: u16) {
    if path.starts_with("/v1") || path == "/healthz" {
        assert_problem(res, status);
    } else {
        assert_eq!(res.status, status, "{path}: {}", res.text());
        assert!(res.json()["error"].is_string(), "{path}: {}", res.text());
    }
}

/// Waits for the component's stderr log to contain `needle` (Spin writes it as it comes, but not
/// necessarily before the response has left), and returns the log.
#[track_caller]
fn stderr_with(app: &TestApp, needle: &str) -> String {
    let log = stderr_until(app, |log| log.contains(needle));
    assert!(log.contains(needle), "the component's stderr lacks {needle:?}:\n{log}");
    log
}

/// The component's stderr log once `done` holds of it, or after five seconds.
fn stderr_until(app: &TestApp, done: impl Fn(&str) -> bool) -> String {
    let log = || app.component_stderr().expect("a private app has a component log");
    eventually(Duration::from_secs(5), || done(&log()));
    log()
}

/// What a test writes and reads, by path: a user and a session of each API, and the writes that
/// Redis may refuse.
struct Fixture {
    reads: Vec<String>,
    writes: Vec<(&'static str, String, Value)>,
}

/// Creates, through `app`, a user and a session of each API; returns the reads that find them and
/// writes that would change them.
fn populate(app: &TestApp) -> Fixture {
    let res = app.post_json("/v1/users", &json!({ "nom": "Doe", "prenom": "John" }));
    assert_eq!(res.status, 201, "{}", res.text());
    let id = res.json()["id"].as_u64().unwrap();
    let res = app.post_json("/v1/sessions", &json!({ "user_id": id }));
    assert_eq!(res.status, 201, "{}", res.text());
    let token = res.json()["id"].as_str().unwrap().to_owned();
    let res = app.post_json("/create_session", &json!({ "session_id": "s1", "data": { "a": 1 } }));
    assert_eq!(res.status, 201, "{}", res.text());
    Fixture {
        reads: vec![
            "/v1/users".into(),
            format!("/v1/users/{id}"),
            format!("/v1/users/{id}/sessions"),
            format!("/v1/sessions/{token}"),
            format!("/get_user/{id}"),
            "/list_users".into(),
            "/get_session/s1".into(),
        ],
        writes: vec![
            ("POST", "/v1/users".into(), json!({ "nom": "A", "prenom": "B" })),
            ("POST", "/create_user".into(), json!({ "nom": "A", "prenom": "B" })),
            ("PATCH", format!("/v1/users/{id}"), json!({ "nom": "Roe" })),
            ("POST", "/v1/sessions".into(), json!({ "user_id": id })),
            ("PATCH", format!("/v1/sessions/{token}"), json!({ "data": { "b": 2 } })),
            ("POST", "/create_session".into(), json!({ "session_id": "s2", "data": {} })),
        ],
    }
}

fn send_json(app: &TestApp, method: &str, path: &str, body: &Value) -> TestResponse {
    app.send(app.request(method, path).json(body))
}

/// Every read answers 200 with what was stored.
#[track_caller]
fn assert_reads_work(app: &TestApp, fixture: &Fixture) {
    for path in &fixture.reads {
        let res = app.get(path);
        assert_eq!(res.status, 200, "{path}: {}", res.text());
    }
    assert_eq!(app.get(&fixture.reads[0]).json()["items"].as_array().unwrap().len(), 1);
    assert_eq!(app.get(&fixture.reads[2]).json()["items"].as_array().unwrap().len(), 1, "the user's session is listed");
}

#[test]
fn a_read_only_replica_serves_reads_and_answers_writes_with_503() {
    let Some(primary_app) = TestApp::spawn_private(&[]) else { return };
    let fixture = populate(&primary_app);
    let primary_port = primary_app.redis_url().unwrap().rsplit(':').next().unwrap().to_owned();
    let replica = RedisServer::start_with_args(&["--replicaof", "127.0.0.1", &primary_port]).unwrap();
    wait_for_sync(&replica);

    let app = app_for(&replica.url(), &[]).unwrap();
    assert_reads_work(&app, &fixture);
    for (method, path, body) in &fixture.writes {
        assert_retry_later(path, &send_json(&app, method, path, body));
    }
    assert_retry_later("/delete_user/1", &app.delete("/delete_user/1"));
    assert_retry_later("/healthz", &app.get("/healthz"));
    stderr_with(&app, "ReadOnly: You can't write against a read only replica.");
    // And the primary, untouched by all this, takes writes and is healthy.
    assert_eq!(primary_app.get("/healthz").status, 200);
}

/// Waits until the replica has loaded its primary's data.
fn wait_for_sync(replica: &RedisServer) {
    let mut conn = redis::Client::open(replica.url()).unwrap().get_connection().unwrap();
    let mut info = String::new();
    let synced = eventually(Duration::from_secs(20), || {
        info = redis::cmd("INFO").arg("replication").query(&mut conn).unwrap();
        info.contains("master_link_status:up")
            && redis::cmd("EXISTS").arg("user:1").query::<u32>(&mut conn).unwrap() == 1
    });
    assert!(synced, "the replica never synced:\n{info}");
}

#[test]
fn a_full_redis_serves_reads_and_answers_writes_with_507_writing_nothing() {
    let Some(app) = TestApp::spawn_private(&[]) else { return };
    let fixture = populate(&app);
    let mut redis = app.redis().unwrap();
    let () = redis::cmd("CONFIG").arg("SET").arg("maxmemory-policy").arg("noeviction").query(&mut redis).unwrap();
    let () = redis::cmd("CONFIG").arg("SET").arg("maxmemory").arg("1").query(&mut redis).unwrap();
    assert_reads_work(&app, &fixture);

    // Taken after the reads: `SORT` (`/list_users`) changes how Redis encodes the index, not what
    // it holds, and a dump shows the encoding.
    let before = redis_snapshot(&mut redis);
    for (method, path, body) in &fixture.writes {
        let res = send_json(&app, method, path, body);
        assert_status_in_dialect(path, &res, 507);
        if path == "/create_user" {
            assert_eq!(res.json(), json!({ "error": "Stockage insuffisant : la base Redis est pleine" }));
        }
    }
    assert_retry_later("/healthz", &app.get("/healthz"));
    assert_eq!(redis_snapshot(&mut redis), before, "a refused write changed Redis");
    stderr_with(&app, "OOM: command not allowed when used memory > 'maxmemory'.");

    // Room again: writes and the health check work, without restarting anything.
    let () = redis::cmd("CONFIG").arg("SET").arg("maxmemory").arg("0").query(&mut redis).unwrap();
    assert_eq!(app.get("/healthz").status, 200);
    assert_eq!(app.post_json("/v1/users", &json!({ "nom": "A", "prenom": "B" })).status, 201);
}

#[test]
fn rejected_credentials_are_500_with_a_log_naming_the_variables() {
    let redis = RedisServer::start_with_args(&["--requirepass", "pa55-w0rd"]).unwrap();
    for password in [None, Some("not-the-pa55")] {
        let extra: Vec<(&str, &str)> = password.iter().map(|p| ("SPIN_VARIABLE_REDIS_PASSWORD", *p)).collect();
        let Some(app) = app_for(&redis.url(), &extra) else { return };
        // A command of a few arguments (`GET`), scripts (more than ten: Redis answers those
        // differently before authentication), and both dialects.
        for path in ["/get_user/1", "/v1/users/1", "/v1/users", "/list_users"] {
            let res = app.get(path);
            assert_status_in_dialect(path, &res, 500);
            assert_no_secret(&res, "pa55");
        }
        let res = app.post_json("/v1/users", &json!({ "nom": "A", "prenom": "B" }));
        assert_problem(&res, 500);
        let res = app.get("/healthz");
        assert_problem(&res, 503);
        assert_no_secret(&res, "pa55");

        let failures = |log: &str| -> Vec<String> {
            log.lines().filter(|l| l.starts_with("500: ") || l.starts_with("503: ")).map(str::to_owned).collect()
        };
        let log = stderr_until(&app, |log| failures(log).len() >= 6);
        assert_eq!(failures(&log).len(), 6, "one line per failed request ({password:?}):\n{log}");
        for line in failures(&log) {
            assert!(
                line.contains("check the redis_username and redis_password variables"),
                "every failure names the variables: {line}"
            );
        }
        assert!(!log.contains("pa55"), "the log never shows the password:\n{log}");
    }
}

/// A fake Redis: accepts connections and answers every command with the error it is set to (one
/// error a command, as Redis would), or closes each connection at once. Connections are counted.
struct FakeRedis {
    port: u16,
    reply: Arc<Mutex<FakeReply>>,
    stop: Arc<AtomicBool>,
}

#[derive(Clone)]
enum FakeReply {
    Error(&'static str),
    Close,
}

impl FakeRedis {
    fn start(reply: FakeReply) -> FakeRedis {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let reply = Arc::new(Mutex::new(reply));
        let stop = Arc::new(AtomicBool::new(false));
        let (shared, stopped) = (reply.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::Relaxed) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                let reply = shared.lock().unwrap().clone();
                std::thread::spawn(move || serve(stream, reply));
            }
        });
        FakeRedis { port, reply, stop }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn set(&self, reply: FakeReply) {
        *self.reply.lock().unwrap() = reply;
    }
}

impl Drop for FakeRedis {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(("127.0.0.1", self.port)); // wakes the accept loop up
    }
}

fn serve(mut stream: TcpStream, reply: FakeReply) {
    let FakeReply::Error(error) = reply else { return }; // Close: dropping the stream closes it
    let answer = format!("-{error}\r\n");
    let mut pending = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n @ 1..) = stream.read(&mut buf) {
        pending.extend_from_slice(&buf[..n]);
        while let Some(len) = resp_command_len(&pending) {
            pending.drain(..len);
            if stream.write_all(answer.as_bytes()).is_err() {
                return;
            }
        }
    }
}

/// The length of the first whole RESP command (`*<n>\r\n` then `n` bulk strings) in `buf`.
fn resp_command_len(buf: &[u8]) -> Option<usize> {
    fn line(buf: &[u8], at: usize, marker: u8) -> Option<(usize, usize)> {
        if buf.get(at) != Some(&marker) {
            return None;
        }
        let end = at + buf[at..].windows(2).position(|w| w == b"\r\n")?;
        let number = std::str::from_utf8(&buf[at + 1..end]).ok()?.parse().ok()?;
        Some((number, end + 2))
    }
    let (count, mut at) = line(buf, 0, b'*')?;
    for _ in 0..count {
        let (len, start) = line(buf, at, b'$')?;
        at = start + len + 2;
    }
    (at <= buf.len()).then_some(at)
}

#[test]
fn a_redis_that_is_loading_or_told_to_wait_is_503_retry_later() {
    let fake = FakeRedis::start(FakeReply::Close);
    let Some(app) = app_for(&fake.url(), &[]) else { return };
    // Each: what the fake answers, and the text Spin hands the component for it (redis 0.32's
    // rendering, the same under Spin 3.6.3 and 4.0.2).
    let cases = [
        (
            "LOADING Redis is loading the dataset in memory",
            "An error was signalled by the server - BusyLoadingError: Redis is loading the dataset in memory",
        ),
        (
            "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
            "An error was signalled by the server - MasterDown: Link with MASTER is down and \
             replica-serve-stale-data is set to 'no'.",
        ),
        (
            "TRYAGAIN Multiple keys request during rehashing of slot",
            "An error was signalled by the server - TryAgain: Multiple keys request during rehashing of slot",
        ),
        (
            "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSCRIPT.",
            "BUSY: Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSCRIPT.",
        ),
    ];
    for (error, seen) in cases {
        fake.set(FakeReply::Error(error));
        // A plain command (`GET`), scripts, a write, both dialects, and the health check.
        for path in ["/get_user/1", "/v1/users", "/list_users", "/healthz"] {
            assert_retry_later(path, &app.get(path));
        }
        assert_retry_later("/create_user", &app.post_json("/create_user", &json!({ "nom": "A", "prenom": "B" })));
        stderr_with(&app, &format!("503: {seen}\n"));
    }
    // A server that closes every connection is unreachable too.
    fake.set(FakeReply::Close);
    for path in ["/get_user/1", "/v1/users", "/healthz"] {
        assert_retry_later(path, &app.get(path));
    }
}
