//! The Redis data layer: every key name and every Lua script of the service lives here.
//!
//! Key layout (the first three are the original Flask service's, so a database it wrote keeps working):
//! - `user_id_counter`: integer, the last user id handed out (`INCR`).
//! - `user:<id>`: string, the user as JSON (`{"id","nom","prenom", ...}`).
//! - `session:<session_id>`: string, the session's `data` as JSON, with an expiry.
//! - `users:index`: sorted set of user ids (member and score are both the id). It replaces the
//!   original's `KEYS user:*`, which blocks Redis and costs O(all keys); it gives ascending-id pages
//!   in O(log n + page).
//!
//! Every change that touches more than one key is one Lua script, so it is atomic. Scripts are sent
//! with `EVALSHA` (one round trip) and fall back to `EVAL` when the server's script cache is empty
//! (`NOSCRIPT`, e.g. after a Redis restart). Spin flattens nested array replies into one flat list,
//! so scripts reply with flat lists.

use serde::{Deserialize, Serialize};
use spin_sdk::redis::{self, Connection, RedisParameter, RedisResult};

/// What can go wrong talking to Redis, as far as the client of this service is concerned.
#[derive(Debug)]
pub enum StoreError {
    /// Redis could not be reached or is not ready (connection refused or lost, loading): retry later.
    Unavailable(String),
    /// Anything else: a bug, bad stored data or a misconfigured address.
    Internal(String),
}

const USER_ID_COUNTER: &str = "user_id_counter";
const USERS_INDEX: &str = "users:index";

fn user_key(id: u64) -> String {
    format!("user:{id}")
}

fn session_key(session_id: &str) -> String {
    format!("session:{session_id}")
}

/// A user as stored in `user:<id>`. Records written by the original service have no timestamps.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub id: u64,
    pub nom: String,
    pub prenom: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

/// The fields of a new user record except its id, which only Redis can hand out.
#[derive(Serialize)]
struct NewUserRecord<'a> {
    nom: &'a str,
    prenom: &'a str,
    created_at: &'a str,
    updated_at: &'a str,
}

/// One page of users in ascending id order, and the id to continue after when there are more.
#[derive(Debug)]
pub struct UserPage {
    pub users: Vec<User>,
    pub next_after: Option<u64>,
}

/// A Lua script run with `EVALSHA`, falling back to `EVAL`.
struct Script {
    source: &'static str,
}

/// Opens a connection to the Redis database named by the `redis_address` variable.
pub fn open() -> Result<Store, crate::error::ApiError> {
    Ok(Store::open(&crate::config::redis_address()?)?)
}

