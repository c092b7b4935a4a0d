//! Turning raw requests into typed values: JSON bodies and path ids. Validation happens here, once,
//! at the edge; handlers only ever see values that are well-formed.

use serde::de::{DeserializeOwned, Deserializer};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::config::{self, Config};
use crate::domain::{Name, NameProblem, SessionId};
use crate::error::{ApiError, FieldProblem, HeaderProblem, TooLarge};
use crate::http::Request;
use crate::json;
use crate::store::Precondition;

/// Whether the request declares a JSON body (`application/json`, or any `+json` type).
fn declares_json(req: &Request) -> bool {
    let Some(value) = req.header("content-type") else {
        return false;
    };
    let mime = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

/// Parses the body as a JSON object: 415 when it is not declared as JSON, 400 when it is not valid
/// JSON (duplicate keys included) or not an object. (The body is at most `max_body_bytes`: the
/// entry point read no more, `src/body.rs`.)
pub fn json_object(req: &Request) -> Result<Map<String, Value>, ApiError> {
    if !declares_json(req) {
        return Err(ApiError::UnsupportedMediaType);
    }
    match json::parse(req.body()) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::NotAnObject),
        Err(e) => Err(ApiError::InvalidJson(e.to_string())),
    }
}

/// Parses the body (as `json_object` does) into `T`, the endpoint's typed body: a serde struct
/// whose fields are `present` values, validated by the handler into domain values. Structs of the
/// `/v1` API deny unknown fields (400), the original endpoints' ignore them as Flask did.
pub fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
    let body = json_object(req)?;
    serde_json::from_value(Value::Object(body)).map_err(|e| {
        // With every field a `present` value, an unknown field is all that can fail here; serde
        // writes it as "unknown field `name`, expected ...".
        let message = e.to_string();
        match message.strip_prefix("unknown field `").and_then(|rest| rest.split_once('`')) {
            Some((field, _)) => ApiError::UnknownField(field.to_owned()),
            None => ApiError::BodyMismatch(message),
        }
    })
}

/// Deserializes a body field that may be absent (`None`, with `#[serde(default)]`) or present with
/// any value, `null` included (`Some(Value::Null)`): each endpoint decides what a value means.
pub fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// A whole number as JSON Schema's `integer` sees it: `60` and `60.0` alike; `None` for anything
/// else (fractions, negatives, strings).
pub fn whole_number(value: &Value) -> Option<u64> {
    value.as_u64().or_else(|| {
        let f = value.as_f64()?;
        (f.fract() == 0.0 && (0.0..=u64::MAX as f64).contains(&f)).then_some(f as u64)
    })
}

/// The value of a query parameter (percent-decoded), if present.
pub fn query_param(req: &Request, name: &str) -> Option<String> {
    form_urlencoded::parse(req.query().as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// Parses `If-Match`: absent, `*`, or a list of strong ETags. Weak ETags (`W/"..."`) never match a
/// strong comparison, so they are kept as impossible values.
pub fn if_match(req: &Request) -> Precondition {
    let Some(value) = req.header("if-match") else {
        return Precondition::None;
    };
    if value.trim() == "*" {
        return Precondition::Exists;
    }
    let tags = value
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| t.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or("!").to_owned())
        .map(|t| if t.contains(',') || t.is_empty() { "!".to_owned() } else { t })
        .collect();
    Precondition::OneOf(tags)
}

/// A `nom` or `prenom` field's text as a `Name`: 422 (400 on the original endpoints) naming the
/// field when it is not acceptable.
pub fn name(config: &Config, field: &'static str, text: String) -> Result<Name, ApiError> {
    Name::parse(config, text).map_err(|problem| ApiError::InvalidField {
        field,
        problem: match problem {
            NameProblem::ControlCharacters => FieldProblem::ControlCharacters,
            NameProblem::TooLong(limit) => FieldProblem::TooLong(limit),
        },
    })
}

/// Session `data` as it will be stored: 422 when it nests deeper than `max_session_data_depth`,
/// 413 when its JSON is over `max_session_data_bytes`.
pub fn session_data(config: &Config, data: &Value) -> Result<String, ApiError> {
    if let Err(limit) = config::MAX_SESSION_DATA_DEPTH.check(config, json::depth(data) as u64) {
        return Err(ApiError::InvalidField { field: "data", problem: FieldProblem::TooDeep(limit) });
    }
    let stored = data.to_string();
    if let Err(limit) = config::MAX_SESSION_DATA_BYTES.check(config, stored.len() as u64) {
        return Err(ApiError::PayloadTooLarge { what: TooLarge::SessionData, limit });
    }
    Ok(stored)
}

/// The session a path names (percent-decoded), if one can exist under that id.
pub fn session_id(config: &Config, raw: &str) -> Option<SessionId> {
    SessionId::parse(config, path_segment(raw)?)
}

/// The longest `Idempotency-Key` accepted, in bytes.
const MAX_IDEMPOTENCY_KEY_BYTES: usize = 255;

/// The `Idempotency-Key` header, if sent: 1 to 255 printable ASCII characters (space to `~`), taken
/// as it is (a quoted structured-field string keeps its quotes); 400 otherwise.
pub fn idempotency_key(req: &Request) -> Result<Option<&str>, ApiError> {
    let Some(value) = req.header_bytes("idempotency-key") else {
        return Ok(None);
    };
    let invalid = |problem| ApiError::InvalidHeader { name: "Idempotency-Key", problem };
    let key = std::str::from_utf8(value).map_err(|_| invalid(HeaderProblem::NotPrintableAscii))?;
    if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY_BYTES {
        return Err(invalid(HeaderProblem::Length(MAX_IDEMPOTENCY_KEY_BYTES)));
    }
    if !key.bytes().all(|b| (b' '..=b'~').contains(&b)) {
        return Err(invalid(HeaderProblem::NotPrintableAscii));
    }
    Ok(Some(key))
}

/// The path the app is mounted under (`""` for Spin's `/...` route), for `Location` headers.
/// Spin passes it as `spin-component-route`.
pub fn base_path(req: &Request) -> &str {
    req.header("spin-component-route").unwrap_or("").trim_end_matches('/')
}

/// Decodes a percent-encoded path segment; `None` when the result is not UTF-8.
pub fn path_segment(raw: &str) -> Option<String> {
    percent_encoding::percent_decode_str(raw).decode_utf8().ok().map(|s| s.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_are_integers_however_written() {
        use serde_json::json;
        assert_eq!(whole_number(&json!(60)), Some(60));
        assert_eq!(whole_number(&json!(3461.0)), Some(3461));
        for not in [json!(60.5), json!(-1), json!(-1.0), json!(1e300), json!("60"), json!(null)] {
            assert_eq!(whole_number(&not), None, "{not}");
        }
    }

    #[test]
    fn path_segments_are_percent_decoded() {
        assert_eq!(path_segment("abc123").as_deref(), Some("abc123"));
        assert_eq!(path_segment("a%20b").as_deref(), Some("a b"));
        assert_eq!(path_segment("a%2Fb").as_deref(), Some("a/b"));
        assert_eq!(path_segment("%FF"), None);
    }
}
