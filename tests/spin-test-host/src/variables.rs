//! Spin variables: application variables with defaults, overridden by `SPIN_VARIABLE_<NAME>`
//! environment variables (Spin's environment provider), and component variables that are templates
//! over them (`"{{ redis_address }}"`).

use std::collections::BTreeMap;

use anyhow::{bail, Result};

use crate::manifest::Manifest;

/// Spin's rule for variable names: lowercase ASCII letters, digits and underscores, starting with a
/// letter, no trailing or double underscores.
pub fn check_name(name: &str) -> Result<()> {
    let ok = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.ends_with('_')
        && !name.contains("__");
    if !ok {
        bail!(
            "invalid variable name {name:?}: lowercase letters, digits and single underscores, starting with a letter"
        );
    }
    Ok(())
}

/// The resolved application variables of one `serve`.
#[derive(Debug, Clone)]
pub struct Resolver {
    app: BTreeMap<String, String>,
    component: BTreeMap<String, String>,
    /// The application variables each component variable's template names, in order.
    references: BTreeMap<String, Vec<String>>,
}

impl Resolver {
    /// Resolves every application variable from `env` (`SPIN_VARIABLE_<UPPERCASE NAME>`) or its
    /// default. A required variable with no value is an error at start-up, as with `spin up`.
    pub fn new(manifest: &Manifest, env: &BTreeMap<String, String>) -> Result<Resolver> {
        let mut app = BTreeMap::new();
        for (name, var) in &manifest.variables {
            let from_env = env.get(&format!("SPIN_VARIABLE_{}", name.to_uppercase()));
            match from_env.or(var.default.as_ref()) {
                Some(value) => {
                    app.insert(name.clone(), value.clone());
                }
                None => bail!("required variable {name:?} has no value (set SPIN_VARIABLE_{})", name.to_uppercase()),
            }
        }
        let mut resolver = Resolver { app, component: BTreeMap::new(), references: BTreeMap::new() };
        for (name, template) in &manifest.component_variables {
            let value = resolver.expand(template)?;
            resolver.component.insert(name.clone(), value);
            resolver.references.insert(name.clone(), references(template));
        }
        Ok(resolver)
    }

    /// Expands `{{ name }}` references to application variables in a template.
    pub fn expand(&self, template: &str) -> Result<String> {
        let mut out = String::new();
        let mut rest = template;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let Some(end) = rest[start..].find("}}") else { bail!("unclosed '{{{{' in template {template:?}") };
            let name = rest[start + 2..start + end].trim();
            let value = self
                .app
                .get(name)
                .ok_or_else(|| anyhow::anyhow!("template {template:?} names undefined variable {name:?}"))?;
            out.push_str(value);
            rest = &rest[start + end + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// The application variables that resolving this component variable asks for: Spin asks its
    /// providers once per `{{ name }}` of the template, at every `get`.
    pub fn references(&self, component_variable: &str) -> &[String] {
        self.references.get(component_variable).map_or(&[], Vec::as_slice)
    }

    /// Every application variable.
    pub fn application_variables(&self) -> impl Iterator<Item = &String> {
        self.app.keys()
    }

    /// A component variable's value, as `fermyon:spin/variables.get` answers it.
    pub fn component_variable(&self, name: &str) -> Option<&str> {
        self.component.get(name).map(String::as_str)
    }
}

/// The names a template refers to (`{{ name }}`), in order.
pub fn references(template: &str) -> Vec<String> {
    template.split("{{").skip(1).filter_map(|part| Some(part.split_once("}}")?.0.trim().to_owned())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::AppVariable;

    fn manifest() -> Manifest {
        let var = |default: Option<&str>| AppVariable {
            default: default.map(str::to_owned),
            required: default.is_none(),
            secret: false,
            description: None,
        };
        Manifest {
            dir: ".".into(),
            variables: [
                ("redis_address".to_owned(), var(Some("redis://127.0.0.1:6379"))),
                ("port".to_owned(), var(Some("1"))),
            ]
            .into(),
            component_id: "c".into(),
            route: "/...".into(),
            source: "x.wasm".into(),
            allowed_outbound_hosts: vec![],
            component_variables: [
                ("redis_address".to_owned(), "{{ redis_address }}".to_owned()),
                ("mixed".to_owned(), "a{{port}}b{{ port }}".to_owned()),
            ]
            .into(),
            build: None,
        }
    }

    #[test]
    fn defaults_templates_and_env_overrides() {
        let r = Resolver::new(&manifest(), &BTreeMap::new()).unwrap();
        assert_eq!(r.component_variable("redis_address"), Some("redis://127.0.0.1:6379"));
        assert_eq!(r.component_variable("mixed"), Some("a1b1"));
        assert_eq!(r.component_variable("port"), None, "only component variables are visible");
        let env = [("SPIN_VARIABLE_REDIS_ADDRESS".to_owned(), "redis://10.0.0.1:1".to_owned())].into();
        let r = Resolver::new(&manifest(), &env).unwrap();
        assert_eq!(r.component_variable("redis_address"), Some("redis://10.0.0.1:1"));
        assert_eq!(r.expand("x{{ redis_address }}").unwrap(), "xredis://10.0.0.1:1");
        assert!(r.expand("{{ nope }}").is_err());
    }

    #[test]
    fn required_variables_must_be_set() {
        let mut m = manifest();
        m.variables
            .insert("token".into(), AppVariable { default: None, required: true, secret: true, description: None });
        assert!(Resolver::new(&m, &BTreeMap::new()).is_err());
        let env = [("SPIN_VARIABLE_TOKEN".to_owned(), "t".to_owned())].into();
        assert!(Resolver::new(&m, &env).is_ok());
    }

    #[test]
    fn names() {
        for ok in ["a", "redis_address", "a1_b2"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "A", "1a", "_a", "a_", "a__b", "a-b"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
