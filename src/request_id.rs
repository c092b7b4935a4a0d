//! `X-Request-Id`: the id that ties a response to its access-log line (and to the client's own
//! logs). A client that sends a well-formed id gets it back; any other request gets a fresh one.

use crate::http::Request;

/// The longest client id kept, in bytes.
pub const MAX_LEN: usize = 128;

/// A request id: 1 to `MAX_LEN` bytes of printable ASCII without spaces, so it is safe to echo in
/// a header and to write in a log line.
pub struct RequestId(String);

impl RequestId {
    /// The client's `X-Request-Id` if it is well-formed, else a fresh id.
    pub fn of(req: &Request) -> RequestId {
        if cfg!(feature = "bench-skip-request-id") {
            return RequestId(String::from("bench")); // `benches/run parts`: the cost of an id
        }
        match req.header("x-request-id") {
            Some(id) if well_formed(id) => RequestId(id.to_owned()),
            _ => RequestId::fresh(),
        }
    }

    /// 128 bits from the host's CSPRNG (`wasi:random`), as 32 lowercase hex digits.
    fn fresh() -> RequestId {
        RequestId(crate::hex::encode(&crate::random::bytes::<16>()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether a client's id may be kept: 1 to `MAX_LEN` bytes, each a visible ASCII character.
fn well_formed(id: &str) -> bool {
    (1..=MAX_LEN).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_are_kept_only_when_short_and_printable() {
        for id in ["a", "req-42", "0f8fad5b-d9cb-469f-a165-70867728950e", "a\"b\\c{}", &"x".repeat(MAX_LEN)] {
            assert!(well_formed(id), "{id:?}");
        }
        for id in ["", "a b", "a\tb", "a\nb", "é", "\u{7f}", &"x".repeat(MAX_LEN + 1)] {
            assert!(!well_formed(id), "{id:?}");
        }
    }

    #[test]
    fn fresh_ids_are_well_formed_and_differ() {
        let (a, b) = (RequestId::fresh(), RequestId::fresh());
        assert_eq!(a.as_str().len(), 32);
        assert!(well_formed(a.as_str()) && a.as_str() != b.as_str());
    }
}
