//! `/v1/users`: create, list (cursor pages), read, update (`If-Match`) and delete users.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::routing::Context;

use crate::config::{self, Config};
use crate::domain::{Name, PublicId, UserId};
use crate::error::{ApiError, FieldProblem, Missing, ParameterProblem};
use crate::http::{Request, Response};
use crate::store::{self, Precondition, Revocation, User, UserCreation, UserPatch, UserRecord, WriteOutcome};
use crate::{base64url, clock, request, response, sessions};

/// Page size of `GET /v1/users` and `GET /v1/users/<id>/sessions` when `limit` is not given (at
/// most `max_page_size`).
const DEFAULT_PAGE: u32 = 50;

/// The body of `POST /v1/users` and `PATCH /v1/users/<id>`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserBody {
    #[serde(default, deserialize_with = "request::present")]
    nom: Option<Value>,
    #[serde(default, deserialize_with = "request::present")]
    prenom: Option<Value>,
}

/// `POST /v1/users`, parsed: both names, and the `Idempotency-Key` if one was sent.
struct NewUser<'r> {
    nom: Name,
    prenom: Name,
    idempotency_key: Option<&'r str>,
}

impl<'r> NewUser<'r> {
    fn parse(req: &'r Request, config: &Config) -> Result<Self, ApiError> {
        let idempotency_key = request::idempotency_key(req)?;
        let body: UserBody = request::json_body(req)?;
        let required = |field| ApiError::InvalidField { field, problem: FieldProblem::Required };
        let nom = name(config, "nom", body.nom)?.ok_or_else(|| required("nom"))?;
        let prenom = name(config, "prenom", body.prenom)?.ok_or_else(|| required("prenom"))?;
        Ok(NewUser { nom, prenom, idempotency_key })
    }
}

/// `?limit=&cursor=` of a listing, parsed: the page size and the place the page starts after (0:
/// from the start).
struct PageQuery {
    limit: u32,
    after: u64,
}

impl PageQuery {
    fn parse(req: &Request, config: &Config) -> Result<Self, ApiError> {
        let limit = match request::query_param(req, "limit") {
            None => DEFAULT_PAGE,
            Some(raw) => {
                let out_of_range = |max: u64| ApiError::InvalidParameter {
                    name: "limit",
                    problem: ParameterProblem::OutOfRange { min: 1, max },
                };
                match raw.parse::<u32>() {
                    Ok(limit) if limit >= 1 => match config::MAX_PAGE_SIZE.check(config, limit.into()) {
                        Ok(()) => limit,
                        Err(max) => return Err(out_of_range(max)),
                    },
                    _ => return Err(out_of_range(config::MAX_PAGE_SIZE.value(config))),
                }
            }
        };
        let after = match request::query_param(req, "cursor") {
            None => 0,
            Some(cursor) => decode_cursor(&cursor)
                .ok_or(ApiError::InvalidParameter { name: "cursor", problem: ParameterProblem::NotAPageCursor })?,
        };
        Ok(PageQuery { limit, after })
    }
}

/// `PATCH /v1/users/<id>`, parsed: which user, what changes, and on what condition.
struct UserChange {
    id: UserId,
    patch: UserPatch,
    condition: Precondition,
}

impl UserChange {
    fn parse(req: &Request, param: &str, config: &Config) -> Result<Self, ApiError> {
        let id = user_id(param)?;
        let body: UserBody = request::json_body(req)?;
        let patch = UserPatch { nom: name(config, "nom", body.nom)?, prenom: name(config, "prenom", body.prenom)? };
        Ok(UserChange { id, patch, condition: request::if_match(req) })
    }
}

