//! `/v1/sessions`: sessions with service-generated tokens that can be read, refreshed (sliding
//! expiry), and revoked, optionally tied to a user.
//!
//! The token (the session's `id` in the API, a bearer credential) is shown once, in the `201`; the
//! store keeps only its SHA-256 digest, so a lookup by token is a lookup by digest and no secret is
//! ever compared here. Listings show each session's `public_id` instead, which names the session
//! (for `DELETE /v1/users/<id>/sessions/<public_id>`) but cannot be used as a token.
//!
//! `POST /v1/sessions` does not honour `Idempotency-Key`: replaying its answer would mean storing
//! the token.

use serde::Deserialize;
use serde_json::{json, Value};
use spin_sdk::http::{Request, Response};

use crate::routing::Context;

use crate::config::Config;

use crate::domain::{SessionId, SessionToken, Ttl, UserId};
use crate::error::{ApiError, FieldProblem, Missing};
use crate::store::{self, Session, SessionUpdate};
use crate::{clock, request, response};

/// The body of `POST /v1/sessions`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewSessionBody {
    #[serde(default, deserialize_with = "request::present")]
    user_id: Option<Value>,
    #[serde(default, deserialize_with = "request::present")]
    data: Option<Value>,
    #[serde(default, deserialize_with = "request::present")]
    ttl_seconds: Option<Value>,
}

/// The body of `PATCH /v1/sessions/<id>`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionPatchBody {
    #[serde(default, deserialize_with = "request::present")]
    data: Option<Value>,
    #[serde(default, deserialize_with = "request::present")]
    ttl_seconds: Option<Value>,
}

/// `POST /v1/sessions`, parsed: the owner if any, the data as it will be stored,
/// and the life of the session.
struct NewSession {
    user_id: Option<UserId>,
    stored_data: String,
    ttl: Ttl,
}

impl NewSession {
    fn parse(req: &Request, config: &Config) -> Result<Self, ApiError> {
        let body: NewSessionBody = request::json_body(req)?;
        let user_id = match &body.user_id {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                request::whole_number(v)
                    .and_then(UserId::new)
                    .ok_or(ApiError::InvalidField { field: "user_id", problem: FieldProblem::PositiveInteger })?,
            ),
        };
        let data = body.data.unwrap_or_else(|| json!({}));
        let stored_data = request::session_data(config, &data)?;
        let ttl = match ttl_field(config, body.ttl_seconds.as_ref())? {
            Some(ttl) => ttl,
            None => Ttl::from_seconds(config.session_ttl_seconds()).expect("settings are positive integers"),
        };
        Ok(NewSession { user_id, stored_data, ttl })
    }
}

/// `PATCH /v1/sessions/<id>`, parsed: which session, and what changes.
struct SessionChange {
    token: SessionId,
    update: SessionUpdate,
}

impl SessionChange {
    fn parse(req: &Request, param: &str, config: &Config) -> Result<Self, ApiError> {
        let token = session_token(config, param)?;
        let body: SessionPatchBody = request::json_body(req)?;
        let update = SessionUpdate {
            data: body.data.as_ref().map(|data| request::session_data(config, data)).transpose()?,
            ttl: ttl_field(config, body.ttl_seconds.as_ref())?,
        };
        Ok(SessionChange { token, update })
    }
}

/// `POST /v1/sessions` `{"user_id"?, "data"?, "ttl_seconds"?}` → `201` with `Location`.
pub fn create(cx: &Context) -> Result<Response, ApiError> {
    let (req, config) = (cx.req, cx.config);
    let NewSession { user_id, stored_data, ttl } = NewSession::parse(req, config)?;
    let token =
        SessionToken::generate().map_err(|e| ApiError::Internal(format!("no randomness from the host: {e}")))?;
    let created_at = clock::now();
    let created = cx.store()?.create_session(&token, user_id, &stored_data, ttl, &created_at)?;
    if let (false, Some(user_id)) = (created, user_id) {
        return Err(ApiError::InvalidField { field: "user_id", problem: FieldProblem::NoSuchUser(user_id.get()) });
    }
    let location = format!("{}/v1/sessions/{}", request::base_path(req), token.as_str());
    let session = Session {
        public_id: store::public_id(&token),
        data: stored_data.into_bytes(),
        user_id,
        created_at: Some(created_at),
        ttl_ms: Some(ttl.millis()),
    };
    let mut res = response::json(201, &with_token(session_json(&session)?, &token.id()));
    res.set_header("location", location);
    Ok(res)
}

