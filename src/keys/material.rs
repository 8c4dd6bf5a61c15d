//! Key material and the one conversion seam from raw key bytes to backend key objects.
//!
//! The root secret of each algorithm is kept in its standard raw form (Ed25519: the 32-byte seed;
//! P-256: the 32-byte scalar `d`; HMAC: the secret bytes; `v4.local`: the 32-byte key). Backend
//! objects are built here, once, when a key is created or imported, and never per token:
//!
//! | algorithm | sign | verify |
//! |---|---|---|
//! | EdDSA, v4.public | ed25519-dalek `SigningKey` | ed25519-dalek `VerifyingKey` (point decompressed once) |
//! | ES256 | ring `EcdsaKeyPair` | ring `ECDSA_P256_SHA256_FIXED` |
//! | HS256 | ring `hmac::Key` (pads hashed once) | the same key, constant-time compare |
//! | v4.local | pasetors `SymmetricKey<V4>` | the same key |
//! | RS256, PS256 (verify only) | — | ring `RSA_PKCS1_2048_8192_SHA256` / `RSA_PSS_2048_8192_SHA256` |
//! | ES384 (verify only) | — | ring `ECDSA_P384_SHA384_FIXED` |
//!
//! Secret bytes held here are zeroized on drop (`Zeroizing`, dalek's and pasetors' own `Drop`).
//! ring's `EcdsaKeyPair` and `hmac::Key` keep derived copies that ring does not zeroize; SECURITY.md
//! records this.

use ed25519_dalek::ed25519::signature::{MultipartSigner, MultipartVerifier};
use ed25519_dalek::{Signature as EdSignature, SigningKey, VerifyingKey};
use pasetors::keys::SymmetricKey;
use pasetors::version4::V4;
use rand::TryRng;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED,
    EcdsaKeyPair, KeyPair as _, RSA_PKCS1_2048_8192_SHA256, RSA_PSS_2048_8192_SHA256,
    RsaPublicKeyComponents,
};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::Algorithm;
use crate::error::{Error, Result};

/// Shortest HMAC secret accepted: 256 bits, the output size of SHA-256 (RFC 7518 §3.2).
pub(crate) const HMAC_MIN_LEN: usize = 32;
/// Longest HMAC secret accepted; longer secrets add nothing and are likely a mistake.
pub(crate) const HMAC_MAX_LEN: usize = 1024;
/// RSA moduli accepted, in bits: at least 2048 (NIST SP 800-131A), at most 8192 (ring's bound).
pub(crate) const RSA_MIN_BITS: usize = 2048;
pub(crate) const RSA_MAX_BITS: usize = 8192;

/// Fills `buf` from the operating system's CSPRNG.
pub(crate) fn os_random(buf: &mut [u8]) -> Result<()> {
    rand::rngs::SysRng
        .try_fill_bytes(buf)
        .map_err(|_| Error::Crypto("the OS random generator failed"))
}

/// A signature or MAC: at most 64 bytes.
pub(crate) struct Sig {
    bytes: [u8; 64],
    len: usize,
}

impl Sig {
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    fn from_slice(s: &[u8]) -> Sig {
        let mut bytes = [0u8; 64];
        bytes[..s.len()].copy_from_slice(s);
        Sig {
            bytes,
            len: s.len(),
        }
    }
}

/// An ECDSA P-256 private key: the scalar and ring's key pair built from it.
pub(crate) struct Es256Secret {
    d: Zeroizing<[u8; 32]>,
    pair: EcdsaKeyPair,
}

/// An HMAC secret and ring's key built from it.
pub(crate) struct HmacSecret {
    bytes: Zeroizing<Vec<u8>>,
    key: ring::hmac::Key,
}

/// The key material of one key, with its backend objects built.
pub(crate) enum Material {
    /// EdDSA or v4.public.
    Ed25519 {
        signing: Option<SigningKey>,
        verifying: VerifyingKey,
    },
    /// ES256; `public` is the uncompressed SEC1 point (0x04 || x || y).
    Es256 {
        secret: Option<Es256Secret>,
        public: [u8; 65],
    },
    /// HS256.
    Hs256(HmacSecret),
    /// v4.local.
    V4Local(SymmetricKey<V4>),
    /// RS256 or PS256 (verify only): the modulus and exponent, big-endian without leading zeros.
    Rsa { n: Vec<u8>, e: Vec<u8>, pss: bool },
    /// ES384 (verify only): the uncompressed SEC1 point (0x04 || x || y).
    Es384 { public: [u8; 97] },
}

