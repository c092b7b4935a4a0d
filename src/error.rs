//! The one error type of the service, and the one place where it becomes an HTTP response. Errors
//! carry what went wrong, never the words a client reads: those are `messages`' (French for the
//! original endpoints, English for `/v1`).
//!
//! Handlers return `Result<Response, ApiError>` and use `?`. The same error is rendered in one of
//! two dialects: the original endpoints answer `{"error": "<message>"}` (their users parse that),
//! everything else answers RFC 9457 `application/problem+json`. Internal details (Redis addresses,
//! scripts, server messages) are logged to stderr, never sent to the client.

use crate::config::ConfigError;
use crate::http::Response;
use crate::store::{RedisErrorKind, StoreError};
use crate::{flask, messages, response};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the body is not valid JSON.
    #[error("invalid JSON: {0}")]
    InvalidJson(String),
    /// 400: the body is JSON but not an object.
    #[error("the body is not a JSON object")]
    NotAnObject,
    /// 400: the original `/create_user` without both names as non-empty strings.
    #[error("nom and prenom are required")]
    NamesRequired,
    /// 400: the original `/create_session` without a `session_id`.
    #[error("session_id missing")]
    SessionIdMissing,
    /// 400: the original `/create_session` with a `session_id` too long or with control characters.
    #[error("session_id invalid")]
    SessionIdInvalid,
    /// 400: the body's JSON does not fit the endpoint (serde's words, for the client to fix it).
    #[error("body does not fit: {0}")]
    BodyMismatch(String),
    /// 400: the client stopped sending the body, or the host failed to deliver it (the detail is
    /// the host's).
    #[error("body unreadable: {0}")]
    BodyUnreadable(String),
    /// 400: the body has a field the endpoint does not know (a typo would otherwise be ignored).
    #[error("unknown field `{0}`")]
    UnknownField(String),
    /// 400: a query parameter is malformed or out of range.
    #[error("invalid query parameter `{name}`: {problem:?}")]
    InvalidParameter { name: &'static str, problem: ParameterProblem },
    /// 400: a request header is malformed (an `Idempotency-Key` too long or not printable ASCII).
    #[error("invalid header `{name}`: {problem:?}")]
    InvalidHeader { name: &'static str, problem: HeaderProblem },
    /// 401: `api_token` is set and the request does not carry it as a bearer token.
    #[error("unauthorized")]
    Unauthorized,
    /// 404: the resource does not exist (or has expired).
    #[error("not found: {0:?}")]
    NotFound(Missing),
    /// 405: the path exists but not for this method; `allow` lists the methods it takes.
    #[error("method not allowed")]
    MethodNotAllowed { allow: String },
    /// 413: the body, or a part of it, is larger than the configured limit (in bytes).
    #[error("{what:?} over {limit} bytes")]
    PayloadTooLarge { what: TooLarge, limit: u64 },
    /// 412: `If-Match` names none of the resource's current ETags.
    #[error("precondition failed")]
    PreconditionFailed,
    /// 415: the body is not declared as JSON.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// 422 (400 on the original endpoints, as Flask answered invalid input): a field is
    /// well-formed JSON but its value is not acceptable.
    #[error("invalid field `{field}`: {problem:?}")]
    InvalidField { field: &'static str, problem: FieldProblem },
    /// 422: the `Idempotency-Key` was used before with a different request.
    #[error("Idempotency-Key reused with a different request")]
    IdempotencyKeyReused,
    /// 507: the user id counter has reached `store::MAX_USER_ID`; nothing was written. Retrying
    /// does not help: an operator must act (see the reindex's `unrepresentable` ids).
    #[error("no user id left")]
    NoUserIdLeft,
    /// 503: Redis cannot serve now (unreachable, loading, a replica, ...); the client may retry later.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// 507: Redis refused a write for lack of memory (`OOM`); reads still work.
    #[error("storage full: {0}")]
    InsufficientStorage(String),
    /// 500: a bug or a misconfiguration. The detail is logged, the client gets a generic message.
    #[error("internal error: {0}")]
    Internal(String),
}

/// What is wrong with a field's value: words for it are chosen when the error is rendered, in the
/// language of the route's dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldProblem {
    Required,
    Empty,
    NotAString,
    ControlCharacters,
    /// Longer than this many characters.
    TooLong(u64),
    /// Nests deeper than this many levels.
    TooDeep(u64),
    PositiveInteger,
    /// Not a whole number in this range.
    OutOfRange {
        min: u64,
        max: u64,
    },
    /// Names a user that does not exist.
    NoSuchUser(u64),
}

/// What a query parameter's value is not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParameterProblem {
    /// Not a whole number in this range.
    OutOfRange { min: u64, max: u64 },
    /// Not a cursor of `GET /v1/users`.
    NotAPageCursor,
    /// Not a cursor of the reindex.
    NotAReindexCursor,
}

