//! Every Redis key name of the service, written once. Scripts get their keys through `KEYS` when
//! they are known before the script runs, and build the others (keys of ids they read from Redis)
//! from the prefixes below, which `Store::run` passes to every script (see `lua.rs`).
//!
//! The first three are the original Flask service's, so a database it wrote keeps working:
//! - `user_id_counter`: integer, the last user id handed out (`INCR`).
//! - `user:<id>`: string, the user as JSON (`{"id","nom","prenom","created_at","updated_at"}`).
//! - `session:<session_id>`: string, the session's `data` as JSON, with an expiry.
//! - `users:index`: sorted set of user ids (member and score are both the id). It replaces the
//!   original's `KEYS user:*`, which blocks Redis and costs O(all keys), and gives ascending-id
//!   pages in O(log n + page).
//! - `session_meta:<session_id>`: hash `{user_id, created_at}` of a session created through `/v1`,
//!   expiring with it. Original sessions have none.
//! - `user_sessions:<user_id>`: sorted set of the user's session ids scored by expiry time (ms); it
//!   expires with the user's last session, and expired entries are removed as scripts pass by.

pub const USER_ID_COUNTER: &str = "user_id_counter";
pub const USERS_INDEX: &str = "users:index";

const USER: &str = "user:";
const SESSION: &str = "session:";
const SESSION_META: &str = "session_meta:";
const USER_SESSIONS: &str = "user_sessions:";

/// The prefixes scripts build keys from, in the order `lua.rs`'s prelude reads them.
pub const PREFIXES: [&str; 4] = [USER, SESSION, SESSION_META, USER_SESSIONS];

pub fn user(id: u64) -> String {
    format!("{USER}{id}")
}

pub fn user_sessions(user_id: u64) -> String {
    format!("{USER_SESSIONS}{user_id}")
}

pub fn session(id: &str) -> String {
    format!("{SESSION}{id}")
}

pub fn session_meta(id: &str) -> String {
    format!("{SESSION_META}{id}")
}
