//! The Flask/Python emulation of the original endpoints: bodies encoded byte for byte as Flask's
//! `jsonify` wrote them (keys sorted, compact separators, `ensure_ascii`, Python's float `repr`, a
//! trailing newline), so that even clients that compare bytes see no change.

use serde::Serialize;
use serde_json::ser::Formatter as _;

use crate::hex;
use crate::http::Response;

/// An original endpoint's response, encoded as Flask's `jsonify` encoded it (`flask_json`).
pub fn response(status: u16, body: &impl Serialize) -> Response {
    Response::with_body(status, "application/json", flask_json(body))
}

/// Encodes JSON byte-for-byte as Flask's `jsonify` does outside debug mode: `sort_keys=True`,
/// compact separators, `ensure_ascii=True`, and a trailing newline.
///
/// Keys must come sorted: serde_json's `Map` is a BTreeMap (the `preserve_order` feature is off), so
/// a `Value` writes them sorted by code point, as Python's `sort_keys` does; a struct writes its
/// fields in declaration order, so structs sent here declare them sorted.
pub fn flask_json(value: &impl Serialize) -> Vec<u8> {
    if cfg!(feature = "bench-skip-json-encoding") {
        return b"{}\n".to_vec(); // `benches/run parts`: the cost of encoding
    }
    let mut out = Vec::new();
    push_flask_json(&mut out, value);
    out.push(b'\n');
    out
}

/// `flask_json` without the trailing newline, appended to `out`.
fn push_flask_json(out: &mut Vec<u8>, value: &impl Serialize) {
    let mut ser = serde_json::Serializer::with_formatter(out, FlaskFormatter);
    value.serialize(&mut ser).expect("serializing to memory cannot fail");
}

/// One user of `flask_user_list`.
pub enum FlaskUser<'a> {
    /// `{"id", "nom", "prenom"}` with the types the service writes: written directly.
    Named { id: u64, nom: &'a str, prenom: &'a str },
    /// Any other JSON value (a record another program wrote): written by the generic encoder.
    Other(&'a serde_json::Value),
}

/// What `flask_json` writes for a list of users (`/list_users`). The common `Named` users are
/// written directly instead of through serde: a listing holds every user, and this way costs a
/// fraction of the generic path per user.
pub fn flask_user_list<'a>(users: impl IntoIterator<Item = FlaskUser<'a>>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut ids = itoa::Buffer::new();
    out.push(b'[');
    for (i, user) in users.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match user {
            FlaskUser::Named { id, nom, prenom } => {
                out.extend_from_slice(b"{\"id\":");
                out.extend_from_slice(ids.format(id).as_bytes());
                out.extend_from_slice(b",\"nom\":");
                push_python_string(&mut out, nom);
                out.extend_from_slice(b",\"prenom\":");
                push_python_string(&mut out, prenom);
                out.push(b'}');
            }
            FlaskUser::Other(value) => push_flask_json(&mut out, value),
        }
    }
    out.extend_from_slice(b"]\n");
    out
}

/// `s` as a JSON string the way Python's `json.dumps` writes it with `ensure_ascii`: printable ASCII
/// as it is, `"` and `\\` and the usual control characters with a backslash, everything else as
/// `\uXXXX` (astral characters as surrogate pairs).
fn push_python_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    push_python_escaped(out, s);
    out.push(b'"');
}

/// The inside of `push_python_string`'s string.
fn push_python_escaped(out: &mut Vec<u8>, s: &str) {
    let mut rest = s;
    while !rest.is_empty() {
        let plain = rest.bytes().position(|b| !(b' '..=b'~').contains(&b) || b == b'"' || b == b'\\');
        let plain = plain.unwrap_or(rest.len());
        out.extend_from_slice(&rest.as_bytes()[..plain]);
        rest = &rest[plain..];
        let Some(c) = rest.chars().next() else { break };
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            '\u{8}' => out.extend_from_slice(b"\\b"),
            '\u{c}' => out.extend_from_slice(b"\\f"),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.extend_from_slice(&escaped_unit(*unit));
                }
            }
        }
        rest = &rest[c.len_utf8()..];
    }
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
        // serde_json has already escaped what JSON requires (quotes, backslashes, control
        // characters); what is left to escape is what Python's `ensure_ascii` adds. Most fragments
        // have none of it and are written as they are, without a copy.
        if fragment.bytes().all(|b| (b' '..=b'~').contains(&b)) {
            return writer.write_all(fragment.as_bytes());
        }
        let mut escaped = Vec::with_capacity(fragment.len());
        push_python_escaped(&mut escaped, fragment);
        writer.write_all(&escaped)
    }
}

