//! Lua shared by the scripts, written once. Each piece is a macro expanding to a string literal, so
//! that a script is one `concat!` of the pieces it uses and its own body (`script!`).

/// A script: the prelude (the key prefixes, declared by `keys.rs`, and the status words below),
/// then the given pieces of Lua.
macro_rules! script {
    ($name:literal, $($lua:expr),+ $(,)?) => {
        super::Script { name: $name, source: concat!(lua_prelude!(), lua_reply_words!(), $($lua),+) }
    };
}

/// Declares string constants once for both languages: as Rust constants (of visibility `$vis`), and
/// as a macro `$lua!()` expanding to Lua that declares each as a local of the same name, for every
/// script's prelude (`script!`). The key prefixes (`keys.rs`) and the status words below are declared this way.
macro_rules! lua_constants {
    ($vis:vis $lua:ident { $($name:ident = $value:literal;)+ }) => {
        $($vis const $name: &str = $value;)+

        macro_rules! $lua {
            () => {
                concat!($("local ", stringify!($name), " = '", $value, "'\n"),+)
            };
        }
    };
}

/// The status words scripts reply with, which the Rust decoders match (`reply::MISSING`) and the
/// scripts return (`return MISSING`).
#[macro_use]
pub(super) mod reply {
    lua_constants!(pub lua_reply_words {
        OK = "ok";
        CREATED = "created";
        DELETED = "deleted";
        MISSING = "missing";
        MISMATCH = "mismatch";
        NO_USER = "no_user";
        NO_ID_LEFT = "no_id_left";
        KEY_REUSED = "key_reused";
        REPLAYED = "replayed";
    });
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

/// `session_keys(member)`: the data and metadata keys of a session from its entry in a user's
/// index: a token digest (`hashed_session:`) or, for a session of the old layout, the token itself
/// (`session:`). Told apart by which layout's metadata exists, not by the member's shape; an entry
/// whose session has expired gets the old layout's keys, which name nothing of this user's (the
/// callers check the metadata's `user_id`).
macro_rules! lua_session_keys {
    () => {
        r#"
local function session_keys(member)
  if redis.call('EXISTS', HASHED_SESSION_META .. member) == 1 then
    return HASHED_SESSION .. member, HASHED_SESSION_META .. member
  end
  return SESSION .. member, SESSION_META .. member
end
"#
    };
}

/// `locate_session()`: for a script called with a token's keys (`KEYS[1]`, `KEYS[2]`: its
/// `hashed_session:` keys; `KEYS[3]`, `KEYS[4]`: `session:` and `session_meta:` under the id as
/// given), the session's data key, metadata key and index member. The digest is tried first; the
/// keys of the id as given serve `/create_session`'s sessions and `/v1` sessions of the old layout.
macro_rules! lua_locate_session {
    () => {
        r#"
local function locate_session()
  if redis.call('EXISTS', KEYS[1]) == 1 then
    return KEYS[1], KEYS[2], string.sub(KEYS[1], #HASHED_SESSION + 1)
  end
  return KEYS[3], KEYS[4], string.sub(KEYS[3], #SESSION + 1)
end
"#
    };
}

/// `revoke_sessions(uid, index)` (needs `lua_session_keys!`): deletes every session in the user's
/// index (the key `user_sessions:<uid>`), then the index; returns how many live sessions it
/// deleted. A session in the index is only deleted if its metadata still names this user: an
/// original-API client may have reused an old-layout id since.
macro_rules! lua_revoke_sessions {
    () => {
        r#"
local function revoke_sessions(uid, index)
  local revoked = 0
  for _, member in ipairs(redis.call('ZRANGE', index, 0, -1)) do
    local data_key, meta_key = session_keys(member)
    if redis.call('HGET', meta_key, 'user_id') == uid then
      revoked = revoked + redis.call('DEL', data_key)
      redis.call('DEL', meta_key)
    end
  end
  redis.call('DEL', index)
  return revoked
end
"#
    };
}

/// `index_session(index, member, ttl_ms)` (needs `lua_now_ms!`): records the session (its digest,
/// or its token for the old layout) in the user's index (the key `user_sessions:<uid>`) scored by
/// its expiry (Redis's clock), drops entries that have expired, and lets the index itself expire
/// with its last session so it never outlives them.
macro_rules! lua_index_session {
    () => {
        r#"
local function index_session(index, member, ttl_ms)
  local now = now_ms()
  redis.call('ZREMRANGEBYSCORE', index, '-inf', now)
  redis.call('ZADD', index, string.format('%d', now + tonumber(ttl_ms)), member)
  local last = redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')
  redis.call('PEXPIREAT', index, last[2])
end
"#
    };
}

/// `session_reply(data_key, meta_key, member)`: the flat list `data, pttl, user_id, created_at,
/// public_id` (false → nil for what is missing), or an empty list when there is no such session.
/// The public id is the hex SHA-1 of the index member (the digest), never the token.
macro_rules! lua_session_reply {
    () => {
        r#"
local function session_reply(data_key, meta_key, member)
  local data = redis.call('GET', data_key)
  if not data then return {} end
  local meta = redis.call('HMGET', meta_key, 'user_id', 'created_at')
  return {data, redis.call('PTTL', data_key), meta[1], meta[2], redis.sha1hex(member)}
end
"#
    };
}

/// `MAX_USER_ID`: `users::MAX_USER_ID` (2^53 − 1), exact as a Lua number (a double), and compared
/// as one: ids from Redis (`INCR`, key names) are read with `tonumber`, exact up to this value.
macro_rules! lua_max_user_id {
    () => {
        "local MAX_USER_ID = 9007199254740991\n"
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_lua_status_words_are_the_rust_ones() {
        use super::reply::*;
        let lua = lua_reply_words!();
        for (name, word) in [
            ("OK", OK),
            ("CREATED", CREATED),
            ("DELETED", DELETED),
            ("MISSING", MISSING),
            ("MISMATCH", MISMATCH),
            ("NO_USER", NO_USER),
            ("NO_ID_LEFT", NO_ID_LEFT),
            ("KEY_REUSED", KEY_REUSED),
            ("REPLAYED", REPLAYED),
        ] {
            assert!(lua.contains(&format!("local {name} = '{word}'\n")), "{name}: {lua}");
        }
        assert_eq!(lua.lines().count(), 9);
    }
}
