//! A private `redis-server` for a test run, on a free loopback port.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::child::Guarded;

/// A redis-server child process, stopped on drop. It runs `Guarded`, so it never outlives the test
/// process, even one that aborts.
pub struct RedisServer {
    port: u16,
    dir: PathBuf,
    args: Vec<String>,
    tls: bool,
    process: Option<Guarded>,
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl RedisServer {
    pub fn start() -> Result<RedisServer> {
        Self::start_with_args(&[])
    }

    /// Starts one with extra arguments, e.g. `["--requirepass", "x"]` or `["--appendonly", "yes"]`.
    pub fn start_with_args(extra: &[&str]) -> Result<RedisServer> {
        Self::start_inner(extra, false)
    }

    /// Starts one that speaks only TLS (`rediss://`), with a fresh self-signed certificate for
    /// 127.0.0.1 made by the `openssl` CLI. Clients must trust `ca_file()`.
    pub fn start_tls(extra: &[&str]) -> Result<RedisServer> {
        Self::start_inner(extra, true)
    }

    fn start_inner(extra: &[&str], tls: bool) -> Result<RedisServer> {
        let mut last_error = None;
        for _ in 0..5 {
            let port = free_port()?;
            let dir = std::env::temp_dir().join(format!("spin-test-host-redis-{}-{port}", std::process::id()));
            std::fs::create_dir_all(&dir)?;
            let mut server =
                RedisServer { port, dir, args: extra.iter().map(|s| s.to_string()).collect(), tls, process: None };
            match server.launch() {
                Ok(()) => return Ok(server),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap()).context("starting redis-server (is it installed and on PATH?)")
    }

    fn launch(&mut self) -> Result<()> {
        let mut args = if self.tls {
            self.make_certificate()?;
            let (cert, key) = (self.ca_file().display().to_string(), self.dir.join("key.pem").display().to_string());
            vec![
                "--port".to_owned(),
                "0".to_owned(),
                "--tls-port".to_owned(),
                self.port.to_string(),
                "--tls-cert-file".to_owned(),
                cert.clone(),
                "--tls-key-file".to_owned(),
                key,
                "--tls-ca-cert-file".to_owned(),
                cert,
                "--tls-auth-clients".to_owned(),
                "no".to_owned(),
            ]
        } else {
            vec!["--port".to_owned(), self.port.to_string()]
        };
        args.extend([
            "--bind".to_owned(),
            "127.0.0.1".to_owned(),
            "--save".to_owned(),
            String::new(),
            "--dir".to_owned(),
            self.dir.display().to_string(),
            "--logfile".to_owned(),
            String::new(),
            "--loglevel".to_owned(),
            "warning".to_owned(),
        ]);
        if !self.args.iter().any(|a| a == "--appendonly") {
            args.extend(["--appendonly".to_owned(), "no".to_owned()]);
        }
        args.extend(self.args.iter().cloned());
        let mut command = Command::new("redis-server");
        command.args(&args);
        self.process = Some(Guarded::spawn(&mut command, &self.dir.join("redis-server.out")));
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if self.ping() {
                return Ok(());
            }
            if Instant::now() > deadline {
                self.stop();
                bail!("redis-server on port {} did not answer PING", self.port);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// A self-signed certificate (its own CA) for 127.0.0.1, made once per server directory.
    fn make_certificate(&self) -> Result<()> {
        if self.ca_file().exists() {
            return Ok(());
        }
        let status = Command::new("openssl")
            .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"])
            .args(["-addext", "subjectAltName=IP:127.0.0.1"])
            .arg("-keyout")
            .arg(self.dir.join("key.pem"))
            .arg("-out")
            .arg(self.ca_file())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .context("running openssl (is it installed?)")?;
        if !status.success() {
            bail!("openssl req failed: {status}");
        }
        Ok(())
    }

    /// The certificate a TLS server presents, to trust as a CA (`SSL_CERT_FILE`).
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("cert.pem")
    }

    fn ping(&self) -> bool {
        let password = self.args.windows(2).find(|w| w[0] == "--requirepass").map(|w| w[1].clone());
        let auth = password.map(|p| format!(":{p}@")).unwrap_or_default();
        // Only liveness here: the certificate is checked by the tests that use the server.
        let insecure = if self.tls { "/#insecure" } else { "" };
        let url = format!("{}://{auth}127.0.0.1:{}{insecure}", self.scheme(), self.port);
        redis::Client::open(url.as_str())
            .and_then(|c| c.get_connection_with_timeout(Duration::from_millis(200)))
            .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c))
            .is_ok()
    }

    pub fn url(&self) -> String {
        format!("{}://127.0.0.1:{}", self.scheme(), self.port)
    }

    fn scheme(&self) -> &'static str {
        if self.tls {
            "rediss"
        } else {
            "redis"
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the server at once (SIGKILL, like a crash), to test "Redis is down".
    pub fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.stop();
        }
    }

    /// Starts it again on the same port and directory (AOF data survives when enabled).
    pub fn restart(&mut self) -> Result<()> {
        self.stop();
        self.launch()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
