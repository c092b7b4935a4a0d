//! Finding a request's route in the `const` route table of `lib.rs`, in place.
//!
//! Spin makes a fresh instance for every request, so a router built at start-up (such as
//! `spin_sdk::http::Router`) would be rebuilt on every request. Here the table is static data and
//! matching walks it comparing path segments: nothing is built and nothing is allocated.

use std::cell::OnceCell;

use spin_sdk::http::Method;

use crate::config::Config;
use crate::error::{ApiError, Dialect};
use crate::http::{Request, Response};
use crate::store::Store;

/// A handler: what it answers to one request, from the request's context.
pub type Handler = fn(&Context) -> Result<Response, ApiError>;

/// What a handler works with: the request, its path's named parameters, the configuration, and the
/// Redis store, opened when the handler first asks for it (so that a request refused on its input
/// never opens a connection).
pub struct Context<'r> {
    pub req: &'r Request,
    pub config: &'r Config,
    params: Params<'r>,
    store: OnceCell<Store>,
}

impl<'r> Context<'r> {
    pub fn new(req: &'r Request, config: &'r Config, params: Params<'r>) -> Self {
        Context { req, config, params, store: OnceCell::new() }
    }

    /// The path parameter `name` (`{id}` of `/v1/users/{id}`) as it came, percent-encoding kept.
    /// Only the route's own names exist: asking for another is a bug in the route table.
    pub fn param(&self, name: &str) -> &'r str {
        self.params.get(name).unwrap_or_else(|| panic!("the route has no `{{{name}}}` parameter"))
    }

    /// The connection to Redis, opened on first use (one per request: Spin opens a new one per call).
    pub fn store(&self) -> Result<&Store, ApiError> {
        if let Some(store) = self.store.get() {
            return Ok(store);
        }
        let store = Store::open(&self.config.redis_url()?)?;
        Ok(self.store.get_or_init(|| store))
    }
}

/// A path's parameters by name (at most two in this API), borrowed from the path.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Params<'p>([Option<(&'static str, &'p str)>; 2]);

impl<'p> Params<'p> {
    pub fn get(&self, name: &str) -> Option<&'p str> {
        self.0.iter().flatten().find(|(n, _)| *n == name).map(|(_, value)| *value)
    }
}

/// One path of the API: its handlers by method, how its errors are written, and whether it needs
/// the API token.
pub struct Route {
    /// The path as the OpenAPI document writes it (`/v1/users/{id}`), which the access log shows.
    pub path: &'static str,
    pub dialect: Dialect,
    pub methods: &'static [(Method, Handler)],
    pub public: bool,
}

impl Route {
    /// The methods this path takes, for `Allow` (405 and `OPTIONS`), in alphabetical order: its
    /// own, `HEAD` where it takes `GET`, and `OPTIONS`, which every path takes (as in Flask).
    pub fn allow(&self) -> String {
        let mut names: Vec<String> = self.methods.iter().map(|(method, _)| method.to_string()).collect();
        if self.handler(&Method::Get).is_some() {
            names.push("HEAD".into());
        }
        names.push("OPTIONS".into());
        names.sort();
        names.join(", ")
    }

    /// The handler for `method`, if this path takes it.
    pub fn handler(&self, method: &Method) -> Option<Handler> {
        self.methods.iter().find(|(m, _)| m == method).map(|(_, handler)| *handler)
    }
}

/// The route whose pattern `path` matches, with the values of its parameters.
pub fn find<'p>(routes: &'static [Route], path: &'p str) -> Option<(&'static Route, Params<'p>)> {
    if cfg!(feature = "bench-skip-routing") {
        // `benches/run parts` times `/get_user/<id>` and a 404 without walking the table.
        let id = path.strip_prefix("/get_user/")?;
        let route = routes.iter().find(|route| route.path == "/get_user/{id}")?;
        return Some((route, Params([Some(("id", id)), None])));
    }
    let mut segments = [""; MAX_SEGMENTS];
    let mut count = 0;
    for segment in Segments::of(path) {
        // Longer than every pattern: no route matches.
        *segments.get_mut(count)? = segment;
        count += 1;
    }
    let segments = &segments[..count];
    routes.iter().find_map(|route| matches(route.path, segments).map(|params| (route, params)))
}

