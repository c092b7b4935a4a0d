//! Test helpers: start the app under test, or find the one named by `APP_URL`, and talk to it
//! over HTTP. The app runs under one of three backends:
//! - the project's test host (the default): the built `.wasm` in this process, which also records
//!   what the component did inside (round trips, opens, variable lookups, traps);
//! - the real Spin CLI, when `SPIN_BIN` names it: a `spin up` per app (`real_spin.rs`);
//! - an external server, when `APP_URL` is set (tests that need a private app are skipped then).

mod http1;
pub mod otlp_receiver;
pub mod real_spin;
mod redis_observer;
pub mod secrets;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::Value;
use spin_test_host::{template_references, App, Manifest, RedisServer, Server};

pub use real_spin::{spin_bin, SpinUp};
pub use redis_observer::MonitorCommand;
use redis_observer::RedisObserver;

/// What serves the app under test.
enum Backend {
    TestHost(Server),
    RealSpin(SpinUp),
    External,
}

/// The service under test, reached over HTTP, with its Redis when the test may look inside.
pub struct TestApp {
    pub base_url: String,
    client: Client,
    redis_url: Option<String>,
    backend: Backend,
    observer: Mutex<Option<RedisObserver>>,
    // Dropped after `backend`: the app must not outlive its Redis.
    _redis_server: Option<RedisServer>,
}

/// The app loaded once per test process: building and compiling the component is the slow part.
fn loaded_app() -> &'static App {
    static APP: OnceLock<App> = OnceLock::new();
    APP.get_or_init(|| {
        let manifest = manifest_path();
        // Like `spin up --build`: the tests always run the component built from the current source.
        App::build(&manifest).expect("building the component with spin.toml's build command");
        App::load(&manifest).expect("loading spin.toml and its component")
    })
}

pub fn manifest_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("spin.toml")
}

/// `spin.toml`, read once.
pub fn manifest() -> &'static Manifest {
    static MANIFEST: OnceLock<Manifest> = OnceLock::new();
    MANIFEST.get_or_init(|| Manifest::load(&manifest_path()).expect("reading spin.toml"))
}

/// One request as the app handled it: the response, and what it cost.
#[derive(Debug)]
pub struct Observation {
    pub response: TestResponse,
    /// Connections Redis accepted (`Connection::open` calls), from Redis's side.
    pub redis_opens: u64,
    /// The commands the component sent, one per round trip, upper-cased, from Redis's side.
    pub round_trips: Vec<String>,
    /// `variables::get` calls: the test host's count, or under real Spin the lookups Spin made
    /// for the component, beyond those it makes itself when a connection opens.
    pub variable_gets: u32,
    /// Application variables resolved, by name: under real Spin what the counting provider was
    /// asked; under the test host, its model of that.
    pub variables_resolved: BTreeMap<String, u32>,
    /// Every command Redis showed for the request, whole: round trips, connection set-up, and
    /// the commands its scripts ran (client `lua`).
    pub commands: Vec<MonitorCommand>,
}

impl TestApp {
    /// The app under test: the server named by `APP_URL` (and `REDIS_URL`) if set, otherwise a
    /// fresh redis-server and a fresh app on the backend of this run.
    pub fn spawn() -> TestApp {
        announce_backend();
        match std::env::var("APP_URL") {
            Ok(url) => TestApp {
                base_url: url.trim_end_matches('/').to_owned(),
                client: client(),
                redis_url: std::env::var("REDIS_URL").ok(),
                backend: Backend::External,
                observer: Mutex::new(None),
                _redis_server: None,
            },
            Err(_) => Self::spawn_private(&[]).expect("spawn_private outside APP_URL mode"),
        }
    }

    /// An app with its own redis-server, for tests that need to own the whole database (counting
    /// commands, stopping Redis) or to set variables. `None` when testing an external server.
    pub fn spawn_private(extra_env: &[(&str, &str)]) -> Option<TestApp> {
        Self::spawn_private_app(extra_env, false)
    }

    /// A private app whose every cost can be observed (`observe`), variable lookups included:
    /// under real Spin those are counted by a variable provider that slows each request down by
    /// milliseconds, so only tests that count them ask for it.
    pub fn spawn_observed(extra_env: &[(&str, &str)]) -> Option<TestApp> {
        Self::spawn_private_app(extra_env, true)
    }

