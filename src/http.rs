//! The request and the response as the handlers see them: a method, a path, headers and a body.
//!
//! spin-sdk's own `Request` and `Response` keep headers in a `HashMap`, lowercase every name on
//! every insert and every lookup (an allocation each), and parse the URI they are given. Every
//! request pays for that before and after its handler: in the test host's instruction counts of a
//! `GET /v1/session`, their hashing, lowercasing and URI parsing came to more than the route
//! table, the settings and the SHA-256 of the token together. Here headers stay as the host hands
//! them over, in a `Vec`, and are found by a scan: a request carries a handful.

use spin_sdk::http::{IncomingRequest, Method};

/// A request's method, path and query, headers, and body (empty until the entry point reads it,
/// after the token check: `src/body.rs`).
#[derive(Debug)]
pub struct Request {
    method: Method,
    path_and_query: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

impl Request {
    pub fn new(method: Method, path_and_query: impl Into<String>, headers: Vec<(String, Vec<u8>)>) -> Request {
        Request { method, path_and_query: path_and_query.into(), headers, body: Vec::new() }
    }

    /// The head of a request from the host, its body unread: one call for the headers, none for
    /// the scheme and authority (nothing here needs them).
    pub fn head_of(req: &IncomingRequest) -> Request {
        Request::new(req.method(), req.path_with_query().unwrap_or_default(), req.headers().entries())
    }

    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The query string, without its `?` (empty when there is none).
    pub fn query(&self) -> &str {
        self.path_and_query.split_once('?').map_or("", |(_, query)| query)
    }

    /// A header's raw value. Names match without regard to case; of a header sent more than once,
    /// the last value counts (as with spin-sdk's `Request`, which this replaced).
    pub fn header_bytes(&self, name: &str) -> Option<&[u8]> {
        self.headers.iter().rev().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_slice())
    }

    /// A header's value as text; `None` when it is absent or not UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_bytes(name).and_then(|value| std::str::from_utf8(value).ok())
    }

    pub fn body(&self) -> &[u8] {
        &self.body
    }

    pub fn set_body(&mut self, body: Vec<u8>) {
        self.body = body;
    }
}

/// A response: status, headers (names lowercase, each at most once) and body.
#[derive(Debug)]
pub struct Response {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Response {
    pub fn new(status: u16) -> Response {
        Response { status, headers: Vec::new(), body: Vec::new() }
    }

    /// A response with a body of the given content type.
    pub fn with_body(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Response {
        Response { status, headers: vec![("content-type", content_type.to_owned())], body: body.into() }
    }

    pub fn status(&self) -> u16 {
        self.status
    }

    /// Sets a header, replacing any value it had. `name` is lowercase.
    pub fn set_header(&mut self, name: &'static str, value: impl Into<String>) {
        let value = value.into();
        match self.headers.iter_mut().find(|(n, _)| *n == name) {
            Some(header) => header.1 = value,
            None => self.headers.push((name, value)),
        }
    }

    pub fn headers(&self) -> &[(&'static str, String)] {
        &self.headers
    }

    /// The body, taken out of the response (which is left without one).
    pub fn take_body(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_match_without_case_and_the_last_value_counts() {
        let headers =
            vec![("x-a".to_owned(), b"1".to_vec()), ("X-B".to_owned(), vec![0xff]), ("x-a".to_owned(), b"2".to_vec())];
        let req = Request::new(Method::Get, "/v1/users?limit=2&cursor=x", headers);
        assert_eq!(req.header("X-A"), Some("2"));
        assert_eq!((req.header("x-b"), req.header_bytes("x-b")), (None, Some(&[0xff][..])));
        assert_eq!(req.header("x-c"), None);
        assert_eq!(req.query(), "limit=2&cursor=x");
        assert_eq!(Request::new(Method::Get, "/v1/users", Vec::new()).query(), "");
    }

    #[test]
    fn a_header_set_twice_keeps_its_last_value() {
        let mut res = Response::with_body(200, "application/json", b"{}".to_vec());
        res.set_header("location", "/a");
        res.set_header("location", "/b");
        assert_eq!(res.headers(), [("content-type", "application/json".to_owned()), ("location", "/b".to_owned())]);
        assert_eq!(res.take_body(), b"{}");
        assert!(res.take_body().is_empty());
    }
}
