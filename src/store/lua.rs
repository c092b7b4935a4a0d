//! Lua shared by the scripts, written once. Each piece is a macro expanding to a string literal, so
//! that a script is one `concat!` of the pieces it uses and its own body (`script!`).

/// A script: the prelude, then the given pieces of Lua.
macro_rules! script {
    ($name:literal, $($lua:expr),+ $(,)?) => {
        super::Script { name: $name, source: concat!(lua_prelude!(), $($lua),+) }
    };
}

/// Reads the key prefixes `Store::run` passes ahead of the script's own arguments (in the order of
/// `keys::PREFIXES`), and leaves `ARGV` as the script's own arguments.
macro_rules! lua_prelude {
    () => {
        r#"
local USER, SESSION, SESSION_META, USER_SESSIONS = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local ARGV = {unpack(ARGV, 5)}
"#
    };
}

/// `now_ms()`: Redis's clock in milliseconds, the same for every instance of the app.
macro_rules! lua_now_ms {
    () => {
        r#"
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
"#
    };
}

/// `precondition_holds(record, condition)`: whether a user record satisfies an `If-Match`
/// condition (`Precondition::script_arg`).
macro_rules! lua_precondition {
    () => {
        r#"
local function precondition_holds(record, condition)
  if condition == '' or condition == '*' then return true end
  return string.find(condition, ',' .. redis.sha1hex(record) .. ',', 1, true) ~= nil
end
"#
    };
}

/// `revoke_sessions(uid, index)`: deletes every session in the user's index (the key
/// `user_sessions:<uid>`), then the index; returns how
/// many live sessions it deleted. A session id in the index is only deleted if its metadata still
/// names this user: an original-API client may have reused the id since.
macro_rules! lua_revoke_sessions {
    () => {
        r#"
local function revoke_sessions(uid, index)
  local revoked = 0
  for _, sid in ipairs(redis.call('ZRANGE', index, 0, -1)) do
    if redis.call('HGET', SESSION_META .. sid, 'user_id') == uid then
      revoked = revoked + redis.call('DEL', SESSION .. sid)
      redis.call('DEL', SESSION_META .. sid)
    end
  end
  redis.call('DEL', index)
  return revoked
end
"#
    };
}

/// `index_session(index, sid, ttl_ms)` (needs `lua_now_ms!`): records the session in the user's
/// index (the key `user_sessions:<uid>`) scored by its expiry (Redis's clock), drops entries that have expired, and lets the index
/// itself expire with its last session so it never outlives them.
macro_rules! lua_index_session {
    () => {
        r#"
local function index_session(index, sid, ttl_ms)
  local now = now_ms()
  redis.call('ZREMRANGEBYSCORE', index, '-inf', now)
  redis.call('ZADD', index, string.format('%d', now + tonumber(ttl_ms)), sid)
  local last = redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')
  redis.call('PEXPIREAT', index, last[2])
end
"#
    };
}

/// `session_reply(sid)`: the flat list `data, pttl, user_id, created_at` (false → nil for what is
/// missing), or an empty list when there is no such session.
macro_rules! lua_session_reply {
    () => {
        r#"
local function session_reply(sid)
  local data = redis.call('GET', SESSION .. sid)
  if not data then return {} end
  local meta = redis.call('HMGET', SESSION_META .. sid, 'user_id', 'created_at')
  return {data, redis.call('PTTL', SESSION .. sid), meta[1], meta[2]}
end
"#
    };
}
