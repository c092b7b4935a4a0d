//! A user-and-session service: a Spin HTTP component backed by Redis.
//!
//! This file is the entry point and the route table. Each resource's handlers live in their own
//! module; `store` owns every Redis key and script; `error` turns failures into responses. The
//! entry point wraps them all: every response gets its `X-Request-Id` (`request_id`) and every
//! request one access-log line (`access_log`), here and nowhere else.

mod access_log;
mod admin;
mod auth;
mod base64url;
mod body;
mod clock;
mod config;
mod domain;
mod error;
mod flask;
mod health;
mod hex;
mod http;
mod json;
mod legacy;
mod messages;
mod openapi;
mod random;
mod reply;
mod request;
mod request_id;
mod response;
mod routing;
mod sessions;
mod store;
mod users;

#[cfg(fuzzing)]
pub mod fuzzing;

use std::time::Instant;

use spin_sdk::http::{IncomingRequest, Method, ResponseOutparam};

use crate::access_log::Entry;
use crate::auth::Caller;
use crate::body::{Body, BodyError};
use crate::config::Config;
use crate::error::{ApiError, Dialect, Missing, TooLarge};
use crate::http::{Request, Response};
use crate::request_id::RequestId;
use crate::routing::{Context, Handler, Params, Route};

const fn route(path: &'static str, dialect: Dialect, methods: &'static [(Method, Handler)]) -> Route {
    Route { path, dialect, methods, public: false }
}

/// A route anyone may call, even when `api_token` is set (health checks from load balancers).
const fn public(path: &'static str, dialect: Dialect, methods: &'static [(Method, Handler)]) -> Route {
    Route { path, dialect, methods, public: true }
}

use Dialect::{Original, Problem};
use Method::{Delete, Get, Patch, Post};

/// Every route the service serves: the table of contents of the API.
#[rustfmt::skip]
const ROUTES: &[Route] = &[
    // The original Flask service's endpoints.
    route("/create_user", Original, &[(Post, legacy::create_user)]),
    route("/get_user/{id}", Original, &[(Get, legacy::get_user)]),
    route("/delete_user/{id}", Original, &[(Delete, legacy::delete_user)]),
    route("/list_users", Original, &[(Get, legacy::list_users)]),
    route("/create_session", Original, &[(Post, legacy::create_session)]),
    route("/get_session/{session_id}", Original, &[(Get, legacy::get_session)]),
    // The versioned API.
    route("/v1/users", Problem, &[(Get, users::list), (Post, users::create)]),
    route("/v1/users/{id}", Problem, &[(Get, users::get), (Patch, users::update), (Delete, users::delete)]),
    route("/v1/users/{id}/sessions", Problem, &[(Get, users::list_sessions), (Delete, users::revoke_sessions)]),
    route("/v1/users/{id}/sessions/{public_id}", Problem, &[(Delete, users::revoke_session)]),
    route("/v1/sessions", Problem, &[(Post, sessions::create)]),
    // The session whose token is in `X-Session-Token` (recommended: paths end up in logs).
    route("/v1/session", Problem, &[(Get, sessions::get_current), (Patch, sessions::update_current), (Delete, sessions::delete_current)]),
    route("/v1/session/rotate", Problem, &[(Post, sessions::rotate_current)]),
    route("/v1/sessions/{id}", Problem, &[(Get, sessions::get), (Patch, sessions::update), (Delete, sessions::delete)]),
    route("/v1/sessions/{id}/rotate", Problem, &[(Post, sessions::rotate)]),
    // Operations.
    public("/healthz", Problem, &[(Get, health::check)]),
    route("/openapi.json", Problem, &[(Get, openapi::document)]),
    route("/v1/admin/reindex-users", Problem, &[(Post, admin::reindex_users)]),
];

// Exported only in the wasm build: a native build (the rlib the fuzz targets link, and the
// cdylib cargo builds beside it) cannot carry the component's export names. It takes the raw
// request and out-parameter, rather than a `Request` and a returned `Response`, so that the body
// is read only when wanted (`body`) and `reply` can hand the response over with its body written.
#[cfg_attr(target_arch = "wasm32", spin_sdk::http_component)]
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
async fn entry(req: IncomingRequest, out: ResponseOutparam) {
    reply::serve(req, out, handle).await;
}

fn handle(mut req: Request, incoming: IncomingRequest) -> Response {
    // The log's duration runs on the monotonic clock; its time is the wall clock's.
    let started = Instant::now();
    let time = clock::now();
    let request_id = RequestId::of(&req);
    let mut answer = respond(&mut req, Body::new(incoming));
    answer.response.set_header("x-request-id", request_id.as_str());
    Entry {
        time: &time,
        request_id: request_id.as_str(),
        method: req.method(),
        route: answer.route.map(|route| route.path),
        status: answer.response.status(),
        api_token: match answer.caller {
            Some(Caller::Token(position)) => Some(position),
            Some(Caller::Open) | None => None,
        },
        duration_us: started.elapsed().as_micros().try_into().unwrap_or(u64::MAX),
        redis_round_trips: store::round_trips(),
    }
    .write();
    answer.response
}

/// A response, the route that answered it (`None` when no route matched) and who the caller was
/// (`None` when the token was not checked, or did not pass).
struct Answer {
    route: Option<&'static Route>,
    caller: Option<Caller>,
    response: Response,
}