    fn spawn_private_app(extra_env: &[(&str, &str)], count_variables: bool) -> Option<TestApp> {
        announce_backend();
        if std::env::var("APP_URL").is_ok() {
            skip("needs a private app and Redis, and APP_URL is set");
            return None;
        }
        let redis_server = RedisServer::start().expect("starting redis-server");
        let redis_url = redis_server.url();
        let mut env = vec![("SPIN_VARIABLE_REDIS_ADDRESS", redis_url.as_str())];
        env.extend_from_slice(extra_env);
        let backend = if spin_bin().is_some() {
            Backend::RealSpin(SpinUp::start(&manifest_path(), &env, count_variables))
        } else {
            Backend::TestHost(loaded_app().serve(&env).expect("serving the app"))
        };
        let base_url = match &backend {
            Backend::TestHost(server) => server.url(),
            Backend::RealSpin(spin) => spin.url(),
            Backend::External => unreachable!(),
        };
        // The observer watches the Redis the app was started with (`redis_url`); a test that
        // points the app elsewhere (SPIN_VARIABLE_REDIS_ADDRESS in `extra_env`) observes nothing.
        Some(TestApp {
            base_url,
            client: client(),
            redis_url: Some(redis_url),
            backend,
            observer: Mutex::new(None),
            _redis_server: Some(redis_server),
        })
    }

