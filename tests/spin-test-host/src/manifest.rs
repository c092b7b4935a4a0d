//! Reading `spin.toml` (manifest version 2): the parts a single-component HTTP app uses.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    spin_manifest_version: u32,
    application: toml::Table,
    #[serde(default)]
    variables: BTreeMap<String, AppVariable>,
    #[serde(default)]
    trigger: BTreeMap<String, Vec<RawTrigger>>,
    #[serde(default)]
    component: BTreeMap<String, RawComponent>,
}

/// An application variable: `{ default = "..." }` or `{ required = true }`, optionally `secret`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppVariable {
    pub default: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub secret: bool,
    pub description: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RawTrigger {
    route: String,
    component: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComponent {
    source: String,
    #[serde(default)]
    allowed_outbound_hosts: Vec<String>,
    #[serde(default)]
    variables: BTreeMap<String, String>,
    build: Option<BuildConfig>,
    #[allow(dead_code)]
    description: Option<String>,
}

/// `[component.<id>.build]`, as `spin build` runs it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildConfig {
    pub command: String,
    pub workdir: Option<String>,
    #[serde(default)]
    pub watch: Vec<String>,
}

/// The one HTTP-triggered component of an app, resolved against the manifest's directory.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub dir: PathBuf,
    pub variables: BTreeMap<String, AppVariable>,
    pub component_id: String,
    /// The trigger route, e.g. `/...` or `/api/...`.
    pub route: String,
    pub source: PathBuf,
    pub allowed_outbound_hosts: Vec<String>,
    /// Component variables: name → template over application variables.
    pub component_variables: BTreeMap<String, String>,
    pub build: Option<BuildConfig>,
}

impl Manifest {
    pub fn load(path: &Path) -> Result<Manifest> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let raw: RawManifest = toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        if raw.spin_manifest_version != 2 {
            bail!("spin_manifest_version must be 2, found {}", raw.spin_manifest_version);
        }
        if !raw.application.contains_key("name") {
            bail!("[application] has no name");
        }
        for (name, var) in &raw.variables {
            crate::variables::check_name(name)?;
            if var.required == var.default.is_some() {
                bail!("variable {name:?} must have either a default or required = true");
            }
        }
        let triggers: Vec<&RawTrigger> = raw
            .trigger
            .iter()
            .flat_map(|(kind, triggers)| if kind == "http" { triggers.iter().collect() } else { Vec::new() })
            .collect();
        let [trigger] = triggers.as_slice() else {
            bail!("this test host serves exactly one [[trigger.http]], found {}", triggers.len());
        };
        if !trigger.route.starts_with('/') {
            bail!("route {:?} must start with '/'", trigger.route);
        }
        let component = raw
            .component
            .get(&trigger.component)
            .with_context(|| format!("trigger names component {:?}, which is not defined", trigger.component))?;
        for name in component.variables.keys() {
            crate::variables::check_name(name)?;
        }
        // `spin.toml` has an empty parent (`""`), which no command can run in: that is `.`.
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf();
        Ok(Manifest {
            source: dir.join(&component.source),
            dir,
            variables: raw.variables,
            component_id: trigger.component.clone(),
            route: trigger.route.clone(),
            allowed_outbound_hosts: component.allowed_outbound_hosts.clone(),
            component_variables: component.variables.clone(),
            build: component.build.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Manifest> {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("spin-test-host-manifest-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("spin.toml");
        std::fs::write(&path, text).unwrap();
        Manifest::load(&path)
    }

    const GOOD: &str = r#"
spin_manifest_version = 2
[application]
name = "app"
[variables]
redis_address = { default = "redis://127.0.0.1:6379" }
token = { required = true, secret = true }
[[trigger.http]]
route = "/api/..."
component = "svc"
[component.svc]
source = "target/app.wasm"
allowed_outbound_hosts = ["{{ redis_address }}"]
[component.svc.variables]
redis_address = "{{ redis_address }}"
[component.svc.build]
command = "cargo build"
watch = ["src/**/*.rs"]
"#;

    #[test]
    fn reads_a_manifest() {
        let m = load(GOOD).unwrap();
        assert_eq!(m.component_id, "svc");
        assert_eq!(m.route, "/api/...");
        assert!(m.source.ends_with("target/app.wasm"));
        assert_eq!(m.allowed_outbound_hosts, ["{{ redis_address }}"]);
        assert_eq!(m.component_variables["redis_address"], "{{ redis_address }}");
        assert!(m.variables["token"].required && m.variables["token"].secret);
        assert_eq!(m.build.unwrap().command, "cargo build");
    }

    #[test]
    fn rejects_bad_manifests() {
        assert!(load(&GOOD.replace("spin_manifest_version = 2", "spin_manifest_version = 1")).is_err());
        assert!(load(&GOOD.replace("component = \"svc\"", "component = \"nope\"")).is_err());
        assert!(load(&GOOD.replace("{ required = true, secret = true }", "{ secret = true }")).is_err());
        assert!(load(&GOOD.replace("allowed_outbound_hosts", "allowed_outbound_hostz")).is_err());
        assert!(load(&GOOD.replace("[component.svc.variables]\nredis_address", "[component.svc.variables]\nRedis"))
            .is_err());
    }
}
