//! Sessions: `session:<id>` (the data, shared with the original API), `session_meta:<id>` and
//! `user_sessions:<user_id>`.

use spin_sdk::redis::{RedisParameter, RedisResult};

use super::keys;
use super::{binary, classify, text, unexpected, Store, StoreError};

/// A live session as read from Redis.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    /// The data JSON as stored.
    pub data: Vec<u8>,
    /// `None` for sessions not tied to a user (and all sessions of the original API).
    pub user_id: Option<u64>,
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
    pub ttl_ms: Option<u64>,
}

/// The number of reply elements describing one session, after its id.
const SESSION_FIELDS: usize = 4;

impl Store {
    /// Creates a session with a fresh id, tied to `user_id` if given. `Ok(false)` when that user does
    /// not exist: checked in the same script as the write, so a session cannot be created for a
    /// user being deleted.
    pub fn create_session(
        &self,
        id: &str,
        user_id: Option<u64>,
        data_json: &str,
        ttl_ms: u64,
        created_at: &str,
    ) -> Result<bool, StoreError> {
        // KEYS: the session, its metadata and, for a session of a user, the user and its index.
        const CREATE_SESSION: super::Script = script!(
            "CREATE_SESSION",
            lua_now_ms!(),
            lua_index_session!(),
            r#"
local sid, data, ttl, created_at, uid = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
if uid ~= '' and redis.call('EXISTS', KEYS[3]) == 0 then return 'no_user' end
redis.call('SET', KEYS[1], data, 'PX', ttl)
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'user_id', uid, 'created_at', created_at)
redis.call('PEXPIRE', KEYS[2], ttl)
if uid ~= '' then index_session(KEYS[4], sid, ttl) end
return 'created'
"#
        );
        let ttl = ttl_ms.to_string();
        let uid = user_id.map(|u| u.to_string()).unwrap_or_default();
        let mut keys = vec![keys::session(id), keys::session_meta(id)];
        if let Some(user_id) = user_id {
            keys.extend([keys::user(user_id), keys::user_sessions(user_id)]);
        }
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        let reply = self.run(&CREATE_SESSION, &keys, &[id, data_json, &ttl, created_at, &uid])?;
        match reply.as_slice().first().and_then(text) {
            Some("created") => Ok(true),
            Some("no_user") => Ok(false),
            _ => Err(unexpected(CREATE_SESSION.name, &reply)),
        }
    }

    /// Reads a live session, `None` when it does not exist or has expired.
    pub fn get_session(&self, id: &str) -> Result<Option<Session>, StoreError> {
        const GET_SESSION: super::Script =
            script!("GET_SESSION", lua_session_reply!(), "return session_reply(ARGV[1])\n");
        let reply = self.run(&GET_SESSION, &[&keys::session(id), &keys::session_meta(id)], &[id])?;
        parse_session(id, &reply, GET_SESSION.name)
    }

    /// Replaces a session's data and/or restarts its expiry from now; `None` when it does not exist.
    pub fn update_session(&self, id: &str, update: &SessionUpdate) -> Result<Option<Session>, StoreError> {
        const UPDATE_SESSION: super::Script = script!(
            "UPDATE_SESSION",
            lua_now_ms!(),
            lua_index_session!(),
            lua_session_reply!(),
            r#"
local sid, data, ttl = ARGV[1], ARGV[2], ARGV[3]
local current = redis.call('GET', KEYS[1])
if not current then return {} end
if data == '' then data = current end
if ttl == '' then
  ttl = redis.call('PTTL', KEYS[1])
  if ttl > 0 then redis.call('SET', KEYS[1], data, 'PX', ttl) else redis.call('SET', KEYS[1], data) end
else
  redis.call('SET', KEYS[1], data, 'PX', ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
  local uid = redis.call('HGET', KEYS[2], 'user_id')
  if uid and uid ~= '' then index_session(USER_SESSIONS .. uid, sid, ttl) end
end
return session_reply(sid)
"#
        );
        let data = update.data.clone().unwrap_or_default();
        let ttl = update.ttl_ms.map(|t| t.to_string()).unwrap_or_default();
        let reply = self.run(&UPDATE_SESSION, &[&keys::session(id), &keys::session_meta(id)], &[id, &data, &ttl])?;
        parse_session(id, &reply, UPDATE_SESSION.name)
    }

    /// Deletes a session (logs it out); `false` when it did not exist.
    pub fn delete_session(&self, id: &str) -> Result<bool, StoreError> {
        const DELETE_SESSION: super::Script = script!(
            "DELETE_SESSION",
            r#"
local uid = redis.call('HGET', KEYS[2], 'user_id')
local deleted = redis.call('DEL', KEYS[1])
redis.call('DEL', KEYS[2])
if uid and uid ~= '' then redis.call('ZREM', USER_SESSIONS .. uid, ARGV[1]) end
return deleted
"#
        );
        let reply = self.run(&DELETE_SESSION, &[&keys::session(id), &keys::session_meta(id)], &[id])?;
        match reply.as_slice() {
            [RedisResult::Int64(n)] => Ok(*n > 0),
            other => Err(unexpected(DELETE_SESSION.name, other)),
        }
    }

    /// The user's live sessions, `None` when the user does not exist. Index entries of sessions
    /// that expired (or were taken over through the original API) are removed on the way.
    pub fn list_user_sessions(&self, user_id: u64) -> Result<Option<Vec<Session>>, StoreError> {
        const LIST_USER_SESSIONS: super::Script = script!(
            "LIST_USER_SESSIONS",
            lua_now_ms!(),
            lua_session_reply!(),
            r#"
local uid = ARGV[1]
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now_ms())
local out = {'ok'}
for _, sid in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local s = session_reply(sid)
  if s[1] and s[3] == uid then
    out[#out + 1] = sid
    for i = 1, 4 do out[#out + 1] = s[i] end
  else
    redis.call('ZREM', KEYS[2], sid)
  end
end
return out
"#
        );
        let uid = user_id.to_string();
        let keys = [keys::user(user_id), keys::user_sessions(user_id)];
        let reply = self.run(&LIST_USER_SESSIONS, &[&keys[0], &keys[1]], &[&uid])?;
        match reply.split_first() {
            Some((status, _)) if text(status) == Some("missing") => Ok(None),
            Some((status, rest)) if text(status) == Some("ok") && rest.len() % (SESSION_FIELDS + 1) == 0 => rest
                .chunks(SESSION_FIELDS + 1)
                .map(|chunk| {
                    let id = text(&chunk[0]).ok_or_else(|| unexpected(LIST_USER_SESSIONS.name, chunk))?;
                    parse_session(id, &chunk[1..], LIST_USER_SESSIONS.name)?
                        .ok_or_else(|| unexpected(LIST_USER_SESSIONS.name, chunk))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            _ => Err(unexpected(LIST_USER_SESSIONS.name, &reply)),
        }
    }

    /// Deletes all of a user's sessions (log out everywhere). Returns how many live sessions were
    /// deleted, `None` when the user does not exist.
    pub fn revoke_user_sessions(&self, user_id: u64) -> Result<Option<u64>, StoreError> {
        const REVOKE_USER_SESSIONS: super::Script = script!(
            "REVOKE_USER_SESSIONS",
            lua_revoke_sessions!(),
            r#"
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
return {'ok', revoke_sessions(ARGV[1], KEYS[2])}
"#
        );
        let uid = user_id.to_string();
        let keys = [keys::user(user_id), keys::user_sessions(user_id)];
        let reply = self.run(&REVOKE_USER_SESSIONS, &[&keys[0], &keys[1]], &[&uid])?;
        match reply.as_slice() {
            [status] if text(status) == Some("missing") => Ok(None),
            [status, RedisResult::Int64(n)] if text(status) == Some("ok") => Ok(Some(*n as u64)),
            other => Err(unexpected(REVOKE_USER_SESSIONS.name, other)),
        }
    }

    /// Stores a session's data under a client-chosen id with an expiry, as the original
    /// `/create_session` did (one `SET ... EX`). A `/v1` session with the same id keeps its owner.
    pub fn put_session_data(&self, id: &str, data_json: &str, ttl_seconds: u64) -> Result<(), StoreError> {
        let params =
            [binary(&keys::session(id)), binary(data_json), binary("EX"), RedisParameter::Int64(ttl_seconds as i64)];
        self.conn.execute("SET", &params).map_err(classify)?;
        Ok(())
    }

    /// Reads a session's data JSON, `None` when it does not exist or has expired.
    pub fn get_session_data(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.conn.get(&keys::session(id)).map_err(classify)
    }
}

/// Reads the `data, pttl, user_id, created_at` elements of `session_reply`; empty means no session.
fn parse_session(id: &str, reply: &[RedisResult], script: &str) -> Result<Option<Session>, StoreError> {
    match reply {
        [] => Ok(None),
        [RedisResult::Binary(data), RedisResult::Int64(pttl), user_id, created_at] => Ok(Some(Session {
            id: id.to_owned(),
            data: data.clone(),
            user_id: text(user_id).and_then(|u| u.parse().ok()),
            created_at: text(created_at).filter(|c| !c.is_empty()).map(str::to_owned),
            ttl_ms: u64::try_from(*pttl).ok(),
        })),
        other => Err(unexpected(script, other)),
    }
}
