//! PASETO version 4: `v4.public` (Ed25519) and `v4.local` (XChaCha20 + BLAKE2b-MAC).
//!
//! `v4.local` goes through pasetors. `v4.public` is signed and verified here, over the same
//! pre-authentication encoding (PAE) the specification defines, with the ed25519-dalek keys the
//! ring already holds: Ed25519 is deterministic, so the tokens are byte-identical to pasetors'
//! (a test pins this), and verification is about twice as fast as pasetors' ed25519-compact path
//! (see the README's performance table). The official v4 test vectors run against both.
//!
//! Footers are JSON: `{"kid":"k4.pid.…"}` for access tokens, plus `"typ":"rt"` for refresh
//! tokens (a hint; the binding is the implicit assertion and, for `v4.local`, the key's
//! [`KeyPurpose`]: a refresh-token key opens only refresh tokens, see `claims::kind`).

use pasetors::token::{Local, UntrustedToken};
use pasetors::version4::{LocalToken, V4};

use super::{MAX_HEADER_CHARS, Opened};
use crate::claims::TokenType;
use crate::clock::Timestamp;
use crate::encoding::{b64, json};
use crate::error::{Error, Result, sanitize};
use crate::keys::{Algorithm, Key, KeyPurpose, KeySet};

const PUBLIC_HEADER: &str = "v4.public.";
const LOCAL_HEADER: &str = "v4.local.";
const SIG_LEN: usize = 64;

/// The footer of a token of `kind` signed by `key`.
fn footer(key: &Key, kind: TokenType) -> String {
    match kind.footer_typ() {
        None => serde_json::json!({ "kid": key.kid().as_str() }).to_string(),
        Some(typ) => serde_json::json!({ "kid": key.kid().as_str(), "typ": typ }).to_string(),
    }
}

/// PASETO's little-endian length prefix (LE64 with the top bit cleared).
fn le64(n: usize) -> [u8; 8] {
    ((n as u64) & (u64::MAX >> 1)).to_le_bytes()
}

/// Signs or verifies PAE(h, m, f, i) without concatenating it: `f(parts)`.
fn with_pae<T>(m: &[u8], f: &[u8], i: &[u8], run: impl FnOnce(&[&[u8]]) -> T) -> T {
    let (n, lh, lm, lf, li) = (
        le64(4),
        le64(PUBLIC_HEADER.len()),
        le64(m.len()),
        le64(f.len()),
        le64(i.len()),
    );
    run(&[&n, &lh, PUBLIC_HEADER.as_bytes(), &lm, m, &lf, f, &li, i])
}

/// Seals `payload` as a `v4.public` token signed by `key`.
pub(crate) fn seal_public(key: &Key, kind: TokenType, payload: &[u8]) -> Result<String> {
    seal_public_raw(key, kind, payload, footer(key, kind).as_bytes())
}

/// Seals `payload` as a `v4.public` token with exactly the footer `f`.
pub(crate) fn seal_public_raw(
    key: &Key,
    kind: TokenType,
    payload: &[u8],
    f: &[u8],
) -> Result<String> {
    debug_assert_eq!(key.algorithm(), Algorithm::V4Public);
    let sig = with_pae(payload, f, kind.implicit_assertion(), |parts| {
        key.material().sign(parts)
    })?;
    let mut body = Vec::with_capacity(payload.len() + SIG_LEN);
    body.extend_from_slice(payload);
    body.extend_from_slice(sig.as_bytes());
    let mut out = String::with_capacity(PUBLIC_HEADER.len() + (body.len() + f.len()) * 4 / 3 + 4);
    out.push_str(PUBLIC_HEADER);
    b64::encode_into(&body, &mut out);
    if !f.is_empty() {
        out.push('.');
        b64::encode_into(f, &mut out);
    }
    Ok(out)
}

/// Seals `payload` as a `v4.local` token encrypted with `key` (random 32-byte nonce).
pub(crate) fn seal_local(key: &Key, kind: TokenType, payload: &[u8]) -> Result<String> {
    seal_local_raw(key, kind, payload, footer(key, kind).as_bytes())
}

/// Seals `payload` as a `v4.local` token with exactly the footer `f`.
pub(crate) fn seal_local_raw(
    key: &Key,
    kind: TokenType,
    payload: &[u8],
    f: &[u8],
) -> Result<String> {
    let sk = key
        .material()
        .local_key()
        .ok_or_else(|| Error::Config("not a v4.local key".into()))?;
    let f = (!f.is_empty()).then_some(f);
    LocalToken::encrypt(sk, payload, f, Some(kind.implicit_assertion()))
        .map_err(|_| Error::Crypto("v4.local encryption failed"))
}

/// The kid and kind hint of a footer.
fn read_footer(footer: &[u8]) -> Result<(String, TokenType)> {
    if footer.is_empty() {
        return Err(Error::unknown_key(None));
    }
    let [kid, typ] = json::read_string_members(footer, ["kid", "typ"], &[], MAX_HEADER_CHARS)?;
    let kid = kid.ok_or(Error::unknown_key(None))?;
    let hint = match typ.as_deref() {
        Some("rt") => TokenType::Refresh,
        _ => TokenType::Access,
    };
    Ok((kid.into_owned(), hint))
}

