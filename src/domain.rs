//! The service's values, each of which can only hold what is valid: a handler that holds a
//! `UserId`, a `Name`, a `SessionId`, a `PublicId` or a `Ttl` holds a valid one, and the store takes
//! them as they are. Parsing from client input happens once, at the edge (`request.rs` and the
//! handlers), through the constructors here.
//!
//! This module sits below the store and the HTTP layer: it knows the configuration (limits) and
//! nothing else of the service.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::config::{self, Config};

/// A user's id: a positive integer, written in decimal without sign, padding or leading zeros.
/// Ids up to `i64::MAX` name users (the Flask service could write any); the service hands out ids
/// only up to `store::MAX_USER_ID`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct UserId(u64);

impl UserId {
    /// The id `text` writes, if it writes one the canonical way; anything else names no user.
    pub fn parse(text: &str) -> Option<UserId> {
        let canonical = text.bytes().all(|b| b.is_ascii_digit()) && !text.starts_with('0');
        if !canonical {
            return None;
        }
        text.parse::<u64>().ok().and_then(UserId::new)
    }

    /// The id with this value, if it can be one (1 to `i64::MAX`).
    pub fn new(value: u64) -> Option<UserId> {
        (1..=i64::MAX as u64).contains(&value).then_some(UserId(value))
    }

    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for UserId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(self.0)
    }
}

/// A `nom` or `prenom` as the service stores it: no control characters, at most `max_name_chars`
/// characters. (Whether a value is a string at all, and whether it may be blank, is each API's own
/// rule.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Name(String);

/// Why a text is not a `Name`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameProblem {
    ControlCharacters,
    /// Longer than this many characters (the limit in force).
    TooLong(u64),
}

impl Name {
    pub fn parse(config: &Config, name: String) -> Result<Name, NameProblem> {
        if name.chars().any(char::is_control) {
            return Err(NameProblem::ControlCharacters);
        }
        match config::MAX_NAME_CHARS.check(config, name.chars().count() as u64) {
            Ok(()) => Ok(Name(name)),
            Err(limit) => Err(NameProblem::TooLong(limit)),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How long a session lives: a whole number of seconds, at least one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ttl {
    seconds: u64,
}

impl Ttl {
    /// A life of `seconds`, if it is at least one second.
    pub const fn from_seconds(seconds: u64) -> Option<Ttl> {
        if seconds >= 1 {
            Some(Ttl { seconds })
        } else {
            None
        }
    }

    pub fn seconds(self) -> u64 {
        self.seconds
    }

    /// In milliseconds, as Redis's `PX` takes it.
    pub fn millis(self) -> u64 {
        self.seconds.saturating_mul(1000)
    }
}

/// A session's id as a client names it in a path: a `/v1` session token, or an id a client of
/// `/create_session` chose. 1 to `max_session_id_bytes` bytes of text without control characters;
/// nothing else can name a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionId(String);

impl SessionId {
    pub fn parse(config: &Config, id: String) -> Option<SessionId> {
        if id.is_empty() || id.chars().any(char::is_control) {
            return None;
        }
        config::MAX_SESSION_ID_BYTES.check(config, id.len() as u64).ok().map(|()| SessionId(id))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new `/v1` session's token: 192 bits from the host's CSPRNG (WASI `random_get`), 32 URL-safe
/// characters. Shown once, in the `201`; the store keeps only its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionToken(String);

/// Random bytes in a session token.
const SESSION_TOKEN_BYTES: usize = 24;

impl SessionToken {
    pub fn generate() -> SessionToken {
        SessionToken(crate::base64url::encode(&crate::random::bytes::<SESSION_TOKEN_BYTES>()))
    }

    /// A token as a client sends it, if it can be one this service made: any other text names no
    /// session, without asking Redis.
    pub fn parse(text: &str) -> Option<SessionToken> {
        let valid = text.len() == SESSION_TOKEN_BYTES / 3 * 4
            && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        valid.then(|| SessionToken(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A session's public id: the hex SHA-1 of its token's digest (40 lowercase hex digits), which
/// names it in its user's listing without being usable as its token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct PublicId(String);

impl PublicId {
    /// A public id as a client sends it, if it can be one.
    pub fn parse(text: &str) -> Option<PublicId> {
        let valid = text.len() == 40 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        valid.then(|| PublicId(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_are_canonical_positive_integers() {
        assert_eq!(UserId::parse("1").map(UserId::get), Some(1));
        assert_eq!(UserId::parse("42").map(UserId::get), Some(42));
        assert_eq!(UserId::parse("9223372036854775807").map(UserId::get), Some(i64::MAX as u64));
        for bad in ["", "0", "007", "-1", "+1", "1.0", "abc", " 1", "1 ", "9223372036854775808", "99999999999999999999"]
        {
            assert_eq!(UserId::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn names_have_no_control_characters_and_a_length_limit() {
        let config = Config::default();
        assert_eq!(Name::parse(&config, "Élodie".into()).unwrap().as_str(), "Élodie");
        assert_eq!(Name::parse(&config, "a\tb".into()), Err(NameProblem::ControlCharacters));
        assert_eq!(Name::parse(&config, "x".repeat(201)), Err(NameProblem::TooLong(200)));
        assert!(Name::parse(&config, "é".repeat(200)).is_ok());
    }

    #[test]
    fn session_ids_and_public_ids_hold_only_what_can_exist() {
        let config = Config::default();
        assert!(SessionId::parse(&config, "abc123".into()).is_some());
        for bad in ["", "a\nb", "\u{0}", &"y".repeat(129)] {
            assert_eq!(SessionId::parse(&config, bad.into()), None, "{bad:?}");
        }
        assert!(PublicId::parse(&"a1".repeat(20)).is_some());
        for bad in ["", "A1".repeat(20).as_str(), &"a".repeat(39), &"g".repeat(40)] {
            assert_eq!(PublicId::parse(bad), None, "{bad:?}");
        }
        let token = SessionToken::generate();
        assert_eq!(token.as_str().len(), 32);
        assert_ne!(token, SessionToken::generate());
        assert_eq!(SessionToken::parse(token.as_str()), Some(token));
        for bad in
            ["", &"a".repeat(31), &"a".repeat(33), &format!("{}=", "a".repeat(31)), &format!("{}/", "a".repeat(31))]
        {
            assert_eq!(SessionToken::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn ttls_are_whole_seconds_from_one() {
        assert_eq!(Ttl::from_seconds(0), None);
        assert_eq!(Ttl::from_seconds(60).map(|t| (t.seconds(), t.millis())), Some((60, 60_000)));
    }
}
