//! JSON Web Keys (RFC 7517) for all five algorithms, Ed25519 per RFC 8037, thumbprints per
//! RFC 7638.
//!
//! | alg | kty | members |
//! |---|---|---|
//! | `EdDSA`, `v4.public` | `OKP`, crv `Ed25519` | `x`, secret `d` |
//! | `ES256` | `EC`, crv `P-256` | `x`, `y`, secret `d` |
//! | `HS256`, `v4.local` | `oct` | secret `k` |
//! | `RS256`, `PS256` (verify only) | `RSA` | `n`, `e` (public keys only) |
//! | `ES384` (verify only) | `EC`, crv `P-384` | `x`, `y` (public keys only) |
//!
//! Import is strict: the JSON must be I-JSON (no duplicate members, bounded depth), `alg` must be
//! present and agree with `kty`/`crv`, key members of other key types (RSA's `n`, `p`, ...) are
//! refused, and `use`, when present, must be `sig` (`enc` for `v4.local`). Public export never
//! carries `d` or `k`.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

use super::material::Material;
use super::{Algorithm, Format, Key, KeyPurpose, Kid};
use crate::clock::Timestamp;
use crate::encoding::{b64, json as strict_json};
use crate::error::{Error, Result};

/// The largest JWK or JWK Set text accepted.
pub(crate) const MAX_JWK_BYTES: usize = 256 * 1024;
/// The most keys a JWK Set may hold.
pub(crate) const MAX_KEYS: usize = 256;

/// RSA members: only on an RSA key.
const RSA_MEMBERS: &[&str] = &["n", "e", "p", "q", "dp", "dq", "qi", "oth"];
/// RSA private members: keycard never signs with RSA, so it never takes an RSA private key.
const RSA_PRIVATE_MEMBERS: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth"];

/// keycard's own JWK members, used by key-set files to record rotation state.
pub(crate) const ACTIVE_MEMBER: &str = "keycard_active";
pub(crate) const UNTIL_MEMBER: &str = "keycard_verify_until";
pub(crate) const PURPOSE_MEMBER: &str = "keycard_purpose";
pub(crate) const VERIFY_ONLY_MEMBER: &str = "keycard_verify_only";

/// The public members of a JWK; the secret ones (`d`, `k`) are taken out of the parsed JSON
/// first, by move, into zeroizing buffers.
#[derive(Deserialize)]
struct JwkIn {
    kty: String,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
    n: Option<String>,
    e: Option<String>,
    alg: Option<String>,
    kid: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    keycard_active: Option<bool>,
    keycard_verify_until: Option<i64>,
    keycard_purpose: Option<String>,
    keycard_verify_only: Option<bool>,
}

/// What a JWK says beyond the key itself: keycard's rotation-state members.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct JwkState {
    pub(crate) active: bool,
    pub(crate) verify_until: Option<Timestamp>,
    /// Verifies only, without a deadline, and never becomes the active key by default (a key
    /// added with `add_verify_only`, secret or not).
    pub(crate) verify_only: bool,
}

/// Overrides applied when importing: an explicit algorithm (which must agree with the JWK's own
/// `alg` if it has one) and a kid (which replaces the JWK's).
#[derive(Clone, Debug, Default)]
pub(crate) struct JwkOverrides {
    pub(crate) alg: Option<Algorithm>,
    pub(crate) kid: Option<Kid>,
}

fn invalid(reason: &'static str) -> Error {
    Error::InvalidKey(reason)
}

fn decode_member(text: Option<&str>, what: &'static str) -> Result<Zeroizing<Vec<u8>>> {
    let text = text.ok_or(invalid(what))?;
    b64::decode(text)
        .map(Zeroizing::new)
        .map_err(|_| invalid("a JWK key member is not strict base64url"))
}

/// Moves a secret member out of a parsed JWK into a zeroizing string (no copy is made).
fn take_secret(map: &mut Map<String, Value>, name: &str) -> Result<Option<Zeroizing<String>>> {
    match map.remove(name) {
        None => Ok(None),
        Some(Value::String(text)) => Ok(Some(Zeroizing::new(text))),
        Some(mut other) => {
            scrub(&mut other);
            Err(invalid("a JWK key member has the wrong type"))
        }
    }
}

/// Wipes every string of a parsed JSON value when dropped, on every path out of an import.
struct Scrubbed(Value);

