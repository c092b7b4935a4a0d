//! What kind of Redis error Spin reported, read from its text.
//!
//! Spin hands the component `error::other(text)`, where the text is the Rust redis crate's
//! rendering (`Display`) of its error: Spin 3.6.3 and 4.0.2 both build it with redis 0.32.5
//! (`crates/factor-outbound-redis/src/host.rs`, `other_error`). That rendering has four shapes,
//! and each names the error's kind at a fixed place, which is all this module reads:
//!
//! - a server error the crate knows: `An error was signalled by the server - <Kind>: <detail>`,
//!   `<Kind>` being the crate's `ErrorKind` name (`-LOADING` becomes `BusyLoadingError`,
//!   `-READONLY` becomes `ReadOnly`);
//! - an error of the crate's own: `<description>- <Kind>` (e.g. a failed `AUTH` at connect:
//!   `Password authentication failed- AuthenticationFailed`);
//! - a server error the crate does not know: Redis's own code, `<CODE>: <detail>` (`OOM`,
//!   `NOAUTH`, `BUSY`);
//! - an I/O error, rendered as Rust's `std::io::Error` renders itself: an OS error
//!   `<text> (os error <n>)`, a bare `io::ErrorKind` (`broken pipe`), or a failed name lookup
//!   (`failed to lookup address information: <reason>`).
//!
//! Words elsewhere in a message mean nothing: a script's error text, or a key name, can contain
//! anything.

/// The kinds of Redis failure the service tells apart. `From<StoreError> for ApiError` (in
/// `error.rs`) decides what each one answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedisErrorKind {
    /// Redis cannot be reached or the connection broke: refused, reset, closed, name not resolved.
    Unreachable,
    /// `LOADING`: Redis is loading its dataset after a restart.
    Loading,
    /// `READONLY`: a write sent to a replica (what clients see during a failover).
    ReadOnly,
    /// `MASTERDOWN`: a replica that lost its primary and does not serve stale data.
    MasterDown,
    /// `TRYAGAIN`: the server asks to retry (a cluster slot being migrated).
    TryAgain,
    /// `BUSY`: a script or function is running past its time limit and blocks the server.
    Busy,
    /// `OOM`: a write refused because Redis is at `maxmemory` and may not evict.
    OutOfMemory,
    /// The credentials were rejected: `NOAUTH`, `WRONGPASS`, or a failed `AUTH` at connect.
    Credentials,
    /// `NOSCRIPT`: the script cache does not hold the script (`EVALSHA`).
    NoScript,
    /// Anything else: a wrong command or stored data, or a message of Spin's own.
    Other,
}

impl RedisErrorKind {
    /// Reads the kind of an error from the text Spin reported.
    pub fn parse(message: &str) -> RedisErrorKind {
        if let Some(code) = raw_code(message) {
            return Self::from_code(code);
        }
        if let Some((kind, detail)) = crate_kind(message) {
            return Self::from_crate_kind(kind, detail);
        }
        if is_io_error(message) {
            return RedisErrorKind::Unreachable;
        }
        RedisErrorKind::Other
    }

    /// A Redis error code, as Redis sends it (`-OOM ...`).
    fn from_code(code: &str) -> RedisErrorKind {
        match code {
            "LOADING" => RedisErrorKind::Loading,
            "READONLY" => RedisErrorKind::ReadOnly,
            "MASTERDOWN" => RedisErrorKind::MasterDown,
            "TRYAGAIN" => RedisErrorKind::TryAgain,
            "BUSY" => RedisErrorKind::Busy,
            "OOM" => RedisErrorKind::OutOfMemory,
            "NOAUTH" | "WRONGPASS" => RedisErrorKind::Credentials,
            "NOSCRIPT" => RedisErrorKind::NoScript,
            _ => RedisErrorKind::Other,
        }
    }

