//! The Redis data layer: every key name (`keys.rs`) and every Lua script of the service lives in
//! this module (`users.rs`, `sessions.rs`, with the Lua they share in `lua.rs`); this file holds the
//! connection and what they share. It knows nothing of HTTP: it returns `StoreError`.
//!
//! Every change that touches more than one key is one Lua script, so it is atomic. Scripts are sent
//! with `EVALSHA` (one round trip) and fall back to `EVAL` when the server's script cache is empty
//! (`NOSCRIPT`, e.g. after a Redis restart). Spin flattens nested array replies into one flat list,
//! so scripts reply with flat lists.

// `lua` declares `lua_constants!`, which `keys` uses for `lua_prelude!`; `script!` uses both macros.
// Both come before the scripts.
#[macro_use]
mod lua;
#[macro_use]
mod keys;
mod redis_error;
mod script_id;
mod sessions;
mod users;

/// The key of a user's record, for log lines that name a record.
pub use keys::user as user_key;
pub use redis_error::RedisErrorKind;
pub use sessions::{NewSession, Revocation, Session, SessionUpdate};
pub use users::{read_record, Precondition, User, UserCreation, UserPatch, UserRecord, WriteOutcome, MAX_USER_ID};

use std::sync::atomic::{AtomicU32, Ordering};

use spin_sdk::redis::{self, RedisParameter, RedisResult};

/// What can go wrong talking to Redis. The data layer only says what happened; `error.rs` decides
/// what the client gets.
#[derive(Debug)]
pub enum StoreError {
    /// Redis (or Spin on its way) reported an error of this kind; `detail` is its text, for the log.
    Redis { kind: RedisErrorKind, detail: String },
    /// `redis_address` is not a Redis URL Spin accepts, or not in `allowed_outbound_hosts`.
    InvalidAddress,
    /// Anything else: a bug, or stored data this version cannot read.
    Internal(String),
}

impl StoreError {
    pub fn kind(&self) -> Option<RedisErrorKind> {
        match self {
            StoreError::Redis { kind, .. } => Some(*kind),
            _ => None,
        }
    }

    /// The same error, its detail prefixed with where it happened (a script's name).
    fn context(self, place: &str) -> StoreError {
        match self {
            StoreError::Redis { kind, detail } => StoreError::Redis { kind, detail: format!("{place}: {detail}") },
            StoreError::Internal(detail) => StoreError::Internal(format!("{place}: {detail}")),
            other => other,
        }
    }
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
    /// `script_id::sha1_hex(source)`, computed at compile time by `script!`.
    sha: [u8; 40],
}

impl Store {
    /// Opens a new connection (Spin opens one per call; nothing is pooled across requests).
    pub fn open(address: &str) -> Result<Store, StoreError> {
        let conn = Connection::open(address).map_err(classify)?;
        Ok(Store { conn })
    }

    /// Whether Redis would take this service's writes now, in one round trip: `SET` of a key of its
    /// own with an expiry already past (`PXAT 1`), which Redis checks as any write (credentials,
    /// `READONLY`, `OOM`, `LOADING`, ...) and then discards, leaving nothing behind. `PING` would
    /// answer on a read-only replica and on a Redis out of memory.
    pub fn check_writable(&self) -> Result<(), StoreError> {
        let params = [binary(keys::HEALTH_CHECK), binary("1"), binary("PXAT"), binary("1")];
        self.conn.execute("SET", &params).map_err(classify)?;
        Ok(())
    }

    /// Runs a script in one round trip, or two when Redis has lost its script cache.
    fn run(&self, script: &Script, keys: &[&str], args: &[&str]) -> Result<Vec<RedisResult>, StoreError> {
        let mut params = Vec::with_capacity(2 + keys.len() + args.len());
        params.push(RedisParameter::Binary(script.sha.to_vec()));
        params.push(RedisParameter::Int64(keys.len() as i64));
        params.extend(keys.iter().chain(args).map(|s| binary(s)));
        let reply = match self.conn.execute("EVALSHA", &params).map_err(classify) {
            Err(e) if e.kind() == Some(RedisErrorKind::NoScript) => {
                params[0] = binary(script.source);
                self.conn.execute("EVAL", &params).map_err(classify)
            }
            other => other,
        };
        reply.map_err(|e| e.context(script.name))
    }
}

/// The hex SHA-1 of some bytes: user ETags and session public ids (script ids: `script_id`).
pub fn sha1_hex(bytes: &[u8]) -> String {
    // `Display` of the digest goes through `fmt`'s machinery: twice the instructions of the hash.
    crate::hex::encode(&sha1_smol::Sha1::from(bytes).digest().bytes())
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

/// Turns Spin's Redis error into the store's: the kind of an `other` error is read from its text.
fn classify(e: redis::Error) -> StoreError {
    match e {
        redis::Error::InvalidAddress => StoreError::InvalidAddress,
        // Spin's table of this instance's connections is full: it frees up as requests end.
        redis::Error::TooManyConnections => {
            StoreError::Redis { kind: RedisErrorKind::Unreachable, detail: "too many Redis connections".into() }
        }
        redis::Error::TypeError => StoreError::Internal("Redis type error".into()),
        redis::Error::Other(detail) => StoreError::Redis { kind: RedisErrorKind::parse(&detail), detail },
    }
}
