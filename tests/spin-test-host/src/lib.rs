//! A test-only stand-in for `spin up`, so the service's tests run the real built `.wasm` the way
//! Spin runs it (the Spin CLI cannot be installed on our CI machines). It is not part of the product.
//!
//! What it reproduces of Spin 4 (see shared/SPIN-FACTS.md and the Spin source files named in each
//! module): `spin.toml` (version 2, one HTTP trigger, variables with defaults and
//! `SPIN_VARIABLE_*` overrides, templated `allowed_outbound_hosts`, the build command), loading a
//! `wasm32-wasip1` core module with the preview-1 reactor adapter, a fresh instance per request,
//! the `spin-*` request headers, and `fermyon:spin/redis@2.0.0` + `fermyon:spin/variables@2.0.0`.
//! What it does not: other triggers and components, key-value/SQLite/LLM/MQTT/Postgres/MySQL
//! interfaces (a component importing them fails to load here, by name), runtime config files,
//! outbound HTTP allow-listing, TLS on the listener.

mod allowed_hosts;
mod child;
mod http_server;
mod instance;
mod loader;
mod manifest;
mod redis_host;
mod redis_server;
mod variables;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use wasmtime_wasi_http::p2::bindings::ProxyPre;

pub use child::Guarded;
pub use manifest::Manifest;
pub use redis_server::RedisServer;
pub use variables::references as template_references;

use instance::{InstanceState, ServeConfig};

/// What the host saw of one request.
#[derive(Debug, Clone, Default)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    pub status: u16,
    /// `Connection::open` calls.
    pub redis_opens: u32,
    /// One entry per Redis round trip, upper-cased: the command of `execute`, or GET, SET,
    /// INCRBY, DEL, SADD, SMEMBERS, SREM, PUBLISH for the typed calls.
    pub redis_commands: Vec<String>,
    /// `variables::get` calls.
    pub variable_gets: u32,
    /// Application variables resolved, by name, as real Spin resolves them: once per `{{ name }}`
    /// in the template of each component variable read, and every one of them once when the
    /// instance first opens a Redis connection (Spin 3.6 and 4.0 resolve them all then, to check
    /// the templated `allowed_outbound_hosts`; seen through a counting variable provider).
    pub variables_resolved: BTreeMap<String, u32>,
    /// Whether the whole body was written and finished when the component handed the response
    /// over (`response-outparam.set`). When it was not, a server may send the headers alone and
    /// the body in a later TCP segment, which Nagle's algorithm holds until the client's (delayed)
    /// ACK: up to 40 ms per keep-alive request under Spin 4.0.2.
    pub body_complete_when_set: bool,
    /// Whether the instance trapped (or never answered).
    pub trapped: bool,
}

/// A loaded application: manifest read, component compiled once. Cheap to clone.
#[derive(Clone)]
pub struct App {
    manifest: Arc<Manifest>,
    pre: ProxyPre<InstanceState>,
}

/// One tokio runtime for every server of the process.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_all()
            .thread_name("spin-test-host")
            .build()
            .expect("building the tokio runtime")
    })
}

impl App {
    /// Runs the component's `[component.<id>.build] command` in the manifest's directory (or its
    /// `workdir`), as `spin build` does.
    pub fn build(manifest_path: &Path) -> Result<()> {
        let manifest = Manifest::load(manifest_path)?;
        let Some(build) = &manifest.build else { return Ok(()) };
        let dir = match &build.workdir {
            Some(w) => manifest.dir.join(w),
            None => manifest.dir.clone(),
        };
        let output = std::process::Command::new("sh")
            .arg("-c")
            .arg(&build.command)
            .current_dir(&dir)
            .output()
            .with_context(|| format!("running {:?}", build.command))?;
        if !output.status.success() {
            bail!(
                "build command {:?} failed ({}):\n{}{}",
                build.command,
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    }

    pub fn load(manifest_path: &Path) -> Result<App> {
        let manifest = Manifest::load(manifest_path)?;
        let wasm = std::fs::read(&manifest.source)
            .with_context(|| format!("reading the component source {}", manifest.source.display()))?;
        let engine = loader::engine()?;
        let pre = loader::prepare(&engine, &wasm)?;
        Ok(App { manifest: Arc::new(manifest), pre })
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Serves on `127.0.0.1:<free port>`. `env` is laid over the process environment for variable
    /// resolution only, so a test can set `SPIN_VARIABLE_*` per server.
    pub fn serve(&self, env: &[(&str, &str)]) -> Result<Server> {
        self.serve_on("127.0.0.1:0".parse().unwrap(), env)
    }

    pub fn serve_on(&self, addr: SocketAddr, env: &[(&str, &str)]) -> Result<Server> {
        let mut vars: BTreeMap<String, String> = std::env::vars().collect();
        vars.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let resolver = variables::Resolver::new(&self.manifest, &vars)?;
        let allowed_hosts = self
            .manifest
            .allowed_outbound_hosts
            .iter()
            .map(|entry| resolver.expand(entry).and_then(|e| allowed_hosts::AllowedHost::parse(&e)))
            .collect::<Result<Vec<_>>>()
            .context("allowed_outbound_hosts")?;
        let log_dir = new_log_dir()?;
        let log = |stream: &str| -> Result<wasmtime_wasi::cli::OutputFile> {
            let path = log_dir.join(format!("{}_{stream}.txt", self.manifest.component_id));
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .with_context(|| format!("creating {}", path.display()))?;
            Ok(wasmtime_wasi::cli::OutputFile::new(file))
        };
        let (stdout, stderr) = (log("stdout")?, log("stderr")?);
        let shared = Arc::new(http_server::Shared {
            pre: self.pre.clone(),
            config: Arc::new(ServeConfig { resolver, allowed_hosts, stdout, stderr }),
            route: self.manifest.route.clone(),
            records: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
        });
        let listener = runtime().block_on(tokio::net::TcpListener::bind(addr))?;
        let local = listener.local_addr()?;
        let task = runtime().spawn(http_server::accept_loop(listener, shared.clone()));
        Ok(Server { addr: local, shared, task, log_dir })
    }
}

/// A fresh, empty directory for one server's component logs (Spin's `--log-dir`), removed with it.
fn new_log_dir() -> Result<PathBuf> {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "spin-test-host-logs-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// A running server; dropping it stops accepting connections.
pub struct Server {
    addr: SocketAddr,
    shared: Arc<http_server::Shared>,
    task: tokio::task::JoinHandle<()>,
    log_dir: PathBuf,
}

impl Server {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// One record per request handled so far, in completion order. Waits (up to 10 s) for the
    /// requests still in flight to finish, so a test that has read its response sees its record.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.wait_for_in_flight();
        self.shared.records.lock().unwrap().clone()
    }

    /// Forgets the records so far, once the requests still in flight have finished.
    pub fn clear_requests(&self) {
        self.wait_for_in_flight();
        self.shared.records.lock().unwrap().clear();
    }

    /// Where the component's stdout and stderr go, as `<component>_stdout.txt` and
    /// `<component>_stderr.txt` (Spin's `--log-dir`; Spin's default is `.spin/logs/`). Waits for the requests still in flight, as `requests` does.
    pub fn log_dir(&self) -> &Path {
        self.wait_for_in_flight();
        &self.log_dir
    }

    /// A response reaches the client before its instance has finished, so records lag a little.
    fn wait_for_in_flight(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.shared.in_flight.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Blocks until the server is dropped elsewhere or the process ends (for the CLI).
    pub fn wait(self) {
        let _ = runtime().block_on(async { tokio::signal::ctrl_c().await });
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_dir_all(&self.log_dir);
    }
}
