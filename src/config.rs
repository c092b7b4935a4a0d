//! Configuration, read from the Spin variables declared in `spin.toml`: `redis_address`,
//! `redis_username`, `redis_password`, `api_token` and `tuning`. `SPIN_VARIABLE_<NAME>` (or a
//! platform's own way of setting variables) overrides a default at deploy time.
//!
//! Under Spin every application variable costs host CPU on every request that opens Redis (Spin
//! resolves them all to check `allowed_outbound_hosts`), and every `{{ name }}` the component reads
//! costs again. So the service has few application variables, and the component reads them all
//! through one component variable, `settings`, with one lookup per request: one `name=value` line
//! per variable (see `spin.toml`).
//!
//! Settings are found by name, never by position, and the service fails closed: a value with a line
//! break inside, a number that does not parse, an unknown or repeated name make `Config::load` fail,
//! and every request answers 500 with a log line naming the setting. One line break (`\n` or `\r\n`)
//! at the end of a value is trimmed: a secret made from a file (`kubectl create secret
//! --from-file`) usually ends with one.

use spin_sdk::variables;

/// The component variable that holds every setting (see `spin.toml`).
const SETTINGS_VARIABLE: &str = "settings";

/// What can be wrong with the configuration. Never shown to clients (it is logged): a misconfigured
/// deployment answers 500 to every request.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the `settings` component variable: {0}")]
    Unreadable(String),
    #[error("the `{0}` setting is missing from the `settings` component variable (see spin.toml)")]
    Missing(&'static str),
    #[error("the `{0}` setting appears twice: a line break inside the value before it?")]
    Repeated(String),
    #[error("unknown setting `{0}`: a line break inside the value before it, or a typo in spin.toml?")]
    Unknown(String),
    #[error("the `{0}` variable has a line break inside its value (only one at its end is trimmed)")]
    LineBreak(&'static str),
    #[error("the `tuning` variable: `{0}` is not a setting (known: {known})", known = TUNING_NAMES.join(", "))]
    UnknownTuning(String),
    #[error("the `tuning` variable sets `{0}` twice")]
    RepeatedTuning(String),
    #[error("the `tuning` variable: `{name}` must be a positive integer, not {value:?}")]
    NotAPositiveInteger { name: &'static str, value: String },
    #[error("the `tuning` variable: {0:?} is not `name=value`")]
    MalformedTuning(String),
    #[error("redis_address must look like redis://host:port or rediss://host:port")]
    RedisAddressMalformed,
    #[error(
        "redis_address must not carry credentials (Spin could not match it in allowed_outbound_hosts): \
         set redis_username / redis_password instead"
    )]
    RedisAddressWithCredentials,
    #[error("api_token: a token has a character that cannot travel in an HTTP header (position {0})")]
    TokenMalformed(usize),
    #[error("api_token is set but holds no token (only separators)")]
    NoToken,
}

/// The service's settings, parsed and checked.
#[derive(Debug, Clone)]
pub struct Config {
    redis_address: String,
    redis_username: String,
    redis_password: String,
    /// The bearer tokens any of which a request must present (every route but `/healthz`); empty
    /// means no access control, for local use only.
    pub api_tokens: Vec<String>,
    tuning: Tuning,
}

/// The `settings` lines, by name.
const SETTING_NAMES: [&str; 5] = ["redis_address", "redis_username", "redis_password", "api_token", "tuning"];

/// Every setting at its default and no Redis address: for running the handlers natively (the fuzz
/// target), where Spin is not there.
impl Default for Config {
    fn default() -> Self {
        Config {
            redis_address: String::new(),
            redis_username: String::new(),
            redis_password: String::new(),
            api_tokens: Vec::new(),
            tuning: Tuning::default(),
        }
    }
}

impl Config {
    /// Reads and checks every setting: the request's one variable lookup.
    pub fn load() -> Result<Config, ConfigError> {
        Config::parse(&lookup(SETTINGS_VARIABLE)?)
    }