/// `GET /v1/sessions/<id>` → the session with its remaining `ttl_seconds`.
pub fn get(cx: &Context) -> Result<Response, ApiError> {
    let config = cx.config;
    let param = cx.param("id");
    let token = session_token(config, param)?;
    let session = cx.store()?.get_session(&token)?.ok_or_else(not_found)?;
    Ok(response::json(200, &with_token(session_json(&session)?, &token)))
}

/// `PATCH /v1/sessions/<id>` `{"data"?, "ttl_seconds"?}`: replaces the data and/or restarts the
/// expiry from now (sliding sessions).
pub fn update(cx: &Context) -> Result<Response, ApiError> {
    let (req, config) = (cx.req, cx.config);
    let param = cx.param("id");
    let SessionChange { token, update } = SessionChange::parse(req, param, config)?;
    let session = cx.store()?.update_session(&token, &update)?.ok_or_else(not_found)?;
    Ok(response::json(200, &with_token(session_json(&session)?, &token)))
}

/// `DELETE /v1/sessions/<id>` → `204` (log out).
pub fn delete(cx: &Context) -> Result<Response, ApiError> {
    let config = cx.config;
    let param = cx.param("id");
    let token = session_token(config, param)?;
    if !cx.store()?.delete_session(&token)? {
        return Err(not_found());
    }
    Ok(response::no_content())
}

/// A session as every endpoint shows it (the one place its representation is built): without its
/// token, which the service does not know; the endpoints addressed by a token add it (`with_token`).
pub fn session_json(session: &Session) -> Result<Value, ApiError> {
    let data: Value = serde_json::from_slice(&session.data)
        .map_err(|e| ApiError::Internal(format!("stored session data is not JSON: {e}")))?;
    Ok(json!({
        "public_id": session.public_id,
        "user_id": session.user_id,
        "data": data,
        "created_at": session.created_at,
        "expires_at": session.ttl_ms.map(clock::now_plus_ms),
        "ttl_seconds": session.ttl_ms.map(|ms| ms.div_ceil(1000)),
    }))
}

/// A session as the endpoints addressed by its token show it: with the token the client sent, as
/// `id`.
fn with_token(mut session: Value, token: &SessionId) -> Value {
    session["id"] = Value::String(token.as_str().to_owned());
    session
}

/// `ttl_seconds`: absent → `None`; present → a whole number from 1 to the
/// `session_max_ttl_seconds` variable (422 otherwise), `60.0` included as JSON Schema counts it an
/// integer. The setting is only parsed when a client asks for a TTL.
fn ttl_field(config: &Config, value: Option<&Value>) -> Result<Option<Ttl>, ApiError> {
    let Some(value) = value else { return Ok(None) };
    let max = config.session_max_ttl_seconds();
    request::whole_number(value)
        .filter(|seconds| *seconds <= max)
        .and_then(Ttl::from_seconds)
        .map(Some)
        .ok_or(ApiError::InvalidField { field: "ttl_seconds", problem: FieldProblem::OutOfRange { min: 1, max } })
}

/// A session token from the path (percent-decoded), or any id the original API may have written.
/// One that cannot exist is 404 without asking Redis.
fn session_token(config: &Config, param: &str) -> Result<SessionId, ApiError> {
    request::session_id(config, param).ok_or_else(not_found)
}

fn not_found() -> ApiError {
    ApiError::NotFound(Missing::Session)
}
