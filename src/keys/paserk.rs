//! PASERK (PASETO serialized keys), version 4: `k4.public.`, `k4.secret.`, `k4.local.` and the
//! key ids `k4.pid.` / `k4.lid.`, through pasetors' implementation.
//!
//! PASERK strings are only defined for PASETO keys, so JWT keys (even Ed25519 ones) are never
//! exported or imported this way: one key, one protocol.

use pasetors::keys::AsymmetricPublicKey;
use pasetors::paserk::{FormatAsPaserk, Id};
use pasetors::version4::V4;
use zeroize::Zeroizing;

use super::material::Material;
use super::{Algorithm, Key, Kid};
use crate::error::{Error, Result};

/// The longest PASERK string accepted on import (a `k4.secret.` is 96 characters).
const MAX_PASERK_LEN: usize = 128;

fn paserk_string(value: &dyn FormatAsPaserk) -> Result<String> {
    let mut out = String::new();
    value
        .fmt(&mut out)
        .map_err(|_| Error::InvalidKey("PASERK serialization failed"))?;
    Ok(out)
}

/// `k4.pid.` of a raw Ed25519 public key.
pub(crate) fn pid_of(public: &[u8]) -> Result<String> {
    let pk = AsymmetricPublicKey::<V4>::from(public)
        .map_err(|_| Error::InvalidKey("a v4.public key is 32 bytes"))?;
    paserk_string(&Id::from(&pk))
}

/// `k4.lid.` of a raw v4.local key: `"k4.lid." || base64url(BLAKE2b-264("k4.lid." || k4.local))`
/// (PASERK `lid`), hashed from a zeroizing copy of the `k4.local.` text.
pub(crate) fn lid_of(local: &[u8]) -> Result<String> {
    use orion::hazardous::hash::blake2::blake2b::Blake2b;
    let paserk = encode_local(local)?;
    let fail = |_| Error::Crypto("BLAKE2b failed");
    let mut h = Blake2b::new(33).map_err(fail)?;
    h.update(b"k4.lid.").map_err(fail)?;
    h.update(paserk.as_bytes()).map_err(fail)?;
    let digest = h.finalize().map_err(fail)?;
    Ok(format!(
        "k4.lid.{}",
        crate::encoding::b64::encode(digest.as_ref())
    ))
}

/// `k4.public.` of a raw Ed25519 public key.
pub(crate) fn encode_public(public: &[u8]) -> Result<String> {
    let pk = AsymmetricPublicKey::<V4>::from(public)
        .map_err(|_| Error::InvalidKey("a v4.public key is 32 bytes"))?;
    paserk_string(&pk)
}

/// `k4.secret.` of an Ed25519 seed and its public key: base64url(seed || public).
///
/// Written here rather than through pasetors: pasetors' secret-key constructor re-derives the
/// key pair with ed25519-compact, which panics on an all-zero seed.
pub(crate) fn encode_secret(seed: &[u8], public: &[u8]) -> Result<Zeroizing<String>> {
    if seed.len() != 32 || public.len() != 32 {
        return Err(Error::InvalidKey("not an Ed25519 key pair"));
    }
    let mut both = Zeroizing::new([0u8; 64]);
    both[..32].copy_from_slice(seed);
    both[32..].copy_from_slice(public);
    let mut out = Zeroizing::new(String::with_capacity(10 + 86));
    out.push_str("k4.secret.");
    crate::encoding::b64::encode_into(&both[..], &mut out);
    Ok(out)
}

/// Decodes a `k4.secret.` into its seed and public key (not yet checked against each other).
fn decode_secret(text: &str) -> Result<Zeroizing<[u8; 64]>> {
    let b64 = text
        .strip_prefix("k4.secret.")
        .ok_or(Error::InvalidKey("not a k4.secret PASERK"))?;
    let mut both = Zeroizing::new([0u8; 64]);
    match crate::encoding::b64::decoded_len(b64.len()) {
        Some(64) => {}
        _ => return Err(Error::InvalidKey("a k4.secret holds 64 bytes")),
    }
    crate::encoding::b64::decode_to_slice(b64, &mut both[..])
        .map_err(|_| Error::InvalidKey("not a valid k4 PASERK"))?;
    Ok(both)
}

/// `k4.local.` of a raw v4.local key, written into a buffer of its exact size.
pub(crate) fn encode_local(local: &[u8]) -> Result<Zeroizing<String>> {
    if local.len() != 32 {
        return Err(Error::InvalidKey("a v4.local key is 32 bytes"));
    }
    let mut out = Zeroizing::new(String::with_capacity(9 + 43));
    out.push_str("k4.local.");
    crate::encoding::b64::encode_into(local, &mut out);
    Ok(out)
}