impl Material {
    /// Fresh material for `alg` from the OS CSPRNG.
    pub(crate) fn generate(alg: Algorithm) -> Result<Material> {
        match alg {
            Algorithm::EdDSA | Algorithm::V4Public => {
                let mut seed = Zeroizing::new([0u8; 32]);
                os_random(&mut seed[..])?;
                Ok(Material::ed25519_from_seed(&seed))
            }
            Algorithm::ES256 => {
                let rng = ring::rand::SystemRandom::new();
                let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                    .map_err(|_| Error::Crypto("P-256 key generation failed"))?;
                let (d, public) = split_ring_p256_pkcs8(doc.as_ref())
                    .ok_or(Error::Crypto("unexpected P-256 PKCS#8 layout"))?;
                Material::es256_from_private(&d[..], Some(&public))
            }
            Algorithm::HS256 => {
                let mut secret = Zeroizing::new(vec![0u8; 32]);
                os_random(&mut secret[..])?;
                Material::hs256(&secret)
            }
            Algorithm::V4Local => {
                let mut key = Zeroizing::new([0u8; 32]);
                os_random(&mut key[..])?;
                Material::v4_local(&key[..])
            }
            Algorithm::RS256 | Algorithm::PS256 | Algorithm::ES384 => Err(Error::Config(format!(
                "keycard verifies {alg} tokens of other issuers but never mints them"
            ))),
        }
    }

    /// An RSA public key for RS256 (`pss` false) or PS256: a modulus of 2048 to 8192 bits and an
    /// odd public exponent of at least 3 that fits 33 bits (`e = 1` would make every signature its
    /// own message).
    pub(crate) fn rsa_public(n: &[u8], e: &[u8], pss: bool) -> Result<Material> {
        if n.first() == Some(&0) || e.first() == Some(&0) {
            return Err(Error::InvalidKey(
                "RSA n and e are big-endian without leading zero bytes (RFC 7518 6.3.1)",
            ));
        }
        let bits = n.len() * 8 - n.first().map_or(8, |b| b.leading_zeros() as usize);
        if bits < RSA_MIN_BITS {
            return Err(Error::InvalidKey("an RSA modulus shorter than 2048 bits"));
        }
        if bits > RSA_MAX_BITS {
            return Err(Error::InvalidKey("an RSA modulus longer than 8192 bits"));
        }
        if n.last().is_some_and(|b| b % 2 == 0) {
            return Err(Error::InvalidKey("an even RSA modulus"));
        }
        let e_value = e
            .iter()
            .try_fold(0u64, |acc, b| {
                acc.checked_mul(256).map(|v| v + u64::from(*b))
            })
            .filter(|_| e.len() <= 5);
        match e_value {
            Some(v) if v >= 3 && v % 2 == 1 && v < (1u64 << 33) => {}
            _ => {
                return Err(Error::InvalidKey(
                    "an RSA public exponent must be odd, at least 3 and at most 33 bits",
                ));
            }
        }
        Ok(Material::Rsa {
            n: n.to_vec(),
            e: e.to_vec(),
            pss,
        })
    }

    /// A P-384 public key (uncompressed point); points off the curve are refused.
    pub(crate) fn es384_public(public: &[u8; 97]) -> Result<Material> {
        let rng = ring::rand::SystemRandom::new();
        let eph = ring::agreement::EphemeralPrivateKey::generate(&ring::agreement::ECDH_P384, &rng)
            .map_err(|_| Error::Crypto("P-384 key generation failed"))?;
        let peer = ring::agreement::UnparsedPublicKey::new(&ring::agreement::ECDH_P384, public);
        ring::agreement::agree_ephemeral(eph, &peer, |_| ())
            .map_err(|_| Error::InvalidKey("not a P-384 point"))?;
        Ok(Material::Es384 { public: *public })
    }

    /// The exact length of this material's signatures, for JWT checks: 64 for Ed25519 and
    /// P-256, 32 for HMAC, 96 for P-384, the modulus length for RSA.
    pub(crate) fn signature_len(&self) -> usize {
        match self {
            Material::Ed25519 { .. } | Material::Es256 { .. } => 64,
            Material::Hs256(_) => 32,
            Material::Es384 { .. } => 96,
            Material::Rsa { n, .. } => n.len(),
            Material::V4Local(_) => 0,
        }
    }

