//! Sessions. A `/v1` session is stored under the SHA-256 digest of its token:
//! `hashed_session:<digest>` (the data) and `hashed_session_meta:<digest>`, indexed by digest in
//! `user_sessions:<user_id>`. Operations by token look the digest up first, then the keys under the
//! id as given: `session:<id>` (the original API's sessions, shared with `/create_session`) and
//! `session_meta:<id>` (`/v1` sessions written before tokens were hashed, until they expire).

use spin_sdk::redis::{RedisParameter, RedisResult};

use super::keys;
use super::lua::reply;
use super::{binary, classify, text, unexpected, Store, StoreError};
use crate::domain::{PublicId, SessionId, SessionToken, Ttl, UserId};

/// A live session as read from Redis.
#[derive(Debug, Clone)]
pub struct Session {
    /// Names the session in listings and for revocation; not a credential (see `keys.rs`).
    pub public_id: PublicId,
    /// The data JSON as stored.
    pub data: Vec<u8>,
    /// `None` for sessions not tied to a user (and all sessions of the original API).
    pub user_id: Option<UserId>,
    /// `None` for sessions created through the original API.
    pub created_at: Option<String>,
    /// Milliseconds until expiry; `None` if the key has no expiry (possible only for keys written
    /// by hand).
    pub ttl_ms: Option<u64>,
}

/// What a `PATCH` changes; `None` leaves it as it is.
#[derive(Debug, Default)]
pub struct SessionUpdate {
    pub data: Option<String>,
    pub ttl: Option<Ttl>,
}

/// The number of reply elements describing one session: `session_reply`'s list in `lua.rs` (none of
/// them is ever nil, so a script copies them with `ipairs`), read by `parse_session`. A unit test
/// counts the Lua list.
const SESSION_FIELDS: usize = 5;

/// A session's public id: the hex SHA-1 of the digest of its token, as `session_reply` computes it
/// in Lua (`redis.sha1hex`).
pub fn public_id(token: &SessionToken) -> PublicId {
    let id = super::sha1_hex(keys::token_digest(token.as_str()).as_bytes());
    PublicId::parse(&id).expect("a SHA-1 in hex is a public id")
}

/// The four keys a token may name, in the order `lua_locate_session!` reads them: its digest's, then
/// the id's as given.
fn token_keys(id: &SessionId) -> [String; 4] {
    let digest = keys::token_digest(id.as_str());
    let id = id.as_str();
    [keys::hashed_session(&digest), keys::hashed_session_meta(&digest), keys::session(id), keys::session_meta(id)]
}

fn as_strs(keys: &[String]) -> Vec<&str> {
    keys.iter().map(String::as_str).collect()
}