/// `\uXXXX` for a UTF-16 code unit, in lowercase hex as Python writes it (without the formatting
/// machinery: names in a listing may have thousands of these).
fn escaped_unit(unit: u16) -> [u8; 6] {
    let nibble = |shift: u16| hex::DIGITS[usize::from(unit >> shift & 0xf)];
    [b'\\', b'u', nibble(12), nibble(8), nibble(4), nibble(0)]
}

/// Python's `repr(float)`: the shortest digits that round-trip, in fixed notation with at least
/// one decimal when the exponent is in -4..16, else as `d.ddde+XX` with a signed, two-digit-minimum
/// exponent.
///
/// The shortest digits come from serde_json's own float formatter (already in the `.wasm`, unlike
/// `core`'s, which `{:e}` would pull in), in whatever notation it writes them.
fn python_float_repr(value: f64) -> String {
    let mut shortest = Vec::new();
    serde_json::ser::CompactFormatter.write_f64(&mut shortest, value).expect("writing to memory cannot fail");
    let shortest = String::from_utf8(shortest).expect("serde_json writes ASCII");
    let (sign, unsigned) = match shortest.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", shortest.as_str()),
    };
    let (mantissa, exponent) = unsigned.split_once(['e', 'E']).unwrap_or((unsigned, "0"));
    let exponent: i32 = exponent.parse().expect("serde_json writes an integer exponent");
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    // The significant digits, and the exponent of the first one (`d.ddd × 10^exponent`).
    let all = format!("{int}{frac}");
    let digits = all.trim_start_matches('0');
    let exponent = exponent + int.len() as i32 - 1 - (all.len() - digits.len()) as i32;
    let digits = digits.trim_end_matches('0');
    if digits.is_empty() {
        return format!("{sign}0.0");
    }
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
        let mantissa = match digits.split_at(1) {
            (first, "") => first.to_owned(),
            (first, rest) => format!("{first}.{rest}"),
        };
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        format!("{sign}{mantissa}e{exponent_sign}{:02}", exponent.abs())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

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
    fn the_user_list_is_what_the_generic_encoder_writes() {
        let names =
            ["", "Jean", "Élodie", "a\"b\\c", "\n\r\t\u{8}\u{c}\u{1}\u{1f}\u{7f}", "😀 /<>&'", "\u{80}\u{ffff}"];
        let users: Vec<(u64, &str, &str)> =
            names.iter().enumerate().map(|(i, n)| (i as u64 * 1_000_003, *n, names[(i + 3) % names.len()])).collect();
        let mut generic: Vec<_> =
            users.iter().map(|(id, nom, prenom)| json!({ "id": id, "nom": nom, "prenom": prenom })).collect();
        // Users of other types in between, as another program may have stored them.
        let others = [json!({ "id": 777, "nom": 42, "prenom": null }), json!({ "nom": { "b": [1.5], "a": "é" } })];
        generic.insert(2, others[0].clone());
        generic.push(others[1].clone());
        let mut listed: Vec<FlaskUser> =
            users.iter().map(|&(id, nom, prenom)| FlaskUser::Named { id, nom, prenom }).collect();
        listed.insert(2, FlaskUser::Other(&others[0]));
        listed.push(FlaskUser::Other(&others[1]));
        assert_eq!(String::from_utf8(flask_user_list(listed)), String::from_utf8(flask_json(&generic)));
        assert_eq!(flask_user_list([]), b"[]\n");
        assert_eq!(
            flask_user_list([FlaskUser::Named { id: u64::MAX, nom: "N", prenom: "P" }]),
            b"[{\"id\":18446744073709551615,\"nom\":\"N\",\"prenom\":\"P\"}]\n"
        );
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
            (0.0, "0.0"),
            (0.001, "0.001"),
            (123.456, "123.456"),
            (-1e-300, "-1e-300"),
            (2.5e-5, "2.5e-05"),
        ];
        for (value, python) in cases {
            assert_eq!(flask_json(&json!([value])), format!("[{python}]\n").into_bytes(), "{value:e}");
        }
    }
}