/// `POST /v1/users` `{"nom", "prenom"}` → `201` with `Location` and `ETag`.
///
/// With an `Idempotency-Key`, a retry of the same request within 24 hours gets the same answer
/// (the user as first created, with `Idempotent-Replayed: true`) and creates nothing; the same key
/// with another body is `422`. The key's record is written by the script that creates the user.
pub fn create(cx: &Context) -> Result<Response, ApiError> {
    let (req, config) = (cx.req, cx.config);
    let new = NewUser::parse(req, config)?;
    let store = cx.store()?;
    let created = store.create_user_once(&new.nom, &new.prenom, &clock::now(), new.idempotency_key)?;
    let (record, replayed) = match created {
        UserCreation::Created(record) => (record, false),
        UserCreation::Replayed(record) => (record, true),
        UserCreation::KeyReused => return Err(ApiError::IdempotencyKeyReused),
        UserCreation::NoIdLeft => return Err(ApiError::NoUserIdLeft),
    };
    let id = UserId::new(record.user()?.id).ok_or_else(|| ApiError::Internal("a created user has id 0".into()))?;
    let location = format!("{}/v1/users/{id}", request::base_path(req));
    let mut res = user_response(201, id, &record, Some(&location))?;
    if replayed {
        res.set_header("idempotent-replayed", "true");
    }
    Ok(res)
}

/// `GET /v1/users?limit=&cursor=` → `{"items": [...], "next_cursor": "..." | null}`.
///
/// `/v1` shows only users that fit its schema (`User`: an integer id, string names). A record
/// that does not (another program wrote it, with other types or not as a JSON object) is left out
/// of the page, with a log line naming its key, so that it cannot fail the listing for everyone;
/// the page then holds fewer than `limit` items, and the cursor moves past it all the same. The
/// original `/get_user/<id>` shows such a record as stored; `DELETE` removes it, and a `PATCH`
/// of both names makes it a user again.
pub fn list(cx: &Context) -> Result<Response, ApiError> {
    let (req, config) = (cx.req, cx.config);
    let query = PageQuery::parse(req, config)?;
    let page = cx.store()?.list_users(query.after, query.limit)?;
    let items: Vec<User> = page
        .records()
        .filter_map(|(id, record)| match store::read_record(record) {
            Ok(user) => Some(user),
            Err(e) => {
                eprintln!("{} is not a /v1 user, left out of GET /v1/users: {e:?}", store::user_key(id));
                None
            }
        })
        .collect();
    let next_cursor = page.next_after.map(encode_cursor);
    Ok(response::json(200, &json!({ "items": items, "next_cursor": next_cursor })))
}

/// `GET /v1/users/<id>` → the user with its `ETag`. A record that does not fit the schema (see
/// `list`) is a 500 whose log line names its key: it exists, so it is not a 404.
pub fn get(cx: &Context) -> Result<Response, ApiError> {
    let param = cx.param("id");
    let id = user_id(param)?;
    let stored = cx.store()?.get_user(id)?.ok_or_else(|| not_found(id))?;
    user_response(200, id, &stored, None)
}

/// `PATCH /v1/users/<id>` with any of `nom`, `prenom`; honours `If-Match`.
pub fn update(cx: &Context) -> Result<Response, ApiError> {
    let (req, config) = (cx.req, cx.config);
    let param = cx.param("id");
    let change = UserChange::parse(req, param, config)?;
    let store = cx.store()?;
    match store.update_user(change.id, &change.patch, &change.condition, &clock::now())? {
        WriteOutcome::Done(stored) => user_response(200, change.id, &stored, None),
        WriteOutcome::Missing => Err(not_found(change.id)),
        WriteOutcome::PreconditionFailed => Err(ApiError::PreconditionFailed),
    }
}

/// `DELETE /v1/users/<id>` → `204`; the user's sessions go with it. Honours `If-Match`.
pub fn delete(cx: &Context) -> Result<Response, ApiError> {
    let req = cx.req;
    let param = cx.param("id");
    let id = user_id(param)?;
    match cx.store()?.delete_user(id, &request::if_match(req))? {
        WriteOutcome::Done(()) => Ok(response::no_content()),
        WriteOutcome::Missing => Err(not_found(id)),
        WriteOutcome::PreconditionFailed => Err(ApiError::PreconditionFailed),
    }
}

