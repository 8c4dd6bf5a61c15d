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

/// Whether `b` belongs to the base64url alphabet.
pub(crate) const fn is_alphabet(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
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