    /// Ed25519 from its 32-byte seed.
    pub(crate) fn ed25519_from_seed(seed: &[u8; 32]) -> Material {
        let signing = SigningKey::from_bytes(seed);
        let verifying = signing.verifying_key();
        Material::Ed25519 {
            signing: Some(signing),
            verifying,
        }
    }

    /// Ed25519 from its seed and the public key stored beside it, which must match.
    pub(crate) fn ed25519_from_seed_checked(
        seed: &[u8],
        public: Option<&[u8]>,
    ) -> Result<Material> {
        let seed: &[u8; 32] = seed
            .try_into()
            .map_err(|_| Error::InvalidKey("an Ed25519 private key is 32 bytes"))?;
        if seed == &[0u8; 32] {
            return Err(Error::InvalidKey("an all-zero Ed25519 private key"));
        }
        let m = Material::ed25519_from_seed(seed);
        if let (Some(public), Material::Ed25519 { verifying, .. }) = (public, &m)
            && verifying.as_bytes().as_slice() != public
        {
            return Err(Error::InvalidKey(
                "the Ed25519 public key does not match the private key",
            ));
        }
        Ok(m)
    }

    /// An Ed25519 public key; points that do not decode and small-order (weak) points are refused.
    pub(crate) fn ed25519_public(public: &[u8]) -> Result<Material> {
        let bytes: &[u8; 32] = public
            .try_into()
            .map_err(|_| Error::InvalidKey("an Ed25519 public key is 32 bytes"))?;
        let verifying = VerifyingKey::from_bytes(bytes)
            .map_err(|_| Error::InvalidKey("not an Ed25519 point"))?;
        if verifying.is_weak() {
            return Err(Error::InvalidKey("a small-order Ed25519 point"));
        }
        Ok(Material::Ed25519 {
            signing: None,
            verifying,
        })
    }

    /// A P-256 private key from `d`, with its public point when known (it is then checked).
    pub(crate) fn es256_from_private(d: &[u8], public: Option<&[u8; 65]>) -> Result<Material> {
        let d: [u8; 32] = d
            .try_into()
            .map_err(|_| Error::InvalidKey("a P-256 private key is 32 bytes"))?;
        let d = Zeroizing::new(d);
        let rng = ring::rand::SystemRandom::new();
        let public = match public {
            Some(p) => *p,
            None => {
                return Err(Error::InvalidKey(
                    "a P-256 private key needs its public point",
                ));
            }
        };
        let pair = EcdsaKeyPair::from_private_key_and_public_key(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            &d[..],
            &public,
            &rng,
        )
        .map_err(|_| Error::InvalidKey("the P-256 private and public keys do not match"))?;
        debug_assert_eq!(pair.public_key().as_ref(), &public[..]);
        Ok(Material::Es256 {
            secret: Some(Es256Secret { d, pair }),
            public,
        })
    }

    /// A P-256 public key (uncompressed point); points off the curve are refused.
    pub(crate) fn es256_public(public: &[u8; 65]) -> Result<Material> {
        // ring has no stand-alone point validation for ECDSA keys; an ECDH agreement with a
        // throw-away key runs ring's full public-key validation (on curve, not infinity).
        let rng = ring::rand::SystemRandom::new();
        let eph = ring::agreement::EphemeralPrivateKey::generate(&ring::agreement::ECDH_P256, &rng)
            .map_err(|_| Error::Crypto("P-256 key generation failed"))?;
        let peer = ring::agreement::UnparsedPublicKey::new(&ring::agreement::ECDH_P256, public);
        ring::agreement::agree_ephemeral(eph, &peer, |_| ())
            .map_err(|_| Error::InvalidKey("not a P-256 point"))?;
        Ok(Material::Es256 {
            secret: None,
            public: *public,
        })
    }