impl Drop for Scrubbed {
    fn drop(&mut self) {
        scrub(&mut self.0);
    }
}

/// Parses one JWK object (already read strictly) into a key and its state members.
pub(crate) fn key_from_jwk_value(v: Value, over: &JwkOverrides) -> Result<(Key, JwkState)> {
    let mut v = Scrubbed(v);
    let Value::Object(map) = &mut v.0 else {
        return Err(invalid("a JWK is a JSON object"));
    };
    let is_rsa = map.get("kty").and_then(Value::as_str) == Some("RSA");
    if is_rsa && RSA_PRIVATE_MEMBERS.iter().any(|m| map.contains_key(*m)) {
        return Err(invalid(
            "an RSA private key: keycard only verifies with RSA and imports public keys only",
        ));
    }
    if !is_rsa && RSA_MEMBERS.iter().any(|m| map.contains_key(*m)) {
        return Err(invalid("RSA members on a JWK that is not kty RSA"));
    }
    let d = take_secret(map, "d")?;
    let k = take_secret(map, "k")?;
    let jwk = JwkIn::deserialize(&v.0).map_err(|_| invalid("a JWK member has the wrong type"))?;

    let alg = match (jwk.alg.as_deref(), over.alg) {
        (Some(named), Some(given)) => {
            let named = Algorithm::from_name(named).ok_or(invalid("unsupported JWK alg"))?;
            if named != given {
                return Err(invalid("the JWK's alg differs from the one requested"));
            }
            named
        }
        (Some(named), None) => Algorithm::from_name(named).ok_or(invalid("unsupported JWK alg"))?,
        (None, Some(given)) => given,
        (None, None) => return Err(invalid("a JWK needs alg (in the JWK or given explicitly)")),
    };
    let want_use = if alg == Algorithm::V4Local {
        "enc"
    } else {
        "sig"
    };
    if let Some(u) = jwk.use_.as_deref()
        && u != want_use
        && !(alg == Algorithm::V4Local && u == "sig")
    {
        return Err(invalid("the JWK's use does not fit its algorithm"));
    }

    let (kty, crv) = (jwk.kty.as_str(), jwk.crv.as_deref());
    let material = match alg {
        Algorithm::EdDSA | Algorithm::V4Public => {
            if kty != "OKP" || crv != Some("Ed25519") || jwk.y.is_some() || k.is_some() {
                return Err(invalid(
                    "an Ed25519 JWK is kty OKP, crv Ed25519, with x and d",
                ));
            }
            let x = decode_member(jwk.x.as_deref(), "an OKP JWK needs x")?;
            match d.as_deref() {
                Some(d) => {
                    let d = decode_member(Some(d), "d")?;
                    Material::ed25519_from_seed_checked(&d, Some(&x))?
                }
                None => Material::ed25519_public(&x)?,
            }
        }
        Algorithm::ES256 => {
            if kty != "EC" || crv != Some("P-256") || k.is_some() {
                return Err(invalid(
                    "an ES256 JWK is kty EC, crv P-256, with x, y and d",
                ));
            }
            let x = decode_member(jwk.x.as_deref(), "an EC JWK needs x")?;
            let y = decode_member(jwk.y.as_deref(), "an EC JWK needs y")?;
            if x.len() != 32 || y.len() != 32 {
                return Err(invalid("P-256 coordinates are 32 bytes"));
            }
            let mut point = [0u8; 65];
            point[0] = 4;
            point[1..33].copy_from_slice(&x);
            point[33..].copy_from_slice(&y);
            match d.as_deref() {
                Some(d) => {
                    let d = decode_member(Some(d), "d")?;
                    Material::es256_from_private(&d, Some(&point))?
                }
                None => Material::es256_public(&point)?,
            }
        }
        Algorithm::RS256 | Algorithm::PS256 => {
            if kty != "RSA" || crv.is_some() || jwk.x.is_some() || jwk.y.is_some() || k.is_some() {
                return Err(invalid("an RS256 or PS256 JWK is kty RSA with n and e"));
            }
            let n = decode_member(jwk.n.as_deref(), "an RSA JWK needs n")?;
            let e = decode_member(jwk.e.as_deref(), "an RSA JWK needs e")?;
            Material::rsa_public(&n, &e, alg == Algorithm::PS256)?
        }
        Algorithm::ES384 => {
            if kty != "EC" || crv != Some("P-384") || k.is_some() {
                return Err(invalid("an ES384 JWK is kty EC, crv P-384, with x and y"));
            }
            if d.is_some() {
                return Err(invalid(
                    "a P-384 private key: keycard only verifies ES384 and imports public keys only",
                ));
            }
            let x = decode_member(jwk.x.as_deref(), "an EC JWK needs x")?;
            let y = decode_member(jwk.y.as_deref(), "an EC JWK needs y")?;
            if x.len() != 48 || y.len() != 48 {
                return Err(invalid("P-384 coordinates are 48 bytes"));
            }
            let mut point = [0u8; 97];
            point[0] = 4;
            point[1..49].copy_from_slice(&x);
            point[49..].copy_from_slice(&y);
            Material::es384_public(&point)?
        }
        Algorithm::HS256 | Algorithm::V4Local => {
            if kty != "oct" || crv.is_some() || jwk.x.is_some() || d.is_some() {
                return Err(invalid("a symmetric JWK is kty oct with k"));
            }
            let k = decode_member(k.as_deref().map(|s| s.as_str()), "an oct JWK needs k")?;
            if alg == Algorithm::HS256 {
                Material::hs256(&k)?
            } else {
                Material::v4_local(&k)?
            }
        }
    };

    let kid = match (&over.kid, jwk.kid.as_deref()) {
        (Some(k), _) => Some(k.clone()),
        (None, Some(text)) => Some(Kid::new(text)?),
        (None, None) => None,
    };
    let verify_until = match jwk.keycard_verify_until {
        None => None,
        Some(secs) => {
            Some(Timestamp::from_unix(secs).ok_or(invalid("keycard_verify_until out of range"))?)
        }
    };
    let state = JwkState {
        active: jwk.keycard_active.unwrap_or(false),
        verify_until,
        verify_only: jwk.keycard_verify_only.unwrap_or(false),
    };
    if state.active && (state.verify_only || state.verify_until.is_some()) {
        return Err(invalid(
            "a key marked active cannot also be verify-only or have a verify deadline",
        ));
    }
    let purpose = match jwk.keycard_purpose.as_deref() {
        // Keys of the algorithms keycard only verifies are always another issuer's.
        _ if !alg.can_mint() => KeyPurpose::Foreign,
        None | Some("access") => KeyPurpose::Access,
        Some("refresh") => KeyPurpose::Refresh,
        Some("foreign") => KeyPurpose::Foreign,
        Some(_) => return Err(invalid("keycard_purpose is access, refresh or foreign")),
    };
    if purpose == KeyPurpose::Foreign && state.active {
        return Err(invalid(
            "another issuer's key cannot be the active signing key",
        ));
    }
    Ok((
        Key::from_parts(alg, kid, material)?.with_purpose(purpose)?,
        state,
    ))
}

