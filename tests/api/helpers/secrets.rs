//! Looking for a secret (a session token) in bytes that left the service: Redis commands, exported
//! telemetry. A token may travel in more than one spelling, so each is looked for.

use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use base64::Engine;

/// The byte sequences that would give `token` away: the token itself, every byte
/// percent-encoded (upper and lower hex), the bytes its base64url text stands for, and the token's
/// text in standard and URL-safe base64 at each of the three alignments it could take inside a
/// longer encoded text (only the groups that hold the token's bytes alone, which are the same
/// whatever surrounds it).
pub fn token_forms(token: &str) -> Vec<Vec<u8>> {
    let mut forms = vec![token.as_bytes().to_vec()];
    forms.push(token.bytes().map(|b| format!("%{b:02X}")).collect::<String>().into_bytes());
    forms.push(token.bytes().map(|b| format!("%{b:02x}")).collect::<String>().into_bytes());
    if let Ok(raw) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token) {
        forms.push(raw);
    }
    for engine in [&STANDARD, &URL_SAFE] {
        for offset in 0..3 {
            let mut text = vec![0u8; offset];
            text.extend_from_slice(token.as_bytes());
            let encoded = engine.encode(&text);
            // Skip the group that mixes in what comes before, and the last (it mixes what follows).
            let start = if offset == 0 { 0 } else { 4 };
            let stable = &encoded.as_bytes()[start..encoded.len() - 4];
            forms.push(stable.to_vec());
        }
    }
    forms
}

/// Where any form of any of `tokens` shows in `haystack`: the token and the form found.
pub fn find_token<'a>(haystack: &[u8], tokens: &'a [String]) -> Option<(&'a str, String)> {
    tokens.iter().find_map(|token| {
        token_forms(token)
            .into_iter()
            .find(|form| contains(haystack, form))
            .map(|form| (token.as_str(), String::from_utf8_lossy(&form).into_owned()))
    })
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_is_found_inside_longer_encoded_text() {
        let token = "AbCdEfGhIjKlMnOpQrStUvWxYz012345".to_owned();
        let tokens = [token.clone()];
        // Inside base64 of a longer text, at every alignment: the check a plain search would miss.
        for prefix in ["", "x", "xy", "X-Session-Token: "] {
            let text = format!("{prefix}{token}\r\n");
            for encoded in [STANDARD.encode(&text), URL_SAFE.encode(&text)] {
                assert!(find_token(encoded.as_bytes(), &tokens).is_some(), "{prefix:?}: {encoded}");
            }
        }
        let escaped = format!("/v1/sessions/{}", token.bytes().map(|b| format!("%{b:02X}")).collect::<String>());
        assert!(find_token(escaped.as_bytes(), &tokens).is_some());
        assert!(find_token(b"/v1/session", &tokens).is_none());
    }
}
