//! The original Flask service's six endpoints, kept exactly as their users know them: same paths,
//! methods, status codes, French messages and JSON bodies. They are a thin adapter over the same
//! data layer as the rest of the API.
//!
//! Bodies are encoded the way Flask's `jsonify` does (keys sorted, compact, non-ASCII escaped as
//! `\uXXXX`, a trailing newline), so even clients that compare bytes see no change.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::routing::Context;

use crate::clock;
use crate::config::Config;
use crate::domain::{Name, SessionId, Ttl, UserId};
use crate::error::{ApiError, Missing};
use crate::flask::{self, FlaskUser};
use crate::http::{Request, Response};
use crate::messages;
use crate::request;
use crate::store::{self, Precondition, WriteOutcome};

/// How long a session created through `/create_session` lives, as in the original.
const SESSION_TTL: Ttl = match Ttl::from_seconds(3600) {
    Some(ttl) => ttl,
    None => panic!("an hour is a TTL"),
};

/// The body of `/create_user`. Other fields are ignored, as Flask ignored them.
#[derive(Deserialize)]
struct NewUserBody {
    #[serde(default, deserialize_with = "request::present")]
    nom: Option<Value>,
    #[serde(default, deserialize_with = "request::present")]
    prenom: Option<Value>,
}

/// The body of `/create_session`. Other fields are ignored, as Flask ignored them.
#[derive(Deserialize)]
struct NewSessionBody {
    #[serde(default, deserialize_with = "request::present")]
    session_id: Option<Value>,
    #[serde(default, deserialize_with = "request::present")]
    data: Option<Value>,
}

/// `POST /create_user`, parsed: both names, each a non-empty string (else the original's 400).
struct NewUser {
    nom: Name,
    prenom: Name,
}

impl NewUser {
    fn parse(req: &Request, config: &Config) -> Result<Self, ApiError> {
        let body: NewUserBody = request::json_body(req)?;
        let (Some(nom), Some(prenom)) = (non_empty_str(&body.nom), non_empty_str(&body.prenom)) else {
            return Err(ApiError::NamesRequired);
        };
        Ok(NewUser {
            nom: request::name(config, "nom", nom.to_owned())?,
            prenom: request::name(config, "prenom", prenom.to_owned())?,
        })
    }
}

/// `POST /create_session`, parsed: the client's session id and the data as it will be stored.
struct NewSession {
    session_id: SessionId,
    data: String,
}

impl NewSession {
    fn parse(req: &Request, config: &Config) -> Result<Self, ApiError> {
        let body: NewSessionBody = request::json_body(req)?;
        // The original formatted the id into the key, so integers were accepted too.
        let session_id = match body.session_id {
            Some(Value::String(s)) if !s.is_empty() => s,
            Some(Value::Number(n)) if n.is_i64() || n.is_u64() => n.to_string(),
            _ => return Err(ApiError::SessionIdMissing),
        };
        let session_id = SessionId::parse(config, session_id).ok_or(ApiError::SessionIdInvalid)?;
        let data = request::session_data(config, &body.data.unwrap_or_else(|| json!({})))?;
        Ok(NewSession { session_id, data })
    }
}

/// `POST /create_user` `{"nom", "prenom"}` → `201 {"message", "user_id"}`.
pub fn create_user(cx: &Context) -> Result<Response, ApiError> {
    let (req, config) = (cx.req, cx.config);
    let new = NewUser::parse(req, config)?;
    let created = cx.store()?.create_user(&new.nom, &new.prenom, &clock::now())?.ok_or(ApiError::NoUserIdLeft)?;
    Ok(flask::response(201, &json!({ "message": messages::USER_CREATED, "user_id": created.user()?.id })))
}

/// `GET /get_user/<id>` → `200 {"id", "nom", "prenom"}`, as stored (`ShownUser`). A record that
/// is not a JSON object is a 500 whose log line names its key.
pub fn get_user(cx: &Context) -> Result<Response, ApiError> {
    let id = user_id_param(cx.param("id"))?;
    let record = cx.store()?.get_user(id)?.ok_or(ApiError::NotFound(Missing::User(None)))?;
    let user = ShownUser::read(record.bytes())
        .ok_or_else(|| ApiError::Internal(format!("{} is not a JSON object", store::user_key(id.get()))))?;
    Ok(flask::response(200, &user))
}

/// `DELETE /delete_user/<id>` → `200 {"message"}`.
pub fn delete_user(cx: &Context) -> Result<Response, ApiError> {
    let id = user_id_param(cx.param("id"))?;
    match cx.store()?.delete_user(id, &Precondition::None)? {
        WriteOutcome::Done(()) => Ok(flask::response(200, &json!({ "message": messages::USER_DELETED }))),
        WriteOutcome::Missing | WriteOutcome::PreconditionFailed => Err(ApiError::NotFound(Missing::User(None))),
    }
}