/// Reads JWK text strictly and bounded.
pub(crate) fn parse_jwk_text(text: &str) -> Result<Value> {
    if text.len() > MAX_JWK_BYTES {
        return Err(invalid("JWK text too large"));
    }
    strict_json::parse_strict(text.as_bytes()).map_err(|e| match e {
        Error::Malformed(reason) => Error::InvalidKey(reason),
        other => other,
    })
}

/// The members of a JWK Set's `keys` array.
pub(crate) fn jwk_set_members(text: &str) -> Result<Vec<Value>> {
    let Value::Object(mut set) = parse_jwk_text(text)? else {
        return Err(invalid("a JWK Set is a JSON object"));
    };
    match set.remove("keys") {
        Some(Value::Array(keys)) if keys.len() <= MAX_KEYS => Ok(keys),
        Some(Value::Array(_)) => Err(invalid("a JWK Set holds at most 256 keys")),
        _ => Err(invalid("a JWK Set needs a keys array")),
    }
}

/// A key of another issuer's JWK Set that was not imported, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SkippedKey {
    /// The key's `kid`, if it had a usable one.
    pub kid: Option<String>,
    /// Why keycard cannot use it.
    pub reason: &'static str,
}

/// Why a member of a JWK Set cannot be used for verification, before it is parsed: another
/// key type or curve, `use` other than `sig`, a missing or unknown `alg`, a symmetric key.
fn unusable(map: &Map<String, Value>) -> Option<&'static str> {
    let text = |k: &str| map.get(k).and_then(Value::as_str);
    let kty = text("kty")?;
    let crv = text("crv");
    match (kty, crv) {
        ("RSA", _) | ("OKP", Some("Ed25519")) | ("EC", Some("P-256" | "P-384")) => {}
        ("oct", _) => return Some("a symmetric key: never taken from a JWK Set"),
        ("OKP" | "EC", _) => return Some("an unsupported curve"),
        _ => return Some("an unsupported key type"),
    }
    if map.contains_key("use") && text("use") != Some("sig") {
        return Some("not a signature key (use is not sig)");
    }
    let Some(alg) = text("alg") else {
        return Some("no alg (the algorithm must be bound to the key)");
    };
    match Algorithm::from_name(alg) {
        Some(a) if a.format() == Format::Jwt && a.is_asymmetric() => None,
        _ => Some("an algorithm keycard does not verify"),
    }
}

