//! Hands a finished response to the host, its body already written.
//!
//! spin-sdk's own path (`ResponseOutparam::set_with_body`) gives the host the status and headers
//! first and writes the body afterwards. The host's HTTP server may then send the headers in one
//! TCP segment and the body in a second; with Nagle's algorithm on (Spin does not set
//! `TCP_NODELAY`) the second waits for the client's ACK, which a keep-alive client delays by up to
//! 40 ms. Under Spin 4.0.2 that stall hit whole classes of requests (`wrk -c1` on `/openapi.json`:
//! 44 ms each instead of 0.3 ms). Here the body goes into the host's buffer before the host sees
//! the response, so the server has everything to send at once.

use spin_sdk::http::{Headers, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam};

use crate::http::{Request, Response};

/// Answers a request with `handle` and sends the answer through `out`: the entry point of a
/// component that answers this way. `handle` gets the request's method, path and headers (a
/// `Request` with an empty body), and the request itself with its body unread: reading the body is
/// the handler's choice, once it knows it wants it (`src/body.rs`).
pub async fn serve(
    req: IncomingRequest,
    out: ResponseOutparam,
    handle: impl FnOnce(Request, IncomingRequest) -> Response,
) {
    let head = Request::head_of(&req);
    send(out, handle(head, req));
}

/// Sends `response` through `out`. Failures can only be logged: the client is gone or the host
/// refused the response, and there is no one left to answer.
fn send(out: ResponseOutparam, mut response: Response) {
    let mut body = response.take_body();
    let outgoing = outgoing(&response).unwrap_or_else(|e| {
        eprintln!("reply: the response cannot be sent as built: {e}");
        body.clear();
        let fallback = OutgoingResponse::new(Headers::new());
        let _ = fallback.set_status_code(500);
        fallback
    });
    let Ok(outgoing_body) = outgoing.body() else {
        eprintln!("reply: the response body was already taken");
        return;
    };
    let Ok(stream) = outgoing_body.write() else {
        eprintln!("reply: the response body is not writable");
        return;
    };
    // The host buffers one chunk (1 MiB in wasmtime's default) before anyone reads it, and says how
    // much through `check_write`. A body that fits is written whole before `set`; a larger one is
    // written after `set`, as the host drains it, because before `set` no one ever would.
    let buffered = match stream.check_write() {
        Ok(room) if room >= body.len() as u64 => body.is_empty() || stream.write(&body).is_ok(),
        _ => false,
    };
    if buffered {
        drop(stream);
        finish(outgoing_body);
        out.set(outgoing);
        return;
    }
    out.set(outgoing);
    let mut rest = &body[..];
    while !rest.is_empty() {
        match stream.check_write() {
            Ok(0) => stream.subscribe().block(),
            Ok(room) => {
                let n = rest.len().min(usize::try_from(room).unwrap_or(usize::MAX));
                if let Err(e) = stream.write(&rest[..n]) {
                    eprintln!("reply: writing the body failed: {e:?}");
                    return;
                }
                rest = &rest[n..];
            }
            Err(e) => {
                eprintln!("reply: writing the body failed: {e:?}");
                return;
            }
        }
    }
    if let Err(e) = stream.blocking_flush() {
        eprintln!("reply: flushing the body failed: {e:?}");
        return;
    }
    drop(stream);
    finish(outgoing_body);
}

/// The host's response for `response`'s status and headers (one call for all the headers).
fn outgoing(response: &Response) -> Result<OutgoingResponse, String> {
    let headers: Vec<(String, Vec<u8>)> =
        response.headers().iter().map(|(name, value)| ((*name).to_owned(), value.clone().into_bytes())).collect();
    let fields = Headers::from_list(&headers).map_err(|e| format!("{e:?}"))?;
    let outgoing = OutgoingResponse::new(fields);
    outgoing.set_status_code(response.status()).map_err(|()| format!("status {}", response.status()))?;
    Ok(outgoing)
}

fn finish(body: OutgoingBody) {
    if let Err(e) = OutgoingBody::finish(body, None) {
        eprintln!("reply: finishing the body failed: {e:?}");
    }
}