    /// Parses the `settings` text: `name=value` lines. A line that does not start with a known
    /// `name=` continues the value before it, and so is a line break inside that value.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let mut values: [Option<String>; SETTING_NAMES.len()] = Default::default();
        let mut current: Option<usize> = None;
        for line in lines(text) {
            let setting = split_at(line, b'=').filter(|(name, _)| is_setting_name(name));
            match (setting, current) {
                (Some((name, value)), _) => {
                    let index = SETTING_NAMES
                        .iter()
                        .position(|known| *known == name)
                        .ok_or_else(|| ConfigError::Unknown(name.to_owned()))?;
                    if values[index].is_some() {
                        return Err(ConfigError::Repeated(name.to_owned()));
                    }
                    values[index] = Some(value.to_owned());
                    current = Some(index);
                }
                (None, Some(index)) => {
                    let value = values[index].as_mut().expect("the current setting has a value");
                    value.push('\n');
                    value.push_str(line);
                }
                // Blank lines before the first setting (a template's leading newline).
                (None, None) if line.trim().is_empty() => {}
                (None, None) => return Err(ConfigError::Unknown(line.chars().take(40).collect())),
            }
        }
        let mut values = values.into_iter().zip(SETTING_NAMES).map(|(value, name)| {
            let value = value.ok_or(ConfigError::Missing(name))?;
            let value = trim_final_line_break(&value);
            if value.bytes().any(|b| b == b'\n' || b == b'\r') {
                return Err(ConfigError::LineBreak(name));
            }
            Ok(value.to_owned())
        });
        let mut next = || values.next().expect("one value per setting name");
        let (redis_address, redis_username, redis_password, api_token, tuning) =
            (next()?, next()?, next()?, next()?, next()?);
        check_redis_address(&redis_address)?;
        Ok(Config {
            redis_address,
            redis_username,
            redis_password,
            api_tokens: api_tokens(&api_token)?,
            tuning: Tuning::parse(&tuning)?,
        })
    }

    /// The Redis URL to connect to: `redis_address` (`redis[s]://host:port`) with `redis_username`
    /// and `redis_password` as its userinfo.
    ///
    /// The credentials are separate variables because Spin matches `allowed_outbound_hosts`
    /// entries without recognising userinfo: the entry templated from an address with a password
    /// in it would allow nothing.
    pub fn redis_url(&self) -> Result<String, ConfigError> {
        let address = self.redis_address.as_str();
        let (scheme, host) = scheme_and_host(address).ok_or(ConfigError::RedisAddressMalformed)?;
        let userinfo = match (self.redis_username.as_str(), self.redis_password.as_str()) {
            ("", "") => return Ok(address.to_owned()),
            (user, "") => format!("{}@", encode(user)),
            (user, password) => format!("{}:{}@", encode(user), encode(password)),
        };
        Ok(format!("{scheme}://{userinfo}{host}"))
    }

    /// How long a `/v1` session lives when the client does not say (`session_ttl_seconds`).
    pub fn session_ttl_seconds(&self) -> u64 {
        self.tuning.session_ttl_seconds
    }

    /// The longest life a client may ask for a `/v1` session (`session_max_ttl_seconds`).
    pub fn session_max_ttl_seconds(&self) -> u64 {
        self.tuning.session_max_ttl_seconds
    }

    /// The longest absolute lifetime of a `/v1` session, and its default
    /// (`session_max_lifetime_seconds`): no refresh keeps a session past it.
    pub fn session_max_lifetime_seconds(&self) -> u64 {
        self.tuning.session_max_lifetime_seconds
    }

    /// How many live sessions a user may hold; creating one more evicts the oldest
    /// (`max_sessions_per_user`).
    pub fn max_sessions_per_user(&self) -> u64 {
        self.tuning.max_sessions_per_user
    }
}

fn lookup(variable: &str) -> Result<String, ConfigError> {
    if cfg!(feature = "bench-skip-variable-lookups") {
        // `benches/run parts` bakes the values Spin would give in at build time, as `name\x1fvalue`
        // records separated by `\x1e`, to time a request without lookups.
        let mut baked = option_env!("BENCH_SPIN_VARIABLES").unwrap_or_default().split('\x1e');
        let value = baked.find_map(|record| record.strip_prefix(variable)?.strip_prefix('\x1f'));
        return value.map(str::to_owned).ok_or_else(|| ConfigError::Unreadable(format!("{variable}: not baked in")));
    }
    variables::get(variable).map_err(|e| ConfigError::Unreadable(e.to_string()))
}

