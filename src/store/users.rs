//! Users: `user_id_counter`, `user:<id>` and `users:index`.

use serde::{Deserialize, Serialize};
use spin_sdk::redis::RedisResult;

use super::{sha1_hex, text, unexpected, Script, Store, StoreError};

const USER_ID_COUNTER: &str = "user_id_counter";
const USERS_INDEX: &str = "users:index";

fn user_key(id: u64) -> String {
    format!("user:{id}")
}

fn user_sessions_key(id: u64) -> String {
    format!("user_sessions:{id}")
}

/// A user as stored in `user:<id>`. Records written by the original service have no timestamps.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub id: u64,
    pub nom: String,
    pub prenom: String,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// A user with the ETag of its stored record: the hex SHA-1 of the exact bytes in `user:<id>`, so
/// Lua (`redis.sha1hex`) and Rust compute the same value and any change to the record changes it.
#[derive(Debug, Clone)]
pub struct StoredUser {
    pub user: User,
    pub etag: String,
}

impl StoredUser {
    fn parse(record: &[u8]) -> Result<StoredUser, StoreError> {
        let user = serde_json::from_slice(record)
            .map_err(|e| StoreError::Internal(format!("stored user is not valid: {e}")))?;
        Ok(StoredUser { user, etag: sha1_hex(record) })
    }
}

/// The fields of a new user record except its id, which only Redis can hand out.
#[derive(Serialize)]
struct NewUserRecord<'a> {
    nom: &'a str,
    prenom: &'a str,
    created_at: &'a str,
    updated_at: &'a str,
}

/// The fields a `PATCH` changes; `None` leaves a field as it is.
#[derive(Debug, Default, Serialize)]
pub struct UserPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nom: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prenom: Option<String>,
}

/// An `If-Match` condition on a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// No `If-Match`: write unconditionally.
    None,
    /// `If-Match: *`: the user must exist.
    Exists,
    /// `If-Match: "a", "b"`: the current ETag must be one of these.
    OneOf(Vec<String>),
}

impl Precondition {
    /// The script argument: empty, `*`, or `,a,b,` for a plain-text search.
    fn script_arg(&self) -> String {
        match self {
            Precondition::None => String::new(),
            Precondition::Exists => "*".into(),
            Precondition::OneOf(tags) => format!(",{},", tags.join(",")),
        }
    }
}

/// What a conditional write did.
#[derive(Debug)]
pub enum WriteOutcome<T> {
    Done(T),
    /// There is no such user.
    Missing,
    /// The user's ETag matched none of `If-Match`.
    PreconditionFailed,
}

/// One page of users in ascending id order, and the id to continue after when there are more.
#[derive(Debug)]
pub struct UserPage {
    pub users: Vec<StoredUser>,
    pub next_after: Option<u64>,
}

/// Lua shared by the conditional writes: `check_precondition(record, ARGV[2])`.
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

impl Store {
    /// Creates a user: takes the next id, writes the record and indexes it, atomically.
    pub fn create_user(&self, nom: &str, prenom: &str, now: &str) -> Result<StoredUser, StoreError> {
        // The record is serialized here; the script only splices the id in front, so the stored
        // JSON is always serde_json's and the ETag can be computed without reading it back.
        const CREATE_USER: Script = Script {
            name: "CREATE_USER",
            source: r#"
local id = redis.call('INCR', KEYS[1])
redis.call('SET', 'user:' .. id, '{"id":' .. id .. ',' .. string.sub(ARGV[1], 2))
redis.call('ZADD', KEYS[2], id, id)
return id
"#,
        };
        let fields = NewUserRecord { nom, prenom, created_at: now, updated_at: now };
        let fields = serde_json::to_string(&fields).map_err(|e| StoreError::Internal(e.to_string()))?;
        let reply = self.run(&CREATE_USER, &[USER_ID_COUNTER, USERS_INDEX], &[&fields])?;
        let id = match reply.as_slice() {
            [RedisResult::Int64(id)] if *id > 0 => *id as u64,
            other => return Err(unexpected(CREATE_USER.name, other)),
        };
        StoredUser::parse(format!("{{\"id\":{id},{}", &fields[1..]).as_bytes())
    }

    /// Reads one user, `None` when there is no such user.
    pub fn get_user(&self, id: u64) -> Result<Option<StoredUser>, StoreError> {
        match self.conn.get(&user_key(id)).map_err(super::classify)? {
            Some(record) => StoredUser::parse(&record).map(Some),
            None => Ok(None),
        }
    }