    /// The `spin up` serving this app, when it runs under real Spin.
    pub fn real_spin(&self) -> Option<&SpinUp> {
        match &self.backend {
            Backend::RealSpin(spin) => Some(spin),
            _ => None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    pub fn get(&self, path: &str) -> TestResponse {
        self.send(self.client.get(self.url(path)))
    }

    pub fn delete(&self, path: &str) -> TestResponse {
        self.send(self.client.delete(self.url(path)))
    }

    pub fn post_json(&self, path: &str, body: &Value) -> TestResponse {
        self.send(self.client.post(self.url(path)).json(body))
    }

    /// Any request, built by the caller (for odd methods, headers and bodies).
    pub fn request(&self, method: &str, path: &str) -> RequestBuilder {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("valid method");
        self.client.request(method, self.url(path))
    }

    pub fn send(&self, request: RequestBuilder) -> TestResponse {
        TestResponse::from(request.send().expect("the server answers"))
    }

    /// The URL of the app's Redis (e.g. for a replica of it); `None` when it is not known.
    pub fn redis_url(&self) -> Option<&str> {
        self.redis_url.as_deref()
    }

    /// A connection to the app's Redis, for tests that look inside; `None` when it is not known.
    pub fn redis(&self) -> Option<redis::Connection> {
        let url = self.redis_url.as_ref()?;
        Some(redis::Client::open(url.as_str()).and_then(|c| c.get_connection()).expect("connecting to the test Redis"))
    }

    /// The app's Redis for a test that cannot run without looking inside it: when it is not known
    /// (`APP_URL` without `REDIS_URL`), the test is skipped (`skip`) and gets `None`.
    pub fn redis_or_skip(&self) -> Option<redis::Connection> {
        let redis = self.redis();
        if redis.is_none() {
            skip("needs the app's Redis, and APP_URL is set without REDIS_URL");
        }
        redis
    }

    /// Sends one request (made by `send`) and observes what it cost, on either backend: Redis
    /// round trips and connections from Redis's side, variable lookups from the backend. Under
    /// the test host, its own records must agree with what Redis saw, the instance must not have
    /// trapped, and the response must have come with its whole body (`src/reply.rs`). Only for
    /// an app from `spawn_observed` that no other client is using.
    pub fn observe(&self, send: impl FnOnce() -> TestResponse) -> Observation {
        let mut observer = self.observer.lock().unwrap();
        let observer = observer.get_or_insert_with(|| {
            let url = self.redis_url.as_ref().expect("observe needs a private app");
            let port = url.rsplit(':').next().and_then(|p| p.parse().ok()).expect("a port in the Redis URL");
            RedisObserver::connect(port)
        });
        self.clear_host_records();
        if let Backend::RealSpin(spin) = &self.backend {
            spin.variables().expect("observe needs an app from spawn_observed").take();
        }
        let connections_before = observer.start();
        let response = send();
        let activity = observer.finish(connections_before);
        let variables_resolved = match &self.backend {
            Backend::TestHost(server) => {
                let records = server.requests();
                assert_eq!(records.len(), 1, "one request observed at a time: {records:?}");
                let record = &records[0];
                assert!(!record.trapped, "the instance trapped: {record:?}");
                assert!(record.body_complete_when_set, "the body was not written whole before `set`: {record:?}");
                assert_eq!(u64::from(record.redis_opens), activity.opens, "opens, test host vs Redis: {record:?}");
                assert_eq!(record.redis_commands, activity.round_trips, "round trips, test host vs Redis: {record:?}");
                let gets = variable_gets_from_resolutions(&record.variables_resolved, activity.opens);
                assert_eq!(gets, record.variable_gets, "the host's lookups vs its model of Spin's: {record:?}");
                record.variables_resolved.clone()
            }
            Backend::RealSpin(spin) => {
                assert_eq!(spin.traps(), Vec::<String>::new(), "the instance trapped");
                spin.variables().expect("observe needs an app from spawn_observed").take()
            }
            Backend::External => unreachable!("observe needs a private app"),
        };
        let variable_gets = variable_gets_from_resolutions(&variables_resolved, activity.opens);
        Observation {
            response,
            redis_opens: activity.opens,
            round_trips: activity.round_trips,
            variable_gets,
            variables_resolved,
            commands: activity.commands,
        }
    }

    /// Traps (and panics) so far: the test host sees them happen; under real Spin they show in
    /// Spin's output or the component's stderr log. Empty for an external app, which cannot tell.
    pub fn traps(&self) -> Vec<String> {
        match &self.backend {
            Backend::TestHost(server) => {
                server.requests().iter().filter(|r| r.trapped).map(|r| format!("{} {}", r.method, r.path)).collect()
            }
            Backend::RealSpin(spin) => spin.traps(),
            Backend::External => Vec::new(),
        }
    }

    /// Everything the component has written to its stdout so far (its access log): the test
    /// host's per-server `<component>_stdout.txt`, real Spin's in its `--log-dir`, or for an
    /// external app (`APP_URL`) the one in the directory `APP_LOG_DIR` names (`spin up
    /// --log-dir`, `.spin/logs` by default); `None` when that is not set.
    pub fn component_stdout(&self) -> Option<String> {
        self.component_log("stdout")
    }

    /// Everything the component has written to its stderr so far, found as `component_stdout`.
    pub fn component_stderr(&self) -> Option<String> {
        self.component_log("stderr")
    }

    /// Whether the component's stderr says `needle`, waiting up to 10 s for it (the log may lag
    /// the response a little under a real Spin). Panics when the backend keeps no stderr.
    pub fn stderr_says(&self, needle: &str) -> bool {
        let stderr = || self.component_stderr().expect("the component's stderr (APP_LOG_DIR for an external app)");
        let said = eventually(Duration::from_secs(10), || stderr().contains(needle));
        if !said {
            eprintln!("the component's stderr does not say {needle:?}:\n{}", stderr());
        }
        said
    }

    fn component_log(&self, stream: &str) -> Option<String> {
        let dir = match &self.backend {
            Backend::TestHost(server) => server.log_dir().to_owned(),
            Backend::RealSpin(spin) => spin.log_dir(),
            Backend::External => PathBuf::from(std::env::var_os("APP_LOG_DIR")?),
        };
        let file = dir.join(format!("{}_{stream}.txt", manifest().component_id));
        // A log file not created yet holds nothing so far.
        Some(std::fs::read_to_string(&file).unwrap_or_default())
    }

    /// What the test host recorded of each request so far; `None` under another backend.
    pub fn host_records(&self) -> Option<Vec<spin_test_host::RequestRecord>> {
        match &self.backend {
            Backend::TestHost(server) => Some(server.requests()),
            _ => None,
        }
    }

    pub fn clear_host_records(&self) {
        if let Backend::TestHost(server) = &self.backend {
            server.clear_requests();
        }
    }
}

/// Turns the application variables resolved during one request into the number of
/// `variables::get` calls the component made.
///
/// Real Spin, seen with the counting provider (4.0.2 and 3.6.3 alike): each `variables::get` of a
/// component variable asks once for every application variable its template names; and a request
/// that opens a Redis connection also resolves every application variable once, to check the
/// templated `allowed_outbound_hosts` (`tests/api/running/real_spin_facts.rs` pins both).
fn variable_gets_from_resolutions(resolved: &BTreeMap<String, u32>, opens: u64) -> u32 {
    let mut asked = resolved.clone();
    let manifest = manifest();
    if opens > 0 {
        for name in manifest.variables.keys() {
            match asked.get_mut(name) {
                Some(n) => *n -= 1,
                None => panic!("opening Redis did not resolve {name}"),
            }
        }
        asked.retain(|_, n| *n > 0);
    }
    // Attribute what is left to component variables, each through an application variable that
    // no other component variable names; then check the attribution explains every lookup.
    let references: BTreeMap<&String, Vec<String>> =
        manifest.component_variables.iter().map(|(name, template)| (name, template_references(template))).collect();
    let mut explained: BTreeMap<String, u32> = BTreeMap::new();
    let mut gets = 0;
    for (name, refs) in &references {
        let witness =
            refs.iter().find(|r| references.iter().filter(|(_, other)| other.contains(r)).count() == 1).unwrap_or_else(
                || panic!("component variable {name} shares every variable it names: cannot count its lookups"),
            );
        let n = asked.get(witness).copied().unwrap_or(0) / refs.iter().filter(|r| *r == witness).count() as u32;
        for r in refs {
            *explained.entry(r.clone()).or_default() += n;
        }
        gets += n;
    }
    explained.retain(|_, n| *n > 0);
    assert_eq!(asked, explained, "variable lookups not explained by whole component-variable reads");
    gets
}

fn client() -> Client {
    Client::builder().timeout(std::time::Duration::from_secs(30)).build().expect("building the HTTP client")
}

/// A response read to the end, easy to assert on.
#[derive(Debug)]
pub struct TestResponse {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl From<Response> for TestResponse {
    fn from(r: Response) -> Self {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let body = r.bytes().expect("reading the body").to_vec();
        TestResponse { status, headers, body }
    }
}

impl TestResponse {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Asserts the status and the JSON body together, showing both on failure.
    #[track_caller]
    pub fn assert(&self, status: u16, body: Value) {
        assert_eq!((self.status, self.json()), (status, body), "raw body: {:?}", self.text());
    }
}

/// Says that the calling test cannot run in this mode, and why: `SKIPPED: <test>: <reason>` on the
/// test output (written past the test harness's capture, so that it shows for passing tests too).
/// With `REQUIRE_ALL=1`, which CI sets for its backends, a test that cannot run fails instead.
#[track_caller]
pub fn skip(reason: &str) {
    let test = std::thread::current().name().unwrap_or("?").to_owned();
    if std::env::var("REQUIRE_ALL").is_ok_and(|v| v == "1") {
        panic!("REQUIRE_ALL=1, and {test} cannot run here: {reason}");
    }
    // One write of the whole line, so that no other output lands inside it.
    let _ = std::io::stderr().write_all(format!("SKIPPED: {test}: {reason}\n").as_bytes());
}

/// Names, once per test process, what the tests run against: the test host, real Spin (with its
/// version) or an external server.
fn announce_backend() {
    static ANNOUNCED: OnceLock<()> = OnceLock::new();
    ANNOUNCED.get_or_init(|| {
        let backend = if let Ok(url) = std::env::var("APP_URL") {
            format!("an external server, APP_URL={url}")
        } else if let Some(spin) = spin_bin() {
            let version = std::process::Command::new(&spin).arg("--version").output();
            let version = version.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned()).unwrap_or_default();
            format!("real Spin, {version} ({})", spin.display())
        } else {
            "the project's test host (tests/spin-test-host)".to_owned()
        };
        let _ = std::io::stderr().write_all(format!("API tests run against {backend}\n").as_bytes());
    });
}

/// Asserts an RFC 9457 problem response with this status.
#[track_caller]
pub fn assert_problem(res: &TestResponse, status: u16) {
    assert_eq!(res.status, status, "{}", res.text());
    assert_eq!(res.header("content-type"), Some("application/problem+json"));
    let body = res.json();
    assert_eq!(body["status"], serde_json::json!(status));
    assert!(body["title"].is_string() && body["detail"].is_string() && body["type"].is_string(), "{body}");
}

/// Walks `GET /v1/users` page by page with this `limit` and returns every id seen, in order.
pub fn walk_users(app: &TestApp, limit: u32) -> Vec<u64> {
    let mut ids = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = app.get(&format!("/v1/users?limit={limit}{cursor}"));
        assert_eq!(page.status, 200, "{}", page.text());
        let page = page.json();
        let items = page["items"].as_array().expect("items");
        assert!(items.len() <= limit as usize);
        ids.extend(items.iter().map(|u| u["id"].as_u64().expect("id")));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => return ids,
        }
    }
}