/// A name as `spin.toml` writes them: lowercase letters, digits and `_`, starting with a letter.
fn is_setting_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn trim_final_line_break(value: &str) -> &str {
    let value = value.strip_suffix('\n').unwrap_or(value);
    value.strip_suffix('\r').unwrap_or(value)
}

// The settings are parsed on every request, so the helpers below compare bytes: `str`'s pattern
// searchers (memchr, two-way) cost more than the whole parse of these few short lines in wasm.

/// The lines of `text`, split at `\n`.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.as_bytes().split(|b| *b == b'\n').map(|line| std::str::from_utf8(line).expect("split at an ASCII byte"))
}

/// `text` split around the first `byte` (ASCII), if it holds one.
fn split_at(text: &str, byte: u8) -> Option<(&str, &str)> {
    let at = text.bytes().position(|b| b == byte)?;
    Some((&text[..at], &text[at + 1..]))
}

/// `redis_address` split into its scheme and what follows `://`.
fn scheme_and_host(address: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = split_at(address, b':')?;
    Some((scheme, rest.strip_prefix("//")?))
}

fn check_redis_address(address: &str) -> Result<(), ConfigError> {
    let (scheme, host) = scheme_and_host(address).ok_or(ConfigError::RedisAddressMalformed)?;
    if !matches!(scheme, "redis" | "rediss") || host.is_empty() {
        return Err(ConfigError::RedisAddressMalformed);
    }
    if host.bytes().any(|b| b == b'@') {
        return Err(ConfigError::RedisAddressWithCredentials);
    }
    Ok(())
}

/// `api_token`: tokens separated by commas or whitespace, so that a new one can be added before the
/// old one is removed. Empty means no access control; set but holding no token is an error, never
/// an open service.
fn api_tokens(value: &str) -> Result<Vec<String>, ConfigError> {
    if value.is_empty() {
        return Ok(Vec::new());
    }
    let tokens: Vec<String> = value
        .split(|c: char| c == ',' || c.is_ascii_whitespace())
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect();
    if tokens.is_empty() {
        return Err(ConfigError::NoToken);
    }
    // A bearer token travels in a header: visible ASCII only.
    if let Some(position) = tokens.iter().position(|t| !t.bytes().all(|b| b.is_ascii_graphic())) {
        return Err(ConfigError::TokenMalformed(position + 1));
    }
    Ok(tokens)
}

/// Percent-encodes a URL userinfo part: everything but unreserved characters.
fn encode(part: &str) -> String {
    const USERINFO: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
    percent_encoding::utf8_percent_encode(part, USERINFO).to_string()
}

/// The service's tuning: `tuning` is a list of `name=value` overrides separated by commas or
/// whitespace (`max_body_bytes=131072, session_ttl_seconds=600`); a setting it does not name keeps
/// its default.
#[derive(Debug, Clone)]
struct Tuning {
    session_ttl_seconds: u64,
    session_max_ttl_seconds: u64,
    max_body_bytes: u64,
    max_name_chars: u64,
    max_session_data_bytes: u64,
    max_session_data_depth: u64,
    max_session_id_bytes: u64,
    max_page_size: u64,
    session_max_lifetime_seconds: u64,
    max_sessions_per_user: u64,
}

/// Every tuning setting's name, for messages.
const TUNING_NAMES: [&str; 10] = [
    "session_ttl_seconds",
    "session_max_ttl_seconds",
    "max_body_bytes",
    "max_name_chars",
    "max_session_data_bytes",
    "max_session_data_depth",
    "max_session_id_bytes",
    "max_page_size",
    "session_max_lifetime_seconds",
    "max_sessions_per_user",
];

/// The defaults, as docs/OPERATIONS.md documents them.
impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            session_ttl_seconds: 3600,
            session_max_ttl_seconds: 30 * 24 * 3600,
            max_body_bytes: 64 * 1024,
            max_name_chars: 200,
            max_session_data_bytes: 16 * 1024,
            max_session_data_depth: 32,
            max_session_id_bytes: 128,
            max_page_size: 1000,
            session_max_lifetime_seconds: 30 * 24 * 3600,
            max_sessions_per_user: 100,
        }
    }
}

