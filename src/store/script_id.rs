//! A script's id for `EVALSHA` (the hex SHA-1 of its source), computed when the service is
//! compiled: a write's script is hundreds of lines, and hashing it on every request cost more wasm
//! instructions than all the rest of the request.

use crate::hex::DIGITS;

/// The hex SHA-1 of `source`, as Redis names a script, at compile time (`const`).
pub const fn sha1_hex(source: &str) -> [u8; 40] {
    let digest = sha1(source.as_bytes());
    let mut hex = [0u8; 40];
    let mut i = 0;
    while i < 20 {
        hex[2 * i] = DIGITS[(digest[i] >> 4) as usize];
        hex[2 * i + 1] = DIGITS[(digest[i] & 0xf) as usize];
        i += 1;
    }
    hex
}

/// SHA-1 (FIPS 180-4) over `bytes`, padded block by block without a buffer.
const fn sha1(bytes: &[u8]) -> [u8; 20] {
    let len = bytes.len();
    // The message, a 0x80 byte, zeros, and the length in bits in the last 8 bytes of a block.
    let blocks = (len + 8) / 64 + 1;
    let bit_len = (len as u64).wrapping_mul(8);
    let mut h: [u32; 5] = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0];
    let mut block = 0;
    while block < blocks {
        let mut w = [0u32; 80];
        let mut t = 0;
        while t < 16 {
            let mut word = 0u32;
            let mut k = 0;
            while k < 4 {
                let at = block * 64 + t * 4 + k;
                let byte = if at < len {
                    bytes[at]
                } else if at == len {
                    0x80
                } else if at >= blocks * 64 - 8 {
                    (bit_len >> (8 * (blocks * 64 - 1 - at))) as u8
                } else {
                    0
                };
                word = (word << 8) | byte as u32;
                k += 1;
            }
            w[t] = word;
            t += 1;
        }
        while t < 80 {
            w[t] = (w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16]).rotate_left(1);
            t += 1;
        }
        let (mut a, mut b, mut c, mut d, mut e) = (h[0], h[1], h[2], h[3], h[4]);
        t = 0;
        while t < 80 {
            let (f, k) = match t / 20 {
                0 => ((b & c) | (!b & d), 0x5A82_7999),
                1 => (b ^ c ^ d, 0x6ED9_EBA1),
                2 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let temp = a.rotate_left(5).wrapping_add(f).wrapping_add(e).wrapping_add(k).wrapping_add(w[t]);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = temp;
            t += 1;
        }
        h[0] = h[0].wrapping_add(a);
        h[1] = h[1].wrapping_add(b);
        h[2] = h[2].wrapping_add(c);
        h[3] = h[3].wrapping_add(d);
        h[4] = h[4].wrapping_add(e);
        block += 1;
    }
    let mut digest = [0u8; 20];
    let mut i = 0;
    while i < 5 {
        let word = h[i].to_be_bytes();
        digest[4 * i] = word[0];
        digest[4 * i + 1] = word[1];
        digest[4 * i + 2] = word[2];
        digest[4 * i + 3] = word[3];
        i += 1;
    }
    digest
}

#[cfg(test)]
mod tests {
    use super::sha1_hex;

    /// Every padding case (the length bytes in the same block or the next), checked against the
    /// `sha1_smol` crate, which the service uses for ETags and public ids.
    #[test]
    fn agrees_with_sha1_smol() {
        let text: String = (0..300).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
        for len in 0..text.len() {
            let expected = sha1_smol::Sha1::from(&text[..len]).digest().to_string();
            assert_eq!(std::str::from_utf8(&sha1_hex(&text[..len])).unwrap(), expected, "length {len}");
        }
        assert_eq!(&sha1_hex("abc"), b"a9993e364706816aba3e25717850c26c9cd0d89d");
    }
}
