//! The access log: one JSON line per request on the component's stdout, which Spin writes to
//! `.spin/logs/<component>_stdout.txt` (or `--log-dir`) and a platform collects from there.
//!
//! A line holds only what is safe to keep: the route *template* (`/v1/sessions/{id}`), never the
//! path, which may carry a session token; no query, header or body. It is built into one buffer
//! (strings through serde_json, the one JSON string encoder of `/v1` and the log) and written in
//! one call, without a JSON tree: every request pays for it.
//!
//! ```text
//! {"time":"2026-11-26T01:30:00.123456Z","request_id":"4f1c…","method":"GET","route":"/v1/sessions/{id}","status":200,"api_token":1,"duration_us":412,"redis_round_trips":1}
//! ```

use spin_sdk::http::Method;

/// What the log says about one request.
pub struct Entry<'a> {
    /// When the request arrived, RFC 3339 in UTC.
    pub time: &'a str,
    /// The request id (see `request_id`): printable ASCII without spaces.
    pub request_id: &'a str,
    pub method: &'a Method,
    /// The route template in OpenAPI style; `None` when no route matched.
    pub route: Option<&'a str>,
    pub status: u16,
    /// Which of the configured API tokens the request presented (its position in `api_token`, from
    /// 1); `None` when access control is off or the request was not let through. Never the token.
    pub api_token: Option<usize>,
    /// From arrival to the response being ready, on the host's monotonic clock.
    pub duration_us: u64,
    /// Redis commands sent (each a round trip).
    pub redis_round_trips: u32,
}

impl Entry<'_> {
    /// The log line, newline included.
    pub fn line(&self) -> Vec<u8> {
        let mut line = Vec::with_capacity(256);
        let mut number = itoa::Buffer::new();
        line.extend_from_slice(b"{\"time\":\"");
        line.extend_from_slice(self.time.as_bytes());
        line.extend_from_slice(b"\",\"request_id\":");
        // The request id is client text (printable ASCII, but quotes and backslashes included).
        let _ = serde_json::to_writer(&mut line, self.request_id);
        line.extend_from_slice(b",\"method\":\"");
        line.extend_from_slice(method_name(self.method).as_bytes());
        line.extend_from_slice(b"\",\"route\":");
        let _ = serde_json::to_writer(&mut line, &self.route);
        line.extend_from_slice(b",\"status\":");
        line.extend_from_slice(number.format(self.status).as_bytes());
        line.extend_from_slice(b",\"api_token\":");
        match self.api_token {
            Some(position) => line.extend_from_slice(number.format(position).as_bytes()),
            None => line.extend_from_slice(b"null"),
        }
        line.extend_from_slice(b",\"duration_us\":");
        line.extend_from_slice(number.format(self.duration_us).as_bytes());
        line.extend_from_slice(b",\"redis_round_trips\":");
        line.extend_from_slice(number.format(self.redis_round_trips).as_bytes());
        line.extend_from_slice(b"}\n");
        line
    }

    /// Writes the line to stdout in one call. A log that cannot be written does not fail the request.
    pub fn write(&self) {
        if cfg!(feature = "bench-skip-access-log") {
            return; // `benches/run parts`: the cost of the line
        }
        write_stdout(&self.line());
    }
}

/// Straight to WASI's stdout stream: through `std::io::stdout` the write would go through the
/// preview-1 adapter, which sets up its descriptor table on a request's first write (about a
/// tenth of the wasm instructions of a session read, measured with the test host's fuel count).
/// A line is far below the stream's 4096-byte limit on one write: the only variable-length part is
/// the request id, at most 128 bytes before escaping.
#[cfg(target_arch = "wasm32")]
fn write_stdout(bytes: &[u8]) {
    let _ = wasi::cli::stdout::get_stdout().blocking_write_and_flush(bytes);
}

#[cfg(not(target_arch = "wasm32"))]
fn write_stdout(bytes: &[u8]) {
    use std::io::Write as _;
    let _ = std::io::stdout().lock().write_all(bytes);
}

/// A method's name; a method outside HTTP's usual ones is `OTHER` (its name is client input).
fn method_name(method: &Method) -> &'static str {
    match method {
        Method::Get => "GET",
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Delete => "DELETE",
        Method::Patch => "PATCH",
        Method::Head => "HEAD",
        Method::Options => "OPTIONS",
        Method::Connect => "CONNECT",
        Method::Trace => "TRACE",
        Method::Other(_) => "OTHER",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_one_json_object() {
        let entry = Entry {
            time: "2026-11-26T01:30:00.123456Z",
            request_id: "a\"b\\c",
            method: &Method::Get,
            route: Some("/v1/sessions/{id}"),
            status: 200,
            api_token: Some(2),
            duration_us: 412,
            redis_round_trips: 1,
        };
        let line = String::from_utf8(entry.line()).expect("UTF-8");
        assert!(line.ends_with("}\n") && line.matches('\n').count() == 1, "{line}");
        let value: serde_json::Value = serde_json::from_str(&line).expect("JSON");
        assert_eq!(
            value,
            serde_json::json!({
                "time": "2026-11-26T01:30:00.123456Z",
                "request_id": "a\"b\\c",
                "method": "GET",
                "route": "/v1/sessions/{id}",
                "status": 200,
                "api_token": 2,
                "duration_us": 412,
                "redis_round_trips": 1,
            })
        );
        let unmatched = Entry { route: None, method: &Method::Other("X".into()), api_token: None, ..entry };
        let value: serde_json::Value = serde_json::from_slice(&unmatched.line()).expect("JSON");
        assert_eq!((&value["route"], &value["method"]), (&serde_json::Value::Null, &serde_json::json!("OTHER")));
        assert_eq!(value["api_token"], serde_json::Value::Null);
    }
}
