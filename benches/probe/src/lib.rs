//! The floor probe: what one request of the service costs when a component does nothing but its
//! I/O. `benches/run` compares each service endpoint with this probe doing that endpoint's I/O.
//!
//! - `/now` (any method): answers `404` at once, before reading anything: the floor of the
//!   service's `404` and `405` answers.
//! - `/redis` (any method): one `variables::get`, one `Connection::open`, then the Redis commands
//!   named in the `probe-command` header (today always one), then a small fixed `200`.
//!
//! The probe knows nothing of the service: `benches/run` watches which commands the service sends
//! for an endpoint (`MONITOR`) and hands the probe the same commands, arguments and all, so that
//! Redis does identical work for both and their ratio isolates the service component's own cost.
//!
//! `probe-command` holds one or more commands separated by `;`, each a space-separated list of
//! arguments, the first being the command name, each written as `:` and its percent-encoding:
//! `:GET :user%3A1`. The `:` keeps empty arguments (`:`), which scripts may be passed, from being
//! lost as trailing whitespace of a header.

use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::redis::{Connection, RedisParameter};

/// The service's own way of handing over a response (body written before `set`), so that both
/// pay the same for it and neither meets the keep-alive stall that the SDK's way can cause.
#[path = "../../../src/reply.rs"]
mod reply;

/// The service's request and response types, which `reply` hands over.
#[path = "../../../src/http.rs"]
#[allow(dead_code)]
mod http;

use http::{Request, Response};

#[spin_sdk::http_component]
async fn entry(req: IncomingRequest, out: ResponseOutparam) {
    reply::serve(req, out, handle).await;
}

/// The request's body is never read.
fn handle(req: Request, _: IncomingRequest) -> Response {
    match req.header("spin-path-info").unwrap_or_default() {
        "/redis" => run_commands(&req),
        _ => fixed(404, "{\"error\":\"not found\"}"),
    }
}

fn run_commands(req: &Request) -> Response {
    let Some(commands) = req.header("probe-command") else {
        return fixed(400, "{\"error\":\"no probe-command header\"}");
    };
    let address = match spin_sdk::variables::get("redis_address") {
        Ok(address) => address,
        Err(e) => return fixed(500, &format!("variable: {e}")),
    };
    let conn = match Connection::open(&address) {
        Ok(conn) => conn,
        Err(e) => return fixed(503, &format!("open: {e}")),
    };
    for command in commands.split(';').filter(|c| !c.is_empty()) {
        let mut words = command.split(' ').filter_map(|w| w.strip_prefix(':')).map(percent_decode);
        let Some(name) = words.next() else { continue };
        let Ok(name) = String::from_utf8(name) else {
            return fixed(400, "command name is not UTF-8");
        };
        let args: Vec<RedisParameter> = words.map(RedisParameter::Binary).collect();
        if let Err(e) = conn.execute(&name, &args) {
            return fixed(500, &format!("{name}: {e}"));
        }
    }
    fixed(200, "{\"ok\":true}")
}

fn fixed(status: u16, body: &str) -> Response {
    Response::with_body(status, "application/json", body)
}

/// Decodes `%XX` escapes; everything else is taken as it is.
fn percent_decode(word: &str) -> Vec<u8> {
    let bytes = word.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push(hi << 4 | lo);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}