    /// An HMAC-SHA-256 secret of 32 to 1024 bytes.
    pub(crate) fn hs256(secret: &[u8]) -> Result<Material> {
        if secret.len() < HMAC_MIN_LEN {
            return Err(Error::InvalidKey(
                "an HS256 secret must be at least 32 bytes (RFC 7518 3.2)",
            ));
        }
        if secret.len() > HMAC_MAX_LEN {
            return Err(Error::InvalidKey("an HS256 secret is at most 1024 bytes"));
        }
        Ok(Material::Hs256(HmacSecret {
            bytes: Zeroizing::new(secret.to_vec()),
            key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret),
        }))
    }

    /// A `v4.local` key: exactly 32 bytes.
    pub(crate) fn v4_local(key: &[u8]) -> Result<Material> {
        if key.len() != 32 {
            return Err(Error::InvalidKey("a v4.local key is 32 bytes"));
        }
        SymmetricKey::<V4>::from(key)
            .map(Material::V4Local)
            .map_err(|_| Error::InvalidKey("a v4.local key is 32 bytes"))
    }

    /// Whether this material can sign (or encrypt).
    pub(crate) fn has_secret(&self) -> bool {
        match self {
            Material::Ed25519 { signing, .. } => signing.is_some(),
            Material::Es256 { secret, .. } => secret.is_some(),
            Material::Hs256(_) | Material::V4Local(_) => true,
            Material::Rsa { .. } | Material::Es384 { .. } => false,
        }
    }

    /// The public half, for asymmetric keys: Ed25519 32 bytes, P-256 65 bytes (uncompressed).
    pub(crate) fn public_bytes(&self) -> Option<&[u8]> {
        match self {
            Material::Ed25519 { verifying, .. } => Some(verifying.as_bytes()),
            Material::Es256 { public, .. } => Some(public),
            Material::Es384 { public } => Some(public),
            // An RSA key's public half is two numbers: see `rsa_components`.
            Material::Hs256(_) | Material::V4Local(_) | Material::Rsa { .. } => None,
        }
    }

    /// An RSA key's modulus and exponent.
    pub(crate) fn rsa_components(&self) -> Option<(&[u8], &[u8])> {
        match self {
            Material::Rsa { n, e, .. } => Some((n, e)),
            _ => None,
        }
    }

    /// The secret half, for export: Ed25519 seed, P-256 `d`, HMAC secret, v4.local key.
    pub(crate) fn secret_bytes(&self) -> Option<Zeroizing<Vec<u8>>> {
        match self {
            Material::Ed25519 { signing, .. } => signing
                .as_ref()
                .map(|s| Zeroizing::new(s.as_bytes().to_vec())),
            Material::Es256 { secret, .. } => secret.as_ref().map(|s| Zeroizing::new(s.d.to_vec())),
            Material::Hs256(h) => Some(Zeroizing::new(h.bytes.to_vec())),
            Material::V4Local(k) => Some(Zeroizing::new(k.as_bytes().to_vec())),
            Material::Rsa { .. } | Material::Es384 { .. } => None,
        }
    }

    /// A copy of this material without its secret half, or `None` for symmetric keys.
    pub(crate) fn to_public(&self) -> Option<Material> {
        match self {
            Material::Ed25519 { verifying, .. } => Some(Material::Ed25519 {
                signing: None,
                verifying: *verifying,
            }),
            Material::Es256 { public, .. } => Some(Material::Es256 {
                secret: None,
                public: *public,
            }),
            Material::Rsa { n, e, pss } => Some(Material::Rsa {
                n: n.clone(),
                e: e.clone(),
                pss: *pss,
            }),
            Material::Es384 { public } => Some(Material::Es384 { public: *public }),
            Material::Hs256(_) | Material::V4Local(_) => None,
        }
    }

    pub(crate) fn local_key(&self) -> Option<&SymmetricKey<V4>> {
        match self {
            Material::V4Local(k) => Some(k),
            _ => None,
        }
    }

    /// Signs the concatenation of `parts`; a `config` error when this material cannot sign.
    pub(crate) fn sign(&self, parts: &[&[u8]]) -> Result<Sig> {
        match self {
            Material::Ed25519 {
                signing: Some(sk), ..
            } => {
                let sig: EdSignature = sk.multipart_sign(parts);
                Ok(Sig::from_slice(&sig.to_bytes()))
            }
            Material::Es256 {
                secret: Some(s), ..
            } => {
                let rng = ring::rand::SystemRandom::new();
                let joined;
                let msg = match parts {
                    [one] => *one,
                    _ => {
                        joined = parts.concat();
                        &joined
                    }
                };
                let sig = s
                    .pair
                    .sign(&rng, msg)
                    .map_err(|_| Error::Crypto("ECDSA signing failed"))?;
                let mut fixed = [0u8; 64];
                fixed.copy_from_slice(sig.as_ref());
                Ok(Sig::from_slice(&low_s(fixed)))
            }
            Material::Hs256(h) => Ok(Sig::from_slice(hmac(&h.key, parts).as_ref())),
            Material::Ed25519 { signing: None, .. }
            | Material::Es256 { secret: None, .. }
            | Material::Rsa { .. }
            | Material::Es384 { .. } => Err(Error::Config(
                "this key is public-only and cannot sign".into(),
            )),
            Material::V4Local(_) => Err(Error::Config(
                "a v4.local key encrypts; it does not sign".into(),
            )),
        }
    }

    /// Verifies `sig` over the concatenation of `parts`.
    pub(crate) fn verify(&self, parts: &[&[u8]], sig: &[u8]) -> bool {
        match self {
            Material::Ed25519 { verifying, .. } => {
                let Ok(sig) = <&[u8; 64]>::try_from(sig) else {
                    return false;
                };
                verifying
                    .multipart_verify(parts, &EdSignature::from_bytes(sig))
                    .is_ok()
            }
            Material::Es256 { public, .. } => {
                let key = ring::signature::UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, public);
                match parts {
                    [one] => key.verify(one, sig).is_ok(),
                    _ => key.verify(&parts.concat(), sig).is_ok(),
                }
            }
            Material::Hs256(h) => {
                let tag = hmac(&h.key, parts);
                sig.len() == tag.as_ref().len() && bool::from(tag.as_ref().ct_eq(sig))
            }
            Material::Rsa { n, e, pss } => {
                let params = if *pss {
                    &RSA_PSS_2048_8192_SHA256
                } else {
                    &RSA_PKCS1_2048_8192_SHA256
                };
                let key = RsaPublicKeyComponents { n, e };
                key.verify(params, &parts.concat(), sig).is_ok()
            }
            Material::Es384 { public } => {
                let key = ring::signature::UnparsedPublicKey::new(&ECDSA_P384_SHA384_FIXED, public);
                key.verify(&parts.concat(), sig).is_ok()
            }
            Material::V4Local(_) => false,
        }
    }
}