/// Another issuer's JWK Set, for verification: every usable public key, as a
/// [`KeyPurpose::Foreign`] key, and the keys skipped with their reasons. A malformed key of a
/// supported type (bad encoding, a point off the curve, a short RSA modulus, a private member, an
/// `alg` that contradicts `kty`) or two keys with one kid refuse the whole set.
pub(crate) fn foreign_keys_from_jwk_set(text: &str) -> Result<(Vec<Key>, Vec<SkippedKey>)> {
    let mut keys: Vec<Key> = Vec::new();
    let mut skipped = Vec::new();
    for member in jwk_set_members(text)? {
        let Value::Object(mut map) = member else {
            return Err(invalid("a JWK Set member is not a JSON object"));
        };
        if !map.get("kty").is_some_and(Value::is_string) {
            return Err(invalid("a JWK without kty"));
        }
        let kid = map.get("kid").and_then(Value::as_str).map(str::to_owned);
        if let Some(reason) = unusable(&map) {
            skipped.push(SkippedKey { kid, reason });
            continue;
        }
        if kid.is_none() {
            skipped.push(SkippedKey {
                kid: None,
                reason: "no kid (tokens name their key by kid)",
            });
            continue;
        }
        // keycard's own state members mean nothing on another issuer's key.
        for m in [
            ACTIVE_MEMBER,
            UNTIL_MEMBER,
            PURPOSE_MEMBER,
            VERIFY_ONLY_MEMBER,
        ] {
            map.remove(m);
        }
        let (key, _) = key_from_jwk_value(Value::Object(map), &JwkOverrides::default())?;
        if key.has_secret() {
            return Err(invalid("a private key in a public JWK Set"));
        }
        let key = key.with_purpose(KeyPurpose::Foreign)?;
        if keys.iter().any(|k| k.kid() == key.kid()) {
            return Err(invalid("duplicate kid in the JWK Set"));
        }
        keys.push(key);
    }
    Ok((keys, skipped))
}

/// The JWK of `key`: public members only, or with the secret member when `secret` is set.
pub(crate) fn key_to_jwk(
    key: &Key,
    secret: bool,
    state: Option<JwkState>,
) -> Option<Map<String, Value>> {
    let mut m = Map::new();
    let material = key.material();
    match key.algorithm() {
        Algorithm::EdDSA | Algorithm::V4Public => {
            m.insert("kty".into(), json!("OKP"));
            m.insert("crv".into(), json!("Ed25519"));
            m.insert("x".into(), json!(b64::encode(material.public_bytes()?)));
        }
        Algorithm::ES256 => {
            let p = material.public_bytes()?;
            m.insert("kty".into(), json!("EC"));
            m.insert("crv".into(), json!("P-256"));
            m.insert("x".into(), json!(b64::encode(&p[1..33])));
            m.insert("y".into(), json!(b64::encode(&p[33..])));
        }
        Algorithm::RS256 | Algorithm::PS256 => {
            let (n, e) = material.rsa_components()?;
            m.insert("kty".into(), json!("RSA"));
            m.insert("n".into(), json!(b64::encode(n)));
            m.insert("e".into(), json!(b64::encode(e)));
        }
        Algorithm::ES384 => {
            let p = material.public_bytes()?;
            m.insert("kty".into(), json!("EC"));
            m.insert("crv".into(), json!("P-384"));
            m.insert("x".into(), json!(b64::encode(&p[1..49])));
            m.insert("y".into(), json!(b64::encode(&p[49..])));
        }
        Algorithm::HS256 | Algorithm::V4Local => {
            if !secret {
                return None;
            }
            m.insert("kty".into(), json!("oct"));
        }
    }
    if secret && key.has_secret() {
        let s = key.secret_bytes()?;
        let name = if key.algorithm().is_asymmetric() {
            "d"
        } else {
            "k"
        };
        m.insert(name.into(), Value::String(b64::encode(&s)));
    }
    m.insert("alg".into(), json!(key.algorithm().name()));
    m.insert("kid".into(), json!(key.kid().as_str()));
    let u = if key.algorithm() == Algorithm::V4Local {
        "enc"
    } else {
        "sig"
    };
    m.insert("use".into(), json!(u));
    if key.purpose() != KeyPurpose::Access {
        m.insert(PURPOSE_MEMBER.into(), json!(key.purpose().name()));
    }
    if let Some(state) = state {
        if state.active {
            m.insert(ACTIVE_MEMBER.into(), json!(true));
        }
        if state.verify_only {
            m.insert(VERIFY_ONLY_MEMBER.into(), json!(true));
        }
        if let Some(t) = state.verify_until {
            m.insert(UNTIL_MEMBER.into(), json!(t.as_unix()));
        }
    }
    Some(m)
}

