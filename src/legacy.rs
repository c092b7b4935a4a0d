//! The original Flask service's six endpoints, kept exactly as their users know them: same paths,
//! methods, status codes, French messages and JSON bodies. They are a thin adapter over the same
//! data layer as the rest of the API.
//!
//! Bodies are encoded the way Flask's `jsonify` does (keys sorted, compact, non-ASCII escaped as
//! `\uXXXX`, a trailing newline), so even clients that compare bytes see no change.

use serde_json::{json, Value};
use spin_sdk::http::{Request, Response};

use crate::config::Config;

use crate::error::ApiError;
use crate::request;
use crate::store::{Precondition, WriteOutcome};
use crate::{clock, store};

/// How long a session created through `/create_session` lives, as in the original.
const SESSION_TTL_SECONDS: u64 = 3600;
/// Users fetched per Redis round trip by `/list_users`.
const LIST_BATCH: u32 = 1000;

const USER_NOT_FOUND: &str = "Utilisateur non trouvé";
const USER_FIELDS_REQUIRED: &str = "Les champs 'nom' et 'prenom' sont obligatoires";
const SESSION_ID_MISSING: &str = "session_id manquant";
const SESSION_ID_INVALID: &str = "session_id invalide : trop long ou avec des caractères de contrôle";
const SESSION_NOT_FOUND: &str = "Session introuvable ou expirée";

/// `POST /create_user` `{"nom", "prenom"}` → `201 {"message", "user_id"}`.
pub fn create_user(req: &Request, _: &str, config: &Config) -> Result<Response, ApiError> {
    let body = request::json_object(req, config)?;
    let (Some(nom), Some(prenom)) = (non_empty_str(&body, "nom"), non_empty_str(&body, "prenom")) else {
        return Err(ApiError::BadRequest(USER_FIELDS_REQUIRED.into()));
    };
    for (field, value) in [("nom", nom), ("prenom", prenom)] {
        if let Some(reason) = request::name_problem(config, value)? {
            return Err(ApiError::InvalidField { field, reason });
        }
    }
    let created = store::open(config)?.create_user(nom, prenom, &clock::now())?;
    Ok(flask_response(201, &json!({ "message": "Utilisateur créé", "user_id": created.user.id })))
}

/// `GET /get_user/<id>` → `200 {"id", "nom", "prenom"}`.
pub fn get_user(_: &Request, param: &str, config: &Config) -> Result<Response, ApiError> {
    let id = user_id_param(param)?;
    let user = store::open(config)?.get_user(id)?.ok_or_else(|| ApiError::NotFound(USER_NOT_FOUND.into()))?;
    Ok(flask_response(200, &original_user(&user.user)))
}

/// `DELETE /delete_user/<id>` → `200 {"message"}`.
pub fn delete_user(_: &Request, param: &str, config: &Config) -> Result<Response, ApiError> {
    let id = user_id_param(param)?;
    match store::open(config)?.delete_user(id, &Precondition::None)? {
        WriteOutcome::Done(()) => {}
        WriteOutcome::Missing | WriteOutcome::PreconditionFailed => {
            return Err(ApiError::NotFound(USER_NOT_FOUND.into()))
        }
    }
    Ok(flask_response(200, &json!({ "message": "Utilisateur supprimé" })))
}

/// `GET /list_users` → `200 [{"id", "nom", "prenom"}, ...]` in ascending id order.
pub fn list_users(_: &Request, _: &str, config: &Config) -> Result<Response, ApiError> {
    let store = store::open(config)?;
    let mut users = Vec::new();
    let mut after = 0;
    loop {
        let page = store.list_users(after, LIST_BATCH)?;
        users.extend(page.users.iter().map(|stored| original_user(&stored.user)));
        match page.next_after {
            Some(next) => after = next,
            None => break,
        }
    }
    Ok(flask_response(200, &Value::Array(users)))
}

/// `POST /create_session` `{"session_id", "data"?}` → `201 {"message"}`; the session lives an hour.
pub fn create_session(req: &Request, _: &str, config: &Config) -> Result<Response, ApiError> {
    let body = request::json_object(req, config)?;
    // The original formatted the id into the key, so integers were accepted too.
    let session_id = match body.get("session_id") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => n.to_string(),
        _ => return Err(ApiError::BadRequest(SESSION_ID_MISSING.into())),
    };
    if !request::session_id_acceptable(config, &session_id)? {
        return Err(ApiError::BadRequest(SESSION_ID_INVALID.into()));
    }
    let data = request::session_data(config, &body.get("data").cloned().unwrap_or_else(|| json!({})))?;
    store::open(config)?.put_session_data(&session_id, &data, SESSION_TTL_SECONDS)?;
    Ok(flask_response(201, &json!({ "message": "Session enregistrée" })))
}

