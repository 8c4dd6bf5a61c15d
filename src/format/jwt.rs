//! JWT in JWS compact serialization (RFC 7515, RFC 7519), with RFC 8725's advice applied.
//!
//! Opening checks, in order, and stops at the first failure:
//! 1. the JOSE header (at most [`MAX_HEADER_CHARS`]) is strict base64url and strict JSON, with
//!    no `jku`, `x5u`, `jwk`, `x5c`, `crit`, `b64`, `enc` or `zip` (nothing is ever fetched, no
//!    extension is understood, JWE is not JWS);
//! 2. `kid` names a key of the ring that may verify now (`unknown_key`);
//! 3. `alg` equals the algorithm bound to that key, byte for byte (`algorithm_mismatch`: this is
//!    what stops `alg: none` and HS256-with-a-public-key confusion);
//! 4. payload and signature are strict base64url (`malformed`);
//! 5. the signature has the algorithm's exact length and verifies (`bad_signature`).

use super::{MAX_HEADER_CHARS, Opened};
use crate::claims::TokenType;
use crate::clock::Timestamp;
use crate::encoding::{b64, json};
use crate::error::{Error, Result, sanitize};
use crate::keys::{Format, Key, KeyPurpose, KeySet};

/// JOSE header parameters keycard refuses outright.
const FORBIDDEN: &[&str] = &["jku", "x5u", "jwk", "x5c", "crit", "b64", "enc", "zip"];

/// Seals `payload` (claims JSON) as a JWT signed by `key`.
pub(crate) fn seal(key: &Key, kind: TokenType, payload: &[u8]) -> Result<String> {
    debug_assert_eq!(key.format(), Format::Jwt);
    let slot = match kind {
        TokenType::Access => 0,
        TokenType::Refresh => 1,
    };
    let header = key.prefix(slot, || {
        let json = serde_json::json!({
            "alg": key.algorithm().name(),
            "kid": key.kid().as_str(),
            "typ": kind.jwt_typ(),
        });
        b64::encode(json.to_string().as_bytes())
    });
    let mut out = String::with_capacity(header.len() + payload.len() * 4 / 3 + 100);
    out.push_str(header);
    out.push('.');
    b64::encode_into(payload, &mut out);
    let sig = key.material().sign(&[out.as_bytes()])?;
    out.push('.');
    b64::encode_into(sig.as_bytes(), &mut out);
    Ok(out)
}

/// Opens a JWT: header, key, algorithm, signature, payload (see the module docs for the order).
pub(crate) fn open<'k>(token: &str, keys: &'k KeySet, now: Timestamp) -> Result<Opened<'k>> {
    let (key, typ, payload) = open_raw(token, keys, now)?;
    let kind = match (key.purpose(), typ) {
        (_, Typ::Kind(k)) if key.purpose() != KeyPurpose::Foreign || k == TokenType::Access => {
            Some(k)
        }
        // Identity providers mint access tokens with `typ: "JWT"` or none; a `typ` naming any
        // other kind of token (`rt+jwt`, `dpop+jwt`, `statuslist+jwt`, …) is not one.
        (KeyPurpose::Foreign, Typ::Absent | Typ::Jwt) => Some(TokenType::Access),
        _ => None,
    };
    Ok(Opened { key, kind, payload })
}

/// What a JWT's `typ` says (compared case-insensitively, with or without `application/`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Typ {
    /// No `typ`.
    Absent,
    /// `JWT`.
    Jwt,
    /// `at+jwt` or `rt+jwt`.
    Kind(TokenType),
    /// `statuslist+jwt` (a Status List Token).
    StatusList,
    /// Anything else.
    Other,
}

impl Typ {
    fn of(typ: Option<&str>) -> Typ {
        let Some(typ) = typ else {
            return Typ::Absent;
        };
        let t = typ
            .get(..12)
            .filter(|p| p.eq_ignore_ascii_case("application/"))
            .map_or(typ, |_| &typ[12..]);
        if let Some(k) = TokenType::from_jwt_typ(t) {
            Typ::Kind(k)
        } else if t.eq_ignore_ascii_case("jwt") {
            Typ::Jwt
        } else if t.eq_ignore_ascii_case("statuslist+jwt") {
            Typ::StatusList
        } else {
            Typ::Other
        }
    }
}