/// The most segments a route's pattern has (`/v1/users/{id}/sessions/{public_id}`).
pub const MAX_SEGMENTS: usize = 5;

/// Matches a path against a pattern such as `/get_user/{id}`, segment by segment, as the Spin SDK's
/// router (`routefinder`) did: leading and trailing slashes are ignored (`/list_users/` is
/// `/list_users`), a `{name}` segment matches one segment (non-empty when it ends the pattern: the
/// SDK's router let `/v1/users//sessions` through with an empty id), anything else matches only
/// itself. Every request walks the table up to its route, so the path is split once (`find`), and
/// this compares bytes, without `str`'s pattern machinery (which cost more than the rest of the
/// request's routing together in wasm); most patterns differ in their first byte.
fn matches<'p>(pattern: &'static str, path: &[&'p str]) -> Option<Params<'p>> {
    // A pattern is written as `/a/b`: no slash to skip but its first (`lib.rs` tests them all).
    let mut expected = Segments(Some(&pattern[1..]));
    let mut actual = path.iter().copied();
    let mut params = Params::default();
    let mut found = 0;
    loop {
        match (expected.next(), actual.next()) {
            (None, None) => return Some(params),
            (Some(want), Some(got))
                if want.as_bytes().first() == Some(&b'{') && (!got.is_empty() || expected.clone().next().is_some()) =>
            {
                // The table's own `{name}`: the name is between the braces.
                params.0[found] = Some((&want[1..want.len() - 1], got));
                found += 1;
            }
            (Some(want), Some(got)) if want == got => {}
            _ => return None,
        }
    }
}

/// The segments of a path between its leading and trailing slashes (one empty segment for `/`).
#[derive(Clone)]
struct Segments<'a>(Option<&'a str>);

impl<'a> Segments<'a> {
    fn of(path: &'a str) -> Segments<'a> {
        let bytes = path.as_bytes();
        let start = bytes.iter().position(|&b| b != b'/').unwrap_or(bytes.len());
        let end = bytes.iter().rposition(|&b| b != b'/').map_or(start, |last| last + 1);
        Segments(Some(&path[start..end]))
    }
}

impl<'a> Iterator for Segments<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.0?;
        match rest.bytes().position(|b| b == b'/') {
            Some(slash) => {
                self.0 = Some(&rest[slash + 1..]);
                Some(&rest[..slash])
            }
            None => {
                self.0 = None;
                Some(rest)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Params, Segments};

    fn matches(pattern: &'static str, path: &'static str) -> Option<Params<'static>> {
        super::matches(pattern, &Segments::of(path).collect::<Vec<_>>())
    }

    fn one(name: &'static str, value: &'static str) -> Option<Params<'static>> {
        Some(Params([Some((name, value)), None]))
    }

    #[test]
    fn paths_match_segment_by_segment() {
        assert_eq!(matches("/list_users", "/list_users"), Some(Params::default()));
        assert_eq!(matches("/list_users", "//list_users/"), Some(Params::default()));
        assert_eq!(matches("/get_user/{id}", "/get_user/42"), one("id", "42"));
        assert_eq!(matches("/get_user/{id}", "/get_user/a%2Fb.c"), one("id", "a%2Fb.c"));
        assert_eq!(matches("/v1/users/{id}/sessions", "/v1/users/7/sessions/"), one("id", "7"));
        assert_eq!(matches("/v1/users/{id}/sessions", "/v1/users//sessions"), one("id", ""));
        let both = matches("/v1/users/{id}/sessions/{public_id}", "/v1/users/7/sessions/ab/").unwrap();
        assert_eq!((both.get("id"), both.get("public_id"), both.get("x")), (Some("7"), Some("ab"), None));
        assert_eq!(matches("/openapi.json", "/openapi.json"), Some(Params::default()));
        for path in ["/get_user", "/get_user/", "/get_user//1", "/get_user/1/x", "/get_userx/1", "/", ""] {
            assert_eq!(matches("/get_user/{id}", path), None, "{path}");
        }
        assert_eq!(matches("/v1/users", "/v1//users"), None);
        assert_eq!(matches("/list_users", "/list_usersx"), None);
    }
}