fn respond(req: &mut Request, body: Body) -> Answer {
    // Routing uses `spin-path-info` (the path below the trigger route), so the app also works when
    // mounted under a prefix such as `/api/...`.
    let Some(path) = req.header("spin-path-info").map(str::to_owned) else {
        eprintln!("no spin-path-info header: the trigger route must end in /...");
        return Answer { route: None, caller: None, response: Response::new(500) };
    };
    let Some((route, params)) = routing::find(ROUTES, &path) else {
        let response = ApiError::NotFound(Missing::Path).into_response(Problem);
        return Answer { route: None, caller: None, response };
    };
    let mut caller = None;
    let response = dispatch(req, body, route, params, &mut caller).unwrap_or_else(|e| e.into_response(route.dialect));
    Answer { route: Some(route), caller, response }
}

/// Runs the route's handler for the request's method, after the token check; any other method is
/// 405 with `Allow` (also after the token check, so that the API's shape is not shown to
/// strangers). `HEAD` runs a `GET` handler and drops the body; `OPTIONS` answers `Allow`, as Flask
/// did for every route. The body is read last, and only for a method that carries one: a request
/// that is refused never has its body read.
fn dispatch(
    req: &mut Request,
    body: Body,
    route: &Route,
    params: Params,
    caller: &mut Option<Caller>,
) -> Result<Response, ApiError> {
    let method = req.method().clone();
    let handler = match method {
        Method::Head => route.handler(&Method::Get),
        _ => route.handler(&method),
    };
    let known = handler.is_some() || method == Method::Options;
    if route.public && !known {
        // Nothing to authorize and nothing to run: no need for the configuration.
        return Err(ApiError::MethodNotAllowed { allow: route.allow() });
    }
    let config = Config::load()?;
    *caller = Some(if route.public { Caller::Open } else { auth::check(req, &config)? });
    if method == Method::Options {
        return Ok(response::options(&route.allow()));
    }
    let handler = handler.ok_or_else(|| ApiError::MethodNotAllowed { allow: route.allow() })?;
    if matches!(method, Method::Post | Method::Patch | Method::Put) {
        let bytes = read_body(req, body, &config)?;
        req.set_body(bytes);
    }
    let response = handler(&Context::new(req, &config, params));
    if method == Method::Head {
        // The status and headers of the GET, without its body (on errors too).
        let response = response.unwrap_or_else(|e| e.into_response(route.dialect));
        return Ok(response::without_body(response));
    }
    response
}

/// The request's body, once the request is known to need it: at most `max_body_bytes`, 413 beyond
/// (without reading a byte when `Content-Length` says so).
fn read_body(req: &Request, body: Body, config: &Config) -> Result<Vec<u8>, ApiError> {
    let limit = config::MAX_BODY_BYTES.value(config);
    let declared = req.header("content-length").and_then(|v| v.trim().parse().ok());
    body.read(declared, limit).map_err(|e| match e {
        BodyError::TooLarge => ApiError::PayloadTooLarge { what: TooLarge::Body, limit },
        // The client went away while sending: no one will read this answer.
        BodyError::Broken(detail) => ApiError::BodyUnreadable(detail),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Route patterns are written as `routing` reads them: `/a/b/{c}`, a slash before each segment
    /// and none at the end, at most `routing::MAX_SEGMENTS` segments, no empty one; and a path with
    /// more segments matches nothing.
    #[test]
    fn route_patterns_are_well_formed() {
        for route in ROUTES {
            let segments: Vec<&str> = route.path.split('/').skip(1).collect();
            assert!(route.path.starts_with('/') && !segments.iter().any(|s| s.is_empty()), "{}", route.path);
            assert!(segments.len() <= routing::MAX_SEGMENTS, "{}", route.path);
        }
        assert!(routing::find(ROUTES, "/v1/users/1/sessions/ab").is_some());
        assert!(routing::find(ROUTES, "/v1/users/1/sessions/ab/c").is_none());
        assert!(routing::find(ROUTES, "/v1/session").is_some_and(|(route, _)| route.path == "/v1/session"));
    }

    /// The OpenAPI document describes exactly the routes the router serves, with the same methods.
    #[test]
    fn openapi_document_lists_every_route() {
        let doc: serde_json::Value = serde_json::from_str(openapi::DOCUMENT).expect("openapi.json is JSON");
        assert_eq!(doc["openapi"].as_str().map(|v| v.starts_with("3.1")), Some(true));
        let paths = doc["paths"].as_object().expect("paths");
        let mut documented: Vec<(String, String)> = paths
            .iter()
            .flat_map(|(path, item)| {
                let methods = item.as_object().expect("path item").keys();
                methods
                    .filter(|m| ["get", "post", "put", "patch", "delete", "head", "options"].contains(&m.as_str()))
                    .map(move |m| (path.clone(), m.to_uppercase()))
            })
            .collect();
        let mut served: Vec<(String, String)> = ROUTES
            .iter()
            .flat_map(|r| {
                let path = r.path.to_owned();
                r.methods.iter().map(move |(m, _)| (path.clone(), m.to_string()))
            })
            .collect();
        documented.sort();
        served.sort();
        assert_eq!(documented, served);
    }
}
