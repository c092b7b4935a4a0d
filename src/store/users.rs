//! Users: `user_id_counter`, `user:<id>` and `users:index`.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use spin_sdk::redis::RedisResult;

use super::keys::{self, USERS_INDEX, USER_ID_COUNTER};
use super::lua::reply;
use super::{binary, classify, sha1_hex, text, unexpected, RedisErrorKind, Store, StoreError};
use crate::domain::{Name, UserId};

/// A user as stored in `user:<id>`, read in place from the record's bytes (`UserRecord::user`):
/// text without escapes is borrowed, not copied. Records written by the original service have no
/// timestamps. The fields are in the order `/v1` shows them (sorted, as the API always wrote them).
#[derive(Debug, Serialize, Deserialize)]
pub struct User<'a> {
    #[serde(default, borrow)]
    pub created_at: Option<Cow<'a, str>>,
    pub id: u64,
    #[serde(borrow)]
    pub nom: Cow<'a, str>,
    #[serde(borrow)]
    pub prenom: Cow<'a, str>,
    #[serde(default, borrow)]
    pub updated_at: Option<Cow<'a, str>>,
}

/// The exact bytes of a `user:<id>` record. Its ETag is their hex SHA-1, so Lua (`redis.sha1hex`)
/// and Rust compute the same value and any change to the record changes it.
#[derive(Debug)]
pub struct UserRecord(Vec<u8>);

