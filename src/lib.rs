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
mod clock;
mod config;
mod error;
mod health;
mod json;
mod legacy;
mod openapi;
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

use spin_sdk::http::{IncomingRequest, Method, Request, Response, ResponseOutparam};

use crate::access_log::Entry;
use crate::config::Config;
use crate::error::{ApiError, Dialect};
use crate::request_id::RequestId;
use crate::routing::{Handler, Route};

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
    route("/get_user/:id", Original, &[(Get, legacy::get_user)]),
    route("/delete_user/:id", Original, &[(Delete, legacy::delete_user)]),
    route("/list_users", Original, &[(Get, legacy::list_users)]),
    route("/create_session", Original, &[(Post, legacy::create_session)]),
    route("/get_session/:session_id", Original, &[(Get, legacy::get_session)]),
    // The versioned API.
    route("/v1/users", Problem, &[(Get, users::list), (Post, users::create)]),
    route("/v1/users/:id", Problem, &[(Get, users::get), (Patch, users::update), (Delete, users::delete)]),
    route("/v1/users/:id/sessions", Problem, &[(Get, users::list_sessions), (Delete, users::revoke_sessions)]),
    route("/v1/users/:id/sessions/:public_id", Problem, &[(Delete, users::revoke_session)]),
    route("/v1/sessions", Problem, &[(Post, sessions::create)]),
    route("/v1/sessions/:id", Problem, &[(Get, sessions::get), (Patch, sessions::update), (Delete, sessions::delete)]),
    // Operations.
    public("/healthz", Problem, &[(Get, health::check)]),
    route("/openapi.json", Problem, &[(Get, openapi::document)]),
    route("/v1/admin/reindex-users", Problem, &[(Post, admin::reindex_users)]),
];

// Exported only in the wasm build: a native build (the rlib the fuzz targets link, and the
// cdylib cargo builds beside it) cannot carry the component's export names. It takes the raw
// request and out-parameter, rather than a `Request` and a returned `Response`, so that `reply`
// can hand the response over with its body already written.
#[cfg_attr(target_arch = "wasm32", spin_sdk::http_component)]
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
async fn entry(req: IncomingRequest, out: ResponseOutparam) {
    reply::serve(req, out, handle).await;
}

fn handle(req: &Request) -> Response {
    // The log's duration runs on the monotonic clock; its time is the wall clock's.
    let started = Instant::now();
    let time = clock::now();
    let request_id = RequestId::of(req);
    let (route, mut response) = respond(req);
    response.set_header("x-request-id", request_id.as_str());
    let template = route.map(Route::template);
    Entry {
        time: &time,
        request_id: request_id.as_str(),
        method: req.method(),
        route: template.as_deref(),
        status: *response.status(),
        duration_us: started.elapsed().as_micros().try_into().unwrap_or(u64::MAX),
        redis_round_trips: store::round_trips(),
    }
    .write();
    response
}

/// The response to a request, and the route that answered it (`None` when no route matched).
fn respond(req: &Request) -> (Option<&'static Route>, Response) {
    // Routing uses `spin-path-info` (the path below the trigger route), so the app also works when
    // mounted under a prefix such as `/api/...`.
    let Some(path) = req.header("spin-path-info").and_then(|v| v.as_str()) else {
        eprintln!("no spin-path-info header: the trigger route must end in /...");
        return (None, Response::new(500, ()));
    };
    match routing::find(ROUTES, path) {
        Some((route, param)) => {
            (Some(route), dispatch(req, route, param).unwrap_or_else(|e| e.into_response(route.dialect)))
        }
        None => (None, ApiError::NotFound("no resource at this path".into()).into_response(Problem)),
    }
}

/// Runs the route's handler for the request's method, after the token check; any other method is
/// 405 with `Allow` (also after the token check, so the API's shape is not shown to strangers).
fn dispatch(req: &Request, route: &Route, param: &str) -> Result<Response, ApiError> {
    let handler = route.handler(req.method());
    if route.public && handler.is_none() {
        // Nothing to authorize and nothing to run: no need for the configuration.
        return Err(ApiError::MethodNotAllowed { allow: route.allow() });
    }
    let config = Config::load()?;
    if !route.public {
        auth::check(req, &config)?;
    }
    let handler = handler.ok_or_else(|| ApiError::MethodNotAllowed { allow: route.allow() })?;
    handler(req, param, &config)
}

#[cfg(test)]
mod tests {
    use super::*;

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
                // `/get_user/:id` in the router is `/get_user/{id}` in OpenAPI.
                let path = r.template();
                r.methods.iter().map(move |(m, _)| (path.clone(), m.to_string()))
            })
            .collect();
        documented.sort();
        served.sort();
        assert_eq!(documented, served);
    }
}