impl Store {
    /// Creates a session under the digest of `token`, tied to `user_id` if given. `Ok(false)` when
    /// that user does not exist: checked in the same script as the write, so a session cannot be
    /// created for a user being deleted.
    pub fn create_session(
        &self,
        token: &SessionToken,
        user_id: Option<UserId>,
        data_json: &str,
        ttl: Ttl,
        created_at: &str,
    ) -> Result<bool, StoreError> {
        // KEYS: the session, its metadata and, for a session of a user, the user and its index.
        const CREATE_SESSION: super::Script = script!(
            "CREATE_SESSION",
            lua_now_ms!(),
            lua_index_session!(),
            r#"
local digest, data, ttl, created_at, uid = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
if uid ~= '' and redis.call('EXISTS', KEYS[3]) == 0 then return NO_USER end
redis.call('SET', KEYS[1], data, 'PX', ttl)
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'user_id', uid, 'created_at', created_at)
redis.call('PEXPIRE', KEYS[2], ttl)
if uid ~= '' then index_session(KEYS[4], digest, ttl) end
return CREATED
"#
        );
        let digest = keys::token_digest(token.as_str());
        let ttl = ttl.millis().to_string();
        let uid = user_id.map(|u| u.to_string()).unwrap_or_default();
        let mut keys = vec![keys::hashed_session(&digest), keys::hashed_session_meta(&digest)];
        if let Some(user_id) = user_id {
            keys.extend([keys::user(user_id.get()), keys::user_sessions(user_id.get())]);
        }
        let reply = self.run(&CREATE_SESSION, &as_strs(&keys), &[&digest, data_json, &ttl, created_at, &uid])?;
        match reply.as_slice().first().and_then(text) {
            Some(reply::CREATED) => Ok(true),
            Some(reply::NO_USER) => Ok(false),
            _ => Err(unexpected(CREATE_SESSION.name, &reply)),
        }
    }

    /// Reads a live session by its token (or `/create_session` id), `None` when it does not exist or
    /// has expired.
    pub fn get_session(&self, token: &SessionId) -> Result<Option<Session>, StoreError> {
        const GET_SESSION: super::Script = script!(
            "GET_SESSION",
            lua_locate_session!(),
            lua_session_reply!(),
            "return session_reply(locate_session())\n"
        );
        let reply = self.run(&GET_SESSION, &as_strs(&token_keys(token)), &[])?;
        parse_session(&reply, GET_SESSION.name)
    }

    /// Replaces a session's data and/or restarts its expiry from now; `None` when it does not exist.
    /// A `/v1` session stored in clear by an earlier version moves under its digest on the way (it
    /// then shows the public id of its digest), so that refreshes cannot keep a token in Redis past
    /// the expiry it had at the upgrade.
    pub fn update_session(&self, token: &SessionId, update: &SessionUpdate) -> Result<Option<Session>, StoreError> {
        const UPDATE_SESSION: super::Script = script!(
            "UPDATE_SESSION",
            lua_now_ms!(),
            lua_index_session!(),
            lua_locate_session!(),
            lua_session_reply!(),
            r#"
local data, ttl = ARGV[1], ARGV[2]
local data_key, meta_key, member = locate_session()
local current = redis.call('GET', data_key)
if not current then return {} end
if data_key == KEYS[3] and redis.call('EXISTS', KEYS[4]) == 1 then
  -- A /v1 session stored in clear by an earlier version: moved under its digest, expiry and index
  -- score kept, so that a session kept alive by refreshes does not keep its token in Redis.
  local digest = string.sub(KEYS[1], #HASHED_SESSION + 1)
  local uid = redis.call('HGET', KEYS[4], 'user_id')
  redis.call('RENAME', KEYS[3], KEYS[1])
  redis.call('RENAME', KEYS[4], KEYS[2])
  if uid and uid ~= '' then
    local score = redis.call('ZSCORE', USER_SESSIONS .. uid, member)
    redis.call('ZREM', USER_SESSIONS .. uid, member)
    if score then redis.call('ZADD', USER_SESSIONS .. uid, score, digest) end
  end
  data_key, meta_key, member = KEYS[1], KEYS[2], digest
end
if data == '' then data = current end
if ttl == '' then
  ttl = redis.call('PTTL', data_key)
  if ttl > 0 then redis.call('SET', data_key, data, 'PX', ttl) else redis.call('SET', data_key, data) end
else
  redis.call('SET', data_key, data, 'PX', ttl)
  redis.call('PEXPIRE', meta_key, ttl)
  local uid = redis.call('HGET', meta_key, 'user_id')
  if uid and uid ~= '' then index_session(USER_SESSIONS .. uid, member, ttl) end
end
return session_reply(data_key, meta_key, member)
"#
        );
        let data = update.data.clone().unwrap_or_default();
        let ttl = update.ttl.map(|t| t.millis().to_string()).unwrap_or_default();
        let reply = self.run(&UPDATE_SESSION, &as_strs(&token_keys(token)), &[&data, &ttl])?;
        parse_session(&reply, UPDATE_SESSION.name)
    }

    /// Deletes what `token` names (logs it out); `false` when it named nothing. An id can name two
    /// sessions: a token's, under its digest, and one stored under the id as given (by
    /// `/create_session`, or in the old layout), which reads fall back to. Both go, so that
    /// nothing answers at the id afterwards.
    pub fn delete_session(&self, token: &SessionId) -> Result<bool, StoreError> {
        const DELETE_SESSION: super::Script = script!(
            "DELETE_SESSION",
            r#"
local function delete(data_key, meta_key, member)
  local uid = redis.call('HGET', meta_key, 'user_id')
  local deleted = redis.call('DEL', data_key)
  redis.call('DEL', meta_key)
  if uid and uid ~= '' then redis.call('ZREM', USER_SESSIONS .. uid, member) end
  return deleted
end
local by_digest = delete(KEYS[1], KEYS[2], string.sub(KEYS[1], #HASHED_SESSION + 1))
local as_given = delete(KEYS[3], KEYS[4], string.sub(KEYS[3], #SESSION + 1))
return by_digest + as_given
"#
        );
        let reply = self.run(&DELETE_SESSION, &as_strs(&token_keys(token)), &[])?;
        match reply.as_slice() {
            [RedisResult::Int64(n)] => Ok(*n > 0),
            other => Err(unexpected(DELETE_SESSION.name, other)),
        }
    }

    /// The user's live sessions, `None` when the user does not exist. Index entries of sessions
    /// that expired (or were taken over through the original API) are removed on the way. Neither
    /// digests nor tokens leave the script: each session comes back with its public id.
    pub fn list_user_sessions(&self, user_id: UserId) -> Result<Option<Vec<Session>>, StoreError> {
        const LIST_USER_SESSIONS: super::Script = script!(
            "LIST_USER_SESSIONS",
            lua_now_ms!(),
            lua_session_keys!(),
            lua_session_reply!(),
            r#"
local uid = ARGV[1]
if redis.call('EXISTS', KEYS[1]) == 0 then return {MISSING} end
-- The clean-up is a courtesy: a read-only replica refuses it (READONLY), and the listing must
-- still answer there, so its errors are dropped (pcall).
redis.pcall('ZREMRANGEBYSCORE', KEYS[2], '-inf', now_ms())
local out = {OK}
for _, member in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local data_key, meta_key = session_keys(member)
  local s = session_reply(data_key, meta_key, member)
  if s[1] and s[3] == uid then
    for _, field in ipairs(s) do out[#out + 1] = field end
  else
    redis.pcall('ZREM', KEYS[2], member)
  end
end
return out
"#
        );
        let uid = user_id.to_string();
        let keys = [keys::user(user_id.get()), keys::user_sessions(user_id.get())];
        let reply = self.run(&LIST_USER_SESSIONS, &as_strs(&keys), &[&uid])?;
        match reply.split_first() {
            Some((status, _)) if text(status) == Some(reply::MISSING) => Ok(None),
            Some((status, rest)) if text(status) == Some(reply::OK) && rest.len() % SESSION_FIELDS == 0 => rest
                .chunks(SESSION_FIELDS)
                .map(|chunk| {
                    parse_session(chunk, LIST_USER_SESSIONS.name)?
                        .ok_or_else(|| unexpected(LIST_USER_SESSIONS.name, chunk))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            _ => Err(unexpected(LIST_USER_SESSIONS.name, &reply)),
        }
    }

    /// Revokes one of the user's sessions by its public id, with its index entry, atomically;
    /// `false` when the user has no live session with that public id.
    pub fn revoke_user_session(&self, user_id: UserId, public_id: &PublicId) -> Result<bool, StoreError> {
        const REVOKE_USER_SESSION: super::Script = script!(
            "REVOKE_USER_SESSION",
            lua_session_keys!(),
            r#"
local uid, public_id = ARGV[1], ARGV[2]
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if redis.sha1hex(member) == public_id then
    local data_key, meta_key = session_keys(member)
    local deleted = 0
    if redis.call('HGET', meta_key, 'user_id') == uid then
      deleted = redis.call('DEL', data_key)
      redis.call('DEL', meta_key)
    end
    redis.call('ZREM', KEYS[1], member)
    return deleted
  end
end
return 0
"#
        );
        let uid = user_id.to_string();
        let index = keys::user_sessions(user_id.get());
        let reply = self.run(&REVOKE_USER_SESSION, &[&index], &[&uid, public_id.as_str()])?;
        match reply.as_slice() {
            [RedisResult::Int64(n)] => Ok(*n > 0),
            other => Err(unexpected(REVOKE_USER_SESSION.name, other)),
        }
    }

    /// Deletes all of a user's sessions (log out everywhere). Returns how many live sessions were
    /// deleted, `None` when the user does not exist.
    pub fn revoke_user_sessions(&self, user_id: UserId) -> Result<Option<u64>, StoreError> {
        const REVOKE_USER_SESSIONS: super::Script = script!(
            "REVOKE_USER_SESSIONS",
            lua_session_keys!(),
            lua_revoke_sessions!(),
            r#"
if redis.call('EXISTS', KEYS[1]) == 0 then return {MISSING} end
return {OK, revoke_sessions(ARGV[1], KEYS[2])}
"#
        );
        let uid = user_id.to_string();
        let keys = [keys::user(user_id.get()), keys::user_sessions(user_id.get())];
        let reply = self.run(&REVOKE_USER_SESSIONS, &as_strs(&keys), &[&uid])?;
        match reply.as_slice() {
            [status] if text(status) == Some(reply::MISSING) => Ok(None),
            [status, RedisResult::Int64(n)] if text(status) == Some(reply::OK) => Ok(Some(*n as u64)),
            other => Err(unexpected(REVOKE_USER_SESSIONS.name, other)),
        }
    }

    /// Stores a session's data under a client-chosen id with an expiry, as the original
    /// `/create_session` did (one `SET ... EX`). A `/v1` session of the old layout with the same id
    /// keeps its owner.
    pub fn put_session_data(&self, id: &SessionId, data_json: &str, ttl: Ttl) -> Result<(), StoreError> {
        let params = [
            binary(&keys::session(id.as_str())),
            binary(data_json),
            binary("EX"),
            RedisParameter::Int64(ttl.seconds() as i64),
        ];
        self.conn.execute("SET", &params).map_err(classify)?;
        Ok(())
    }

    /// Reads a session's data JSON by its `/v1` token or `/create_session` id, `None` when it does
    /// not exist or has expired: one `MGET` of the token's digest key and the id's own key, the
    /// digest's answer first.
    pub fn get_session_data(&self, id: &SessionId) -> Result<Option<Vec<u8>>, StoreError> {
        let id = id.as_str();
        let params = [binary(&keys::hashed_session(&keys::token_digest(id))), binary(&keys::session(id))];
        let reply = self.conn.execute("MGET", &params).map_err(classify)?;
        match <[RedisResult; 2]>::try_from(reply) {
            Ok([RedisResult::Binary(data), _] | [RedisResult::Nil, RedisResult::Binary(data)]) => Ok(Some(data)),
            Ok([RedisResult::Nil, RedisResult::Nil]) => Ok(None),
            Ok(other) => Err(unexpected("MGET", &other)),
            Err(other) => Err(unexpected("MGET", &other)),
        }
    }
}

/// Reads the `data, pttl, user_id, created_at, public_id` elements of `session_reply`; empty means
/// no session.
fn parse_session(reply: &[RedisResult], script: &str) -> Result<Option<Session>, StoreError> {
    match reply {
        [] => Ok(None),
        [RedisResult::Binary(data), RedisResult::Int64(pttl), user_id, created_at, public_id] => {
            let public_id = text(public_id).and_then(PublicId::parse).ok_or_else(|| unexpected(script, reply))?;
            Ok(Some(Session {
                public_id,
                data: data.clone(),
                user_id: text(user_id).and_then(UserId::parse),
                created_at: text(created_at).filter(|c| !c.is_empty()).map(str::to_owned),
                ttl_ms: u64::try_from(*pttl).ok(),
            }))
        }
        other => Err(unexpected(script, other)),
    }
}

#[cfg(test)]
mod tests {
    use super::{token_keys, SESSION_FIELDS};
    use crate::config::Config;
    use crate::domain::SessionId;

    /// `token_keys` builds the keys in the order `locate_session` reads them: the digest's data and
    /// metadata as `KEYS[1]`, `KEYS[2]`, the id's own as `KEYS[3]`, `KEYS[4]`.
    #[test]
    fn token_keys_come_in_the_order_locate_session_reads_them() {
        let id = SessionId::parse(&Config::default(), "tok".into()).unwrap();
        let digest = crate::store::keys::token_digest("tok");
        let keys = token_keys(&id);
        let expected = [
            format!("hashed_session:{digest}"),
            format!("hashed_session_meta:{digest}"),
            "session:tok".into(),
            "session_meta:tok".into(),
        ];
        assert_eq!(keys, expected);
        let lua = lua_locate_session!();
        assert!(lua.contains("if redis.call('EXISTS', KEYS[1]) == 1 then"), "{lua}");
        assert!(lua.contains("return KEYS[1], KEYS[2], string.sub(KEYS[1], #HASHED_SESSION + 1)"), "{lua}");
        assert!(lua.contains("return KEYS[3], KEYS[4], string.sub(KEYS[3], #SESSION + 1)"), "{lua}");
    }

    /// `session_reply`'s list has as many elements as the Rust side reads.
    #[test]
    fn the_session_reply_has_the_fields_rust_reads() {
        let lua = lua_session_reply!();
        let list = lua.split("return {").nth(2).and_then(|rest| rest.split("}\n").next()).expect("the reply list");
        // Top-level commas only: calls in the list have their own parentheses.
        let (mut depth, mut fields) = (0, 1);
        for c in list.chars() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                ',' if depth == 0 => fields += 1,
                _ => {}
            }
        }
        assert_eq!(fields, SESSION_FIELDS, "{list}");
    }
}