    /// A redis crate `ErrorKind` name, with the detail that followed it.
    fn from_crate_kind(kind: &str, detail: &str) -> RedisErrorKind {
        match kind {
            "BusyLoadingError" => RedisErrorKind::Loading,
            "ReadOnly" => RedisErrorKind::ReadOnly,
            "MasterDown" => RedisErrorKind::MasterDown,
            "TryAgain" => RedisErrorKind::TryAgain,
            "NoScriptError" => RedisErrorKind::NoScript,
            "AuthenticationFailed" => RedisErrorKind::Credentials,
            // Not `IoError`: the crate gives that kind to TLS failures (`TLS error - IoError: ...
            // certificate verify failed`), a misconfiguration that retrying does not cure; a
            // broken connection comes as a bare I/O error instead (below).
            // Redis answers a client that has not authenticated and sends a command of more than
            // ten arguments (every script call here) with a plain `ERR`, no code of its own, and
            // closes the connection: its fixed opening is the only sign of a missing password.
            "ResponseError" if detail.starts_with("Protocol error: unauthenticated") => RedisErrorKind::Credentials,
            _ => RedisErrorKind::Other,
        }
    }
}

/// `CODE` of `CODE: detail` (or of a bare `CODE`): the code of a server error the redis crate
/// passes on as Redis sent it. Codes are upper-case ASCII letters.
fn raw_code(message: &str) -> Option<&str> {
    let code = message.split_once(": ").map_or(message, |(code, _)| code);
    (!code.is_empty() && code.bytes().all(|b| b.is_ascii_uppercase())).then_some(code)
}

/// `(Kind, detail)` of `<description> - <Kind>: <detail>` or `<description>- <Kind>`: the crate's
/// descriptions are fixed English phrases without `- `, so the kind follows the first one.
fn crate_kind(message: &str) -> Option<(&str, &str)> {
    let (_, rest) = message.split_once("- ")?;
    let (kind, detail) = rest.split_once(": ").unwrap_or((rest, ""));
    let is_name = kind.starts_with(|c: char| c.is_ascii_uppercase()) && kind.bytes().all(|b| b.is_ascii_alphanumeric());
    is_name.then_some((kind, detail))
}

/// Whether the message is an `std::io::Error` of the connection to Redis: an OS error (any: the
/// socket to Redis is the only thing that can fail there), one of the `io::ErrorKind`s a broken
/// connection shows as, or a failed name lookup.
fn is_io_error(message: &str) -> bool {
    const BROKEN_CONNECTION: &[&str] = &[
        "broken pipe",
        "connection reset",
        "connection refused",
        "connection aborted",
        "not connected",
        "unexpected end of file",
        "timed out",
        "host unreachable",
        "network unreachable",
    ];
    let os_error = message
        .strip_suffix(')')
        .and_then(|m| m.rsplit_once(" (os error "))
        .is_some_and(|(_, code)| !code.is_empty() && code.bytes().all(|b| b.is_ascii_digit()));
    os_error || BROKEN_CONNECTION.contains(&message) || message.starts_with("failed to lookup address information: ")
}

#[cfg(test)]
mod tests {
    use super::RedisErrorKind::{self, *};

