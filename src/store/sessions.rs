//! Sessions. A `/v1` session is one string key, `session_record:<digest>` (the SHA-256 of its
//! token), holding everything a read answers (`lua_session_record!` writes it, `parse_record` reads
//! it), so that reading a session is one `GET`. A user's sessions are indexed by digest in
//! `user_sessions_by_creation:<uid>` and `user_sessions_by_expiry:<uid>` (`lua_session_index!`).
//! No command sent for a `/v1` session carries its token: keys and arguments hold digests.
//!
//! The original API's sessions are `session:<id>` strings under the id their client chose, as the
//! Flask service stored them.

use spin_sdk::redis::{RedisParameter, RedisResult};

use super::keys;
use super::lua::reply;
use super::{binary, classify, sha1_hex, text, unexpected, Store, StoreError};
use crate::domain::{PublicId, SessionId, SessionToken, Ttl, UserId};

/// A live `/v1` session as stored. Times are milliseconds since the Unix epoch, by Redis's clock.
#[derive(Debug, Clone)]
pub struct Session {
    /// Names the session in listings and for revocation; not a credential (see `keys.rs`).
    pub public_id: PublicId,
    pub user_id: Option<UserId>,
    pub created_ms: u64,
    /// When the key expires: refreshes move it, never past `absolute_expires_ms`.
    pub expires_ms: u64,
    pub absolute_expires_ms: u64,
    pub last_refreshed_ms: Option<u64>,
    pub client_address: Option<String>,
    pub user_agent: Option<String>,
    /// The data JSON as stored.
    pub data: Vec<u8>,
}

/// A session about to be created.
pub struct NewSession<'a> {
    pub user_id: Option<UserId>,
    pub data_json: &'a str,
    pub ttl: Ttl,
    /// From creation to the absolute expiry.
    pub lifetime: Ttl,
    pub client_address: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    /// The user's cap (`max_sessions_per_user`): creating one more evicts the oldest.
    pub max_per_user: u64,
}

/// What a `PATCH` changes; `None` leaves it as it is.
#[derive(Debug, Default)]
pub struct SessionUpdate {
    pub data: Option<String>,
    pub ttl: Option<Ttl>,
}

/// One page of a user's sessions, oldest first; `next_after` is where the next page starts, `None`
/// on the last page. `unreadable` names the sessions whose key holds something this version did
/// not write (another program's), left out of the page so that they cannot fail the listing.
pub struct SessionPage {
    pub sessions: Vec<Session>,
    pub unreadable: Vec<PublicId>,
    pub next_after: Option<u64>,
}

/// What `DELETE /v1/users/<id>/sessions` did.
pub enum Revocation {
    Revoked(u64),
    NoSuchUser,
    /// The session to keep (`except`) is not a live session of the user: nothing was revoked.
    NoSuchSession,
}

/// A session's public id: the hex SHA-1 of its token's digest, as the scripts compute it in Lua
/// (`redis.sha1hex(member)`).
fn public_id_of_digest(digest: &str) -> PublicId {
    PublicId::parse(&sha1_hex(digest.as_bytes())).expect("a SHA-1 in hex is a public id")
}

