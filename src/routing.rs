//! Finding a request's route in the `const` route table of `lib.rs`, in place.
//!
//! Spin makes a fresh instance for every request, so a router built at start-up (such as
//! `spin_sdk::http::Router`) would be rebuilt on every request. Here the table is static data and
//! matching walks it comparing path segments: nothing is built and nothing is allocated.

use spin_sdk::http::{Method, Request, Response};

use crate::config::Config;
use crate::error::{ApiError, Dialect};

/// A handler: the request, the path's parameter (the `:id` of `/v1/users/:id`, raw as it came,
/// percent-encoding kept; empty when the route has none; for a route with two, such as
/// `/v1/users/:id/sessions/:public_id`, the raw span from the first to the last, `7/sessions/ab`)
/// and the configuration.
pub type Handler = fn(&Request, &str, &Config) -> Result<Response, ApiError>;

/// One path of the API: its handlers by method, how its errors are written, and whether it needs
/// the API token.
pub struct Route {
    pub path: &'static str,
    pub dialect: Dialect,
    pub methods: &'static [(Method, Handler)],
    pub public: bool,
}

impl Route {
    /// The methods this path takes, for the `Allow` header of a 405 (`GET, POST`).
    pub fn allow(&self) -> String {
        let names: Vec<String> = self.methods.iter().map(|(method, _)| method.to_string()).collect();
        names.join(", ")
    }

    /// The path as an OpenAPI template, `/get_user/{id}` for `/get_user/:id`: what the access log
    /// names instead of the path.
    pub fn template(&self) -> String {
        let mut template = String::with_capacity(self.path.len() + 1);
        for (i, segment) in self.path.split('/').enumerate() {
            if i > 0 {
                template.push('/');
            }
            match segment.strip_prefix(':') {
                Some(name) => {
                    template.push('{');
                    template.push_str(name);
                    template.push('}');
                }
                None => template.push_str(segment),
            }
        }
        template
    }

    /// The handler for `method`, if this path takes it.
    pub fn handler(&self, method: &Method) -> Option<Handler> {
        self.methods.iter().find(|(m, _)| m == method).map(|(_, handler)| *handler)
    }
}

/// The route whose pattern `path` matches, with the value of its parameter.
pub fn find<'r, 'p>(routes: &'r [Route], path: &'p str) -> Option<(&'r Route, &'p str)> {
    if cfg!(feature = "bench-skip-routing") {
        // `benches/run parts` times `/get_user/<id>` and a 404 without walking the table.
        let param = path.strip_prefix("/get_user/")?;
        return routes.iter().find(|route| route.path == "/get_user/:id").map(|route| (route, param));
    }
    routes.iter().find_map(|route| matches(route.path, path).map(|param| (route, param)))
}

/// Matches a path against a pattern such as `/get_user/:id`, segment by segment, as the Spin SDK's
/// router (`routefinder`) did: leading and trailing slashes are ignored (`/list_users/` is
/// `/list_users`), a `:name` segment matches one segment (non-empty when it ends the pattern: the
/// SDK's router let `/v1/users//sessions` through with an empty id), anything else matches only
/// itself. Returns the parameter's value (empty when the pattern has none), or the span of the path
/// from its first parameter to its last.
fn matches<'p>(pattern: &str, path: &'p str) -> Option<&'p str> {
    let mut expected = pattern.trim_matches('/').split('/');
    let mut actual = path.trim_matches('/').split('/');
    // The parameters' span, as byte offsets into `path`.
    let mut span: Option<(usize, usize)> = None;
    loop {
        match (expected.next(), actual.next()) {
            (None, None) => return Some(span.map_or("", |(start, end)| &path[start..end])),
            (Some(want), Some(got))
                if want.starts_with(':') && (!got.is_empty() || expected.clone().next().is_some()) =>
            {
                let start = got.as_ptr() as usize - path.as_ptr() as usize;
                span = Some((span.map_or(start, |(first, _)| first), start + got.len()));
            }
            (Some(want), Some(got)) if want == got => {}
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn paths_match_segment_by_segment() {
        assert_eq!(matches("/list_users", "/list_users"), Some(""));
        assert_eq!(matches("/list_users", "//list_users/"), Some(""));
        assert_eq!(matches("/get_user/:id", "/get_user/42"), Some("42"));
        assert_eq!(matches("/get_user/:id", "/get_user/a%2Fb.c"), Some("a%2Fb.c"));
        assert_eq!(matches("/v1/users/:id/sessions", "/v1/users/7/sessions/"), Some("7"));
        assert_eq!(matches("/v1/users/:id/sessions", "/v1/users//sessions"), Some(""));
        assert_eq!(matches("/v1/users/:id/sessions/:public_id", "/v1/users/7/sessions/ab/"), Some("7/sessions/ab"));
        assert_eq!(matches("/openapi.json", "/openapi.json"), Some(""));
        for path in ["/get_user", "/get_user/", "/get_user//1", "/get_user/1/x", "/get_userx/1", "/", ""] {
            assert_eq!(matches("/get_user/:id", path), None, "{path}");
        }
        assert_eq!(matches("/v1/users", "/v1//users"), None);
        assert_eq!(matches("/list_users", "/list_usersx"), None);
    }
}
