//! URL-safe base64 without padding (RFC 4648 §5), for session ids and page cursors: a dozen lines
//! instead of a crate, to keep the `.wasm` small.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        // 2, 3 or 4 characters for 1, 2 or 3 bytes.
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// Decodes what `encode` writes, and nothing else: `None` for other characters, padding, or
/// leftover bits (each value has exactly one encoding, as with the `base64` crate's strict mode).
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for c in text.bytes() {
        let value = ALPHABET.iter().position(|a| *a == c)? as u32;
        bits = bits << 6 | value;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    // A lone leftover character (6 bits) cannot be; leftover bits must be zero.
    (count < 6 && bits == 0).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::{decode, encode};

    #[test]
    fn round_trips_as_rfc_4648_url_safe_without_padding() {
        assert_eq!(encode(b""), "");
        assert_eq!(encode(b"1"), "MQ");
        assert_eq!(encode(b"12"), "MTI");
        assert_eq!(encode(b"123"), "MTIz");
        assert_eq!(encode(&[0xfb, 0xff, 0xbf]), "-_-_");
        for bytes in [&b""[..], b"1", b"12", b"123", b"1234", &[0u8, 255, 7, 128, 64]] {
            assert_eq!(decode(&encode(bytes)).as_deref(), Some(bytes));
        }
        for bad in ["M", "MR", "MQ==", "M+", "M/", "MQ ", "é"] {
            assert_eq!(decode(bad), None, "{bad}");
        }
    }
}