/// Whether `condition` holds within `deadline`, asked every 20 ms: for what happens a little
/// after a response (a log line written, a key expired), instead of sleeping for a guessed time.
/// Callers assert on the result and say what they waited for.
pub fn eventually(deadline: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + deadline;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() > until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A number no other test (or earlier run against a shared server) uses, for ids the API takes
/// as integers: microseconds since 1970, made strictly increasing within the process, and below
/// 2^53 so that every JSON reader keeps it exact.
pub fn unique_number() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static LAST: AtomicU64 = AtomicU64::new(0);
    let micros = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_micros() as u64;
    let next = |last: u64| Some(micros.max(last + 1));
    let last = LAST.fetch_update(Ordering::Relaxed, Ordering::Relaxed, next).unwrap();
    next(last).unwrap()
}

/// A name no other test (or earlier run against a shared server) uses.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{prefix}-{}-{nanos}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// The number of keys in the app's Redis database and a dump of their types and values, to prove
/// that a rejected request wrote nothing. Uses SCAN, never KEYS. Only for a database the test owns
/// (`spawn_private`): on a shared one other tests write between two snapshots.
pub fn redis_snapshot(conn: &mut redis::Connection) -> Vec<(String, String, String)> {
    let mut keys: Vec<String> = redis::cmd("SCAN").cursor_arg(0).clone().iter(conn).expect("SCAN").collect();
    keys.sort();
    keys.into_iter()
        .map(|k| {
            let kind: String = redis::cmd("TYPE").arg(&k).query(conn).unwrap();
            let dump: Option<Vec<u8>> = redis::cmd("DUMP").arg(&k).query(conn).unwrap();
            (k, kind, dump.map(|d| format!("{d:?}")).unwrap_or_default())
        })
        .collect()
}

