//! Configuration, read from the Spin variables declared in `spin.toml`. Nothing is hard-coded:
//! `SPIN_VARIABLE_<NAME>` overrides a default at `spin up` time.
//!
//! Under Spin, the first variable a request resolves costs about 100 µs of host CPU (Spin 4.0.2's
//! environment provider moves each resolution off its async thread), and each further `{{ name }}`
//! about 4 µs more, counted per reference. So `spin.toml` joins the settings into two component
//! variables, read by lookup: `access`, the four that nearly every request needs (where Redis is,
//! its credentials, the API token), read once by `Config::load`; and `limits`, the service's
//! tuning, read only by a request that needs one of them (`Config::limits`). A request whose input
//! stays within the limits' floors never reads `limits` at all.

use std::cell::OnceCell;

use spin_sdk::variables;

/// What can be wrong with the configuration. Never shown to clients (it is logged): a misconfigured
/// deployment answers 500.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the {variable} variable: {reason}")]
    Unreadable { variable: &'static str, reason: String },
    #[error("the {variable} variable has {lines} lines, expected {expected} (see spin.toml)")]
    WrongShape { variable: &'static str, lines: usize, expected: usize },
    #[error("the {name} variable must be a positive integer, not {value:?}")]
    NotAPositiveInteger { name: &'static str, value: String },
    #[error("redis_address must look like redis://host:port")]
    RedisAddressMalformed,
    #[error(
        "redis_address must not carry credentials (Spin could not match it in allowed_outbound_hosts): \
         set redis_username / redis_password instead"
    )]
    RedisAddressWithCredentials,
}

/// The `access` settings, one a line in `spin.toml`'s order, and the tuning (`limits`) when a
/// request has needed it. `redis_password` comes last in `access` since it may contain anything
/// (even a line break). Numbers are kept as text and parsed when used, so that a bad value only
/// fails the requests that need it.
#[derive(Debug, Clone)]
pub struct Config {
    redis_address: String,
    redis_username: String,
    /// The bearer token every request but `/healthz` must present; empty means no access control.
    /// It cannot contain a line break (it travels in an HTTP header).
    pub api_token: String,
    redis_password: String,
    limits: OnceCell<Limits>,
}

/// The `limits` variable's settings, one a line in `spin.toml`'s order.
#[derive(Debug, Clone, Default)]
pub struct Limits {
    session_ttl_seconds: String,
    session_max_ttl_seconds: String,
    max_body_bytes: String,
    max_name_chars: String,
    max_session_data_bytes: String,
    max_session_data_depth: String,
    max_session_id_bytes: String,
    max_page_size: String,
}

/// Every setting empty, `limits` included (nothing is read from Spin): any input beyond a floor is
/// then an error. For running the handlers natively (the fuzz target), where Spin is not there.
impl Default for Config {
    fn default() -> Self {
        Config {
            redis_address: String::new(),
            redis_username: String::new(),
            api_token: String::new(),
            redis_password: String::new(),
            limits: OnceCell::from(Limits::default()),
        }
    }
}

/// Reads a component variable and splits it into exactly `N` lines; the last takes the rest.
fn lines<const N: usize>(variable: &'static str, joined: &str) -> Result<[String; N], ConfigError> {
    let lines: Vec<String> = joined.splitn(N, '\n').map(str::to_owned).collect();
    let count = lines.len();
    lines.try_into().map_err(|_| ConfigError::WrongShape { variable, lines: count, expected: N })
}

fn read(variable: &'static str) -> Result<String, ConfigError> {
    if cfg!(feature = "bench-skip-variable-lookups") {
        // `benches/run parts` bakes the values Spin would give in at build time, as `name\x1fvalue`
        // records separated by `\x1e`, to time a request without lookups.
        let mut baked = option_env!("BENCH_SPIN_VARIABLES").unwrap_or_default().split('\x1e');
        let value = baked.find_map(|record| record.strip_prefix(variable)?.strip_prefix('\x1f'));
        return value.map(str::to_owned).ok_or(ConfigError::Unreadable { variable, reason: "not baked in".into() });
    }
    variables::get(variable).map_err(|e| ConfigError::Unreadable { variable, reason: e.to_string() })
}