/// Opens a JWT (every check of [`open`] but the token type) and returns its key, what its `typ`
/// says, and its payload: also for JWTs that are not access or refresh tokens (Status Lists).
pub(crate) fn open_raw<'k>(
    token: &str,
    keys: &'k KeySet,
    now: Timestamp,
) -> Result<(&'k Key, Typ, Vec<u8>)> {
    // `detect` has checked the alphabet and that there are exactly two dots.
    let (signing_input, sig_b64) = token
        .rsplit_once('.')
        .ok_or(Error::Malformed("a JWT has exactly three segments"))?;
    let (header_b64, payload_b64) = signing_input
        .split_once('.')
        .ok_or(Error::Malformed("a JWT has exactly three segments"))?;

    if header_b64.len() > MAX_HEADER_CHARS {
        return Err(Error::Malformed("JOSE header too large"));
    }
    let mut header_buf = [0u8; MAX_HEADER_CHARS * 3 / 4];
    let n = b64::decode_to_slice(header_b64, &mut header_buf)?;
    let [alg, kid, typ] = json::read_string_members(
        &header_buf[..n],
        ["alg", "kid", "typ"],
        FORBIDDEN,
        MAX_HEADER_CHARS,
    )?;
    let alg = alg.ok_or(Error::Malformed("JOSE header without alg"))?;
    let kid = kid.ok_or(Error::unknown_key(None))?;
    let key = keys
        .find(&kid, now)
        .ok_or_else(|| Error::unknown_key(Some(&kid)))?;
    if key.format() != Format::Jwt || alg != key.algorithm().name() {
        return Err(Error::AlgorithmMismatch {
            kid: key.kid().to_string(),
            expected: key.algorithm().name(),
            found: sanitize(&alg),
        });
    }

    // The payload and signature are decoded (strictly) before the signature is checked, so a
    // malformed token is `malformed` whether or not it is also forged.
    let payload = b64::decode(payload_b64)?;
    // Room for more than any signature, so a slightly long segment is still checked for its
    // alphabet (`malformed`) before its length (`bad_signature`).
    let mut sig = [0u8; 1088];
    let sig_len = b64::decode_to_slice(sig_b64, &mut sig).map_err(|e| match e {
        Error::Malformed("base64url segment too long") => Error::BadSignature,
        other => other,
    })?;
    if sig_len != key.material().signature_len()
        || !key
            .material()
            .verify(&[signing_input.as_bytes()], &sig[..sig_len])
    {
        return Err(Error::BadSignature);
    }

    Ok((key, Typ::of(typ.as_deref()), payload))
}

/// Seals `payload` as a JWT of another kind (`typ` as given, e.g. `statuslist+jwt`), signed by
/// `key`.
#[cfg(feature = "status-list")]
pub(crate) fn seal_typed(key: &Key, typ: &str, payload: &[u8]) -> Result<String> {
    let header = serde_json::json!({
        "alg": key.algorithm().name(),
        "kid": key.kid().as_str(),
        "typ": typ,
    });
    let mut out = b64::encode(header.to_string().as_bytes());
    out.push('.');
    b64::encode_into(payload, &mut out);
    let sig = key.material().sign(&[out.as_bytes()])?;
    out.push('.');
    b64::encode_into(sig.as_bytes(), &mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::material::Material;
    use serde_json::Value;

    const RFC8037: &str = include_str!("../../tests/vectors/jose/rfc8037-ed25519.json");

    /// RFC 8037 A.4: the Ed25519 JWS verifies with the A.2 public key, and signing the same input
    /// with the A.1 private key reproduces it (Ed25519 is deterministic).
    #[test]
    fn rfc8037_jws_example() {
        let v: Value = serde_json::from_str(RFC8037).unwrap();
        let jws = v["jws_compact"].as_str().unwrap();
        let (input, sig_b64) = jws.rsplit_once('.').unwrap();
        let sig = b64::decode(sig_b64).unwrap();
        let x = b64::decode(v["public_jwk"]["x"].as_str().unwrap()).unwrap();
        let d = b64::decode(v["private_jwk"]["d"].as_str().unwrap()).unwrap();

        let public = Material::ed25519_public(&x).unwrap();
        assert!(public.verify(&[input.as_bytes()], &sig));
        assert!(!public.verify(&[input.as_bytes(), b"x"], &sig));
        let private = Material::ed25519_from_seed_checked(&d, Some(&x)).unwrap();
        assert_eq!(
            private.sign(&[input.as_bytes()]).unwrap().as_bytes(),
            &sig[..]
        );

        let (h, p) = input.split_once('.').unwrap();
        assert_eq!(
            b64::decode(h).unwrap(),
            v["jws_protected_header"].as_str().unwrap().as_bytes()
        );
        assert_eq!(
            b64::decode(p).unwrap(),
            v["jws_payload"].as_str().unwrap().as_bytes()
        );
    }

    /// RFC 8037 A.3: the JWK thumbprint of the example key.
    #[test]
    fn rfc8037_thumbprint() {
        let v: Value = serde_json::from_str(RFC8037).unwrap();
        let mut jwk = v["public_jwk"].clone();
        jwk["alg"] = "EdDSA".into();
        jwk["kid"] = "rfc8037".into();
        let key = Key::from_jwk(&jwk.to_string()).unwrap();
        assert_eq!(
            key.jwk_thumbprint().unwrap(),
            v["thumbprint_sha256"].as_str().unwrap()
        );
        let mut private = v["private_jwk"].clone();
        private["alg"] = "EdDSA".into();
        private["kid"] = "rfc8037".into();
        let key = Key::from_jwk(&private.to_string()).unwrap();
        assert!(key.has_secret());
        assert_eq!(
            key.jwk_thumbprint().unwrap(),
            v["thumbprint_sha256"].as_str().unwrap()
        );
    }
}