/// What a header's value is not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderProblem {
    /// The endpoint needs this header.
    Missing,
    NotPrintableAscii,
    /// Empty, or longer than this many characters.
    Length(usize),
}

/// What a 404 did not find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    /// No route has this path.
    Path,
    /// No user has this id (`None`: the id cannot be one).
    User(Option<u64>),
    /// No live session has this id or token.
    Session,
    /// The user has no live session with this public id.
    UserSession,
}

/// What was too large (413).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TooLarge {
    Body,
    SessionData,
}

/// Which error body format a route speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// The original Flask service: `{"error": "..."}` with French messages.
    Original,
    /// `application/problem+json` (RFC 9457).
    Problem,
}

/// Seconds a client should wait before retrying when Redis is away.
const RETRY_AFTER_SECONDS: &str = "1";

impl ApiError {
    pub fn status(&self) -> u16 {
        match self {
            ApiError::InvalidJson(_)
            | ApiError::NotAnObject
            | ApiError::NamesRequired
            | ApiError::SessionIdMissing
            | ApiError::SessionIdInvalid
            | ApiError::BodyMismatch(_)
            | ApiError::BodyUnreadable(_)
            | ApiError::UnknownField(_)
            | ApiError::InvalidParameter { .. }
            | ApiError::InvalidHeader { .. } => 400,
            ApiError::Unauthorized => 401,
            ApiError::PreconditionFailed => 412,
            ApiError::PayloadTooLarge { .. } => 413,
            ApiError::InvalidField { .. } | ApiError::IdempotencyKeyReused => 422,
            ApiError::NotFound(_) => 404,
            ApiError::MethodNotAllowed { .. } => 405,
            ApiError::UnsupportedMediaType => 415,
            ApiError::Unavailable(_) => 503,
            ApiError::NoUserIdLeft | ApiError::InsufficientStorage(_) => 507,
            ApiError::Internal(_) => 500,
        }
    }

    pub fn into_response(self, dialect: Dialect) -> Response {
        if let ApiError::Unavailable(detail) | ApiError::InsufficientStorage(detail) | ApiError::Internal(detail) =
            &self
        {
            eprintln!("{}: {detail}", self.status());
        }
        if let ApiError::NoUserIdLeft = &self {
            eprintln!("507: user_id_counter has reached {}: no user can be created", crate::store::MAX_USER_ID);
        }
        let status = match (&self, dialect) {
            // Flask's own validation answered 400 for any invalid input; 422 is /v1's.
            (ApiError::InvalidField { .. }, Dialect::Original) => 400,
            _ => self.status(),
        };
        let mut res = match dialect {
            Dialect::Original => flask::response(status, &serde_json::json!({ "error": messages::original(&self) })),
            Dialect::Problem => {
                let (title, detail) = messages::problem(&self);
                response::problem(status, title, &detail)
            }
        };
        match &self {
            ApiError::MethodNotAllowed { allow } => res.set_header("allow", allow.as_str()),
            ApiError::Unavailable(_) => res.set_header("retry-after", RETRY_AFTER_SECONDS),
            ApiError::Unauthorized => res.set_header("www-authenticate", "Bearer realm=\"user-session-service\""),
            _ => {}
        }
        res
    }
}

/// What each kind of Redis failure answers: the one place that decides it.
impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        use RedisErrorKind::*;
        match e {
            StoreError::Redis { kind, detail } => match kind {
                Unreachable | Loading | ReadOnly | MasterDown | TryAgain | Busy => ApiError::Unavailable(detail),
                OutOfMemory => ApiError::InsufficientStorage(detail),
                // Only the operator can fix it, and retrying will not: 500, and a log line that
                // says what to check (never the password: Redis's messages do not carry it).
                Credentials => ApiError::Internal(format!(
                    "Redis rejected the credentials: check the redis_username and redis_password variables ({detail})"
                )),
                NoScript | Other => ApiError::Internal(detail),
            },
            StoreError::InvalidAddress => {
                ApiError::Internal("redis_address is not a valid Redis URL or is not in allowed_outbound_hosts".into())
            }
            StoreError::Internal(detail) => ApiError::Internal(detail),
        }
    }
}

impl ApiError {
    /// A store failure as `/healthz` reports it: whatever its kind, the service cannot serve now,
    /// so `503`, with the detail the request would have logged.
    pub fn unavailable(e: StoreError) -> ApiError {
        match ApiError::from(e) {
            ApiError::InsufficientStorage(detail) | ApiError::Internal(detail) => ApiError::Unavailable(detail),
            other => other,
        }
    }
}

/// A misconfiguration: 500, with the detail in the log only.
impl From<ConfigError> for ApiError {
    fn from(e: ConfigError) -> Self {
        ApiError::Internal(e.to_string())
    }
}