/// Finds the key a footer names and checks it is of `alg`.
fn footer_key<'k>(keys: &'k KeySet, kid: &str, alg: Algorithm, now: Timestamp) -> Result<&'k Key> {
    let key = keys
        .find(kid, now)
        .ok_or_else(|| Error::unknown_key(Some(kid)))?;
    if key.algorithm() != alg {
        return Err(Error::AlgorithmMismatch {
            kid: key.kid().to_string(),
            expected: key.algorithm().name(),
            found: sanitize(alg.name()),
        });
    }
    Ok(key)
}

/// Opens a `v4.public` token.
pub(crate) fn open_public<'k>(token: &str, keys: &'k KeySet, now: Timestamp) -> Result<Opened<'k>> {
    let rest = &token[PUBLIC_HEADER.len()..];
    let (body_b64, footer_b64) = rest.split_once('.').unwrap_or((rest, ""));
    if footer_b64.len() > MAX_HEADER_CHARS {
        return Err(Error::Malformed("PASETO footer too large"));
    }
    let f = b64::decode(footer_b64)?;
    let (kid, hint) = read_footer(&f)?;
    let key = footer_key(keys, &kid, Algorithm::V4Public, now)?;

    let mut body = b64::decode(body_b64)?;
    if body.len() <= SIG_LEN {
        return Err(Error::Malformed("PASETO body shorter than a signature"));
    }
    let sig_at = body.len() - SIG_LEN;
    let ok = with_pae(&body[..sig_at], &f, hint.implicit_assertion(), |parts| {
        key.material().verify(parts, &body[sig_at..])
    });
    if !ok {
        return Err(Error::BadSignature);
    }
    body.truncate(sig_at);
    Ok(Opened {
        key,
        kind: Some(hint),
        payload: body,
    })
}

