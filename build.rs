//! Serves `src/openapi.json` minified: the document is kept indented in the repository for people to
//! read, while the `.wasm` carries (and `GET /openapi.json` sends) half the bytes.

use std::{env, fs, path::Path};

fn main() {
    println!("cargo:rerun-if-changed=src/openapi.json");
    let pretty = fs::read_to_string("src/openapi.json").expect("src/openapi.json");
    let out = Path::new(&env::var("OUT_DIR").unwrap()).join("openapi.min.json");
    fs::write(out, minify(&pretty)).expect("write the minified OpenAPI document");
}

/// Drops the white space between JSON tokens (none inside strings).
fn minify(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in json.chars() {
        if in_string {
            out.push(c);
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
        } else if !c.is_whitespace() {
            in_string = c == '"';
            out.push(c);
        }
    }
    out
}