/// `GET /list_users` → `200 [{"id", "nom", "prenom"}, ...]` in ascending id order, each as stored
/// (`ShownUser`). A record that is not a JSON object is left out, with a log line naming its key.
///
/// Records of the service's own types are read in place (names are borrowed from the records, not
/// copied; other fields are skipped) and written straight out: no JSON tree.
pub fn list_users(cx: &Context) -> Result<Response, ApiError> {
    let store = cx.store()?;
    let records = store.all_user_records()?;
    let body = match records.iter().map(|record| ShownUser::read(record)).collect::<Option<Vec<_>>>() {
        Some(users) => flask::flask_user_list(users.iter().map(ShownUser::listed)),
        // The log line names the record's key, which the listing above does not carry: list again
        // with the ids (a second round trip, paid only while such a record is indexed).
        None => {
            let records = store.all_user_records_with_ids()?;
            let users: Vec<_> = records
                .iter()
                .filter_map(|(id, record)| {
                    let user = ShownUser::read(record);
                    if user.is_none() {
                        eprintln!("{} is not a JSON object: left out of /list_users", store::user_key(*id));
                    }
                    user
                })
                .collect();
            flask::flask_user_list(users.iter().map(ShownUser::listed))
        }
    };
    Ok(Response::with_body(200, "application/json", body))
}

/// `POST /create_session` `{"session_id", "data"?}` → `201 {"message"}`; the session lives an hour.
pub fn create_session(cx: &Context) -> Result<Response, ApiError> {
    let (req, config) = (cx.req, cx.config);
    let new = NewSession::parse(req, config)?;
    cx.store()?.put_session_data(&new.session_id, &new.data, SESSION_TTL)?;
    Ok(flask::response(201, &json!({ "message": messages::SESSION_STORED })))
}

/// `GET /get_session/<session_id>` → `200` and the stored `data`.
pub fn get_session(cx: &Context) -> Result<Response, ApiError> {
    let not_found = || ApiError::NotFound(Missing::Session);
    let session_id = request::session_id(cx.config, cx.param("session_id")).ok_or_else(not_found)?;
    let stored = cx.store()?.get_session_data(&session_id)?.ok_or_else(not_found)?;
    let data: Value = serde_json::from_slice(&stored)
        .map_err(|e| ApiError::Internal(format!("stored session data is not JSON: {e}")))?;
    Ok(flask::response(200, &data))
}

/// A field that holds a non-empty string.
fn non_empty_str(field: &Option<Value>) -> Option<&str> {
    field.as_ref().and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// The original routes only matched integer ids, so anything else is "not found".
fn user_id_param(param: &str) -> Result<UserId, ApiError> {
    UserId::parse(param).ok_or(ApiError::NotFound(Missing::User(None)))
}

/// A user as the original service showed it: exactly `id`, `nom` and `prenom` (in this order:
/// Flask sorted keys), read from the stored record, whose other fields it skips.
#[derive(Serialize, Deserialize)]
struct OriginalUser<'a> {
    id: u64,
    #[serde(borrow)]
    nom: Cow<'a, str>,
    #[serde(borrow)]
    prenom: Cow<'a, str>,
}

/// A stored user record as the original endpoints show it: its `id`, `nom` and `prenom`, whatever
/// JSON they hold, as Flask showed `jsonify(json.loads(record))` (the records it read only ever had
/// these three fields; later ones, such as the timestamps, stay hidden).
///
/// Values go through `serde_json::Value`, so where Python and serde_json read JSON differently
/// the answer differs too: an integer beyond 64 bits is shown as a float, and `NaN`/`Infinity`
/// (which Python's `json.loads` accepts) make a record that is not JSON.
#[derive(Serialize)]
#[serde(untagged)]
enum ShownUser<'a> {
    /// The types the service writes, read in place: the common case, and the fast one.
    Named(OriginalUser<'a>),
    /// Fields of other types (another program wrote the record): those of the three it has, as
    /// stored, an absent one staying absent.
    AsStored(Value),
}

impl<'a> ShownUser<'a> {
    /// `None` when the record is not a JSON object at all (not JSON, or another JSON value): that
    /// is not a user, whoever wrote it.
    fn read(record: &'a [u8]) -> Option<ShownUser<'a>> {
        if let Ok(user) = serde_json::from_slice(record) {
            return Some(ShownUser::Named(user));
        }
        let Ok(Value::Object(mut fields)) = serde_json::from_slice(record) else { return None };
        fields.retain(|name, _| matches!(name.as_str(), "id" | "nom" | "prenom"));
        Some(ShownUser::AsStored(Value::Object(fields)))
    }

    fn listed(&self) -> FlaskUser<'_> {
        match self {
            ShownUser::Named(u) => FlaskUser::Named { id: u.id, nom: &u.nom, prenom: &u.prenom },
            ShownUser::AsStored(value) => FlaskUser::Other(value),
        }
    }
}
