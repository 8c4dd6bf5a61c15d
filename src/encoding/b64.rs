//! Strict base64url without padding (RFC 7515 §2, RFC 4648 §5).
//!
//! Accepted: the URL-safe alphabet only, no `=`, no whitespace, no non-zero trailing bits (so every
//! byte string has exactly one encoding), no length of the form `4n + 1`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::{Error, Result};

/// Encodes `bytes` as unpadded base64url.
pub(crate) fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Appends the unpadded base64url encoding of `bytes` to `out`.
pub(crate) fn encode_into(bytes: &[u8], out: &mut String) {
    URL_SAFE_NO_PAD.encode_string(bytes, out);
}

/// The number of bytes `encoded_len` characters of unpadded base64url decode to, or `None` for a
/// length no canonical encoding has.
pub(crate) const fn decoded_len(encoded_len: usize) -> Option<usize> {
    match encoded_len % 4 {
        1 => None,
        r => Some(encoded_len / 4 * 3 + if r == 0 { 0 } else { r - 1 }),
    }
}

/// Decodes strict unpadded base64url.
pub(crate) fn decode(text: &str) -> Result<Vec<u8>> {
    let len = decoded_len(text.len()).ok_or(Error::Malformed("invalid base64url length"))?;
    let mut out = vec![0u8; len];
    let n = decode_to_slice(text, &mut out)?;
    out.truncate(n);
    Ok(out)
}

/// Decodes strict unpadded base64url into `out`, which must be large enough; returns the length.
pub(crate) fn decode_to_slice(text: &str, out: &mut [u8]) -> Result<usize> {
    match decoded_len(text.len()) {
        Some(n) if n <= out.len() => {}
        Some(_) => return Err(Error::Malformed("base64url segment too long")),
        None => return Err(Error::Malformed("invalid base64url length")),
    }
    URL_SAFE_NO_PAD
        .decode_slice_unchecked(text.as_bytes(), out)
        .map_err(|_| Error::Malformed("invalid base64url"))
}

/// The value of each base64url character, 0xff for anything else.
static VALUE: [u8; 256] = {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 64 {
        t[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    t
};

/// Decodes exactly 22 characters of canonical base64url into 16 bytes (keycard's random ids), or
/// `None`. A hand-unrolled fast path for the revocation lookup on every request; the general
/// decoder gives the same answers (a test checks them against each other).
pub(crate) fn decode16(text: &[u8]) -> Option<[u8; 16]> {
    let t: &[u8; 22] = text.try_into().ok()?;
    let v = |i: usize| u64::from(VALUE[t[i] as usize]);
    // Three groups of 8, 8 and 6 characters: 48, 48 and 36 bits. A 0xff (not in the alphabet)
    // sets bit 7 of some value; the last group's low 4 bits are the canonical form's padding
    // bits and must be clear.
    let a = (v(0) << 42)
        | (v(1) << 36)
        | (v(2) << 30)
        | (v(3) << 24)
        | (v(4) << 18)
        | (v(5) << 12)
        | (v(6) << 6)
        | v(7);
    let b = (v(8) << 42)
        | (v(9) << 36)
        | (v(10) << 30)
        | (v(11) << 24)
        | (v(12) << 18)
        | (v(13) << 12)
        | (v(14) << 6)
        | v(15);
    let c = (v(16) << 30) | (v(17) << 24) | (v(18) << 18) | (v(19) << 12) | (v(20) << 6) | v(21);
    let bad = t.iter().fold(0u8, |acc, &ch| acc | VALUE[ch as usize]);
    if bad & 0x80 != 0 || c & 0x0f != 0 {
        return None;
    }
    let mut out = [0u8; 16];
    out[..6].copy_from_slice(&a.to_be_bytes()[2..]);
    out[6..12].copy_from_slice(&b.to_be_bytes()[2..]);
    out[12..].copy_from_slice(&((c >> 4) as u32).to_be_bytes());
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_every_length() {
        for n in 0..70 {
            let bytes: Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
            let text = encode(&bytes);
            assert_eq!(decoded_len(text.len()), Some(n));
            assert_eq!(decode(&text).unwrap(), bytes);
        }
    }

    #[test]
    fn decode16_agrees_with_the_general_decoder() {
        let mut state = 0x1234_5678_9abc_def0u64;
        for _ in 0..2000 {
            let mut bytes = [0u8; 16];
            for b in &mut bytes {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                *b = (state >> 56) as u8;
            }
            let text = encode(&bytes);
            assert_eq!(decode16(text.as_bytes()), Some(bytes));
            // Mutate one character: both decoders accept or both refuse, with the same bytes.
            let mut t = text.into_bytes();
            let i = (state as usize) % 22;
            t[i] = b"A_-9z=+/. \xff"[(state >> 8) as usize % 11];
            let general = std::str::from_utf8(&t)
                .ok()
                .and_then(|s| decode(s).ok())
                .and_then(|v| <[u8; 16]>::try_from(v).ok());
            assert_eq!(decode16(&t), general, "{t:?}");
        }
        assert_eq!(
            decode16(b"AAAAAAAAAAAAAAAAAAAAAB"),
            None,
            "non-zero trailing bits"
        );
        assert_eq!(decode16(b"AAAAAAAAAAAAAAAAAAAAA"), None);
    }

    #[test]
    fn rejects_non_canonical_forms() {
        // "AQ" is the canonical encoding of [0x01]; "AR" has non-zero trailing bits.
        assert_eq!(decode("AQ").unwrap(), vec![1]);
        for bad in [
            "AR",
            "AQ==",
            "AQ=",
            "A",
            "A+/B",
            "AQ\n",
            " AQ",
            "AQ AQ",
            "ab%c",
            "QUJD\u{e9}",
        ] {
            assert_eq!(decode(bad).unwrap_err().kind(), "malformed", "{bad:?}");
        }
        let mut small = [0u8; 1];
        assert!(decode_to_slice("AQID", &mut small).is_err());
    }
}
