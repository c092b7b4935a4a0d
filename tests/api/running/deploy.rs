//! The ways users deploy the service (docs/OPERATIONS.md "Deploy"): an OCI registry round trip
//! under real Spin, and the SpinKube manifests in `deploy/` checked against `spin.toml` and that
//! document.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::json;

use spin_test_host::RedisServer;

use crate::helpers::{manifest, manifest_path, real_spin, skip};

/// Variables that hold credentials: on Kubernetes they may only come from a Secret.
const CREDENTIALS: &[&str] = &["redis_password", "api_token"];

fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The reference the `spin registry push` command of docs/OPERATIONS.md pushes to.
fn documented_push_reference() -> String {
    let doc = std::fs::read_to_string(repo_file("docs/OPERATIONS.md")).unwrap();
    let line = doc
        .lines()
        .find(|l| l.trim_start().starts_with("spin registry push "))
        .expect("docs/OPERATIONS.md shows a `spin registry push` command");
    line.split_whitespace().last().unwrap().to_owned()
}

fn spinapp() -> serde_yaml::Value {
    let text = std::fs::read_to_string(repo_file("deploy/spinapp.yaml")).expect("deploy/spinapp.yaml");
    serde_yaml::from_str(&text).expect("deploy/spinapp.yaml is YAML")
}

#[test]
fn the_spinkube_manifest_matches_spin_toml_and_keeps_credentials_in_a_secret() {
    let app = spinapp();
    assert_eq!(app["apiVersion"].as_str(), Some("core.spinkube.dev/v1alpha1"));
    assert_eq!(app["kind"].as_str(), Some("SpinApp"));
    let spec = &app["spec"];
    assert_eq!(spec["executor"].as_str(), Some("containerd-shim-spin"));
    assert_eq!(
        spec["image"].as_str(),
        Some(documented_push_reference().as_str()),
        "the image is what docs/OPERATIONS.md pushes"
    );
    // The operator refuses both: replicas are fixed, or left to an autoscaler.
    let autoscaled = spec["enableAutoscaling"].as_bool() == Some(true);
    assert!(spec["replicas"].as_u64().is_some() != autoscaled, "either replicas or enableAutoscaling");

    let declared = &manifest().variables;
    let mut named = Vec::new();
    for variable in spec["variables"].as_sequence().expect("spec.variables") {
        let name = variable["name"].as_str().expect("a variable name");
        assert!(declared.contains_key(name), "{name} is not a variable of spin.toml");
        let literal = variable.get("value").is_some();
        let from_secret = variable["valueFrom"]["secretKeyRef"]["name"].is_string()
            && variable["valueFrom"]["secretKeyRef"]["key"].is_string();
        assert!(literal != from_secret, "{name}: exactly one of value and valueFrom.secretKeyRef");
        if CREDENTIALS.contains(&name) {
            assert!(from_secret, "{name} must come from a Secret, never a literal");
        }
        named.push(name);
    }
    for required in ["redis_address", "redis_password", "api_token"] {
        assert!(named.contains(&required), "{required} is not set");
    }
    let address =
        spec["variables"].as_sequence().unwrap().iter().find(|v| v["name"].as_str() == Some("redis_address")).unwrap();
    let address = address["value"].as_str().expect("redis_address is an address, not a secret");
    assert!(!address.contains('@'), "no credentials in redis_address: Spin cannot match that allowed host");

    // The autoscaler targets the Deployment the operator names after the SpinApp.
    let hpa: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(repo_file("deploy/hpa.yaml")).unwrap()).unwrap();
    assert_eq!(hpa["spec"]["scaleTargetRef"]["name"], app["metadata"]["name"]);
    assert_eq!(hpa["spec"]["scaleTargetRef"]["kind"].as_str(), Some("Deployment"));
}

/// Debian's `docker-registry` (the CNCF distribution registry) on a free loopback port.
struct Registry {
    address: String,
    _process: real_spin::Guarded,
    dir: PathBuf,
}

impl Registry {
    fn start() -> Registry {
        let binary = ["docker-registry", "registry"]
            .into_iter()
            .find(|b| Command::new(b).arg("--version").output().is_ok_and(|o| o.status.success()))
            .expect("an OCI registry to test against: install Debian's docker-registry package");
        let dir = real_spin::scratch_dir("registry");
        let port = real_spin::free_port();
        let config = dir.join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
                dir.join("data").display()
            ),
        )
        .unwrap();
        let mut command = Command::new(binary);
        command.arg("serve").arg(&config);
        let process = real_spin::Guarded::spawn(&mut command, &dir.join("registry.out"));
        assert!(
            real_spin::wait_for_port(port, Duration::from_secs(30), || process.is_running()),
            "the registry did not start: {}",
            std::fs::read_to_string(dir.join("registry.out")).unwrap_or_default()
        );
        Registry { address: format!("127.0.0.1:{port}"), _process: process, dir }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// docs/OPERATIONS.md "OCI registry", as a user does it: `spin registry push` with one Spin
