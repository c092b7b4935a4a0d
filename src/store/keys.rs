//! Every Redis key name of the service, written once. Scripts get their keys through `KEYS` when
//! they are known before the script runs, and build the others (keys of ids they read from Redis)
//! from the prefixes below, which `lua_constants!` also declares at the top of every script.
//!
//! What each key holds, its type and expiry, and which keys are the original Flask service's:
//! `docs/ARCHITECTURE.md`, "Redis key layout" (the one description; keep it in step with this file).

use sha2::{Digest, Sha256};

pub const USER_ID_COUNTER: &str = "user_id_counter";
pub const USERS_INDEX: &str = "users:index";
pub const HEALTH_CHECK: &str = "health_check";

// Each key prefix once, for both languages: a Rust constant, and a local of the same name in every
// script's prelude (`lua_prelude!`).
lua_constants!(lua_prelude {
    USER = "user:";
    SESSION = "session:";
    SESSION_RECORD = "session_record:";
    USER_SESSIONS_BY_CREATION = "user_sessions_by_creation:";
    USER_SESSIONS_BY_EXPIRY = "user_sessions_by_expiry:";
});

const IDEMPOTENCY_KEY: &str = "idempotency_key:";

/// The `GET` pattern of `SORT` that reads the record of each user in the index.
pub const USER_RECORDS: &str = "user:*";

pub fn user(id: u64) -> String {
    format!("{USER}{id}")
}

/// A user's `/v1` sessions (their token digests), in creation order: the listing's order, and
/// the oldest is the one the per-user cap evicts.
pub fn user_sessions_by_creation(user_id: u64) -> String {
    format!("{USER_SESSIONS_BY_CREATION}{user_id}")
}

/// The key of a session of the original API, under the id its client chose, stored as given.
pub fn session(id: &str) -> String {
    format!("{SESSION}{id}")
}

/// The key of a `/v1` session: the whole session, under its token's digest.
pub fn session_record(digest: &str) -> String {
    [SESSION_RECORD, digest].concat()
}

/// What a `/v1` session is stored under: the SHA-256 of its token, base64url (43 characters). The
/// token has 192 random bits, so neither a salt nor a slow hash would add anything.
pub fn token_digest(token: &str) -> String {
    sha256_base64url(token.as_bytes())
}

/// The record of an `Idempotency-Key` of `POST /v1/users`, under the key's SHA-256 (so that any
/// key the API accepts makes a short key name of known characters).
pub fn idempotency_key(key: &str) -> String {
    format!("{IDEMPOTENCY_KEY}{}", sha256_base64url(key.as_bytes()))
}

/// The SHA-256 of some bytes, base64url (43 characters).
pub fn sha256_base64url(bytes: &[u8]) -> String {
    crate::base64url::encode(&Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_lua_prelude_declares_the_rust_prefixes() {
        assert_eq!(
            lua_prelude!(),
            "local USER = 'user:'\nlocal SESSION = 'session:'\nlocal SESSION_RECORD = 'session_record:'\n\
             local USER_SESSIONS_BY_CREATION = 'user_sessions_by_creation:'\n\
             local USER_SESSIONS_BY_EXPIRY = 'user_sessions_by_expiry:'\n"
        );
        assert_eq!(super::user(7), "user:7");
    }

    #[test]
    fn the_user_records_pattern_is_the_user_prefix() {
        assert_eq!(super::USER_RECORDS, format!("{}*", super::USER));
    }

    #[test]
    fn a_token_digest_is_its_sha256_in_base64url() {
        // SHA-256("abc") = ba7816bf 8f01cfea ...
        assert_eq!(super::token_digest("abc"), "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
        assert_eq!(super::token_digest("x").len(), 43);
    }
}