    /// Texts seen from the component (its stderr log) under real Spin, by the Redis condition that
    /// produced them. Both versions build them with redis 0.32.5 and sent the same bytes for each
    /// condition, except where a line names one version.
    const SEEN: &[(&str, RedisErrorKind)] = &[
        // Spin 3.6.3 and 4.0.2, a server answering `-LOADING ...` (after a restart).
        ("An error was signalled by the server - BusyLoadingError: Redis is loading the dataset in memory", Loading),
        // Spin 3.6.3 and 4.0.2, a write (a script's first write) to a `--replicaof` replica.
        (
            "An error was signalled by the server - ReadOnly: You can't write against a read only replica. \
             script: 2cebfb90a21a20dff56f0d2cc0fbcb0939250517, on @user_script:14.",
            ReadOnly,
        ),
        // Spin 3.6.3 and 4.0.2, a server answering `-MASTERDOWN ...`.
        (
            "An error was signalled by the server - MasterDown: Link with MASTER is down and \
             replica-serve-stale-data is set to 'no'.",
            MasterDown,
        ),
        // Spin 3.6.3 and 4.0.2, a server answering `-TRYAGAIN ...`.
        ("An error was signalled by the server - TryAgain: Multiple keys request during rehashing of slot", TryAgain),
        // Spin 3.6.3 and 4.0.2, a server answering `-BUSY ...`.
        ("BUSY: Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSCRIPT.", Busy),
        // Spin 3.6.3 and 4.0.2, `maxmemory 1` with `noeviction`, a script's first write.
        (
            "OOM: command not allowed when used memory > 'maxmemory'. \
             script: 2cebfb90a21a20dff56f0d2cc0fbcb0939250517, on @user_script:14.",
            OutOfMemory,
        ),
        // Spin 3.6.3 and 4.0.2, `--requirepass` and no password: a command of up to ten arguments...
        ("NOAUTH: Authentication required.", Credentials),
        // ... and one of more (Redis then closes the connection).
        (
            "An error was signalled by the server - ResponseError: Protocol error: unauthenticated multibulk length",
            Credentials,
        ),
        // Spin 3.6.3 and 4.0.2, `--requirepass` and a wrong password (the redis crate's AUTH at connect).
        ("Password authentication failed- AuthenticationFailed", Credentials),
        // Spin 3.6.3 and 4.0.2, nothing listening on the port.
        ("Connection refused (os error 111)", Unreachable),
        // Spin 3.6.3 and 4.0.2, a server that resets each connection (SO_LINGER 0) on accept; also
        // Spin 4.0.2 for one that closes it.
        ("Connection reset by peer (os error 104)", Unreachable),
        // Spin 3.6.3 and 4.0.2, a server that closes each connection on accept.
        ("broken pipe", Unreachable),
        // Spin 3.6.3 and 4.0.2, a host name that does not resolve.
        ("failed to lookup address information: Name or service not known", Unreachable),
        // Spin 3.6.3 and 4.0.2, a `rediss://` Redis whose certificate is not trusted.
        (
            "TLS error - IoError: error:0A000086:SSL routines:tls_post_process_server_certificate:certificate \
             verify failed:../ssl/statem/statem_clnt.c:1889: (self-signed certificate)",
            Other,
        ),
        // Spin 3.6.3 and 4.0.2, EVALSHA (and EVAL) to a server answering `-NOSCRIPT ...`.
        ("An error was signalled by the server - NoScriptError: No matching script. Please use EVAL.", NoScript),
    ];

    #[test]
    fn every_text_seen_from_real_spin_is_read_as_its_kind() {
        for (text, kind) in SEEN {
            assert_eq!(RedisErrorKind::parse(text), *kind, "{text}");
        }
    }

    #[test]
    fn words_elsewhere_in_a_message_mean_nothing() {
        for text in [
            // A script's own error that mentions other kinds.
            "An error was signalled by the server - ResponseError: user_script:3: LOADING READONLY OOM connection",
            "ERR: connection closed by the READONLY script",
            // Spin's own messages.
            "could not find connection for resource",
            "query result exceeds limit of 134217728 bytes",
            "Could not convert Redis response - TypeError: Redis Map type is not supported",
            // An I/O-looking phrase inside a longer message.
            "the connection reset (os error 104) happened",
            "broken pipe and more",
        ] {
            assert_eq!(RedisErrorKind::parse(text), Other, "{text}");
        }
    }

    #[test]
    fn the_raw_codes_redis_sends_are_read_too() {
        for (text, kind) in [
            ("LOADING: Redis is loading the dataset in memory", Loading),
            ("READONLY: You can't write against a read only replica.", ReadOnly),
            ("MASTERDOWN: Link with MASTER is down", MasterDown),
            ("TRYAGAIN: Multiple keys request during rehashing of slot", TryAgain),
            ("WRONGPASS: invalid username-password pair or user is disabled.", Credentials),
            ("NOSCRIPT: No matching script. Please use EVAL.", NoScript),
            ("NOPERM: this user has no permissions to run the 'evalsha' command", Other),
        ] {
            assert_eq!(RedisErrorKind::parse(text), kind, "{text}");
        }
    }
}