/// The order n of the P-256 group, big-endian.
const P256_N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];
/// floor(n / 2): an `s` above it is "high".
const P256_HALF_N: [u8; 32] = [
    0x7f, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xde, 0x73, 0x7d, 0x56, 0xd3, 0x8b, 0xcf, 0x42, 0x79, 0xdc, 0xe5, 0x61, 0x7e, 0x31, 0x92, 0xa8,
];

/// The canonical (low-s) form of an ECDSA P-256 signature `r || s`: `(r, s)` and `(r, n - s)`
/// both verify, so keycard always writes the one with `s <= n / 2`. (Verification accepts both,
/// as every other JOSE library signs either: a token's string is not unique, its `jti` is.)
pub(crate) fn low_s(mut sig: [u8; 64]) -> [u8; 64] {
    let mut s = [0u8; 32];
    s.copy_from_slice(&sig[32..]);
    // Arrays compare lexicographically: for equal-length big-endian numbers, numerically.
    if s > P256_HALF_N {
        sig[32..].copy_from_slice(&sub_be(&P256_N, &s));
    }
    sig
}

/// a - b for big-endian 256-bit numbers with a >= b.
fn sub_be(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut d = i16::from(a[i]) - i16::from(b[i]) - borrow;
        borrow = i16::from(d < 0);
        if d < 0 {
            d += 256;
        }
        out[i] = d as u8;
    }
    out
}

fn hmac(key: &ring::hmac::Key, parts: &[&[u8]]) -> ring::hmac::Tag {
    let mut ctx = ring::hmac::Context::with_key(key);
    for p in parts {
        ctx.update(p);
    }
    ctx.sign()
}