/// The user ids in the users index (`users:index`), read straight from Redis.
pub fn indexed_users(conn: &mut redis::Connection) -> std::collections::BTreeSet<u64> {
    redis::cmd("ZRANGE").arg("users:index").arg(0).arg(-1).query::<Vec<u64>>(conn).unwrap().into_iter().collect()
}

/// Every user session index in the database (`user_sessions_by_creation:<uid>`,
/// `user_sessions_by_expiry:<uid>`), with the user id its name holds.
pub fn session_indexes(conn: &mut redis::Connection) -> Vec<(String, u64)> {
    let keys: Vec<String> =
        redis::cmd("SCAN").cursor_arg(0).arg("MATCH").arg("user_sessions_by_*").clone().iter(conn).unwrap().collect();
    keys.into_iter()
        .map(|key| {
            let uid = key.rsplit(':').next().and_then(|uid| uid.parse().ok()).expect("a user id ends the key");
            (key, uid)
        })
        .collect()
}

/// A number from the environment (run lengths of the on-demand checks), or `default`.
pub fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Asserts that a response shows neither `secret` nor the Redis host (error bodies must not leak
/// configuration).
pub fn assert_no_secret(res: &TestResponse, secret: &str) {
    let text = res.text();
    assert!(!text.contains(secret) && !text.contains("127.0.0.1"), "{text}");
}
