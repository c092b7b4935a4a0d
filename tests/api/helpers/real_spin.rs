//! The real Spin CLI as a test backend. With `SPIN_BIN` set, every app under test is a `spin up`
//! of this repository's `spin.toml`, started and stopped by the test that needs it, exactly as the
//! test host is otherwise: its own redis-server, `--listen 127.0.0.1:<free port>`, variables
//! through `SPIN_VARIABLE_*`.
//!
//! Real Spin shows nothing of what a component does inside, so what the test host records is
//! observed from outside here: Redis round trips and connections from Redis's side
//! (`redis_observer.rs`), and variable lookups from a variable provider that counts what it is
//! asked (`VariableCounter`).

use std::collections::BTreeMap;
use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

pub use spin_test_host::Guarded;

/// The Spin CLI to test under, if `SPIN_BIN` names one.
pub fn spin_bin() -> Option<PathBuf> {
    std::env::var_os("SPIN_BIN").filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// `spin build` once per test process (the build command is cargo's, so a second test binary
/// finds it up to date).
pub fn build_once(spin: &Path, manifest: &Path) {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let out = Command::new(spin).arg("build").arg("--from").arg(manifest).output().expect("running spin build");
        assert!(
            out.status.success(),
            "spin build failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    });
}

/// One `spin up`, killed when dropped, and when the test process dies.
pub struct SpinUp {
    url: String,
    dir: PathBuf,
    process: Guarded,
    variables: Option<VariableCounter>,
}

/// Waits until something listens on this loopback port, while `alive` says the server runs.
pub fn wait_for_port(port: u16, timeout: Duration, alive: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline && alive() {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub fn scratch_dir(what: &str) -> PathBuf {
    use std::sync::atomic::AtomicU64;
    static N: AtomicU64 = AtomicU64::new(0);
    let dir =
        std::env::temp_dir().join(format!("uss-{what}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed)));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl SpinUp {
    /// Builds (once) and starts `spin up -f <manifest>`, with `env` laid over this process's
    /// environment; with `count_variables`, variable lookups are counted (`variables`). Panics
    /// with Spin's own output if it does not come up.
    pub fn start(manifest: &Path, env: &[(&str, &str)], count_variables: bool) -> SpinUp {
        let spin = spin_bin().expect("SPIN_BIN is set");
        build_once(&spin, manifest);
        Self::start_from(&spin, &manifest.display().to_string(), &[], env, count_variables)
    }

    /// Starts `spin up -f <from>` (a manifest, or a registry reference with `extra_args` such as
    /// `--insecure`) with this Spin binary.
    pub fn start_from(
        spin: &Path,
        from: &str,
        extra_args: &[&str],
        env: &[(&str, &str)],
        count_variables: bool,
    ) -> SpinUp {
        // Only on demand: Spin's Vault provider builds an HTTP client for every lookup, which
        // costs milliseconds of CPU, many times per request.
        let variables = count_variables.then(VariableCounter::start);
        let mut last_output = String::new();
        for _ in 0..3 {
            let dir = scratch_dir("spin");
            // Spin asks its variable providers before the environment and defaults; this one
            // knows nothing and counts the questions.
            let runtime_config = dir.join("runtime-config.toml");
            let providers = match &variables {
                Some(counter) => format!(
                    "[[config_provider]]\ntype = \"vault\"\nurl = \"{}\"\ntoken = \"unused\"\nmount = \"secret\"\n",
                    counter.url()
                ),
                None => String::new(),
            };
            std::fs::write(&runtime_config, providers).unwrap();
            let port = free_port();
            let output = dir.join("spin.out");
            let mut command = Command::new(spin);
            command
                .args(["up", "--from", from, "--listen", &format!("127.0.0.1:{port}")])
                .arg("--runtime-config-file")
                .arg(&runtime_config)
                .arg("--log-dir")
                .arg(dir.join("logs"))
                .arg("--state-dir")
                .arg(dir.join("state"))
                .args(extra_args)
                // Spin logs every 404 of the Vault provider as an error: keep its output readable.
                .env("RUST_LOG", "warn,vaultrs=off,rustify=off")
                .envs(env.iter().copied());
            let process = Guarded::spawn(&mut command, &output);
            let mut up = SpinUp { url: format!("http://127.0.0.1:{port}"), dir, process, variables: variables.clone() };
            // Pulling from a registry and compiling a component take a while on a busy machine.
            if wait_for_port(port, Duration::from_secs(120), || up.process.is_running()) {
                return up;
            }
            last_output = std::fs::read_to_string(&output).unwrap_or_default();
            up.process.stop();
            // Another process may have taken the port between our check and Spin's bind: retry.
            if !last_output.contains("already in use") {
                break;
            }
        }
        panic!("spin up -f {from} did not start:\n{last_output}");
    }

    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Where Spin writes the component's stdout and stderr.
    pub fn log_dir(&self) -> PathBuf {
        self.dir.join("logs")
    }

    /// What Spin printed itself.
    pub fn output(&self) -> String {
        std::fs::read_to_string(self.dir.join("spin.out")).unwrap_or_default()
    }

    /// Lines of Spin's output and of the component's logs that tell of a trap or a panic.
    pub fn traps(&self) -> Vec<String> {
        let mut texts = vec![self.output()];
        if let Ok(logs) = std::fs::read_dir(self.log_dir()) {
            texts.extend(logs.flatten().map(|f| std::fs::read_to_string(f.path()).unwrap_or_default()));
        }
        texts
            .iter()
            .flat_map(|t| t.lines())
            .filter(|l| l.contains("trap") || l.contains("panicked"))
            .map(str::to_owned)
            .collect()
    }

    /// The variable lookups, when counted (`start`'s `count_variables`).
    /// The largest resident set (`VmHWM`, in KiB) each of Spin's processes has had so far: `spin up`
    /// and the trigger process it starts.
    pub fn peak_memory_kib(&self) -> Vec<(u32, u64)> {
        let mut pids = vec![self.process.pid()];
        let mut i = 0;
        while i < pids.len() {
            let children = std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", pids[i])).unwrap_or_default();
            pids.extend(children.split_whitespace().filter_map(|p| p.parse::<u32>().ok()));
            i += 1;
        }
        pids.into_iter()
            .filter_map(|pid| {
                let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
                let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
                Some((pid, line.split_whitespace().nth(1)?.parse().ok()?))
            })
            .collect()
    }

    pub fn variables(&self) -> Option<&VariableCounter> {
        self.variables.as_ref()
    }
}

impl Drop for SpinUp {
    fn drop(&mut self) {
        self.process.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A stand-in for a HashiCorp Vault server that holds no secret and counts the lookups it gets,
/// by variable name. Spin's Vault provider asks it first for every application variable Spin
/// resolves (a 404 sends Spin on to `SPIN_VARIABLE_*` and the defaults), so the counts show every
/// `variables::get` the component makes, and what Spin resolves on its own behalf.
#[derive(Clone)]
pub struct VariableCounter {
    port: u16,
    counts: Arc<Mutex<BTreeMap<String, u32>>>,
    stopped: Arc<AtomicBool>,
}

impl VariableCounter {
    fn start() -> VariableCounter {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let counter = VariableCounter {
            port: listener.local_addr().unwrap().port(),
            counts: Arc::default(),
            stopped: Arc::default(),
        };
        let serving = counter.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if serving.stopped.load(Ordering::Relaxed) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                let counts = serving.counts.clone();
                std::thread::spawn(move || answer_lookups(stream, &counts));
            }
        });
        counter
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The lookups since the last call, by application variable, and forgets them.
    pub fn take(&self) -> BTreeMap<String, u32> {
        std::mem::take(&mut self.counts.lock().unwrap())
    }
}

impl Drop for VariableCounter {
    fn drop(&mut self) {
        // The last clone (the accept loop holds one) wakes the loop so that it ends.
        if Arc::strong_count(&self.stopped) == 2 {
            self.stopped.store(true, Ordering::Relaxed);
            let _ = TcpStream::connect(("127.0.0.1", self.port));
        }
    }
}

/// HTTP/1.1 with keep-alive, just enough for Vault's KV v2 read
/// (`GET /v1/<mount>/data/<name>`): counts the name, answers 404.
fn answer_lookups(stream: TcpStream, counts: &Mutex<BTreeMap<String, u32>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    let _ = writer.set_nodelay(true);
    while let Some(request) = super::http1::read_request(&mut reader) {
        let path = request.path.as_str();
        let name = path.split('?').next().unwrap_or_default().rsplit('/').next().unwrap_or_default();
        *counts.lock().unwrap().entry(name.to_owned()).or_default() += 1;
        // One write: a head and a body in two small writes meet Nagle and delayed ACKs (40 ms).
        let body = r#"{"errors":[]}"#;
        let answer = format!(
            "HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        if writer.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}