/// Splits the PKCS#8 document ring generates for a P-256 key into `d` and the public point.
///
/// ring writes `template-prefix || d || template-middle || public`, where the ECPrivateKey holds
/// `INTEGER 1, OCTET STRING (32) d, [1] BIT STRING (0x04 || x || y)`. The caller re-imports the pair
/// with `from_private_key_and_public_key`, which checks they belong together, so a layout change
/// in ring fails loudly instead of producing a wrong key.
fn split_ring_p256_pkcs8(doc: &[u8]) -> Option<(Zeroizing<[u8; 32]>, [u8; 65])> {
    const D_MARKER: [u8; 5] = [0x02, 0x01, 0x01, 0x04, 0x20];
    const PUB_MARKER: [u8; 4] = [0x03, 0x42, 0x00, 0x04];
    let d_at = doc.windows(5).position(|w| w == D_MARKER)? + D_MARKER.len();
    let d: [u8; 32] = doc.get(d_at..d_at + 32)?.try_into().ok()?;
    let p_at = doc.windows(4).rposition(|w| w == PUB_MARKER)? + PUB_MARKER.len() - 1;
    let public: [u8; 65] = doc.get(p_at..p_at + 65)?.try_into().ok()?;
    Some((Zeroizing::new(d), public))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_sign_and_verify() {
        for alg in [
            Algorithm::EdDSA,
            Algorithm::ES256,
            Algorithm::HS256,
            Algorithm::V4Public,
        ] {
            let m = Material::generate(alg).unwrap();
            let sig = m.sign(&[b"hello ", b"world"]).unwrap();
            assert!(m.verify(&[b"hello world"], sig.as_bytes()), "{alg}");
            assert!(m.verify(&[b"hello ", b"world"], sig.as_bytes()), "{alg}");
            assert!(!m.verify(&[b"hello world!"], sig.as_bytes()), "{alg}");
            let mut bad = sig.as_bytes().to_vec();
            bad[0] ^= 1;
            assert!(!m.verify(&[b"hello world"], &bad), "{alg}");
            assert!(!m.verify(&[b"hello world"], &bad[..bad.len() - 1]), "{alg}");
        }
    }

    #[test]
    fn es256_round_trips_through_raw_bytes() {
        let m = Material::generate(Algorithm::ES256).unwrap();
        let d = m.secret_bytes().unwrap();
        let public: [u8; 65] = m.public_bytes().unwrap().try_into().unwrap();
        let again = Material::es256_from_private(&d, Some(&public)).unwrap();
        let sig = again.sign(&[b"m"]).unwrap();
        assert!(m.verify(&[b"m"], sig.as_bytes()));
        let public_only = Material::es256_public(&public).unwrap();
        assert!(public_only.verify(&[b"m"], sig.as_bytes()));
        assert!(!public_only.has_secret());
        // A different public point does not match d.
        let other: [u8; 65] = Material::generate(Algorithm::ES256)
            .unwrap()
            .public_bytes()
            .unwrap()
            .try_into()
            .unwrap();
        assert!(Material::es256_from_private(&d, Some(&other)).is_err());
        // A point off the curve is refused.
        let mut off = public;
        off[64] ^= 1;
        assert_eq!(
            Material::es256_public(&off).err().unwrap().kind(),
            "invalid_key"
        );
    }

    #[test]
    fn es256_signatures_are_low_s_and_their_twins_still_verify() {
        let m = Material::generate(Algorithm::ES256).unwrap();
        for i in 0..200u32 {
            let msg = i.to_be_bytes();
            let sig: [u8; 64] = m.sign(&[&msg]).unwrap().as_bytes().try_into().unwrap();
            assert!(sig[32..] <= P256_HALF_N[..], "high s at {i}");
            let mut twin = sig;
            let mut s = [0u8; 32];
            s.copy_from_slice(&sig[32..]);
            twin[32..].copy_from_slice(&sub_be(&P256_N, &s));
            assert!(twin[32..] > P256_HALF_N[..]);
            assert!(m.verify(&[&msg], &sig));
            assert!(
                m.verify(&[&msg], &twin),
                "other libraries' high-s signatures verify"
            );
            assert_eq!(low_s(twin), sig);
        }
        assert_eq!(sub_be(&P256_N, &P256_N), [0; 32]);
        let mut one = [0u8; 32];
        one[31] = 1;
        assert_eq!(sub_be(&one, &one), [0; 32]);
    }

    #[test]
    fn ecdsa_zero_signature_is_rejected() {
        // CVE-2022-21449 ("psychic signatures"): r = s = 0 must never verify.
        let m = Material::generate(Algorithm::ES256).unwrap();
        assert!(!m.verify(&[b"anything"], &[0u8; 64]));
    }

    #[test]
    fn hmac_secret_length_bounds() {
        assert_eq!(
            Material::hs256(&[1; 31]).err().unwrap().kind(),
            "invalid_key"
        );
        assert!(Material::hs256(&[1; 32]).is_ok());
        assert!(Material::hs256(&[1; 1025]).is_err());
    }

    #[test]
    fn ed25519_weak_and_mismatched_keys_are_refused() {
        // The identity point (small order) encodes as 0x01 followed by zeros.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(Material::ed25519_public(&identity).is_err());
        let m = Material::generate(Algorithm::EdDSA).unwrap();
        let seed = m.secret_bytes().unwrap();
        assert!(Material::ed25519_from_seed_checked(&seed, m.public_bytes()).is_ok());
        assert!(Material::ed25519_from_seed_checked(&seed, Some(&[9u8; 32])).is_err());
        assert!(Material::ed25519_from_seed_checked(&seed[..31], None).is_err());
    }
}
