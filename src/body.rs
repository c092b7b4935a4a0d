//! The request body, read only when a handler needs it, and only up to a limit.
//!
//! The host hands the component a request whose body it has not read yet. Reading it before the
//! route, the token and the size are known would let any client make the service hold whatever it
//! sends (a 1.5 GB body once held 3.6 GB in `spin trigger` before its 401). So the body stays
//! unread until the request is routed and authorized; a declared `Content-Length` over the limit is
//! refused without reading a byte, and a body without one (chunked) is read only up to the limit.

use spin_sdk::http::IncomingRequest;
use wasi::io::streams::StreamError;

/// Bytes asked of the host per read.
const CHUNK: u64 = 64 * 1024;

/// A request's body, still with the host.
pub struct Body(IncomingRequest);

/// Why a body could not be had.
#[derive(Debug)]
pub enum BodyError {
    /// It is (or declares itself) larger than the limit.
    TooLarge,
    /// The client stopped sending, or the host failed to deliver it.
    Broken(String),
}

impl Body {
    pub fn new(request: IncomingRequest) -> Body {
        Body(request)
    }

    /// The whole body, when it is at most `limit` bytes. `declared` is the request's
    /// `Content-Length`, if it has one.
    pub fn read(self, declared: Option<u64>, limit: u64) -> Result<Vec<u8>, BodyError> {
        if declared.is_some_and(|length| length > limit) {
            return Err(BodyError::TooLarge);
        }
        let incoming = self.0.consume().map_err(|()| BodyError::Broken("the body was already taken".into()))?;
        let stream = incoming.stream().map_err(|()| BodyError::Broken("the body is not readable".into()))?;
        let mut body = Vec::with_capacity(usize::try_from(declared.unwrap_or(0)).unwrap_or(0));
        loop {
            // One byte more than the limit allows is enough to know the body is too large.
            let room = (limit + 1).saturating_sub(body.len() as u64).min(CHUNK);
            match stream.blocking_read(room) {
                Ok(chunk) => {
                    body.extend_from_slice(&chunk);
                    if body.len() as u64 > limit {
                        return Err(BodyError::TooLarge);
                    }
                }
                Err(StreamError::Closed) => return Ok(body),
                Err(StreamError::LastOperationFailed(e)) => return Err(BodyError::Broken(e.to_debug_string())),
            }
        }
    }
}