/// `GET /get_session/<session_id>` → `200` and the stored `data`.
pub fn get_session(_: &Request, param: &str, config: &Config) -> Result<Response, ApiError> {
    let not_found = || ApiError::NotFound(SESSION_NOT_FOUND.into());
    let session_id = request::path_segment(param).ok_or_else(not_found)?;
    if !request::session_id_acceptable(config, &session_id)? {
        return Err(not_found());
    }
    let stored = store::open(config)?.get_session_data(&session_id)?.ok_or_else(not_found)?;
    let data: Value = serde_json::from_slice(&stored)
        .map_err(|e| ApiError::Internal(format!("stored session data is not JSON: {e}")))?;
    Ok(flask_response(200, &data))
}

fn non_empty_str<'a>(body: &'a serde_json::Map<String, Value>, field: &str) -> Option<&'a str> {
    body.get(field).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// The original routes only matched integer ids, so anything else is "not found".
fn user_id_param(param: &str) -> Result<u64, ApiError> {
    request::user_id(param).ok_or_else(|| ApiError::NotFound(USER_NOT_FOUND.into()))
}

/// A user as the original service showed it: exactly `id`, `nom` and `prenom`.
fn original_user(user: &store::User) -> Value {
    json!({ "id": user.id, "nom": user.nom, "prenom": user.prenom })
}

fn flask_response(status: u16, body: &Value) -> Response {
    Response::builder().status(status).header("content-type", "application/json").body(flask_json(body)).build()
}

/// Encodes JSON byte-for-byte as Flask's `jsonify` does outside debug mode: `sort_keys=True`,
/// compact separators, `ensure_ascii=True`, and a trailing newline.
pub fn flask_json(value: &Value) -> Vec<u8> {
    // serde_json's `Map` is a BTreeMap (the `preserve_order` feature is off), so keys come out
    // sorted by code point, as Python's `sort_keys` sorts them.
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, FlaskFormatter);
    serde::Serialize::serialize(value, &mut ser).expect("serializing a JSON value cannot fail");
    out.push(b'\n');
    out
}

/// serde_json's compact formatter, but escaping everything outside printable ASCII as Python's
/// `ensure_ascii` does (including DEL, and astral characters as surrogate pairs), and writing
/// floats as Python's `repr` does.
struct FlaskFormatter;

impl serde_json::ser::Formatter for FlaskFormatter {
    fn write_f64<W: ?Sized + std::io::Write>(&mut self, writer: &mut W, value: f64) -> std::io::Result<()> {
        writer.write_all(python_float_repr(value).as_bytes())
    }

    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        for c in fragment.chars() {
            if (' '..='~').contains(&c) {
                writer.write_all(&[c as u8])?;
            } else {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    write!(writer, "\\u{unit:04x}")?;
                }
            }
        }
        Ok(())
    }
}

/// Python's `repr(float)`: the shortest digits that round-trip (Rust's `{:e}` finds the same ones),
/// in fixed notation with at least one decimal when the exponent is in -4..16, else as
/// `d.ddde+XX` with a signed, two-digit-minimum exponent.
fn python_float_repr(value: f64) -> String {
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific.split_once('e').expect("`{:e}` writes an exponent");
    let exponent: i32 = exponent.parse().expect("`{:e}` writes an integer exponent");
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa),
    };
    let digits = mantissa.replace('.', "");
    if (-4..16).contains(&exponent) {
        if exponent < 0 {
            return format!("{sign}0.{}{digits}", "0".repeat((-exponent - 1) as usize));
        }
        let int_len = exponent as usize + 1;
        if digits.len() <= int_len {
            format!("{sign}{digits}{}.0", "0".repeat(int_len - digits.len()))
        } else {
            format!("{sign}{}.{}", &digits[..int_len], &digits[int_len..])
        }
    } else {
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        format!("{sign}{mantissa}e{exponent_sign}{:02}", exponent.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flask_json_matches_jsonify_bytes() {
        // Expected bytes produced by Flask 3's jsonify for the same values.
        let body = json!({ "user_id": 1, "message": "Utilisateur créé" });
        assert_eq!(flask_json(&body), b"{\"message\":\"Utilisateur cr\\u00e9\\u00e9\",\"user_id\":1}\n");
        let body = json!({ "s": "a\"b\\c\n\u{1}\u{7f}😀/" });
        assert_eq!(flask_json(&body), b"{\"s\":\"a\\\"b\\\\c\\n\\u0001\\u007f\\ud83d\\ude00/\"}\n");
        assert_eq!(flask_json(&json!([])), b"[]\n");
    }

    #[test]
    fn floats_are_written_as_python_writes_them() {
        // Expected strings printed by CPython 3.11's json.dumps for the same doubles.
        let cases = [
            (0.1, "0.1"),
            (1.0, "1.0"),
            (-0.0, "-0.0"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (123456789.125, "123456789.125"),
            (1e-4, "0.0001"),
            (1e-5, "1e-05"),
            (1.2345e-7, "1.2345e-07"),
            (1.2222222222222223e33, "1.2222222222222223e+33"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (-2.5, "-2.5"),
            (100.0, "100.0"),
            (9007199254740992.0, "9007199254740992.0"),
        ];
        for (value, python) in cases {
            assert_eq!(flask_json(&json!([value])), format!("[{python}]\n").into_bytes(), "{value:e}");
        }
    }
}