impl Config {
    /// Reads the `access` settings: the request's one variable lookup, most of the time.
    pub fn load() -> Result<Config, ConfigError> {
        Config::parse(&read("access")?)
    }

    /// Splits the `access` variable into its settings.
    pub fn parse(joined: &str) -> Result<Config, ConfigError> {
        let [redis_address, redis_username, api_token, redis_password] = lines("access", joined)?;
        Ok(Config { redis_address, redis_username, api_token, redis_password, limits: OnceCell::new() })
    }

    /// The tuning settings, read from the `limits` variable the first time a request needs one.
    pub fn limits(&self) -> Result<&Limits, ConfigError> {
        if let Some(limits) = self.limits.get() {
            return Ok(limits);
        }
        let limits = Limits::parse(&read("limits")?)?;
        Ok(self.limits.get_or_init(|| limits))
    }

    /// The Redis URL to connect to: `redis_address` (`redis[s]://host:port`) with `redis_username`
    /// and `redis_password` as its userinfo.
    ///
    /// The credentials are separate variables because Spin matches `allowed_outbound_hosts`
    /// entries without recognising userinfo: the entry templated from an address with a password
    /// in it would allow nothing.
    pub fn redis_url(&self) -> Result<String, ConfigError> {
        let address = self.redis_address.as_str();
        let (scheme, host) = address.split_once("://").ok_or(ConfigError::RedisAddressMalformed)?;
        if host.contains('@') {
            return Err(ConfigError::RedisAddressWithCredentials);
        }
        let userinfo = match (self.redis_username.as_str(), self.redis_password.as_str()) {
            ("", "") => return Ok(address.to_owned()),
            (user, "") => format!("{}@", encode(user)),
            (user, password) => format!("{}:{}@", encode(user), encode(password)),
        };
        Ok(format!("{scheme}://{userinfo}{host}"))
    }

    /// How long a `/v1` session lives when the client does not say (`session_ttl_seconds`).
    pub fn session_ttl_seconds(&self) -> Result<u64, ConfigError> {
        positive_integer("session_ttl_seconds", &self.limits()?.session_ttl_seconds)
    }

    /// The longest life a client may ask for a `/v1` session (`session_max_ttl_seconds`).
    pub fn session_max_ttl_seconds(&self) -> Result<u64, ConfigError> {
        positive_integer("session_max_ttl_seconds", &self.limits()?.session_max_ttl_seconds)
    }
}

impl Limits {
    /// Splits the `limits` variable into its settings.
    pub fn parse(joined: &str) -> Result<Limits, ConfigError> {
        let [session_ttl_seconds, session_max_ttl_seconds, max_body_bytes, max_name_chars, max_session_data_bytes, max_session_data_depth, max_session_id_bytes, max_page_size] =
            lines("limits", joined)?;
        Ok(Limits {
            session_ttl_seconds,
            session_max_ttl_seconds,
            max_body_bytes,
            max_name_chars,
            max_session_data_bytes,
            max_session_data_depth,
            max_session_id_bytes,
            max_page_size,
        })
    }
}

/// Percent-encodes a URL userinfo part: everything but unreserved characters.
fn encode(part: &str) -> String {
    const USERINFO: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
    percent_encoding::utf8_percent_encode(part, USERINFO).to_string()
}

/// A limit on client input that operators tune with a Spin variable (default in `spin.toml`), but
/// never below `floor`. Inputs within the floor are accepted without reading the setting, so a
/// misconfigured limit only fails the requests that reach it, and the others never read `limits`.
pub struct Limit {
    pub variable: &'static str,
    pub floor: u64,
    setting: fn(&Limits) -> &str,
}

impl Limit {
    /// `Ok(())` when `size` is within the limit, else `Err(limit)`.
    pub fn check(&self, config: &Config, size: u64) -> Result<Result<(), u64>, ConfigError> {
        if size <= self.floor {
            return Ok(Ok(()));
        }
        let limit = self.value(config)?;
        Ok(if size <= limit { Ok(()) } else { Err(limit) })
    }