impl Tuning {
    fn parse(text: &str) -> Result<Tuning, ConfigError> {
        let mut tuning = Tuning::default();
        let mut seen: Vec<&str> = Vec::new();
        for entry in text.split(|c: char| c == ',' || c.is_ascii_whitespace()).filter(|e| !e.is_empty()) {
            let (name, value) = entry.split_once('=').ok_or_else(|| ConfigError::MalformedTuning(entry.to_owned()))?;
            let index = TUNING_NAMES
                .iter()
                .position(|known| *known == name)
                .ok_or_else(|| ConfigError::UnknownTuning(name.to_owned()))?;
            if seen.contains(&name) {
                return Err(ConfigError::RepeatedTuning(name.to_owned()));
            }
            seen.push(name);
            let name = TUNING_NAMES[index];
            let number = value
                .parse::<u64>()
                .ok()
                .filter(|n| *n > 0 && !value.starts_with('+'))
                .ok_or_else(|| ConfigError::NotAPositiveInteger { name, value: value.to_owned() })?;
            *tuning.slot(name) = number;
        }
        if tuning.session_ttl_seconds > tuning.session_max_ttl_seconds {
            return Err(ConfigError::NotAPositiveInteger {
                name: "session_ttl_seconds",
                value: format!("{} (above session_max_ttl_seconds)", tuning.session_ttl_seconds),
            });
        }
        Ok(tuning)
    }

    fn slot(&mut self, name: &str) -> &mut u64 {
        match name {
            "session_ttl_seconds" => &mut self.session_ttl_seconds,
            "session_max_ttl_seconds" => &mut self.session_max_ttl_seconds,
            "max_body_bytes" => &mut self.max_body_bytes,
            "max_name_chars" => &mut self.max_name_chars,
            "max_session_data_bytes" => &mut self.max_session_data_bytes,
            "max_session_data_depth" => &mut self.max_session_data_depth,
            "max_session_id_bytes" => &mut self.max_session_id_bytes,
            "max_page_size" => &mut self.max_page_size,
            "session_max_lifetime_seconds" => &mut self.session_max_lifetime_seconds,
            "max_sessions_per_user" => &mut self.max_sessions_per_user,
            _ => unreachable!("only names from TUNING_NAMES reach here"),
        }
    }
}

/// A limit on client input that operators tune (`tuning`), but never below `floor`, so that no
/// setting can make the API unusable.
pub struct Limit {
    pub floor: u64,
    setting: fn(&Tuning) -> u64,
}

impl Limit {
    /// `Ok(())` when `size` is within the limit, else `Err(limit)`.
    pub fn check(&self, config: &Config, size: u64) -> Result<(), u64> {
        let limit = self.value(config);
        if size <= limit {
            Ok(())
        } else {
            Err(limit)
        }
    }

    /// The limit in force: the setting, raised to the floor.
    pub fn value(&self, config: &Config) -> u64 {
        (self.setting)(&config.tuning).max(self.floor)
    }
}

