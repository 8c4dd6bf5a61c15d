//! Wire formats: telling them apart, and sealing / opening each one.
//!
//! `detect` looks only at the shape of the text (prefix, alphabet, number of dots), so the
//! format decision is made before anything is decoded: a PASETO token can never be parsed as a
//! JWT or the reverse, and `v4.local` is never mistaken for `v4.public`.

pub(crate) mod jwt;
pub(crate) mod paseto;

use crate::claims::TokenType;
use crate::error::{Error, Result};
use crate::keys::{Format, Key};

/// Longest JOSE header or PASETO footer accepted, in encoded characters. keycard's own are under
/// 150; the bound keeps a hostile header from costing more than a few microseconds.
pub(crate) const MAX_HEADER_CHARS: usize = 1024;

/// Which format `token` is, from its shape alone.
pub(crate) fn detect(token: &str) -> Result<Format> {
    let (format, body) = if let Some(rest) = token.strip_prefix("v4.public.") {
        (Format::V4Public, rest)
    } else if let Some(rest) = token.strip_prefix("v4.local.") {
        (Format::V4Local, rest)
    } else if is_paseto_like(token) {
        return Err(Error::UnsupportedFormat(
            "PASETO version or purpose other than v4.public / v4.local",
        ));
    } else {
        (Format::Jwt, token)
    };
    // Only the dots are counted here; every segment is then decoded as strict base64url (the
    // header, signature and payload of a JWT all before the signature is checked), so a
    // character outside the alphabet is still `malformed`, found by the decoder.
    let dots = memchr::memchr_iter(b'.', body.as_bytes()).count();
    match (format, dots) {
        (Format::Jwt, 2) => Ok(Format::Jwt),
        (Format::Jwt, 4) => Err(Error::UnsupportedFormat("JWE (encrypted JWT)")),
        (Format::Jwt, _) => Err(Error::Malformed("a JWT has exactly three segments")),
        (_, 0 | 1) => Ok(format),
        (_, _) => Err(Error::Malformed("a PASETO token has at most four segments")),
    }
}

/// `v<digits>.<purpose>.`: the shape of any PASETO token, of any version.
fn is_paseto_like(token: &str) -> bool {
    let b = token.as_bytes();
    if b.first() != Some(&b'v') {
        return false;
    }
    let digits = b[1..].iter().take_while(|c| c.is_ascii_digit()).count();
    digits > 0 && b.get(1 + digits) == Some(&b'.')
}

/// A token whose signature (or authentication tag) has been checked, not yet its claims.
/// It borrows the key from the key-ring snapshot rather than cloning its `Arc`: a reference-count
/// update on every verification would be a write to memory shared by every verifying thread.
pub(crate) struct Opened<'k> {
    /// The key that verified it.
    pub(crate) key: &'k Key,
    /// The kind the signed content says it is; `None` for a JWT with no or a foreign `typ`.
    pub(crate) kind: Option<TokenType>,
    /// The claims JSON.
    pub(crate) payload: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection() {
        let ok = [
            ("eyJh.eyJz.c2ln", Format::Jwt),
            ("a.b.", Format::Jwt),
            ("v4.public.AAAA", Format::V4Public),
            ("v4.public.AAAA.Zm9v", Format::V4Public),
            ("v4.local.AAAA", Format::V4Local),
        ];
        for (t, f) in ok {
            assert_eq!(detect(t).unwrap(), f, "{t}");
        }
        let bad = [
            ("", "malformed"),
            ("abc", "malformed"),
            ("a.b", "malformed"),
            ("a.b.c.d", "malformed"),
            ("a.b.c.d.e", "unsupported_format"),
            ("v2.local.AAAA", "unsupported_format"),
            ("v3.public.AAAA", "unsupported_format"),
            ("v4.secret.AAAA", "unsupported_format"),
            ("v10.public.AAAA", "unsupported_format"),
            ("v4.public.AA.BB.CC", "malformed"),
        ];
        for (t, kind) in bad {
            assert_eq!(detect(t).unwrap_err().kind(), kind, "{t:?}");
        }
    }
}