/// Opens a `v4.local` token.
pub(crate) fn open_local<'k>(token: &str, keys: &'k KeySet, now: Timestamp) -> Result<Opened<'k>> {
    let footer_len = token[LOCAL_HEADER.len()..]
        .split_once('.')
        .map_or(0, |(_, f)| f.len());
    if footer_len > MAX_HEADER_CHARS {
        return Err(Error::Malformed("PASETO footer too large"));
    }
    let untrusted = UntrustedToken::<Local, V4>::try_from(token)
        .map_err(|_| Error::Malformed("invalid v4.local token"))?;
    let (kid, hint) = read_footer(untrusted.untrusted_footer())?;
    let key = footer_key(keys, &kid, Algorithm::V4Local, now)?;
    // A refresh-token key seals nothing but refresh tokens: the key, not the footer, decides.
    let kind = match key.purpose() {
        KeyPurpose::Refresh => TokenType::Refresh,
        KeyPurpose::Access | KeyPurpose::Foreign => hint,
    };
    let sk = key.material().local_key().ok_or(Error::BadSignature)?;
    let trusted = LocalToken::decrypt(sk, &untrusted, None, Some(kind.implicit_assertion()))
        .map_err(|_| Error::BadSignature)?;
    Ok(Opened {
        key,
        kind: Some(kind),
        payload: trusted.payload().as_bytes().to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::material::Material;
    use pasetors::keys::{AsymmetricPublicKey, AsymmetricSecretKey, SymmetricKey};
    use pasetors::token::Public;
    use pasetors::version4::PublicToken;
    use serde_json::Value;

    const VECTORS: &str = include_str!("../../tests/vectors/paseto/v4.json");

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// PAE(h, m, f, i) concatenated, as the specification writes it.
    fn pae(m: &[u8], f: &[u8], i: &[u8]) -> Vec<u8> {
        with_pae(m, f, i, |parts| parts.concat())
    }

    /// Verifies a v4.public token the way `open_public` does, minus the footer/kid handling
    /// (the vectors' footers are not keycard footers).
    fn verify_public(key: &Key, token: &str, implicit: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
        let rest = token.strip_prefix(PUBLIC_HEADER)?;
        let (body_b64, footer_b64) = rest.split_once('.').unwrap_or((rest, ""));
        let f = b64::decode(footer_b64).ok()?;
        let body = b64::decode(body_b64).ok()?;
        let at = body.len().checked_sub(SIG_LEN).filter(|n| *n > 0)?;
        let ok = with_pae(&body[..at], &f, implicit, |p| {
            key.material().verify(p, &body[at..])
        });
        ok.then(|| (body[..at].to_vec(), f))
    }

    #[test]
    fn pae_matches_the_specification_examples() {
        // PASETO spec, "PAE": PAE([]) = 8 zero bytes; PAE(['']) = 01 then 8 zero bytes.
        let n = le64(0);
        assert_eq!(n, [0; 8]);
        assert_eq!(le64(u64::MAX as usize), (u64::MAX >> 1).to_le_bytes());
        let p = pae(b"m", b"", b"");
        assert_eq!(&p[..8], &4u64.to_le_bytes());
        assert_eq!(&p[8..16], &10u64.to_le_bytes());
        assert_eq!(&p[16..26], b"v4.public.");
        assert_eq!(p.len(), 8 + 8 + 10 + 8 + 1 + 8 + 8);
    }

    #[test]
    fn official_v4_vectors() {
        let file: Value = serde_json::from_str(VECTORS).unwrap();
        let mut checked = 0;
        for t in file["tests"].as_array().unwrap() {
            let name = t["name"].as_str().unwrap();
            let fail = t["expect-fail"].as_bool().unwrap();
            let token = t["token"].as_str().unwrap();
            let implicit = t["implicit-assertion"].as_str().unwrap().as_bytes();
            let footer = t["footer"].as_str().unwrap().as_bytes();
            if let Some(pk) = t.get("public-key").and_then(Value::as_str) {
                let material = Material::ed25519_public(&hex(pk)).unwrap();
                let key = Key::from_parts(Algorithm::V4Public, None, material).unwrap();
                let got = verify_public(&key, token, implicit);
                if fail {
                    assert!(got.is_none(), "{name}");
                } else {
                    let (m, f) = got.unwrap_or_else(|| panic!("{name} did not verify"));
                    assert_eq!(m, t["payload"].as_str().unwrap().as_bytes(), "{name}");
                    assert_eq!(f, footer, "{name}");
                    // Signing is deterministic: re-signing reproduces the vector byte for byte.
                    let seed = hex(t["secret-key"].as_str().unwrap());
                    let signer = Material::ed25519_from_seed_checked(&seed[..32], None).unwrap();
                    let sig = with_pae(&m, &f, implicit, |p| signer.sign(p).unwrap());
                    let mut body = m.clone();
                    body.extend_from_slice(sig.as_bytes());
                    let mut again = format!("{PUBLIC_HEADER}{}", b64::encode(&body));
                    if !f.is_empty() {
                        again.push('.');
                        again.push_str(&b64::encode(&f));
                    }
                    assert_eq!(again, token, "{name}");
                }
                checked += 1;
            } else {
                let key = SymmetricKey::<V4>::from(&hex(t["key"].as_str().unwrap())).unwrap();
                let got = UntrustedToken::<Local, V4>::try_from(token)
                    .ok()
                    .and_then(|u| {
                        let f = (!footer.is_empty()).then_some(footer);
                        LocalToken::decrypt(&key, &u, f, Some(implicit)).ok()
                    });
                match (fail, got) {
                    (true, got) => assert!(got.is_none(), "{name}"),
                    (false, Some(p)) => {
                        assert_eq!(p.payload(), t["payload"].as_str().unwrap(), "{name}")
                    }
                    (false, None) => panic!("{name} did not decrypt"),
                }
                checked += 1;
            }
        }
        assert_eq!(checked, 17);
    }

    #[test]
    fn keycard_and_pasetors_agree_on_v4_public() {
        let key = Key::generate(Algorithm::V4Public).unwrap();
        let payload = br#"{"sub":"alice"}"#;
        let ours = seal_public(&key, TokenType::Access, payload).unwrap();

        let seed = key.secret_bytes().unwrap();
        let mut both = seed.to_vec();
        both.extend_from_slice(key.public_key_bytes().unwrap());
        let sk = AsymmetricSecretKey::<V4>::from(&both).unwrap();
        let f = footer(&key, TokenType::Access);
        let theirs = PublicToken::sign(&sk, payload, Some(f.as_bytes()), None).unwrap();
        assert_eq!(ours, theirs, "deterministic Ed25519: identical tokens");

        let pk = AsymmetricPublicKey::<V4>::from(key.public_key_bytes().unwrap()).unwrap();
        let untrusted = UntrustedToken::<Public, V4>::try_from(ours.as_str()).unwrap();
        assert!(PublicToken::verify(&pk, &untrusted, Some(f.as_bytes()), None).is_ok());

        // Refresh tokens carry the implicit assertion: pasetors verifies them only with it.
        let rt = seal_public(&key, TokenType::Refresh, payload).unwrap();
        let untrusted = UntrustedToken::<Public, V4>::try_from(rt.as_str()).unwrap();
        assert!(PublicToken::verify(&pk, &untrusted, None, None).is_err());
        assert!(
            PublicToken::verify(&pk, &untrusted, None, Some(b"keycard:refresh-token:v1")).is_ok()
        );
    }

    #[test]
    fn empty_footer_or_payload() {
        let key = std::sync::Arc::new(Key::generate(Algorithm::V4Public).unwrap());
        let mut set = KeySet::default();
        set.push_for_tests(std::sync::Arc::clone(&key));
        let now = Timestamp::EPOCH;
        let sig_only = format!("{PUBLIC_HEADER}{}", b64::encode(&[0u8; 64]));
        assert_eq!(
            open_public(&sig_only, &set, now).err().unwrap().kind(),
            "unknown_key"
        );
        let with_footer = format!(
            "{sig_only}.{}",
            b64::encode(footer(&key, TokenType::Access).as_bytes())
        );
        assert_eq!(
            open_public(&with_footer, &set, now).err().unwrap().kind(),
            "malformed"
        );
    }
}