/// Serializes JSON holding secret members into zeroizing text, then wipes the strings of `v`.
///
/// The output buffer is allocated once at its exact size (measured by a first, counting pass), so
/// it never grows: growing would leave copies of the secret behind in freed memory.
pub(crate) fn secret_json_text(mut v: Value) -> Zeroizing<String> {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0 += b.len();
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Writing a Value cannot fail.
    let _ = serde_json::to_writer(&mut count, &v);
    let mut buf = Zeroizing::new(Vec::with_capacity(count.0));
    let _ = serde_json::to_writer(&mut *buf, &v);
    scrub(&mut v);
    Zeroizing::new(String::from_utf8(std::mem::take(&mut *buf)).unwrap_or_default())
}

fn scrub(v: &mut Value) {
    use zeroize::Zeroize;
    match v {
        Value::String(s) => s.zeroize(),
        Value::Array(a) => a.iter_mut().for_each(scrub),
        Value::Object(m) => m.values_mut().for_each(scrub),
        _ => {}
    }
}

/// The RFC 7638 thumbprint (SHA-256, base64url) of an asymmetric key's public JWK.
pub(crate) fn thumbprint(key: &Key) -> Option<String> {
    if let Some((n, e)) = key.material().rsa_components() {
        let canonical = format!(
            r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
            b64::encode(e),
            b64::encode(n)
        );
        let digest = ring::digest::digest(&ring::digest::SHA256, canonical.as_bytes());
        return Some(b64::encode(digest.as_ref()));
    }
    let p = key.material().public_bytes()?;
    // Required members only, in lexicographic order, no whitespace (RFC 7638 §3).
    let canonical = match key.algorithm() {
        Algorithm::EdDSA | Algorithm::V4Public => format!(
            r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
            b64::encode(p)
        ),
        Algorithm::ES256 => format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            b64::encode(&p[1..33]),
            b64::encode(&p[33..])
        ),
        Algorithm::ES384 => format!(
            r#"{{"crv":"P-384","kty":"EC","x":"{}","y":"{}"}}"#,
            b64::encode(&p[1..49]),
            b64::encode(&p[49..])
        ),
        Algorithm::HS256 | Algorithm::V4Local | Algorithm::RS256 | Algorithm::PS256 => {
            return None;
        }
    };
    let digest = ring::digest::digest(&ring::digest::SHA256, canonical.as_bytes());
    Some(b64::encode(digest.as_ref()))
}

impl Key {
    /// Imports a key from a JWK (public or private). The JWK must carry `alg` and `kid`.
    ///
    /// ```
    /// use keycard::keys::Key;
    /// let jwk = r#"{"kty":"OKP","crv":"Ed25519","alg":"EdDSA","kid":"rfc8037",
    ///               "x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
    /// let key = Key::from_jwk(jwk)?;
    /// assert_eq!(key.kid().as_str(), "rfc8037");
    /// assert_eq!(key.jwk_thumbprint().unwrap(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    /// # Ok::<(), keycard::Error>(())
    /// ```
    pub fn from_jwk(text: &str) -> Result<Key> {
        Key::from_jwk_with(text, None, None)
    }

