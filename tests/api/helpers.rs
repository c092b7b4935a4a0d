//! Test helpers: start the app (or find the one named by `APP_URL`) and talk to it over HTTP.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::Value;
use spin_test_host::{App, Manifest, RedisServer, RequestRecord, Server};

/// The service under test, reached over HTTP, with its Redis when the test may look inside.
pub struct TestApp {
    pub base_url: String,
    client: Client,
    redis_url: Option<String>,
    /// `None` when testing an external server (`APP_URL`).
    server: Option<Server>,
    // Dropped after `server`: the app must not outlive its Redis.
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

impl TestApp {
    /// The app under test: the server named by `APP_URL` (and `REDIS_URL`) if set, otherwise a
    /// fresh redis-server and a fresh test host serving the built `.wasm`.
    pub fn spawn() -> TestApp {
        match std::env::var("APP_URL") {
            Ok(url) => TestApp {
                base_url: url.trim_end_matches('/').to_owned(),
                client: client(),
                redis_url: std::env::var("REDIS_URL").ok(),
                server: None,
                _redis_server: None,
            },
            Err(_) => Self::spawn_private(&[]).expect("spawn_private outside APP_URL mode"),
        }
    }

    /// An app with its own redis-server, for tests that need to own the whole database (counting
    /// commands, stopping Redis) or to set variables. `None` when testing an external server.
    pub fn spawn_private(extra_env: &[(&str, &str)]) -> Option<TestApp> {
        if std::env::var("APP_URL").is_ok() {
            eprintln!("APP_URL is set: this test needs a private app and Redis, skipped");
            return None;
        }
        let redis_server = RedisServer::start().expect("starting redis-server");
        let redis_url = redis_server.url();
        let mut env = vec![("SPIN_VARIABLE_REDIS_ADDRESS", redis_url.as_str())];
        env.extend_from_slice(extra_env);
        let server = loaded_app().serve(&env).expect("serving the app");
        Some(TestApp {
            base_url: server.url(),
            client: client(),
            redis_url: Some(redis_url),
            server: Some(server),
            _redis_server: Some(redis_server),
        })
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

    /// A connection to the app's Redis, for tests that look inside; `None` when it is not known.
    pub fn redis(&self) -> Option<redis::Connection> {
        let url = self.redis_url.as_ref()?;
        Some(redis::Client::open(url.as_str()).and_then(|c| c.get_connection()).expect("connecting to the test Redis"))
    }

    /// What the test host saw of each request (Redis round trips, traps); `None` for an external app.
    pub fn host_records(&self) -> Option<Vec<RequestRecord>> {
        self.server.as_ref().map(Server::requests)
    }

    /// Everything the component has written to its stdout so far (its access log): the test host's
    /// per-server `<component>_stdout.txt`, or for an external app (`APP_URL`) the one in the
    /// directory `APP_LOG_DIR` names (`spin up --log-dir`, `.spin/logs` by default); `None` when
    /// that is not set.
    pub fn component_stdout(&self) -> Option<String> {
        self.component_log("stdout")
    }

    /// Everything the component has written to its stderr so far, found as `component_stdout`.
    pub fn component_stderr(&self) -> Option<String> {
        self.component_log("stderr")
    }

    fn component_log(&self, stream: &str) -> Option<String> {
        let dir = match &self.server {
            Some(server) => server.log_dir().to_owned(),
            None => PathBuf::from(std::env::var_os("APP_LOG_DIR")?),
        };
        let manifest = Manifest::load(&manifest_path()).expect("reading spin.toml");
        let file = dir.join(format!("{}_{stream}.txt", manifest.component_id));
        // A log file not created yet holds nothing so far.
        Some(std::fs::read_to_string(&file).unwrap_or_default())
    }

    pub fn clear_host_records(&self) {
        if let Some(server) = &self.server {
            server.clear_requests();
        }
    }
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

/// A name no other test (or earlier run against a shared server) uses.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{prefix}-{}-{nanos}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// The number of keys in the app's Redis database and a dump of their types and values, to prove
/// that a rejected request wrote nothing. Uses SCAN, never KEYS.
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