/// Decodes a `k4.local.` into its 32 bytes, into a zeroizing buffer.
fn decode_local(text: &str) -> Result<Zeroizing<[u8; 32]>> {
    let b64 = text
        .strip_prefix("k4.local.")
        .ok_or(Error::InvalidKey("not a k4.local PASERK"))?;
    if crate::encoding::b64::decoded_len(b64.len()) != Some(32) {
        return Err(Error::InvalidKey("a k4.local holds 32 bytes"));
    }
    let mut key = Zeroizing::new([0u8; 32]);
    crate::encoding::b64::decode_to_slice(b64, &mut key[..])
        .map_err(|_| Error::InvalidKey("not a valid k4 PASERK"))?;
    Ok(key)
}

/// The PASERK id of a PASETO key's material: what its tokens' footers carry as `kid`.
pub(crate) fn paserk_id(alg: Algorithm, material: &Material) -> Result<Kid> {
    let id = match (alg, material) {
        (Algorithm::V4Public, Material::Ed25519 { verifying, .. }) => pid_of(verifying.as_bytes())?,
        (Algorithm::V4Local, Material::V4Local(k)) => lid_of(k.as_bytes())?,
        _ => return Err(Error::InvalidKey("only PASETO v4 keys have PASERK ids")),
    };
    Kid::new(&id)
}

impl Key {
    /// Imports a `k4.public.`, `k4.secret.` or `k4.local.` PASERK. The kid is the PASERK id.
    ///
    /// ```
    /// use keycard::keys::{Algorithm, Key};
    /// let key = Key::generate(Algorithm::V4Public)?;
    /// let public = Key::from_paserk(&key.to_paserk_public().unwrap())?;
    /// assert_eq!(public.kid(), key.kid());
    /// assert!(!public.has_secret());
    /// # Ok::<(), keycard::Error>(())
    /// ```
    pub fn from_paserk(text: &str) -> Result<Key> {
        if text.len() > MAX_PASERK_LEN {
            return Err(Error::InvalidKey("PASERK string too long"));
        }
        let bad = |_| Error::InvalidKey("not a valid k4 PASERK");
        let (alg, material) = if text.starts_with("k4.public.") {
            let pk = AsymmetricPublicKey::<V4>::try_from(text).map_err(bad)?;
            (
                Algorithm::V4Public,
                Material::ed25519_public(pk.as_bytes())?,
            )
        } else if text.starts_with("k4.secret.") {
            let both = decode_secret(text)?;
            let (seed, public) = both.split_at(32);
            let m = Material::ed25519_from_seed_checked(seed, Some(public))?;
            (Algorithm::V4Public, m)
        } else if text.starts_with("k4.local.") {
            let k = decode_local(text)?;
            (Algorithm::V4Local, Material::v4_local(&k[..])?)
        } else if text.starts_with("k4.pid.") || text.starts_with("k4.lid.") {
            return Err(Error::InvalidKey(
                "a PASERK id names a key; it does not contain one",
            ));
        } else {
            return Err(Error::InvalidKey(
                "expected a k4.public., k4.secret. or k4.local. PASERK",
            ));
        };
        Key::from_parts(alg, None, material)
    }

    /// The `k4.public.` PASERK of a `v4.public` key; `None` for other algorithms.
    pub fn to_paserk_public(&self) -> Option<String> {
        if self.algorithm() != Algorithm::V4Public {
            return None;
        }
        encode_public(self.public_key_bytes()?).ok()
    }

