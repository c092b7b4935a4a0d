//! Building responses: `/v1` JSON (serde_json's compact output), problem documents, and answers
//! without a body. The original endpoints' Flask-compatible JSON is `flask`'s.

use serde::Serialize;

use crate::http::Response;

/// A `/v1` JSON response.
pub fn json(status: u16, body: &impl Serialize) -> Response {
    let body = serde_json::to_vec(body).expect("serializing to memory cannot fail");
    Response::with_body(status, "application/json", body)
}

/// An RFC 9457 problem document (`application/problem+json`) whose `type` is `about:blank`.
pub fn problem(status: u16, title: &str, detail: &str) -> Response {
    /// The members in sorted order, as the API has always written them.
    #[derive(Serialize)]
    struct Problem<'a> {
        detail: &'a str,
        status: u16,
        title: &'a str,
        r#type: &'a str,
    }
    // `benches/run parts`
    if cfg!(feature = "bench-skip-json-encoding") {
        return Response::with_body(status, "application/problem+json", b"{}".to_vec());
    }
    let body = serde_json::to_vec(&Problem { detail, status, title, r#type: "about:blank" })
        .expect("serializing to memory cannot fail");
    Response::with_body(status, "application/problem+json", body)
}

pub fn no_content() -> Response {
    Response::new(204)
}

/// The answer to `OPTIONS`, as Flask gave it on every route: `200`, the methods in `Allow`, no body.
pub fn options(allow: &str) -> Response {
    let mut response = Response::new(200);
    response.set_header("allow", allow);
    response
}

/// The answer to `HEAD`: the `GET` answer's status and headers, without its body. No
/// `Content-Length` is added (Flask sent the `GET` body's): the host checks that a body is as long
/// as it declares, and under Spin 4.0.2 a `HEAD` declaring the `GET`'s length was sent, then failed
/// to finish (`HttpResponseBodySize`) on every request. Like the `GET`, it goes out without a length.
pub fn without_body(mut response: Response) -> Response {
    response.take_body();
    response
}