/// `GET /v1/users/<id>/sessions?limit=&cursor=` → `{"items": [...], "next_cursor": "..." | null}`:
/// the user's live sessions, oldest first, a page per round trip. A session whose stored data is
/// not JSON (another program wrote it) is left out, with a log line naming its public id (its key
/// would name its digest), so that it cannot fail the listing.
pub fn list_sessions(cx: &Context) -> Result<Response, ApiError> {
    let id = user_id(cx.param("id"))?;
    let query = PageQuery::parse(cx.req, cx.config)?;
    let after = (query.after > 0).then_some(query.after);
    let page = cx.store()?.list_user_sessions(id, after, query.limit)?.ok_or_else(|| not_found(id))?;
    for public_id in &page.unreadable {
        eprintln!("session {} of user {id} left out of its listing: not a session record", public_id.as_str());
    }
    let items: Vec<sessions::SessionView> = page
        .sessions
        .iter()
        .filter_map(|session| match sessions::session_view(session) {
            Ok(item) => Some(item),
            Err(e) => {
                eprintln!("session {} of user {id} left out of its listing: {e}", session.public_id.as_str());
                None
            }
        })
        .collect();
    let next_cursor = page.next_after.map(encode_cursor);
    Ok(response::json(200, &json!({ "items": items, "next_cursor": next_cursor })))
}

/// `DELETE /v1/users/<id>/sessions[?except=<public_id>]` → `{"revoked": n}`: logs the user out
/// everywhere, or everywhere but the session named (after a password change). An `except` that
/// names no live session of the user is `404`, and nothing is revoked.
pub fn revoke_sessions(cx: &Context) -> Result<Response, ApiError> {
    let id = user_id(cx.param("id"))?;
    let except = match request::query_param(cx.req, "except") {
        None => None,
        Some(raw) => Some(PublicId::parse(&raw).ok_or_else(no_such_session)?),
    };
    match cx.store()?.revoke_user_sessions(id, except.as_ref())? {
        Revocation::Revoked(revoked) => Ok(response::json(200, &json!({ "revoked": revoked }))),
        Revocation::NoSuchUser => Err(not_found(id)),
        Revocation::NoSuchSession => Err(no_such_session()),
    }
}

/// `DELETE /v1/users/<id>/sessions/<public_id>` → `204`: revokes one session from the user's
/// listing; `404` when the user has no live session with that public id.
pub fn revoke_session(cx: &Context) -> Result<Response, ApiError> {
    let id = user_id(cx.param("id"))?;
    let public_id = PublicId::parse(cx.param("public_id")).ok_or_else(no_such_session)?;
    if !cx.store()?.revoke_user_session(id, &public_id)? {
        return Err(no_such_session());
    }
    Ok(response::no_content())
}

fn no_such_session() -> ApiError {
    ApiError::NotFound(Missing::UserSession)
}

/// A user with its `ETag` (and `Location` when it was just created); a 500 naming the key of a
/// record that is not a `/v1` user.
fn user_response(status: u16, id: UserId, record: &UserRecord, location: Option<&str>) -> Result<Response, ApiError> {
    let key = store::user_key(id.get());
    let user = record.user().map_err(|e| ApiError::Internal(format!("{key} is not a /v1 user: {e:?}")))?;
    let mut res = response::json(status, &user);
    res.set_header("etag", format!("\"{}\"", record.etag()));
    if let Some(location) = location {
        res.set_header("location", location);
    }
    Ok(res)
}

/// A `nom` or `prenom` field: absent → `None`; present → a non-blank string that makes a `Name`
/// (422 otherwise).
fn name(config: &Config, field: &'static str, value: Option<Value>) -> Result<Option<Name>, ApiError> {
    let invalid = |problem| ApiError::InvalidField { field, problem };
    match value {
        None => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Err(invalid(FieldProblem::Empty)),
        Some(Value::String(s)) => request::name(config, field, s).map(Some),
        Some(_) => Err(invalid(FieldProblem::NotAString)),
    }
}

fn user_id(param: &str) -> Result<UserId, ApiError> {
    UserId::parse(param).ok_or(ApiError::NotFound(Missing::User(None)))
}

fn not_found(id: UserId) -> ApiError {
    ApiError::NotFound(Missing::User(Some(id.get())))
}

/// Cursors are opaque to clients: where the page ended (the last user id, or the last session's
/// place in its user's creation order), base64url-encoded.
fn encode_cursor(after: u64) -> String {
    base64url::encode(after.to_string().as_bytes())
}

pub(crate) fn decode_cursor(cursor: &str) -> Option<u64> {
    let bytes = base64url::decode(cursor)?;
    UserId::parse(std::str::from_utf8(&bytes).ok()?).map(UserId::get)
}