/// An open connection to the service's Redis database.
pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens a new connection (Spin opens one per call; nothing is pooled across requests).
    pub fn open(address: &str) -> Result<Store, StoreError> {
        let conn = Connection::open(address).map_err(classify)?;
        Ok(Store { conn })
    }

    /// Creates a user: takes the next id, writes the record and indexes it, atomically.
    pub fn create_user(&self, nom: &str, prenom: &str, now: &str) -> Result<User, StoreError> {
        // The record is serialized here; the script only splices the id in front, so stored JSON is
        // always produced by serde_json.
        const CREATE_USER: Script = Script {
            source: r#"
local id = redis.call('INCR', KEYS[1])
redis.call('SET', 'user:' .. id, '{"id":' .. id .. ',' .. string.sub(ARGV[1], 2))
redis.call('ZADD', KEYS[2], id, id)
return id
"#,
        };
        let record = NewUserRecord { nom, prenom, created_at: now, updated_at: now };
        let record = serde_json::to_string(&record).map_err(internal)?;
        let reply = self.run(&CREATE_USER, &[USER_ID_COUNTER, USERS_INDEX], &[record.as_str()])?;
        let id = match reply.as_slice() {
            [RedisResult::Int64(id)] if *id > 0 => *id as u64,
            other => return Err(unexpected("CREATE_USER", other)),
        };
        Ok(User {
            id,
            nom: nom.to_owned(),
            prenom: prenom.to_owned(),
            created_at: Some(now.to_owned()),
            updated_at: Some(now.to_owned()),
        })
    }

    /// Reads one user, `None` when there is no such user.
    pub fn get_user(&self, id: u64) -> Result<Option<User>, StoreError> {
        match self.conn.get(&user_key(id)).map_err(classify)? {
            Some(bytes) => parse_user(&bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Deletes a user and its index entry atomically; `false` when there was no such user.
    pub fn delete_user(&self, id: u64) -> Result<bool, StoreError> {
        const DELETE_USER: Script = Script {
            source: r#"
local deleted = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return deleted
"#,
        };
        let id_arg = id.to_string();
        let reply = self.run(&DELETE_USER, &[&user_key(id), USERS_INDEX], &[&id_arg])?;
        match reply.as_slice() {
            [RedisResult::Int64(n)] => Ok(*n > 0),
            other => Err(unexpected("DELETE_USER", other)),
        }
    }

    /// Returns up to `limit` users with an id greater than `after`, in ascending id order.
    ///
    /// A cursor is just the last id returned, so a walk is stable while users are created and
    /// deleted: a user that exists for the whole walk is returned exactly once.
    pub fn list_users(&self, after: u64, limit: u32) -> Result<UserPage, StoreError> {
        // Fetches one extra id to know whether another page follows.
        const LIST_USERS: Script = Script {
            source: r#"
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf', 'LIMIT', 0, ARGV[2] + 1)
if #ids == 0 then return {} end
local keys = {}
for i, id in ipairs(ids) do keys[i] = 'user:' .. id end
local records = redis.call('MGET', unpack(keys))
local out = {}
for i, record in ipairs(records) do
  if record then out[#out + 1] = record end
end
return out
"#,
        };
        let after_arg = after.to_string();
        let limit_arg = limit.to_string();
        let reply = self.run(&LIST_USERS, &[USERS_INDEX], &[&after_arg, &limit_arg])?;
        let mut users = reply
            .iter()
            .map(|r| match r {
                RedisResult::Binary(bytes) => parse_user(bytes),
                other => Err(unexpected("LIST_USERS", std::slice::from_ref(other))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let next_after = if users.len() > limit as usize {
            users.truncate(limit as usize);
            users.last().map(|u| u.id)
        } else {
            None
        };
        Ok(UserPage { users, next_after })
    }

    /// Stores a session's data under a client-chosen id, replacing any previous one, with an expiry.
    pub fn put_session_data(&self, session_id: &str, data_json: &str, ttl_seconds: u64) -> Result<(), StoreError> {
        self.conn
            .execute(
                "SET",
                &[
                    binary(&session_key(session_id)),
                    binary(data_json),
                    binary("EX"),
                    RedisParameter::Int64(ttl_seconds as i64),
                ],
            )
            .map_err(classify)?;
        Ok(())
    }

    /// Reads a session's data JSON, `None` when it does not exist or has expired.
    pub fn get_session_data(&self, session_id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.conn.get(&session_key(session_id)).map_err(classify)
    }

    /// Runs a script in one round trip, or two when Redis has lost its script cache.
    fn run(&self, script: &Script, keys: &[&str], args: &[&str]) -> Result<Vec<RedisResult>, StoreError> {
        let sha = sha1_smol::Sha1::from(script.source).digest().to_string();
        let mut params = Vec::with_capacity(2 + keys.len() + args.len());
        params.push(binary(&sha));
        params.push(RedisParameter::Int64(keys.len() as i64));
        params.extend(keys.iter().chain(args).map(|s| binary(s)));
        match self.conn.execute("EVALSHA", &params) {
            Err(redis::Error::Other(msg)) if msg.contains("NOSCRIPT") => {
                params[0] = binary(script.source);
                self.conn.execute("EVAL", &params).map_err(classify)
            }
            other => other.map_err(classify),
        }
    }
}

fn binary(s: &str) -> RedisParameter {
    RedisParameter::Binary(s.as_bytes().to_vec())
}

fn parse_user(bytes: &[u8]) -> Result<User, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Internal(format!("stored user is not valid: {e}")))
}

fn internal(e: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(e.to_string())
}

fn unexpected(script: &str, reply: &[RedisResult]) -> StoreError {
    StoreError::Internal(format!("unexpected reply from {script}: {reply:?}"))
}

/// Sorts Spin's Redis errors into "retry later" and "our fault".
fn classify(e: redis::Error) -> StoreError {
    match e {
        redis::Error::InvalidAddress => StoreError::Internal(
            "redis_address is not a valid Redis URL or is not in allowed_outbound_hosts".into(),
        ),
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
        "connection", "Connection", "refused", "reset", "broken pipe", "Broken pipe", "os error",
        "timed out", "closed", "EOF", "LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN",
    ];
    MARKERS.iter().any(|m| msg.contains(m))
}