    /// Imports a key from a JWK, supplying the algorithm (it must agree with the JWK's `alg` when
    /// that is present) and/or the kid (it replaces the JWK's `kid`; for PASETO keys it must be
    /// the PASERK id).
    pub fn from_jwk_with(text: &str, alg: Option<Algorithm>, kid: Option<Kid>) -> Result<Key> {
        let v = parse_jwk_text(text)?;
        key_from_jwk_value(v, &JwkOverrides { alg, kid }).map(|(k, _)| k)
    }

    /// The public JWK of an asymmetric key (never a private member); `None` for HS256 and
    /// `v4.local`.
    pub fn to_public_jwk(&self) -> Option<String> {
        key_to_jwk(self, false, None).map(|m| Value::Object(m).to_string())
    }

    /// The JWK with the secret member (`d` or `k`); `None` for a public-only key. Handle the
    /// result as the secret it is.
    pub fn to_secret_jwk(&self) -> Option<Zeroizing<String>> {
        if !self.has_secret() {
            return None;
        }
        key_to_jwk(self, true, None).map(|m| secret_json_text(Value::Object(m)))
    }

    /// The RFC 7638 JWK thumbprint (SHA-256, base64url) of an asymmetric key; `None` for
    /// symmetric keys, whose thumbprint would be a hash of the secret.
    pub fn jwk_thumbprint(&self) -> Option<String> {
        thumbprint(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_round_trips() {
        for alg in Algorithm::MINTED {
            let key = Key::generate(alg).unwrap();
            let secret = key.to_secret_jwk().unwrap();
            let back = Key::from_jwk(&secret).unwrap();
            assert_eq!(back.kid(), key.kid());
            assert_eq!(back.algorithm(), alg);
            assert_eq!(back.secret_bytes(), key.secret_bytes());
            match key.to_public_jwk() {
                Some(public) => {
                    assert!(!public.contains("\"d\"") && !public.contains("\"k\""));
                    let p = Key::from_jwk(&public).unwrap();
                    assert!(!p.has_secret());
                    assert_eq!(p.public_key_bytes(), key.public_key_bytes());
                }
                None => assert!(!alg.is_asymmetric()),
            }
        }
    }

    #[test]
    fn refuses_confusion_and_foreign_members() {
        let ed = Key::generate(Algorithm::EdDSA).unwrap();
        let public = ed.to_public_jwk().unwrap();
        // Same bytes claimed as HS256 (algorithm confusion) or as ES256.
        for alg in [Algorithm::HS256, Algorithm::ES256] {
            assert_eq!(
                Key::from_jwk_with(&public, Some(alg), None)
                    .unwrap_err()
                    .kind(),
                "invalid_key"
            );
        }
        let swapped = public.replace("\"EdDSA\"", "\"HS256\"");
        assert!(Key::from_jwk(&swapped).is_err());
        let rsa = r#"{"kty":"RSA","alg":"RS256","kid":"r","n":"AQAB","e":"AQAB"}"#;
        assert!(Key::from_jwk(rsa).is_err());
        let dup = public.replacen("{", r#"{"kid":"a","#, 1);
        assert!(Key::from_jwk(&dup).is_err());
        let no_alg = r#"{"kty":"oct","kid":"h","k":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}"#;
        assert!(Key::from_jwk(no_alg).is_err());
        assert!(Key::from_jwk_with(no_alg, Some(Algorithm::HS256), None).is_ok());
        let short = r#"{"kty":"oct","kid":"h","alg":"HS256","k":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}"#;
        assert_eq!(Key::from_jwk(short).unwrap_err().kind(), "invalid_key");
        let enc_use = public.replace("\"sig\"", "\"enc\"");
        assert!(Key::from_jwk(&enc_use).is_err());
    }

    #[test]
    fn paseto_jwk_kid_must_be_paserk_id() {
        let k = Key::generate(Algorithm::V4Local).unwrap();
        let jwk = k.to_secret_jwk().unwrap();
        let renamed = jwk.replace(k.kid().as_str(), "other");
        assert!(Key::from_jwk(&renamed).is_err());
        let unnamed = jwk.replace(&format!(r#","kid":"{}""#, k.kid()), "");
        assert_eq!(Key::from_jwk(&unnamed).unwrap().kid(), k.kid());
    }
}