/// (`SPIN_BIN`), `spin up -f <reference>` with another (`SPIN_PULL_BIN`, default the same; CI pushes
/// with 4.0.2 and runs with 3.6.3, what SpinKube runs), then the service answers over HTTP.
#[test]
fn registry_round_trip_push_with_one_spin_and_run_with_another() {
    let Some(push_spin) = real_spin::spin_bin() else {
        skip("needs the Spin CLI (SPIN_BIN)");
        return;
    };
    let pull_spin =
        std::env::var_os("SPIN_PULL_BIN").filter(|v| !v.is_empty()).map_or(push_spin.clone(), PathBuf::from);
    real_spin::build_once(&push_spin, &manifest_path());
    let registry = Registry::start();
    let reference = format!("{}/user-session-service:0.1.0", registry.address);

    let out = Command::new(&push_spin)
        .args(["registry", "push", "--insecure", "--from"])
        .arg(manifest_path())
        .arg(&reference)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "spin registry push: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let redis = RedisServer::start().unwrap();
    let up = real_spin::SpinUp::start_from(
        &pull_spin,
        &reference,
        &["--insecure"],
        &[("SPIN_VARIABLE_REDIS_ADDRESS", &redis.url())],
        false,
    );
    let client = reqwest::blocking::Client::new();
    let url = |path: &str| format!("{}{path}", up.url());
    let res = client.post(url("/create_user")).json(&json!({ "nom": "Registre", "prenom": "Oci" })).send().unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(res.text().unwrap(), "{\"message\":\"Utilisateur cr\\u00e9\\u00e9\",\"user_id\":1}\n");
    let res = client.get(url("/v1/users/1")).send().unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<serde_json::Value>().unwrap()["nom"], "Registre");
    assert_eq!(client.get(url("/healthz")).send().unwrap().status(), 200);
}

/// `spin up --variable @file.json` (every variable from one file) and `--variable name=@file` (one
/// secret from its own file, with the line break a Secret file usually ends with), the delivery
/// docs/OPERATIONS.md recommends under the Spin CLI: Spin's static provider answers them, so no
/// variable goes to the environment provider, which blocks a worker thread for each one on every
/// request (benches/README.md). The service is configured by them alone: Redis credentials, the
/// API token and the tuning all take effect.
#[test]
fn variables_given_in_files_configure_the_service_under_real_spin() {
    let Some(spin) = real_spin::spin_bin() else {
        skip("needs the Spin CLI (SPIN_BIN)");
        return;
    };
    real_spin::build_once(&spin, &manifest_path());
    let redis = RedisServer::start_with_args(&["--requirepass", "file-secret"]).unwrap();
    let dir = real_spin::scratch_dir("variables-files");
    let all = dir.join("variables.json");
    let values = json!({
        "redis_address": redis.url(),
        "redis_username": "",
        "redis_password": "file-secret",
        "tuning": "max_page_size=60",
    });
    std::fs::write(&all, values.to_string()).unwrap();
    let token_file = dir.join("api_token");
    std::fs::write(&token_file, "from-a-file\n").unwrap();
    // Every declared variable is given, so none falls through to the environment provider.
    let declared: Vec<&String> = manifest().variables.keys().collect();
    let given: Vec<&str> = values.as_object().unwrap().keys().map(String::as_str).chain(["api_token"]).collect();
    assert!(declared.iter().all(|name| given.contains(&name.as_str())), "{declared:?} vs {given:?}");

    let all_arg = format!("@{}", all.display());
    let token_arg = format!("api_token=@{}", token_file.display());
    let up = real_spin::SpinUp::start_from(
        &spin,
        &manifest_path().display().to_string(),
        &["--variable", &all_arg, "--variable", &token_arg],
        &[],
        false,
    );
    let client = reqwest::blocking::Client::new();
    let get = |path: &str, token: Option<&str>| {
        let request = client.get(format!("{}{path}", up.url()));
        let request = match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        request.send().unwrap().status().as_u16()
    };
    assert_eq!(get("/v1/users", None), 401, "the API token from its file is required");
    // The file ends with a line break, which the service trims (a header cannot carry one).
    assert_eq!(get("/v1/users?limit=60", Some("from-a-file")), 200, "Redis answers with the password from the file");
    assert_eq!(get("/v1/users?limit=61", Some("from-a-file")), 400, "the tuning from the file applies");
    assert_eq!(get("/healthz", None), 200);
}
