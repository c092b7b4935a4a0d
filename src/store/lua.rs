//! Lua shared by the scripts, written once. Each piece is a macro expanding to a string literal, so
//! that a script is one `concat!` of the pieces it uses and its own body (`script!`).

/// A script: the prelude (the key prefixes, declared by `keys.rs`, and the status words below),
/// then the given pieces of Lua.
macro_rules! script {
    ($name:literal, $($lua:expr),+ $(,)?) => {
        {
            const SOURCE: &str = concat!(lua_prelude!(), lua_reply_words!(), $($lua),+);
            super::Script { name: $name, source: SOURCE, sha: super::script_id::sha1_hex(SOURCE) }
        }
    };
}

/// Declares string constants once for both languages: as Rust constants (of visibility `$vis`), and
/// as a macro `$lua!()` expanding to Lua that declares each as a local of the same name, for every
/// script's prelude (`script!`). The key prefixes (`keys.rs`) and the status words below are declared this way.
macro_rules! lua_constants {
    ($vis:vis $lua:ident { $($name:ident = $value:literal;)+ }) => {
        // Some are used by the scripts only.
        $(#[allow(dead_code)] $vis const $name: &str = $value;)+

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
        NO_SESSION = "no_session";
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

/// `read_record(text)` and `record_text(r)`: a `/v1` session as stored, one string of nine lines:
/// `v1`, user id (empty for none), created, expires and absolute expiry (milliseconds since the
/// epoch, Redis's clock), last refresh (milliseconds, empty for none), client address, user agent,
/// and the data JSON last (it may hold anything). `store::sessions::Record` reads the same format.
/// `read_record` answers nil for text in another format (not written by this version).
macro_rules! lua_session_record {
    () => {
        r#"
local function read_record(text)
  local uid, created, expires, absolute, refreshed, address, agent, data = string.match(text,
    '^v1\n([^\n]*)\n(%d+)\n(%d+)\n(%d+)\n(%d*)\n([^\n]*)\n([^\n]*)\n(.*)$')
  if not uid then return nil end
  return {uid = uid, created = tonumber(created), expires = tonumber(expires),
    absolute = tonumber(absolute), refreshed = refreshed, address = address, agent = agent, data = data}
end
local function record_text(r)
  return table.concat({'v1', r.uid, string.format('%d', r.created), string.format('%d', r.expires),
    string.format('%d', r.absolute), r.refreshed, r.address, r.agent, r.data}, '\n')
end
local function write_record(key, r)
  local text = record_text(r)
  redis.call('SET', key, text, 'PXAT', string.format('%d', r.expires))
  return text
end
"#
    };
}

/// A user's session index: two sorted sets of token digests, one scored by creation (unique
/// scores: the listing's cursor and the cap's "oldest"), one by expiry (to find what has expired
/// without reading every session).
///
/// - `index_keys(uid)`: the two keys;
/// - `unindex(uid, member)`: removes one entry;
/// - `tidy_index(uid, now, cap)`: drops the entries that have expired by `now` (milliseconds),
///   then, if `cap` is given, deletes the oldest sessions beyond it. Every script that writes the
///   index calls it;
/// - `expire_index(uid)`: makes both keys expire with the user's last session, so that the index
///   never outlives its sessions. Only a write that moves an expiry later needs it: removing
///   entries leaves the keys' expiry after every remaining session's, and Redis deletes a sorted
///   set that becomes empty;
/// - `revoke_sessions(uid, keep)`: deletes every session of the user but `keep` (a digest, or
///   nil: then the index goes too), with their entries; returns how many live sessions it deleted.
macro_rules! lua_session_index {
    () => {
        r#"
local function index_keys(uid)
  return USER_SESSIONS_BY_CREATION .. uid, USER_SESSIONS_BY_EXPIRY .. uid
end
local function unindex(uid, member)
  local by_creation, by_expiry = index_keys(uid)
  redis.call('ZREM', by_creation, member)
  redis.call('ZREM', by_expiry, member)
end
local function tidy_index(uid, now, cap)
  local by_creation, by_expiry = index_keys(uid)
  for _, member in ipairs(redis.call('ZRANGEBYSCORE', by_expiry, '-inf', string.format('%d', now))) do
    unindex(uid, member)
  end
  if cap then
    local over = redis.call('ZCARD', by_creation) - cap
    if over > 0 then
      for _, oldest in ipairs(redis.call('ZRANGE', by_creation, 0, over - 1)) do
        redis.call('DEL', SESSION_RECORD .. oldest)
        unindex(uid, oldest)
      end
    end
  end
end
local function expire_index(uid)
  local by_creation, by_expiry = index_keys(uid)
  local last = redis.call('ZRANGE', by_expiry, -1, -1, 'WITHSCORES')
  if last[2] then
    redis.call('PEXPIREAT', by_creation, last[2])
    redis.call('PEXPIREAT', by_expiry, last[2])
  end
end
local function revoke_sessions(uid, keep)
  local by_creation = index_keys(uid)
  local revoked = 0
  for _, member in ipairs(redis.call('ZRANGE', by_creation, 0, -1)) do
    if member ~= keep then
      revoked = revoked + redis.call('DEL', SESSION_RECORD .. member)
      unindex(uid, member)
    end
  end
  if keep then tidy_index(uid, now_ms()) else redis.call('DEL', index_keys(uid)) end
  return revoked
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
            ("NO_SESSION", NO_SESSION),
        ] {
            assert!(lua.contains(&format!("local {name} = '{word}'\n")), "{name}: {lua}");
        }
        assert_eq!(lua.lines().count(), 10);
    }
}