    /// Changes some fields of a user and moves its `updated_at`, if `condition` holds.
    pub fn update_user(
        &self,
        id: u64,
        patch: &UserPatch,
        condition: &Precondition,
        now: &str,
    ) -> Result<WriteOutcome<StoredUser>, StoreError> {
        // cjson re-encodes the record (in its own key order); the id is spliced back as text so
        // that it never goes through a Lua number.
        const UPDATE_USER: Script = Script {
            name: "UPDATE_USER",
            source: concat!(
                lua_precondition!(),
                r#"
local record = redis.call('GET', KEYS[1])
if not record then return 'missing' end
if not precondition_holds(record, ARGV[2]) then return 'mismatch' end
local user = cjson.decode(record)
for field, value in pairs(cjson.decode(ARGV[3])) do user[field] = value end
user['id'] = nil
user['updated_at'] = ARGV[4]
record = '{"id":' .. ARGV[1] .. ',' .. string.sub(cjson.encode(user), 2)
redis.call('SET', KEYS[1], record)
return record
"#
            ),
        };
        let patch = serde_json::to_string(patch).map_err(|e| StoreError::Internal(e.to_string()))?;
        let id_arg = id.to_string();
        let reply = self.run(&UPDATE_USER, &[&user_key(id)], &[&id_arg, &condition.script_arg(), &patch, now])?;
        match reply.as_slice() {
            [r] if text(r) == Some("missing") => Ok(WriteOutcome::Missing),
            [r] if text(r) == Some("mismatch") => Ok(WriteOutcome::PreconditionFailed),
            [RedisResult::Binary(record)] => StoredUser::parse(record).map(WriteOutcome::Done),
            other => Err(unexpected(UPDATE_USER.name, other)),
        }
    }

    /// Deletes a user, its index entry and all of its sessions in one atomic step, if `condition`
    /// holds.
    pub fn delete_user(&self, id: u64, condition: &Precondition) -> Result<WriteOutcome<()>, StoreError> {
        // A session id in the user's index is only deleted if its metadata still names this user:
        // an original-API client may have reused the id since.
        const DELETE_USER: Script = Script {
            name: "DELETE_USER",
            source: concat!(
                lua_precondition!(),
                r#"
local record = redis.call('GET', KEYS[1])
if not record then return 'missing' end
if not precondition_holds(record, ARGV[2]) then return 'mismatch' end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
for _, sid in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
  if redis.call('HGET', 'session_meta:' .. sid, 'user_id') == ARGV[1] then
    redis.call('DEL', 'session:' .. sid, 'session_meta:' .. sid)
  end
end
redis.call('DEL', KEYS[3])
return 'deleted'
"#
            ),
        };
        let id_arg = id.to_string();
        let keys = [user_key(id), USERS_INDEX.to_owned(), user_sessions_key(id)];
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        let reply = self.run(&DELETE_USER, &keys, &[&id_arg, &condition.script_arg()])?;
        match reply.as_slice().first().and_then(text) {
            Some("deleted") => Ok(WriteOutcome::Done(())),
            Some("missing") => Ok(WriteOutcome::Missing),
            Some("mismatch") => Ok(WriteOutcome::PreconditionFailed),
            _ => Err(unexpected(DELETE_USER.name, &reply)),
        }
    }

    /// Returns up to `limit` users with an id greater than `after`, in ascending id order.
    ///
    /// The cursor is the last id returned, so a walk is stable while users are created and deleted:
    /// a user that exists for the whole walk is returned exactly once.
    pub fn list_users(&self, after: u64, limit: u32) -> Result<UserPage, StoreError> {
        // Fetches one id more than asked, to know whether another page follows.
        const LIST_USERS: Script = Script {
            name: "LIST_USERS",
            source: r#"
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf', 'LIMIT', 0, ARGV[2] + 1)
if #ids == 0 then return {} end
local keys = {}
for i, id in ipairs(ids) do keys[i] = 'user:' .. id end
local out = {}
for _, record in ipairs(redis.call('MGET', unpack(keys))) do
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
                RedisResult::Binary(record) => StoredUser::parse(record),
                other => Err(unexpected(LIST_USERS.name, std::slice::from_ref(other))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let next_after = if users.len() > limit as usize {
            users.truncate(limit as usize);
            users.last().map(|u| u.user.id)
        } else {
            None
        };
        Ok(UserPage { users, next_after })
    }

    /// Adopts users written by the original Flask service, which kept no index: one `SCAN` batch
    /// over `user:*`, indexing every `user:<id>` string key it meets and raising `user_id_counter`
    /// to the highest id seen, so no id is ever handed out twice. Idempotent. Returns the cursor to
    /// continue from (`0` when the scan is complete) and how many users were newly indexed.
    pub fn reindex_users_batch(&self, cursor: u64, count: u32) -> Result<(u64, u64), StoreError> {
        const REINDEX_USERS: Script = Script {
            name: "REINDEX_USERS",
            source: r#"
local scan = redis.call('SCAN', ARGV[1], 'MATCH', 'user:*', 'COUNT', ARGV[2])
local indexed, highest = 0, 0
for _, key in ipairs(scan[2]) do
  local id = string.match(key, '^user:([1-9]%d*)$')
  if id and string.len(id) <= 18 and redis.call('TYPE', key).ok == 'string' then
    indexed = indexed + redis.call('ZADD', KEYS[1], id, id)
    highest = math.max(highest, tonumber(id))
  end
end
if highest > tonumber(redis.call('GET', KEYS[2]) or '0') then
  redis.call('SET', KEYS[2], string.format('%d', highest))
end
return {scan[1], indexed}
"#,
        };
        let reply =
            self.run(&REINDEX_USERS, &[USERS_INDEX, USER_ID_COUNTER], &[&cursor.to_string(), &count.to_string()])?;
        match reply.as_slice() {
            [next, RedisResult::Int64(indexed)] => {
                let next =
                    text(next).and_then(|c| c.parse().ok()).ok_or_else(|| unexpected(REINDEX_USERS.name, &reply))?;
                Ok((next, *indexed as u64))
            }
            other => Err(unexpected(REINDEX_USERS.name, other)),
        }
    }
}