impl UserRecord {
    /// The user the record describes.
    pub fn user(&self) -> Result<User<'_>, StoreError> {
        read_record(&self.0)
    }

    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn etag(&self) -> String {
        sha1_hex(&self.0)
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
    pub nom: Option<Name>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prenom: Option<Name>,
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

/// Reads a stored user record into `T`: `User`, or a view of fewer fields (the others are skipped).
pub fn read_record<'a, T: Deserialize<'a>>(record: &'a [u8]) -> Result<T, StoreError> {
    serde_json::from_slice(record).map_err(|e| StoreError::Internal(format!("stored user is not valid: {e}")))
}

/// One page of users in ascending id order, as stored, and the id to continue after when there
/// are more.
#[derive(Debug)]
pub struct UserPage {
    /// The records as one reply, separated by `RECORD_END` (a byte no JSON text contains): one
    /// value to carry from Redis through Spin instead of one per user.
    joined: Vec<u8>,
    /// The id of each record in `joined`, in the same order: a record may not say its own id
    /// (another program may have written it), and a record left out of a listing is logged by key.
    ids: Vec<u64>,
    pub next_after: Option<u64>,
}

const RECORD_END: u8 = 0x1e;

impl UserPage {
    /// The page's records, as stored, each with the id of its key.
    pub fn records(&self) -> impl Iterator<Item = (u64, &[u8])> {
        // No ids, no records: an empty `joined` is an empty page, not one empty record.
        let records = (!self.ids.is_empty()).then(|| self.joined.split(|b| *b == RECORD_END));
        self.ids.iter().copied().zip(records.into_iter().flatten())
    }
}

/// How long an `Idempotency-Key` of `POST /v1/users` is remembered: 24 hours.
const IDEMPOTENCY_TTL_SECONDS: u64 = 24 * 60 * 60;

/// The largest user id the service hands out or indexes: 2^53 − 1, the largest integer every JSON
/// client (JavaScript's `Number` among them), Lua's numbers and the users index's scores (doubles)
/// all hold exactly. `user_id_counter` is never raised past it: a create at this point is refused
/// and writes nothing (`UserCreation::NoIdLeft`). The scripts hold the same value
/// (`lua_max_user_id!`, pinned by a unit test below).
///
/// Paths naming a larger id (up to `i64::MAX`, `request::user_id`) are still read, changed and
/// deleted: the Flask service could have written such keys, and a key name is text, so nothing
/// about it is inexact. Such users are only left out of the index (and so of listings), and the
/// reindex reports them instead.
pub const MAX_USER_ID: u64 = (1 << 53) - 1;

/// What `create_user` did.
#[derive(Debug)]
pub enum UserCreation {
    /// A new user, with this record.
    Created(UserRecord),
    /// The `Idempotency-Key` was used before with the same request: nothing was written, and this
    /// is the record that request created (as it was then).
    Replayed(UserRecord),
    /// The `Idempotency-Key` was used before with another request: nothing was written.
    KeyReused,
    /// `user_id_counter` has reached `MAX_USER_ID`: nothing was written.
    NoIdLeft,
}

impl Store {
    /// Creates a user: takes the next id, writes the record and indexes it, atomically. `None`
    /// when no id is left (`MAX_USER_ID`): nothing was written.
    pub fn create_user(&self, nom: &Name, prenom: &Name, now: &str) -> Result<Option<UserRecord>, StoreError> {
        match self.create_user_once(nom, prenom, now, None)? {
            UserCreation::Created(record) => Ok(Some(record)),
            UserCreation::NoIdLeft => Ok(None),
            other => Err(StoreError::Internal(format!("a creation without a key was {other:?}"))),
        }
    }

    /// Creates a user as `create_user` does, once per `Idempotency-Key` when one is given: the
    /// key's record (a fingerprint of the request and the user record) is written by the same
    /// script as the user, so there is never a user without its key record or the reverse, and a
    /// request with a key already recorded writes nothing. Scripts run one at a time, so requests
    /// with the same key never overlap: each sees either no record (and creates) or the record.
    pub fn create_user_once(
        &self,
        nom: &Name,
        prenom: &Name,
        now: &str,
        idempotency_key: Option<&str>,
    ) -> Result<UserCreation, StoreError> {
        // The record is serialized here; the script only splices the id in front, so the stored
        // JSON is always serde_json's and the ETag can be computed without reading it back.
        // KEYS[3], when given, is the key's record; ARGV[2] the request's fingerprint.
        // The counter is checked before INCR, so a refused create writes nothing. The id becomes
        // text through '%d': Lua's `..` on a number writes it with 14 significant digits
        // (`user:1e+14`), and Redis's own conversion of a number argument is not exact either.
        const CREATE_USER: super::Script = script!(
            "CREATE_USER",
            lua_max_user_id!(),
            r#"
local remembered = KEYS[3]
if remembered then
  local seen = redis.call('HMGET', remembered, 'fingerprint', 'record')
  if seen[1] then
    if seen[1] ~= ARGV[2] then return {KEY_REUSED} end
    return {REPLAYED, seen[2]}
  end
end
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
if last and last >= MAX_USER_ID then return {NO_ID_LEFT} end
local n = redis.call('INCR', KEYS[1])
local id = string.format('%d', n)
local record = '{"id":' .. id .. ',' .. string.sub(ARGV[1], 2)
redis.call('SET', USER .. id, record)
redis.call('ZADD', KEYS[2], id, id)
if remembered then
  redis.call('HSET', remembered, 'fingerprint', ARGV[2], 'record', record)
  redis.call('EXPIRE', remembered, ARGV[3])
end
return n
"#
        );
        let (nom, prenom) = (nom.as_str(), prenom.as_str());
        let fields = NewUserRecord { nom, prenom, created_at: now, updated_at: now };
        let fields = serde_json::to_string(&fields).map_err(|e| StoreError::Internal(e.to_string()))?;
        let reply = match idempotency_key {
            None => self.run(&CREATE_USER, &[USER_ID_COUNTER, USERS_INDEX], &[&fields])?,
            Some(key) => {
                // The request as the key stands for it: the validated fields, whatever the body's
                // key order or spacing.
                let request = serde_json::to_string(&["POST /v1/users", nom, prenom])
                    .map_err(|e| StoreError::Internal(e.to_string()))?;
                let fingerprint = keys::sha256_base64url(request.as_bytes());
                let remembered = keys::idempotency_key(key);
                let ttl = IDEMPOTENCY_TTL_SECONDS.to_string();
                self.run(&CREATE_USER, &[USER_ID_COUNTER, USERS_INDEX, &remembered], &[&fields, &fingerprint, &ttl])?
            }
        };
        match <[RedisResult; 1]>::try_from(reply) {
            Ok([RedisResult::Int64(id)]) if id > 0 => {
                Ok(UserCreation::Created(UserRecord(format!("{{\"id\":{id},{}", &fields[1..]).into_bytes())))
            }
            Ok([r]) if text(&r) == Some(reply::KEY_REUSED) => Ok(UserCreation::KeyReused),
            Ok([r]) if text(&r) == Some(reply::NO_ID_LEFT) => Ok(UserCreation::NoIdLeft),
            Ok(other) => Err(unexpected(CREATE_USER.name, &other)),
            Err(reply) => match <[RedisResult; 2]>::try_from(reply) {
                Ok([status, RedisResult::Binary(record)]) if text(&status) == Some(reply::REPLAYED) => {
                    Ok(UserCreation::Replayed(UserRecord(record)))
                }
                Ok(other) => Err(unexpected(CREATE_USER.name, &other)),
                Err(other) => Err(unexpected(CREATE_USER.name, &other)),
            },
        }
    }

    /// Reads one user, `None` when there is no such user.
    pub fn get_user(&self, id: UserId) -> Result<Option<UserRecord>, StoreError> {
        Ok(self.conn.get(&keys::user(id.get())).map_err(super::classify)?.map(UserRecord))
    }

    /// Changes some fields of a user and moves its `updated_at`, if `condition` holds.
    pub fn update_user(
        &self,
        id: UserId,
        patch: &UserPatch,
        condition: &Precondition,
        now: &str,
    ) -> Result<WriteOutcome<UserRecord>, StoreError> {
        // cjson re-encodes the record (in its own key order); the id is spliced back as text so
        // that it never goes through a Lua number.
        const UPDATE_USER: super::Script = script!(
            "UPDATE_USER",
            lua_precondition!(),
            r#"
local record = redis.call('GET', KEYS[1])
if not record then return MISSING end
if not precondition_holds(record, ARGV[2]) then return MISMATCH end
local user = cjson.decode(record)
for field, value in pairs(cjson.decode(ARGV[3])) do user[field] = value end
user['id'] = nil
user['updated_at'] = ARGV[4]
record = '{"id":' .. ARGV[1] .. ',' .. string.sub(cjson.encode(user), 2)
redis.call('SET', KEYS[1], record)
return record
"#
        );
        let patch = serde_json::to_string(patch).map_err(|e| StoreError::Internal(e.to_string()))?;
        let id_arg = id.to_string();
        let reply =
            self.run(&UPDATE_USER, &[&keys::user(id.get())], &[&id_arg, &condition.script_arg(), &patch, now])?;
        match <[RedisResult; 1]>::try_from(reply) {
            Ok([r]) if text(&r) == Some(reply::MISSING) => Ok(WriteOutcome::Missing),
            Ok([r]) if text(&r) == Some(reply::MISMATCH) => Ok(WriteOutcome::PreconditionFailed),
            Ok([RedisResult::Binary(record)]) => Ok(WriteOutcome::Done(UserRecord(record))),
            Ok(other) => Err(unexpected(UPDATE_USER.name, &other)),
            Err(other) => Err(unexpected(UPDATE_USER.name, &other)),
        }
    }

    /// Deletes a user, its index entry and all of its sessions in one atomic step, if `condition`
    /// holds.
    pub fn delete_user(&self, id: UserId, condition: &Precondition) -> Result<WriteOutcome<()>, StoreError> {
        const DELETE_USER: super::Script = script!(
            "DELETE_USER",
            lua_precondition!(),
            lua_now_ms!(),
            lua_session_index!(),
            r#"
local record = redis.call('GET', KEYS[1])
if not record then return MISSING end
if not precondition_holds(record, ARGV[2]) then return MISMATCH end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
revoke_sessions(ARGV[1], nil)
return DELETED
"#
        );
        let id_arg = id.to_string();
        let keys = [keys::user(id.get()), USERS_INDEX.to_owned()];
        let reply = self.run(&DELETE_USER, &[&keys[0], &keys[1]], &[&id_arg, &condition.script_arg()])?;
        match reply.as_slice().first().and_then(text) {
            Some(reply::DELETED) => Ok(WriteOutcome::Done(())),
            Some(reply::MISSING) => Ok(WriteOutcome::Missing),
            Some(reply::MISMATCH) => Ok(WriteOutcome::PreconditionFailed),
            _ => Err(unexpected(DELETE_USER.name, &reply)),
        }
    }

    /// Every user's record, as stored, in ascending id order: one round trip and no script. `SORT
    /// ... BY nosort` walks the index in its own order and `GET` reads each record, all inside
    /// Redis, for about 0.13–0.2 µs of Redis time per user (`benches/run`); the paging script below
    /// spends about 1 µs per user, building a Lua string for each record. One command sees one
    /// state of the data, so the list is consistent; it holds Redis for the whole list, as the
    /// original's `KEYS` did.
    pub fn all_user_records(&self) -> Result<Vec<Vec<u8>>, StoreError> {
        let params = [binary(USERS_INDEX), binary("BY"), binary("nosort"), binary("GET"), binary(keys::USER_RECORDS)];
        // `SORT` counts as a write for Redis (it can `STORE`), so a replica (`READONLY`) or a full
        // Redis (`OOM`) refuses it; `SORT_RO` is the read-only twin, but only from Redis 7.0 on
        // (the service supports 6.2), so it is only asked for after such a refusal.
        let reply = match self.conn.execute("SORT", &params).map_err(classify) {
            Err(e) if matches!(e.kind(), Some(RedisErrorKind::ReadOnly | RedisErrorKind::OutOfMemory)) => {
                self.conn.execute("SORT_RO", &params).map_err(classify)?
            }
            other => other?,
        };
        let mut records = Vec::with_capacity(reply.len());
        for item in reply {
            match item {
                RedisResult::Binary(record) => records.push(record),
                // An index entry without its record: not a user (writes keep the two together).
                RedisResult::Nil => {}
                other => return Err(unexpected("SORT", &[other])),
            }
        }
        Ok(records)
    }

    /// `all_user_records` with the id of each record: twice the reply, so only for a listing that
    /// must name a record it leaves out (`SORT ... GET # GET user:*`).
    pub fn all_user_records_with_ids(&self) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let params = [
            binary(USERS_INDEX),
            binary("BY"),
            binary("nosort"),
            binary("GET"),
            binary("#"),
            binary("GET"),
            binary(keys::USER_RECORDS),
        ];
        let reply = self.conn.execute("SORT", &params).map_err(classify)?;
        let mut records = Vec::with_capacity(reply.len() / 2);
        let mut pairs = reply.into_iter();
        while let (Some(id), Some(record)) = (pairs.next(), pairs.next()) {
            let parsed = text(&id).and_then(|id| id.parse().ok());
            match (parsed, record) {
                (Some(id), RedisResult::Binary(record)) => records.push((id, record)),
                // An index entry without its record, as in `all_user_records`.
                (Some(_), RedisResult::Nil) => {}
                (_, record) => return Err(unexpected("SORT", &[id, record])),
            }
        }
        Ok(records)
    }

    /// Returns up to `limit` users with an id greater than `after`, in ascending id order, in one
    /// round trip. Records come back as stored, to be read in place.
    ///
    /// The cursor is the last id of the page, so a walk is stable while users are created and
    /// deleted: a user that exists for the whole walk is returned exactly once.
    pub fn list_users(&self, after: u64, limit: u32) -> Result<UserPage, StoreError> {
        // Looks at one id more than asked, to know whether another page follows. Replies with the
        // id to continue after ('' on the last page), the records joined into one string,
        // separated by ARGV[3] (RECORD_END), and their ids joined by commas. A record holding the
        // separator byte (never valid JSON; another program wrote it) goes as '', so that it
        // cannot shift the records after it.
        const LIST_USERS: super::Script = script!(
            "LIST_USERS",
            r#"
local limit = tonumber(ARGV[2])
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf', 'LIMIT', 0, limit + 1)
local out = {''}
if #ids > limit then
  ids[#ids] = nil
  out[1] = ids[#ids]
end
if #ids == 0 then return {out[1], '', ''} end
local keys = {}
for i, id in ipairs(ids) do keys[i] = USER .. id end
local records, present = {}, {}
for i, record in ipairs(redis.call('MGET', unpack(keys))) do
  if record then
    if string.find(record, ARGV[3], 1, true) then record = '' end
    records[#records + 1] = record
    present[#present + 1] = ids[i]
  end
end
out[2] = table.concat(records, ARGV[3])
out[3] = table.concat(present, ',')
return out
"#
        );
        let end = char::from(RECORD_END).to_string();
        let reply = self.run(&LIST_USERS, &[USERS_INDEX], &[&after.to_string(), &limit.to_string(), &end])?;
        let page = match <[RedisResult; 3]>::try_from(reply) {
            Ok([next, RedisResult::Binary(joined), ids]) => {
                let next_after = match text(&next) {
                    Some("") => Some(None),
                    next => next.and_then(|n| n.parse().ok()).map(Some),
                };
                let ids = match text(&ids) {
                    Some("") => Some(Vec::new()),
                    ids => ids.and_then(|ids| ids.split(',').map(|id| id.parse().ok()).collect()),
                };
                next_after.zip(ids).map(|(next_after, ids)| UserPage { joined, ids, next_after })
            }
            _ => None,
        };
        page.ok_or_else(|| StoreError::Internal(format!("unexpected reply from {}", LIST_USERS.name)))
    }

    /// Adopts users written by the original Flask service, which kept no index: one `SCAN` batch
    /// over `user:*`, indexing every `user:<id>` string key it meets and raising `user_id_counter`
    /// to the highest id seen, so no id is ever handed out twice. Idempotent.
    ///
    /// Ids above `MAX_USER_ID` are neither indexed nor counted (an index score or a Lua number
    /// would round them, and the counter would pass what clients read exactly): the batch reports
    /// them (`ReindexBatch::unrepresentable`), and they stay readable by their paths.
    pub fn reindex_users_batch(&self, cursor: u64, count: u32) -> Result<ReindexBatch, StoreError> {
        // Ids are compared as text (same length, then digit by digit) before any `tonumber`, so
        // nothing past MAX_USER_ID is ever rounded. Replies with the cursor, the number indexed,
        // then the unrepresentable ids (one flat list: Spin flattens nested replies anyway).
        const REINDEX_USERS: super::Script = script!(
            "REINDEX_USERS",
            lua_max_user_id!(),
            r#"
local scan = redis.call('SCAN', ARGV[1], 'MATCH', USER .. '*', 'COUNT', ARGV[2])
local id_of = '^' .. string.gsub(USER, '%p', '%%%0') .. '([1-9]%d*)$'
local max_id = string.format('%d', MAX_USER_ID)
local out, indexed, highest = {scan[1], 0}, 0, 0
for _, key in ipairs(scan[2]) do
  local id = string.match(key, id_of)
  if id and redis.call('TYPE', key).ok == 'string' then
    if #id < #max_id or (#id == #max_id and id <= max_id) then
      indexed = indexed + redis.call('ZADD', KEYS[1], id, id)
      highest = math.max(highest, tonumber(id))
    else
      out[#out + 1] = id
    end
  end
end
if highest > tonumber(redis.call('GET', KEYS[2]) or '0') then
  redis.call('SET', KEYS[2], string.format('%d', highest))
end
out[2] = indexed
return out
"#
        );
        let reply =
            self.run(&REINDEX_USERS, &[USERS_INDEX, USER_ID_COUNTER], &[&cursor.to_string(), &count.to_string()])?;
        let batch = match reply.as_slice() {
            [next, RedisResult::Int64(indexed), ids @ ..] => {
                let cursor = text(next).and_then(|c| c.parse().ok());
                let unrepresentable = ids.iter().map(|id| text(id).map(str::to_owned)).collect::<Option<Vec<_>>>();
                cursor.zip(unrepresentable).map(|(cursor, unrepresentable)| ReindexBatch {
                    cursor,
                    indexed: *indexed as u64,
                    unrepresentable,
                })
            }
            _ => None,
        };
        batch.ok_or_else(|| unexpected(REINDEX_USERS.name, &reply))
    }
}

/// What one batch of the reindex did.
#[derive(Debug)]
pub struct ReindexBatch {
    /// The `SCAN` cursor to continue from; `0` when the scan is complete.
    pub cursor: u64,
    /// Users newly indexed.
    pub indexed: u64,
    /// The ids of `user:<id>` records above `MAX_USER_ID`, as text: left unindexed.
    pub unrepresentable: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::{read_record, User, UserPage, RECORD_END};

    #[test]
    fn a_page_splits_into_its_records() {
        let page =
            |joined: &[u8], ids: &[u64]| UserPage { joined: joined.to_vec(), ids: ids.to_vec(), next_after: None };
        assert_eq!(page(b"", &[]).records().count(), 0);
        let joined = [
            &b"{\"id\":1,\"nom\":\"a\",\"prenom\":\"b\"}"[..],
            &[RECORD_END],
            b"{\"id\":2,\"nom\":\"\\u001e\",\"prenom\":\"c\"}",
        ]
        .concat();
        let first = page(&joined, &[1, 2]);
        let users: Vec<(u64, User)> = first.records().map(|(id, r)| (id, read_record(r).unwrap())).collect();
        let seen: Vec<_> = users.iter().map(|(key, u)| (*key, u.id, u.nom.as_ref())).collect();
        assert_eq!(seen, [(1, 1, "a"), (2, 2, "\u{1e}")]);
        // An empty record (as the script sends one holding the separator) is still a record.
        let empties = page(&[RECORD_END], &[7, 8]);
        assert_eq!(empties.records().collect::<Vec<_>>(), [(7, &b""[..]), (8, &b""[..])]);
    }

    #[test]
    fn the_scripts_hold_the_same_largest_id() {
        assert_eq!(lua_max_user_id!(), format!("local MAX_USER_ID = {}\n", super::MAX_USER_ID));
        assert_eq!(super::MAX_USER_ID, 9_007_199_254_740_991);
    }
}
