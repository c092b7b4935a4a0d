//! `/v1/sessions` and `/v1/session`: sessions with service-generated tokens that can be read,
//! refreshed (sliding expiry, capped by an absolute lifetime), rotated and revoked, optionally tied
//! to a user.
//!
//! The token (the session's `id` in the API, a bearer credential) is shown in the `201`s of
//! create and rotate; the store keeps only its SHA-256 digest, so a lookup by token is a lookup by
//! digest and no secret is ever compared here. Listings show each session's `public_id` instead,
//! which names the session (for `DELETE /v1/users/<id>/sessions/<public_id>`) but cannot be used as
//! a token.
//!
//! Each operation comes in two forms: `/v1/session` takes the token in the `X-Session-Token`
//! header (recommended: URL paths are recorded by proxies, and by Spin's traces and logs), and
//! `/v1/sessions/<token>` in the path.
//!
//! `POST /v1/sessions` does not honour `Idempotency-Key`: replaying its answer would mean storing
//! the token.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Value};

use crate::config::Config;
use crate::domain::{SessionToken, Ttl, UserId};
use crate::error::{ApiError, FieldProblem, HeaderProblem, Missing};
use crate::http::{Request, Response};
use crate::routing::Context;
use crate::store::{NewSession, Session, SessionUpdate};
use crate::{clock, request, response};

/// The header that carries the token in the recommended form.
const TOKEN_HEADER: &str = "X-Session-Token";

/// The most of a header (`User-Agent`, `spin-client-addr`) a session records, in characters.
const MAX_RECORDED_HEADER_CHARS: usize = 256;

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
    #[serde(default, deserialize_with = "request::present")]
    max_lifetime_seconds: Option<Value>,
}

/// The body of `PATCH /v1/session` and `PATCH /v1/sessions/<token>`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionPatchBody {
    #[serde(default, deserialize_with = "request::present")]
    data: Option<Value>,
    #[serde(default, deserialize_with = "request::present")]
    ttl_seconds: Option<Value>,
}

/// `POST /v1/sessions`, parsed: what the store needs, with the caller's details.
struct NewSessionRequest {
    user_id: Option<UserId>,
    stored_data: String,
    ttl: Ttl,
    lifetime: Ttl,
    user_agent: Option<String>,
    client_address: Option<String>,
}

impl NewSessionRequest {
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
        let ttl = seconds_field(config.session_max_ttl_seconds(), "ttl_seconds", body.ttl_seconds.as_ref())?
            .unwrap_or_else(|| seconds(config.session_ttl_seconds()));
        let max_lifetime = config.session_max_lifetime_seconds();
        let lifetime = seconds_field(max_lifetime, "max_lifetime_seconds", body.max_lifetime_seconds.as_ref())?
            .unwrap_or_else(|| seconds(max_lifetime));
        Ok(NewSessionRequest {
            user_id,
            stored_data,
            ttl,
            lifetime,
            user_agent: header_text(req, "user-agent", MAX_RECORDED_HEADER_CHARS),
            // Spin's own header: the address of the peer that connected (a proxy, behind one).
            client_address: header_text(req, "spin-client-addr", MAX_RECORDED_HEADER_CHARS),
        })
    }
}

/// `PATCH`, parsed: what changes.
fn parse_update(req: &Request, config: &Config) -> Result<SessionUpdate, ApiError> {
    let body: SessionPatchBody = request::json_body(req)?;
    Ok(SessionUpdate {
        data: body.data.as_ref().map(|data| request::session_data(config, data)).transpose()?,
        ttl: seconds_field(config.session_max_ttl_seconds(), "ttl_seconds", body.ttl_seconds.as_ref())?,
    })
}