/// Request body size in bytes (413 beyond).
pub const MAX_BODY_BYTES: Limit = Limit { floor: 4096, setting: |t| t.max_body_bytes };
/// `nom` / `prenom` length in characters (422 beyond, 400 on the original endpoints).
pub const MAX_NAME_CHARS: Limit = Limit { floor: 64, setting: |t| t.max_name_chars };
/// Session `data` size in bytes, as stored (413 beyond).
pub const MAX_SESSION_DATA_BYTES: Limit = Limit { floor: 1024, setting: |t| t.max_session_data_bytes };
/// Session `data` nesting depth (422 beyond).
pub const MAX_SESSION_DATA_DEPTH: Limit = Limit { floor: 4, setting: |t| t.max_session_data_depth };
/// Session id length in bytes, for ids chosen by clients of `/create_session` (400 beyond) and
/// ids in paths (404 beyond: no such session can exist).
pub const MAX_SESSION_ID_BYTES: Limit = Limit { floor: 64, setting: |t| t.max_session_id_bytes };
/// The largest `limit` of a `/v1/users` page (400 beyond).
pub const MAX_PAGE_SIZE: Limit = Limit { floor: 50, setting: |t| t.max_page_size };

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(address: &str, username: &str, password: &str, token: &str, tuning: &str) -> String {
        format!(
            "redis_address={address}\nredis_username={username}\nredis_password={password}\napi_token={token}\n\
             tuning={tuning}"
        )
    }

    fn config(address: &str, username: &str, password: &str) -> Config {
        Config::parse(&settings(address, username, password, "token", "")).unwrap()
    }

    /// `spin.toml` hands every setting to the component as `name={{ name }}`, one a line: the names
    /// the parser knows are exactly the ones it passes.
    #[test]
    fn spin_toml_passes_every_setting_by_name() {
        let template = settings_template(include_str!("../spin.toml"));
        let names: Vec<&str> = template.lines().map(|line| line.split_once('=').expect("name=value").0).collect();
        assert_eq!(names, SETTING_NAMES);
        for (line, name) in template.lines().zip(SETTING_NAMES) {
            assert_eq!(line, format!("{name}={{{{ {name} }}}}"));
        }
    }

    /// The text of a manifest's `settings` component variable.
    fn settings_template(manifest: &str) -> &str {
        let opening = "settings = \"\"\"\n";
        let start = manifest.find(opening).expect("a `settings` component variable") + opening.len();
        &manifest[start..start + manifest[start..].find("\"\"\"").expect("its end")]
    }

    /// The benchmark's variant with one application variable (`benches/one-variable.spin.toml`)
    /// passes the same settings, the others as literals, so that the service it serves works.
    #[test]
    fn the_one_variable_benchmark_manifest_passes_every_setting() {
        let template = settings_template(include_str!("../benches/one-variable.spin.toml"));
        let literal = template.replace("{{ redis_address }}", "redis://127.0.0.1:6379");
        assert!(!literal.contains("{{"), "only redis_address is a variable: {template}");
        let config = Config::parse(&literal).expect("the settings parse");
        assert!(config.api_tokens.is_empty());
    }

    #[test]
    fn settings_are_found_by_name_in_any_order() {
        let c = Config::parse(
            "tuning=max_page_size=60\napi_token=t\nredis_password=p\nredis_username=\nredis_address=redis://h:1",
        )
        .unwrap();
        assert_eq!(c.api_tokens, ["t"]);
        assert_eq!(c.redis_password, "p");
        assert_eq!(MAX_PAGE_SIZE.value(&c), 60);
        assert_eq!(c.session_ttl_seconds(), 3600);
    }

    #[test]
    fn one_final_line_break_is_trimmed_from_any_value() {
        let c =
            Config::parse(&settings("redis://h:1\n", "app\r\n", "s3cret\n", "tok\n", "max_page_size=70\n")).unwrap();
        assert_eq!(c.redis_address, "redis://h:1");
        assert_eq!(c.redis_username, "app");
        assert_eq!(c.redis_password, "s3cret");
        assert_eq!(c.api_tokens, ["tok"]);
        assert_eq!(MAX_PAGE_SIZE.value(&c), 70);
    }

    #[test]
    fn a_line_break_inside_a_value_fails_closed_naming_it() {
        let parse = |token: &str, password: &str| Config::parse(&settings("redis://h:1", "", password, token, ""));
        assert_eq!(parse("ab\ncd", "").unwrap_err(), ConfigError::LineBreak("api_token"));
        assert_eq!(parse("t", "pa\nss").unwrap_err(), ConfigError::LineBreak("redis_password"));
        assert_eq!(parse("t", "pa\rss").unwrap_err(), ConfigError::LineBreak("redis_password"));
        // Two line breaks at the end are one inside the value.
        assert_eq!(parse("t\n\n", "").unwrap_err(), ConfigError::LineBreak("api_token"));
        // A value whose next line looks like a setting cannot replace that setting.
        assert_eq!(parse("ab\nredis_password=x", "").unwrap_err(), ConfigError::Repeated("redis_password".into()));
        assert_eq!(parse("ab\nfoo=x", "").unwrap_err(), ConfigError::Unknown("foo".into()));
        // The username's line break never leaves the token empty (the old positional parser did).
        let c = Config::parse(&settings("redis://h:1", "app\n", "", "tok", ""));
        assert_eq!(c.unwrap().api_tokens, ["tok"]);
    }

    #[test]
    fn every_setting_is_required_and_known() {
        assert_eq!(Config::parse("redis_address=redis://h:1").unwrap_err(), ConfigError::Missing("redis_username"));
        let extra = format!("{}\nmax_body_bytes=1", settings("redis://h:1", "", "", "", ""));
        assert_eq!(Config::parse(&extra).unwrap_err(), ConfigError::Unknown("max_body_bytes".into()));
        assert_eq!(Config::parse("garbage").unwrap_err(), ConfigError::Unknown("garbage".into()));
    }

    #[test]
    fn tuning_fails_closed_on_anything_malformed() {
        let parse = |tuning: &str| Config::parse(&settings("redis://h:1", "", "", "", tuning)).map(|c| c.tuning);
        let t = parse("max_body_bytes=131072, session_ttl_seconds=600 max_page_size=2000").unwrap();
        assert_eq!((t.max_body_bytes, t.session_ttl_seconds, t.max_page_size), (131072, 600, 2000));
        assert_eq!(t.max_name_chars, 200);
        assert_eq!((t.session_max_lifetime_seconds, t.max_sessions_per_user), (2_592_000, 100));
        let t = parse("session_max_lifetime_seconds=60 max_sessions_per_user=3").unwrap();
        assert_eq!((t.session_max_lifetime_seconds, t.max_sessions_per_user), (60, 3));
        assert!(matches!(
            parse("max_body_bytes=12k"),
            Err(ConfigError::NotAPositiveInteger { name: "max_body_bytes", .. })
        ));
        assert!(matches!(parse("max_body_bytes=0"), Err(ConfigError::NotAPositiveInteger { .. })));
        assert!(matches!(parse("max_body_bytes=-1"), Err(ConfigError::NotAPositiveInteger { .. })));
        assert_eq!(parse("max_bodybytes=1").unwrap_err(), ConfigError::UnknownTuning("max_bodybytes".into()));
        assert_eq!(
            parse("max_page_size=1,max_page_size=2").unwrap_err(),
            ConfigError::RepeatedTuning("max_page_size".into())
        );
        assert_eq!(parse("max_page_size").unwrap_err(), ConfigError::MalformedTuning("max_page_size".into()));
        assert!(parse("session_ttl_seconds=100,session_max_ttl_seconds=50").is_err());
    }

    #[test]
    fn api_token_is_a_list_and_never_fails_open() {
        let tokens = |token: &str| Config::parse(&settings("redis://h:1", "", "", token, "")).map(|c| c.api_tokens);
        assert_eq!(tokens("").unwrap(), Vec::<String>::new());
        assert_eq!(tokens("new, old").unwrap(), ["new", "old"]);
        assert_eq!(tokens("a b\tc,,d").unwrap(), ["a", "b", "c", "d"]);
        assert_eq!(tokens(" , ").unwrap_err(), ConfigError::NoToken);
        assert_eq!(tokens("ok t\u{e9}").unwrap_err(), ConfigError::TokenMalformed(2));
    }

    #[test]
    fn limits_never_go_below_their_floor() {
        let c = Config::parse(&settings("redis://h:1", "", "", "", "max_body_bytes=10")).unwrap();
        assert_eq!(MAX_BODY_BYTES.value(&c), 4096);
        assert_eq!(MAX_BODY_BYTES.check(&c, 4097), Err(4096));
        assert_eq!(MAX_BODY_BYTES.check(&Config::default(), 65536), Ok(()));
    }

    #[test]
    fn credentials_join_the_address() {
        let url = |a: &str, u: &str, p: &str| config(a, u, p).redis_url().map_err(|e| e.to_string());
        assert_eq!(url("redis://127.0.0.1:6379", "", "").unwrap(), "redis://127.0.0.1:6379");
        assert_eq!(url("redis://h:1", "", "s3cret").unwrap(), "redis://:s3cret@h:1");
        assert_eq!(url("rediss://h:1", "app", "p@ss:w#rd/").unwrap(), "rediss://app:p%40ss%3Aw%23rd%2F@h:1");
        assert_eq!(url("redis://h:1", "app", "").unwrap(), "redis://app@h:1");
        let refused = |a: &str| Config::parse(&settings(a, "", "", "", "")).unwrap_err();
        assert_eq!(refused("redis://:s3cret@h:1"), ConfigError::RedisAddressWithCredentials);
        assert!(!refused("redis://:s3cret@h:1").to_string().contains("s3cret"));
        assert_eq!(refused("h:1"), ConfigError::RedisAddressMalformed);
        assert_eq!(refused("http://h:1"), ConfigError::RedisAddressMalformed);
    }
}