    /// The secret PASERK (`k4.secret.` for `v4.public`, `k4.local.` for `v4.local`) of a key
    /// holding secret material; `None` otherwise. Handle the result as the secret it is.
    pub fn to_paserk_secret(&self) -> Option<Zeroizing<String>> {
        let secret = self.secret_bytes()?;
        match self.algorithm() {
            Algorithm::V4Public => encode_secret(&secret, self.public_key_bytes()?).ok(),
            Algorithm::V4Local => encode_local(&secret).ok(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let k = Key::generate(Algorithm::V4Public).unwrap();
        let secret = k.to_paserk_secret().unwrap();
        assert!(secret.starts_with("k4.secret."));
        let back = Key::from_paserk(&secret).unwrap();
        assert!(back.has_secret());
        assert_eq!(back.kid(), k.kid());
        let public = Key::from_paserk(&k.to_paserk_public().unwrap()).unwrap();
        assert!(!public.has_secret());
        assert_eq!(public.kid(), k.kid());
        assert_eq!(public.to_paserk_secret(), None);

        let l = Key::generate(Algorithm::V4Local).unwrap();
        assert_eq!(l.to_paserk_public(), None);
        let back = Key::from_paserk(&l.to_paserk_secret().unwrap()).unwrap();
        assert_eq!(back.kid(), l.kid());
        assert_eq!(back.algorithm(), Algorithm::V4Local);
    }

    #[test]
    fn jwt_keys_have_no_paserk() {
        let k = Key::generate(Algorithm::EdDSA).unwrap();
        assert_eq!(k.to_paserk_public(), None);
        assert_eq!(k.to_paserk_secret(), None);
    }

    #[test]
    fn refuses_ids_other_versions_and_garbage() {
        let k = Key::generate(Algorithm::V4Public).unwrap();
        for bad in [
            k.kid().as_str().to_string(),
            "k3.public.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into(),
            "k4.public.AAAA".into(),
            "k4.public.".into(),
            "k4.local.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into(),
            "k4.local.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.x".into(),
            "x".repeat(10_000),
            String::new(),
        ] {
            assert_eq!(
                Key::from_paserk(&bad).unwrap_err().kind(),
                "invalid_key",
                "{bad}"
            );
        }
    }
}

#[cfg(test)]
mod vectors {
    //! The official PASERK k4 vectors (tests/vectors/paseto/k4.*.json). keycard refuses
    //! small-order Ed25519 points when it imports a key, so the all-zero public key of
    //! `k4.public-1` / `k4.pid-1` is checked at the codec level and refused at the key level.
    use super::*;
    use serde_json::Value;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn cases(text: &str) -> Vec<Value> {
        let v: Value = serde_json::from_str(text).unwrap();
        v["tests"].as_array().unwrap().clone()
    }

    #[test]
    fn k4_public() {
        for t in cases(include_str!("../../tests/vectors/paseto/k4.public.json")) {
            let key = hex(t["key"].as_str().unwrap());
            match t["paserk"].as_str() {
                Some(paserk) => {
                    assert_eq!(encode_public(&key).unwrap(), paserk);
                    // Refused on import exactly when the bytes are no usable Ed25519 point.
                    let usable = <[u8; 32]>::try_from(&key[..])
                        .ok()
                        .and_then(|b| ed25519_dalek::VerifyingKey::from_bytes(&b).ok())
                        .is_some_and(|p| !p.is_weak());
                    match Key::from_paserk(paserk) {
                        Ok(k) => assert_eq!(k.public_key_bytes().unwrap(), &key[..]),
                        Err(e) => {
                            assert!(!usable, "{}", t["name"]);
                            assert_eq!(e.kind(), "invalid_key");
                        }
                    }
                }
                None => assert!(encode_public(&key).is_err(), "{}", t["name"]),
            }
        }
    }

    #[test]
    fn k4_secret() {
        for t in cases(include_str!("../../tests/vectors/paseto/k4.secret.json")) {
            let key = hex(t["key"].as_str().unwrap());
            match t["paserk"].as_str() {
                Some(paserk) => {
                    let (seed, public) = key.split_at(32);
                    assert_eq!(&*encode_secret(seed, public).unwrap(), paserk);
                    if seed == [0u8; 32] {
                        // A publicly known key: refused on import.
                        let e = Key::from_paserk(paserk).unwrap_err();
                        assert_eq!(e, Error::InvalidKey("an all-zero Ed25519 private key"));
                        continue;
                    }
                    let k = Key::from_paserk(paserk).unwrap();
                    assert_eq!(&k.secret_bytes().unwrap()[..], seed);
                    assert_eq!(&*k.to_paserk_secret().unwrap(), paserk);
                }
                None => {
                    let bad = key.len() != 64 || encode_secret(&key[..32], &key[32..]).is_err();
                    assert!(bad, "{}", t["name"]);
                }
            }
        }
    }

    #[test]
    fn k4_local() {
        for t in cases(include_str!("../../tests/vectors/paseto/k4.local.json")) {
            match (t["key"].as_str(), t["paserk"].as_str()) {
                (Some(key), Some(paserk)) => {
                    let key = hex(key);
                    assert_eq!(&*encode_local(&key).unwrap(), paserk);
                    let k = Key::from_paserk(paserk).unwrap();
                    assert_eq!(&k.secret_bytes().unwrap()[..], &key[..]);
                }
                (None, Some(paserk)) => {
                    assert!(Key::from_paserk(paserk).is_err(), "{}", t["name"]);
                }
                _ => unreachable!(),
            }
        }
    }

    #[test]
    fn k4_ids() {
        for t in cases(include_str!("../../tests/vectors/paseto/k4.pid.json")) {
            let key = hex(t["key"].as_str().unwrap());
            match t["paserk"].as_str() {
                Some(id) => assert_eq!(pid_of(&key).unwrap(), id),
                None => assert!(pid_of(&key).is_err(), "{}", t["name"]),
            }
        }
        for t in cases(include_str!("../../tests/vectors/paseto/k4.lid.json")) {
            let key = hex(t["key"].as_str().unwrap());
            match t["paserk"].as_str() {
                Some(id) => {
                    assert_eq!(lid_of(&key).unwrap(), id);
                    let k = Key::from_paserk(&encode_local(&key).unwrap()).unwrap();
                    assert_eq!(k.kid().as_str(), id, "a v4.local key's kid is its lid");
                }
                None => assert!(lid_of(&key).is_err(), "{}", t["name"]),
            }
        }
    }
}