    /// The limit in force: the setting, raised to the floor.
    pub fn value(&self, config: &Config) -> Result<u64, ConfigError> {
        Ok(positive_integer(self.variable, (self.setting)(config.limits()?))?.max(self.floor))
    }
}

/// Request body size in bytes (413 beyond).
pub const MAX_BODY_BYTES: Limit = Limit { variable: "max_body_bytes", floor: 4096, setting: |c| &c.max_body_bytes };
/// `nom` / `prenom` length in characters (422 beyond).
pub const MAX_NAME_CHARS: Limit = Limit { variable: "max_name_chars", floor: 64, setting: |c| &c.max_name_chars };
/// Session `data` size in bytes, as stored (413 beyond).
pub const MAX_SESSION_DATA_BYTES: Limit =
    Limit { variable: "max_session_data_bytes", floor: 1024, setting: |c| &c.max_session_data_bytes };
/// Session `data` nesting depth (422 beyond).
pub const MAX_SESSION_DATA_DEPTH: Limit =
    Limit { variable: "max_session_data_depth", floor: 4, setting: |c| &c.max_session_data_depth };
/// Session id length in bytes, for ids chosen by clients of `/create_session` (400 beyond) and
/// ids in paths (404 beyond: no such session can exist).
pub const MAX_SESSION_ID_BYTES: Limit =
    Limit { variable: "max_session_id_bytes", floor: 64, setting: |c| &c.max_session_id_bytes };
/// The largest `limit` of a `/v1/users` page (400 beyond).
pub const MAX_PAGE_SIZE: Limit = Limit { variable: "max_page_size", floor: 50, setting: |c| &c.max_page_size };

fn positive_integer(name: &'static str, value: &str) -> Result<u64, ConfigError> {
    value
        .trim()
        .parse::<u64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ConfigError::NotAPositiveInteger { name, value: value.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(address: &str, username: &str, password: &str) -> Config {
        let config = Config::parse(&format!("{address}\n{username}\ntoken\n{password}")).unwrap();
        let limits = Limits::parse("3600\n2592000\n65536\n200\n16384\n32\n128\n1000").unwrap();
        config.limits.set(limits).unwrap();
        config
    }

    #[test]
    fn settings_come_one_a_line_with_the_password_last() {
        let c = config("redis://h:1", "app", "pa\nss");
        assert_eq!(c.api_token, "token");
        assert_eq!(c.redis_password, "pa\nss");
        assert_eq!(c.session_ttl_seconds().unwrap(), 3600);
        assert_eq!(MAX_PAGE_SIZE.value(&c).unwrap(), 1000);
        assert!(matches!(Config::parse("redis://h:1\n"), Err(ConfigError::WrongShape { lines: 2, .. })));
        assert!(matches!(Limits::parse("1\n2\n3"), Err(ConfigError::WrongShape { lines: 3, expected: 8, .. })));
    }

    #[test]
    fn inputs_within_a_floor_need_no_setting() {
        // No `limits` (its settings empty): within the floor is fine, beyond it is an error.
        let c = Config::default();
        assert!(matches!(MAX_BODY_BYTES.check(&c, 4096), Ok(Ok(()))));
        assert!(matches!(MAX_BODY_BYTES.check(&c, 4097), Err(ConfigError::NotAPositiveInteger { .. })));
    }

    #[test]
    fn credentials_join_the_address() {
        let url = |a: &str, u: &str, p: &str| config(a, u, p).redis_url().map_err(|e| e.to_string());
        assert_eq!(url("redis://127.0.0.1:6379", "", "").unwrap(), "redis://127.0.0.1:6379");
        assert_eq!(url("redis://h:1", "", "s3cret").unwrap(), "redis://:s3cret@h:1");
        assert_eq!(url("rediss://h:1", "app", "p@ss:w#rd/").unwrap(), "rediss://app:p%40ss%3Aw%23rd%2F@h:1");
        assert_eq!(url("redis://h:1", "app", "").unwrap(), "redis://app@h:1");
        assert!(url("redis://:s3cret@h:1", "", "").unwrap_err().contains("must not carry credentials"));
        assert!(!url("redis://:s3cret@h:1", "", "").unwrap_err().contains("s3cret"));
        assert!(url("h:1", "", "").is_err());
    }
}