/// `POST /v1/sessions` `{"user_id"?, "data"?, "ttl_seconds"?, "max_lifetime_seconds"?}` → `201`
/// with `Location`.
pub fn create(cx: &Context) -> Result<Response, ApiError> {
    let (req, config) = (cx.req, cx.config);
    let new = NewSessionRequest::parse(req, config)?;
    let token = SessionToken::generate();
    let session = cx.store()?.create_session(
        &token,
        &NewSession {
            user_id: new.user_id,
            data_json: &new.stored_data,
            ttl: new.ttl,
            lifetime: new.lifetime,
            client_address: new.client_address.as_deref(),
            user_agent: new.user_agent.as_deref(),
            max_per_user: config.max_sessions_per_user(),
        },
    )?;
    let Some(session) = session else {
        let user_id = new.user_id.map_or(0, UserId::get);
        return Err(ApiError::InvalidField { field: "user_id", problem: FieldProblem::NoSuchUser(user_id) });
    };
    created(req, &session, &token)
}

/// `GET /v1/sessions/<token>`.
pub fn get(cx: &Context) -> Result<Response, ApiError> {
    read(cx, path_token(cx)?)
}

/// `GET /v1/session` with `X-Session-Token`.
pub fn get_current(cx: &Context) -> Result<Response, ApiError> {
    read(cx, header_token(cx.req)?)
}

/// `PATCH /v1/sessions/<token>` `{"data"?, "ttl_seconds"?}`.
pub fn update(cx: &Context) -> Result<Response, ApiError> {
    change(cx, path_token(cx)?)
}

/// `PATCH /v1/session` `{"data"?, "ttl_seconds"?}` with `X-Session-Token`.
pub fn update_current(cx: &Context) -> Result<Response, ApiError> {
    change(cx, header_token(cx.req)?)
}

/// `DELETE /v1/sessions/<token>` → `204` (log out).
pub fn delete(cx: &Context) -> Result<Response, ApiError> {
    remove(cx, path_token(cx)?)
}

/// `DELETE /v1/session` with `X-Session-Token` → `204` (log out).
pub fn delete_current(cx: &Context) -> Result<Response, ApiError> {
    remove(cx, header_token(cx.req)?)
}

/// `POST /v1/sessions/<token>/rotate` → `201`: the session under a new token.
pub fn rotate(cx: &Context) -> Result<Response, ApiError> {
    move_to_new_token(cx, path_token(cx)?)
}

/// `POST /v1/session/rotate` with `X-Session-Token` → `201`: the session under a new token.
pub fn rotate_current(cx: &Context) -> Result<Response, ApiError> {
    move_to_new_token(cx, header_token(cx.req)?)
}

/// The session with its remaining `ttl_seconds`: one `GET`, nothing written.
fn read(cx: &Context, token: SessionToken) -> Result<Response, ApiError> {
    let session = cx.store()?.get_session(&token)?.ok_or_else(not_found)?;
    Ok(response::json(200, &with_token(session_view(&session)?, &token)))
}

/// Replaces the data and/or restarts the expiry from now (sliding sessions), never past the
/// absolute expiry.
fn change(cx: &Context, token: SessionToken) -> Result<Response, ApiError> {
    let update = parse_update(cx.req, cx.config)?;
    let session = cx.store()?.update_session(&token, &update)?.ok_or_else(not_found)?;
    Ok(response::json(200, &with_token(session_view(&session)?, &token)))
}

fn remove(cx: &Context, token: SessionToken) -> Result<Response, ApiError> {
    if !cx.store()?.delete_session(&token)? {
        return Err(not_found());
    }
    Ok(response::no_content())
}

/// Rotation, against session fixation: the old token is dead once this answers.
fn move_to_new_token(cx: &Context, token: SessionToken) -> Result<Response, ApiError> {
    let new = SessionToken::generate();
    let session = cx.store()?.rotate_session(&token, &new)?.ok_or_else(not_found)?;
    created(cx.req, &session, &new)
}

/// The `201` of a session under a new token, with its `Location`.
fn created(req: &Request, session: &Session, token: &SessionToken) -> Result<Response, ApiError> {
    let location = format!("{}/v1/sessions/{}", request::base_path(req), token.as_str());
    let mut res = response::json(201, &with_token(session_view(session)?, token));
    res.set_header("location", location);
    Ok(res)
}

