//! A user-and-session service: a Spin HTTP component backed by Redis.
//!
//! This file is the entry point and the route table. Each resource's handlers live in their own
//! module; `store` owns every Redis key and script; `error` turns failures into responses.

mod clock;
mod config;
mod error;
mod health;
mod legacy;
mod request;
mod response;
mod sessions;
mod store;
mod users;

use spin_sdk::http::{Method, Params, Request, Response, Router};
use spin_sdk::http_component;

use crate::error::{ApiError, Dialect};

#[http_component]
fn handle(req: Request) -> Response {
    routes().handle(req)
}

/// Every route the service serves. Routing uses `spin-path-info`, so the app also works when
/// mounted under a prefix such as `/api/...`.
fn routes() -> Router {
    let mut router = Router::suffix();

    // The original Flask service's endpoints.
    let original = Dialect::Original;
    resource(&mut router, "/create_user", original, &[(Method::Post, legacy::create_user)]);
    resource(&mut router, "/get_user/:id", original, &[(Method::Get, legacy::get_user)]);
    resource(&mut router, "/delete_user/:id", original, &[(Method::Delete, legacy::delete_user)]);
    resource(&mut router, "/list_users", original, &[(Method::Get, legacy::list_users)]);
    resource(&mut router, "/create_session", original, &[(Method::Post, legacy::create_session)]);
    resource(&mut router, "/get_session/:session_id", original, &[(Method::Get, legacy::get_session)]);

    // The versioned API.
    let problem = Dialect::Problem;
    resource(&mut router, "/v1/users", problem, &[(Method::Get, users::list), (Method::Post, users::create)]);
    resource(&mut router, "/v1/users/:id", problem, &[(Method::Get, users::get), (Method::Patch, users::update), (Method::Delete, users::delete)]);
    resource(&mut router, "/v1/users/:id/sessions", problem, &[(Method::Get, users::list_sessions), (Method::Delete, users::revoke_sessions)]);
    resource(&mut router, "/v1/sessions", problem, &[(Method::Post, sessions::create)]);
    resource(&mut router, "/v1/sessions/:id", problem, &[(Method::Get, sessions::get), (Method::Patch, sessions::update), (Method::Delete, sessions::delete)]);
    resource(&mut router, "/healthz", problem, &[(Method::Get, health::check)]);

    for unknown in ["/", "/*"] {
        router.any(unknown, |_: Request, _: Params| {
            ApiError::NotFound("no resource at this path".into()).into_response(Dialect::Problem)
        });
    }
    router
}

type Handler = fn(Request, Params) -> Result<Response, ApiError>;

/// Registers the handlers of one path, and a 405 with `Allow` for every other method.
fn resource(router: &mut Router, path: &str, dialect: Dialect, methods: &[(Method, Handler)]) {
    for (method, handler) in methods {
        let handler = *handler;
        router.add(path, method.clone(), move |req: Request, params: Params| {
            handler(req, params).unwrap_or_else(|e| e.into_response(dialect))
        });
    }
    let allow = methods.iter().map(|(m, _)| m.to_string()).collect::<Vec<_>>().join(", ");
    router.any(path, move |_: Request, _: Params| {
        ApiError::MethodNotAllowed { allow: allow.clone() }.into_response(dialect)
    });
}