impl Store {
    /// Creates a session under the digest of `token`. `None` when its user does not exist: checked
    /// in the same script as the write, so a session cannot be created for a user being deleted.
    /// A user's session beyond the cap evicts that user's oldest, in the same script.
    pub fn create_session(&self, token: &SessionToken, new: &NewSession) -> Result<Option<Session>, StoreError> {
        // KEYS: the session; for a session of a user, the user too.
        const CREATE_SESSION: super::Script = script!(
            "CREATE_SESSION",
            lua_now_ms!(),
            lua_session_record!(),
            lua_session_index!(),
            r#"
local digest, data, ttl, lifetime, address, agent, uid, cap =
  ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5], ARGV[6], ARGV[7], tonumber(ARGV[8])
if uid ~= '' and redis.call('EXISTS', KEYS[2]) == 0 then return {NO_USER} end
local now = now_ms()
local absolute = now + lifetime
local record = {uid = uid, created = now, expires = math.min(now + ttl, absolute), absolute = absolute,
  refreshed = '', address = address, agent = agent, data = data}
local text = write_record(KEYS[1], record)
if uid ~= '' then
  local by_creation, by_expiry = index_keys(uid)
  -- Scores are unique, so that a page's cursor (a score) names one place in the order.
  local score = now
  local last = redis.call('ZRANGE', by_creation, -1, -1, 'WITHSCORES')
  if last[2] and tonumber(last[2]) >= score then score = tonumber(last[2]) + 1 end
  redis.call('ZADD', by_creation, string.format('%d', score), digest)
  redis.call('ZADD', by_expiry, string.format('%d', record.expires), digest)
  tidy_index(uid, now, cap)
  expire_index(uid)
end
return {CREATED, text}
"#
        );
        let digest = keys::token_digest(token.as_str());
        let mut keys = vec![keys::session_record(&digest)];
        if let Some(user_id) = new.user_id {
            keys.push(keys::user(user_id.get()));
        }
        let uid = new.user_id.map(|u| u.to_string()).unwrap_or_default();
        let args = [
            digest.as_str(),
            new.data_json,
            &new.ttl.millis().to_string(),
            &new.lifetime.millis().to_string(),
            new.client_address.unwrap_or_default(),
            new.user_agent.unwrap_or_default(),
            &uid,
            &new.max_per_user.to_string(),
        ];
        let reply = self.run(&CREATE_SESSION, &as_strs(&keys), &args)?;
        match reply.as_slice() {
            [status] if text(status) == Some(reply::NO_USER) => Ok(None),
            [status, RedisResult::Binary(record)] if text(status) == Some(reply::CREATED) => {
                parse_record(&digest, record).map(Some).ok_or_else(|| unexpected(CREATE_SESSION.name, &reply))
            }
            other => Err(unexpected(CREATE_SESSION.name, other)),
        }
    }

    /// Reads a live session by its token, `None` when it does not exist or has expired: one `GET`
    /// of its key, no script. Reading never writes.
    pub fn get_session(&self, token: &SessionToken) -> Result<Option<Session>, StoreError> {
        let digest = keys::token_digest(token.as_str());
        let key = keys::session_record(&digest);
        match self.conn.get(&key).map_err(classify)? {
            None => Ok(None),
            Some(record) => parse_record(&digest, &record)
                .map(Some)
                .ok_or_else(|| StoreError::Internal(format!("{SESSION_RECORD_NAME} of this version cannot read"))),
        }
    }

    /// Replaces a session's data and/or restarts its expiry from now (never past its absolute
    /// expiry); `None` when it does not exist.
    pub fn update_session(&self, token: &SessionToken, update: &SessionUpdate) -> Result<Option<Session>, StoreError> {
        const UPDATE_SESSION: super::Script = script!(
            "UPDATE_SESSION",
            lua_now_ms!(),
            lua_session_record!(),
            lua_session_index!(),
            r#"
local digest, data, ttl = ARGV[1], ARGV[2], ARGV[3]
local text = redis.call('GET', KEYS[1])
if not text then return {MISSING} end
local record = read_record(text)
if not record then return redis.error_reply('ERR unreadable session record') end
if data ~= '' then record.data = data end
-- Only a refresh needs the time: new data keeps the expiry.
local now
if ttl ~= '' then
  now = now_ms()
  record.expires = math.min(now + tonumber(ttl), record.absolute)
  record.refreshed = string.format('%d', now)
end
text = write_record(KEYS[1], record)
if ttl ~= '' and record.uid ~= '' then
  local _, by_expiry = index_keys(record.uid)
  redis.call('ZADD', by_expiry, 'XX', string.format('%d', record.expires), digest)
  tidy_index(record.uid, now)
  expire_index(record.uid)
end
return {OK, text}
"#
        );
        let digest = keys::token_digest(token.as_str());
        let data = update.data.as_deref().unwrap_or_default();
        let ttl = update.ttl.map(|t| t.millis().to_string()).unwrap_or_default();
        let reply = self.run(&UPDATE_SESSION, &[&keys::session_record(&digest)], &[&digest, data, &ttl])?;
        session_reply(&reply, &digest, UPDATE_SESSION.name)
    }

    /// Moves a session to a new token (against session fixation): same data, user, creation,
    /// expiry and absolute expiry, `last_refreshed_at` now; the old token is dead in the same step.
    /// `None` when the old token names no live session.
    pub fn rotate_session(&self, old: &SessionToken, new: &SessionToken) -> Result<Option<Session>, StoreError> {
        const ROTATE_SESSION: super::Script = script!(
            "ROTATE_SESSION",
            lua_now_ms!(),
            lua_session_record!(),
            lua_session_index!(),
            r#"
local old, new = ARGV[1], ARGV[2]
local text = redis.call('GET', KEYS[1])
if not text then return {MISSING} end
local record = read_record(text)
if not record then return redis.error_reply('ERR unreadable session record') end
local now = now_ms()
record.refreshed = string.format('%d', now)
text = write_record(KEYS[2], record)
redis.call('DEL', KEYS[1])
if record.uid ~= '' then
  local by_creation, by_expiry = index_keys(record.uid)
  local score = redis.call('ZSCORE', by_creation, old)
  unindex(record.uid, old)
  if score then
    redis.call('ZADD', by_creation, score, new)
    redis.call('ZADD', by_expiry, string.format('%d', record.expires), new)
  end
  tidy_index(record.uid, now)
end
return {OK, text}
"#
        );
        let (old_digest, new_digest) = (keys::token_digest(old.as_str()), keys::token_digest(new.as_str()));
        let keys = [keys::session_record(&old_digest), keys::session_record(&new_digest)];
        let reply = self.run(&ROTATE_SESSION, &as_strs(&keys), &[&old_digest, &new_digest])?;
        session_reply(&reply, &new_digest, ROTATE_SESSION.name)
    }

    /// Deletes a session (logs it out), with its index entry; `false` when it named nothing.
    pub fn delete_session(&self, token: &SessionToken) -> Result<bool, StoreError> {
        const DELETE_SESSION: super::Script = script!(
            "DELETE_SESSION",
            lua_now_ms!(),
            lua_session_record!(),
            lua_session_index!(),
            r#"
local text = redis.call('GET', KEYS[1])
if not text then return 0 end
redis.call('DEL', KEYS[1])
local record = read_record(text)
if record and record.uid ~= '' then
  unindex(record.uid, ARGV[1])
  tidy_index(record.uid, now_ms())
end
return 1
"#
        );
        let digest = keys::token_digest(token.as_str());
        let reply = self.run(&DELETE_SESSION, &[&keys::session_record(&digest)], &[&digest])?;
        match reply.as_slice() {
            [RedisResult::Int64(n)] => Ok(*n > 0),
            other => Err(unexpected(DELETE_SESSION.name, other)),
        }
    }

    /// One page of the user's live sessions, oldest first, starting after the creation score
    /// `after` (from the start when `None`); `None` when the user does not exist. One script that
    /// only reads (so it answers on a read-only replica too); neither digests nor tokens leave it:
    /// each session comes back with its public id.
    pub fn list_user_sessions(
        &self,
        user_id: UserId,
        after: Option<u64>,
        limit: u32,
    ) -> Result<Option<SessionPage>, StoreError> {
        const LIST_USER_SESSIONS: super::Script = script!(
            "LIST_USER_SESSIONS",
            r#"
local after, limit = ARGV[1], tonumber(ARGV[2])
if redis.call('EXISTS', KEYS[1]) == 0 then return {MISSING} end
local from = '-inf'
if after ~= '' then from = '(' .. after end
-- One more than the page, to know whether there is a next page.
local entries = redis.call('ZRANGEBYSCORE', KEYS[2], from, '+inf', 'WITHSCORES', 'LIMIT', 0, limit + 1)
local out = {OK, ''}
for i = 1, math.min(#entries, 2 * limit), 2 do
  local record = redis.call('GET', SESSION_RECORD .. entries[i])
  -- An entry whose session has expired stays until the next write tidies the index.
  if record then
    out[#out + 1] = redis.sha1hex(entries[i])
    out[#out + 1] = record
  end
end
if #entries > 2 * limit then out[2] = entries[2 * limit] end
return out
"#
        );
        let keys = [keys::user(user_id.get()), keys::user_sessions_by_creation(user_id.get())];
        let after = after.map(|a| a.to_string()).unwrap_or_default();
        let reply = self.run(&LIST_USER_SESSIONS, &as_strs(&keys), &[&after, &limit.to_string()])?;
        let bad = || unexpected(LIST_USER_SESSIONS.name, &reply);
        match reply.as_slice() {
            [status] if text(status) == Some(reply::MISSING) => Ok(None),
            [status, next, rest @ ..] if text(status) == Some(reply::OK) && rest.len() % 2 == 0 => {
                let next_after = match text(next).ok_or_else(bad)? {
                    "" => None,
                    score => Some(score.parse().map_err(|_| bad())?),
                };
                let (mut sessions, mut unreadable) = (Vec::new(), Vec::new());
                for pair in rest.chunks(2) {
                    let [public_id, RedisResult::Binary(record)] = pair else { return Err(bad()) };
                    let public_id = text(public_id).and_then(PublicId::parse).ok_or_else(bad)?;
                    match parse_record_as(public_id.clone(), record) {
                        Some(session) => sessions.push(session),
                        None => unreadable.push(public_id),
                    }
                }
                Ok(Some(SessionPage { sessions, unreadable, next_after }))
            }
            _ => Err(bad()),
        }
    }

    /// Revokes one of the user's sessions by its public id, with its index entry, atomically;
    /// `false` when the user has no live session with that public id.
    pub fn revoke_user_session(&self, user_id: UserId, public_id: &PublicId) -> Result<bool, StoreError> {
        const REVOKE_USER_SESSION: super::Script = script!(
            "REVOKE_USER_SESSION",
            lua_now_ms!(),
            lua_session_index!(),
            r#"
local uid, public_id = ARGV[1], ARGV[2]
local by_creation = index_keys(uid)
for _, member in ipairs(redis.call('ZRANGE', by_creation, 0, -1)) do
  if redis.sha1hex(member) == public_id then
    local deleted = redis.call('DEL', SESSION_RECORD .. member)
    unindex(uid, member)
    tidy_index(uid, now_ms())
    return deleted
  end
end
return 0
"#
        );
        let uid = user_id.to_string();
        let reply = self.run(&REVOKE_USER_SESSION, &[], &[&uid, public_id.as_str()])?;
        match reply.as_slice() {
            [RedisResult::Int64(n)] => Ok(*n > 0),
            other => Err(unexpected(REVOKE_USER_SESSION.name, other)),
        }
    }

    /// Deletes all of a user's sessions (log out everywhere), or all but the one named `except`
    /// (after a password change: log out the other devices).
    pub fn revoke_user_sessions(&self, user_id: UserId, except: Option<&PublicId>) -> Result<Revocation, StoreError> {
        const REVOKE_USER_SESSIONS: super::Script = script!(
            "REVOKE_USER_SESSIONS",
            lua_now_ms!(),
            lua_session_index!(),
            r#"
local uid, except = ARGV[1], ARGV[2]
if redis.call('EXISTS', KEYS[1]) == 0 then return {MISSING} end
local keep = nil
if except ~= '' then
  local by_creation = index_keys(uid)
  for _, member in ipairs(redis.call('ZRANGE', by_creation, 0, -1)) do
    if redis.sha1hex(member) == except and redis.call('EXISTS', SESSION_RECORD .. member) == 1 then
      keep = member
    end
  end
  if not keep then return {NO_SESSION} end
end
return {OK, revoke_sessions(uid, keep)}
"#
        );
        let uid = user_id.to_string();
        let except = except.map(PublicId::as_str).unwrap_or_default();
        let reply = self.run(&REVOKE_USER_SESSIONS, &[&keys::user(user_id.get())], &[&uid, except])?;
        match reply.as_slice() {
            [status] if text(status) == Some(reply::MISSING) => Ok(Revocation::NoSuchUser),
            [status] if text(status) == Some(reply::NO_SESSION) => Ok(Revocation::NoSuchSession),
            [status, RedisResult::Int64(n)] if text(status) == Some(reply::OK) => Ok(Revocation::Revoked(*n as u64)),
            other => Err(unexpected(REVOKE_USER_SESSIONS.name, other)),
        }
    }

    /// Stores a session's data under a client-chosen id with an expiry, as the original
    /// `/create_session` did (one `SET ... EX`).
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

    /// Reads a session's data JSON by a `/v1` token or a `/create_session` id, `None` when it does
    /// not exist or has expired: one `MGET` of the `/v1` key of the id's digest and the id's own
    /// key, the `/v1` session first.
    pub fn get_session_data(&self, id: &SessionId) -> Result<Option<Vec<u8>>, StoreError> {
        let id = id.as_str();
        let digest = keys::token_digest(id);
        let params = [binary(&keys::session_record(&digest)), binary(&keys::session(id))];
        let reply = self.conn.execute("MGET", &params).map_err(classify)?;
        match <[RedisResult; 2]>::try_from(reply) {
            Ok([RedisResult::Binary(record), _]) => parse_record(&digest, &record)
                .map(|session| Some(session.data))
                .ok_or_else(|| StoreError::Internal(format!("{SESSION_RECORD_NAME} of this version cannot read"))),
            Ok([RedisResult::Nil, RedisResult::Binary(data)]) => Ok(Some(data)),
            Ok([RedisResult::Nil, RedisResult::Nil]) => Ok(None),
            Ok(other) => Err(unexpected("MGET", &other)),
            Err(other) => Err(unexpected("MGET", &other)),
        }
    }
}

/// How errors name a `/v1` session's key without its digest (which would let anyone who reads
/// the log find the session in Redis).
const SESSION_RECORD_NAME: &str = "a session_record key holds a value this version";

fn as_strs(keys: &[String]) -> Vec<&str> {
    keys.iter().map(String::as_str).collect()
}

/// The `{OK, record}` / `{MISSING}` reply of a script that writes one session.
fn session_reply(reply: &[RedisResult], digest: &str, script: &str) -> Result<Option<Session>, StoreError> {
    match reply {
        [status] if text(status) == Some(reply::MISSING) => Ok(None),
        [status, RedisResult::Binary(record)] if text(status) == Some(reply::OK) => {
            parse_record(digest, record).map(Some).ok_or_else(|| unexpected(script, reply))
        }
        other => Err(unexpected(script, other)),
    }
}

fn parse_record(digest: &str, record: &[u8]) -> Option<Session> {
    parse_record_as(public_id_of_digest(digest), record)
}

/// Reads the nine lines `lua_session_record!` writes; `None` for anything else.
fn parse_record_as(public_id: PublicId, record: &[u8]) -> Option<Session> {
    let mut lines = record.splitn(9, |b| *b == b'\n');
    if lines.next()? != b"v1" {
        return None;
    }
    let mut next = || std::str::from_utf8(lines.next()?).ok();
    let optional = |text: &str| (!text.is_empty()).then(|| text.to_owned());
    let user_id = match next()? {
        "" => None,
        id => Some(UserId::parse(id)?),
    };
    let created_ms = next()?.parse().ok()?;
    let expires_ms = next()?.parse().ok()?;
    let absolute_expires_ms = next()?.parse().ok()?;
    let last_refreshed_ms = match next()? {
        "" => None,
        ms => Some(ms.parse().ok()?),
    };
    let client_address = optional(next()?);
    let user_agent = optional(next()?);
    let data = lines.next()?.to_vec();
    Some(Session {
        public_id,
        user_id,
        created_ms,
        expires_ms,
        absolute_expires_ms,
        last_refreshed_ms,
        client_address,
        user_agent,
        data,
    })
}

#[cfg(test)]
mod tests {
    use super::parse_record_as;
    use crate::domain::PublicId;

    /// The Rust reader reads what the Lua writer writes: the same nine lines, the data last and
    /// free to hold line breaks.
    #[test]
    fn a_record_reads_back_field_by_field() {
        let lua = lua_session_record!();
        assert!(
            lua.contains("'^v1\\n([^\\n]*)\\n(%d+)\\n(%d+)\\n(%d+)\\n(%d*)\\n([^\\n]*)\\n([^\\n]*)\\n(.*)$'"),
            "{lua}"
        );
        assert!(lua.contains("{'v1', r.uid,"), "{lua}");
        let id = PublicId::parse(&"a".repeat(40)).unwrap();
        let record = b"v1\n7\n1000\n2000\n3000\n1500\n127.0.0.1:5000\ncurl/8\n{\"a\":\"x\\ny\"}\n";
        let s = parse_record_as(id.clone(), record).unwrap();
        assert_eq!(s.user_id.map(|u| u.get()), Some(7));
        assert_eq!(
            (s.created_ms, s.expires_ms, s.absolute_expires_ms, s.last_refreshed_ms),
            (1000, 2000, 3000, Some(1500))
        );
        assert_eq!((s.client_address.as_deref(), s.user_agent.as_deref()), (Some("127.0.0.1:5000"), Some("curl/8")));
        assert_eq!(s.data, b"{\"a\":\"x\\ny\"}\n");
        let anonymous = parse_record_as(id.clone(), b"v1\n\n1\n2\n3\n\n\n\n{}").unwrap();
        assert_eq!((anonymous.user_id, anonymous.last_refreshed_ms, anonymous.user_agent), (None, None, None));
        for bad in [&b"v2\n\n1\n2\n3\n\n\n\n{}"[..], b"v1\n\n1\n2\n3\n\n\n", b"v1\nx\n1\n2\n3\n\n\n\n{}", b"{}"] {
            assert!(parse_record_as(id.clone(), bad).is_none(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