/// A session as every endpoint shows it (the one place its representation is built): without its
/// token, which the service does not know; the endpoints addressed by a token add it (`with_token`).
/// Written straight from the stored record: the data as stored (checked to be JSON, not rebuilt),
/// the times formatted in place. Members in alphabetical order, as the API has always written them.
#[derive(Serialize)]
pub struct SessionView<'a> {
    absolute_expires_at: clock::Millis,
    client_address: Option<&'a str>,
    created_at: clock::Millis,
    data: &'a RawValue,
    expires_at: clock::Millis,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    last_refreshed_at: Option<clock::Millis>,
    public_id: &'a str,
    ttl_seconds: u64,
    user_agent: Option<&'a str>,
    user_id: Option<UserId>,
}

/// The view of a session read from the store; `500` when its stored data is not JSON.
pub fn session_view(session: &Session) -> Result<SessionView<'_>, ApiError> {
    let data = serde_json::from_slice(&session.data)
        .map_err(|e| ApiError::Internal(format!("stored session data is not JSON: {e}")))?;
    // The key exists, so the session is live: at least a second left, whatever the two clocks say.
    let ttl_seconds = session.expires_ms.saturating_sub(clock::now_ms()).div_ceil(1000).max(1);
    Ok(SessionView {
        absolute_expires_at: clock::Millis(session.absolute_expires_ms),
        client_address: session.client_address.as_deref(),
        created_at: clock::Millis(session.created_ms),
        data,
        expires_at: clock::Millis(session.expires_ms),
        id: None,
        last_refreshed_at: session.last_refreshed_ms.map(clock::Millis),
        public_id: session.public_id.as_str(),
        ttl_seconds,
        user_agent: session.user_agent.as_deref(),
        user_id: session.user_id,
    })
}

/// A session as the endpoints addressed by its token show it: with the token, as `id`.
fn with_token<'a>(session: SessionView<'a>, token: &'a SessionToken) -> SessionView<'a> {
    SessionView { id: Some(token.as_str()), ..session }
}

/// A number of seconds: absent → `None`; present → a whole number from 1 to `max` (422 otherwise),
/// `60.0` included as JSON Schema counts it an integer.
fn seconds_field(max: u64, field: &'static str, value: Option<&Value>) -> Result<Option<Ttl>, ApiError> {
    let Some(value) = value else { return Ok(None) };
    request::whole_number(value)
        .filter(|seconds| *seconds <= max)
        .and_then(Ttl::from_seconds)
        .map(Some)
        .ok_or(ApiError::InvalidField { field, problem: FieldProblem::OutOfRange { min: 1, max } })
}

fn seconds(value: u64) -> Ttl {
    Ttl::from_seconds(value).expect("settings are positive integers")
}

/// The token in `X-Session-Token`: 400 when the header is missing; a value that cannot be a token
/// is 404 without asking Redis, as an unknown one.
fn header_token(req: &Request) -> Result<SessionToken, ApiError> {
    let value = req
        .header_bytes(TOKEN_HEADER)
        .ok_or(ApiError::InvalidHeader { name: TOKEN_HEADER, problem: HeaderProblem::Missing })?;
    std::str::from_utf8(value).ok().and_then(|v| SessionToken::parse(v.trim())).ok_or_else(not_found)
}

/// The token in the path (percent-decoded); one that cannot be a token is 404 without asking Redis.
fn path_token(cx: &Context) -> Result<SessionToken, ApiError> {
    request::path_segment(cx.param("id")).and_then(|t| SessionToken::parse(&t)).ok_or_else(not_found)
}

/// A header's text as a session records it: at most `max` characters, control characters
/// dropped (the stored record is line-based), `None` when absent or empty.
fn header_text(req: &Request, name: &str, max: usize) -> Option<String> {
    let value = String::from_utf8_lossy(req.header_bytes(name)?);
    let text: String = value.chars().filter(|c| !c.is_control()).take(max).collect();
    (!text.is_empty()).then_some(text)
}

fn not_found() -> ApiError {
    ApiError::NotFound(Missing::Session)
}
