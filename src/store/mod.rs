//! The Redis data layer: every key name (`keys.rs`) and every Lua script of the service lives in
//! this module (`users.rs`, `sessions.rs`, with the Lua they share in `lua.rs`); this file holds the
//! connection and what they share. It knows nothing of HTTP: it returns `StoreError`.
//!
//! Every change that touches more than one key is one Lua script, so it is atomic. Scripts are sent
//! with `EVALSHA` (one round trip) and fall back to `EVAL` when the server's script cache is empty
//! (`NOSCRIPT`, e.g. after a Redis restart). Spin flattens nested array replies into one flat list,
//! so scripts reply with flat lists.

// `keys` declares `lua_prelude!`, which `lua`'s `script!` uses: both before the scripts.
#[macro_use]
mod keys;
#[macro_use]
mod lua;
mod sessions;
mod users;

/// The key of a user's record, for log lines that name a record.
pub use keys::user as user_key;
pub use sessions::{public_id, Session, SessionUpdate};
pub use users::{read_record, Precondition, User, UserCreation, UserPatch, UserRecord, WriteOutcome, MAX_USER_ID};

use std::sync::atomic::{AtomicU32, Ordering};

use spin_sdk::redis::{self, RedisParameter, RedisResult};

/// What can go wrong talking to Redis, as far as the client of this service is concerned.
#[derive(Debug)]
pub enum StoreError {
    /// Redis could not be reached or is not ready (connection refused or lost, loading): retry later.
    Unavailable(String),
    /// Anything else: a bug, bad stored data or a misconfigured address.
    Internal(String),
}

/// An open connection to the service's Redis database.
pub struct Store {
    conn: Connection,
}

/// Redis commands sent so far by this instance, i.e. by this request: Spin makes a fresh instance
/// for every request, so the count starts at zero with each one.
static ROUND_TRIPS: AtomicU32 = AtomicU32::new(0);

/// The Redis round trips this request has made so far (for the access log).
pub fn round_trips() -> u32 {
    ROUND_TRIPS.load(Ordering::Relaxed)
}

/// Spin's connection, through which every command of the store passes: the one place that sends
/// commands, so the one place that counts them.
struct Connection(redis::Connection);

impl Connection {
    fn open(address: &str) -> Result<Connection, redis::Error> {
        redis::Connection::open(address).map(Connection)
    }

    fn execute(&self, command: &str, params: &[RedisParameter]) -> Result<Vec<RedisResult>, redis::Error> {
        ROUND_TRIPS.fetch_add(1, Ordering::Relaxed);
        self.0.execute(command, params)
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, redis::Error> {
        ROUND_TRIPS.fetch_add(1, Ordering::Relaxed);
        self.0.get(key)
    }
}

/// A Lua script run with `EVALSHA`, falling back to `EVAL`.
struct Script {
    name: &'static str,
    source: &'static str,
}

impl Store {
    /// Opens a new connection (Spin opens one per call; nothing is pooled across requests).
    pub fn open(address: &str) -> Result<Store, StoreError> {
        let conn = Connection::open(address).map_err(classify)?;
        Ok(Store { conn })
    }

    /// `PING`: whether Redis answers at all.
    pub fn ping(&self) -> Result<(), StoreError> {
        self.conn.execute("PING", &[]).map_err(classify)?;
        Ok(())
    }

    /// Runs a script in one round trip, or two when Redis has lost its script cache.
    fn run(&self, script: &Script, keys: &[&str], args: &[&str]) -> Result<Vec<RedisResult>, StoreError> {
        let sha = sha1_hex(script.source.as_bytes());
        let mut params = Vec::with_capacity(2 + keys.len() + args.len());
        params.push(binary(&sha));
        params.push(RedisParameter::Int64(keys.len() as i64));
        params.extend(keys.iter().chain(args).map(|s| binary(s)));
        match self.conn.execute("EVALSHA", &params) {
            Err(redis::Error::Other(msg)) if is_noscript(&msg) => {
                params[0] = binary(script.source);
                self.conn.execute("EVAL", &params).map_err(classify)
            }
            other => other.map_err(|e| match classify(e) {
                StoreError::Internal(msg) => StoreError::Internal(format!("{}: {msg}", script.name)),
                transient => transient,
            }),
        }
    }
}

/// The hex SHA-1 of some bytes: script ids for `EVALSHA`, and user ETags.
pub fn sha1_hex(bytes: &[u8]) -> String {
    sha1_smol::Sha1::from(bytes).digest().to_string()
}

fn binary(s: &str) -> RedisParameter {
    RedisParameter::Binary(s.as_bytes().to_vec())
}

/// Reads a bulk-string reply element as UTF-8 text.
fn text(r: &RedisResult) -> Option<&str> {
    match r {
        RedisResult::Binary(b) => std::str::from_utf8(b).ok(),
        RedisResult::Status(s) => Some(s),
        _ => None,
    }
}

fn unexpected(script: &str, reply: &[RedisResult]) -> StoreError {
    StoreError::Internal(format!("unexpected reply from {script}: {reply:?}"))
}

/// Whether Redis answered `NOSCRIPT` (its script cache does not have the script). Spin passes the
/// redis crate's rendering of the error, e.g. "An error was signalled by the server - NoScriptError:
/// No matching script. Please use EVAL.", so this matches the kind name as well as the raw code.
fn is_noscript(msg: &str) -> bool {
    msg.contains("NOSCRIPT") || msg.contains("NoScriptError")
}

/// Sorts Spin's Redis errors into "retry later" and "our fault".
fn classify(e: redis::Error) -> StoreError {
    match e {
        redis::Error::InvalidAddress => {
            StoreError::Internal("redis_address is not a valid Redis URL or is not in allowed_outbound_hosts".into())
        }
        redis::Error::TooManyConnections => StoreError::Unavailable("too many Redis connections".into()),
        redis::Error::TypeError => StoreError::Internal("Redis type error".into()),
        redis::Error::Other(msg) if is_transient(&msg) => StoreError::Unavailable(msg),
        redis::Error::Other(msg) => StoreError::Internal(msg),
    }
}

/// Whether a Redis error message means the server is unreachable or not ready yet, rather than that
/// a command was wrong. Spin only hands over the message text, so this looks at the words.
fn is_transient(msg: &str) -> bool {
    const MARKERS: &[&str] = &[
        "connection",
        "Connection",
        "refused",
        "reset",
        "broken pipe",
        "Broken pipe",
        "os error",
        "timed out",
        "closed",
        "EOF",
        "LOADING",
        "BUSY",
        "MASTERDOWN",
        "TRYAGAIN",
    ];
    MARKERS.iter().any(|m| msg.contains(m))
}
