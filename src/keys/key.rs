//! One key: a [`Kid`], the [`Algorithm`] it is bound to, and its material.

use std::fmt;

use zeroize::Zeroizing;

use super::material::Material;
use super::{Algorithm, Format, KeyPurpose, Kid};
use crate::error::{Error, Result};

/// A signing, verifying or encrypting key, bound to one [`Algorithm`] and named by a [`Kid`].
///
/// A `Key` either holds secret material (it can mint tokens) or only the public half of an
/// asymmetric key (it can only verify). Secret material is zeroized on drop, never serialized
/// implicitly, and redacted from `Debug`:
///
/// ```
/// use keycard::keys::{Algorithm, Key};
/// let key = Key::generate(Algorithm::HS256)?;
/// let shown = format!("{key:?}");
/// assert!(shown.contains("HS256") && shown.contains("redacted"));
/// # Ok::<(), keycard::Error>(())
/// ```
pub struct Key {
    kid: Kid,
    alg: Algorithm,
    purpose: KeyPurpose,
    material: Material,
    /// Wire prefixes computed on first use and kept (for JWT keys: the base64url JOSE header of
    /// access and refresh tokens), so minting never re-serializes them.
    prefixes: [std::sync::OnceLock<String>; 2],
}

impl Key {
    /// A fresh key from the OS CSPRNG.
    ///
    /// The kid is the key's PASERK id for `v4.public` / `v4.local` (what PASETO footers carry)
    /// and a random 22-character id for JWT keys.
    pub fn generate(alg: Algorithm) -> Result<Key> {
        let material = Material::generate(alg)?;
        let kid = match alg.format() {
            Format::Jwt => Kid::random()?,
            Format::V4Public | Format::V4Local => super::paserk::paserk_id(alg, &material)?,
        };
        Ok(Key::assemble(kid, alg, material))
    }

    fn assemble(kid: Kid, alg: Algorithm, material: Material) -> Key {
        Key {
            kid,
            alg,
            purpose: if alg.can_mint() {
                KeyPurpose::Access
            } else {
                KeyPurpose::Foreign
            },
            material,
            prefixes: Default::default(),
        }
    }

    /// A fresh refresh-token key: `v4.local`, from the OS CSPRNG, kid its PASERK id. It seals the
    /// refresh tokens of a [`Keycard`](crate::Keycard) and is never published.
    pub fn generate_refresh() -> Result<Key> {
        Key::generate(Algorithm::V4Local)?.with_purpose(KeyPurpose::Refresh)
    }

    /// This key with another purpose. Only `v4.local` keys may seal refresh tokens; only
    /// public JWT keys may be another issuer's; keys of the algorithms keycard only verifies are
    /// always another issuer's.
    pub(crate) fn with_purpose(mut self, purpose: KeyPurpose) -> Result<Key> {
        if purpose == KeyPurpose::Refresh && self.alg != Algorithm::V4Local {
            return Err(Error::InvalidKey("a refresh-token key is a v4.local key"));
        }
        if purpose == KeyPurpose::Foreign
            && (self.alg.format() != Format::Jwt || !self.alg.is_asymmetric() || self.has_secret())
        {
            return Err(Error::InvalidKey(
                "another issuer's key is the public key of an asymmetric JWT algorithm",
            ));
        }
        if purpose != KeyPurpose::Foreign && !self.alg.can_mint() {
            return Err(Error::InvalidKey(
                "keycard only verifies RS256, PS256 and ES384: such a key is another issuer's",
            ));
        }
        self.purpose = purpose;
        Ok(self)
    }

    /// The cached wire prefix `slot` (0 or 1), computed by `make` on first use.
    pub(crate) fn prefix(&self, slot: usize, make: impl FnOnce() -> String) -> &str {
        self.prefixes[slot % 2].get_or_init(make)
    }

    /// A fresh key with a chosen kid. For PASETO keys the kid must be the key's PASERK id, which
    /// is unknown before generation, so only JWT algorithms accept a chosen kid.
    pub fn generate_with_kid(alg: Algorithm, kid: Kid) -> Result<Key> {
        if alg.format() != Format::Jwt {
            return Err(Error::Config(format!(
                "the kid of a {alg} key is its PASERK id; it cannot be chosen"
            )));
        }
        Ok(Key::assemble(kid, alg, Material::generate(alg)?))
    }

    /// Builds a key from material, checking the kid rules of its format.
    pub(crate) fn from_parts(alg: Algorithm, kid: Option<Kid>, material: Material) -> Result<Key> {
        let kid = match alg.format() {
            Format::Jwt => kid.ok_or(Error::InvalidKey("a JWT key needs a kid"))?,
            Format::V4Public | Format::V4Local => {
                let id = super::paserk::paserk_id(alg, &material)?;
                if let Some(given) = kid
                    && given != id
                {
                    return Err(Error::InvalidKey(
                        "the kid of a PASETO key must be its PASERK id",
                    ));
                }
                id
            }
        };
        Ok(Key::assemble(kid, alg, material))
    }

    /// The key id.
    pub fn kid(&self) -> &Kid {
        &self.kid
    }

    /// The algorithm this key is bound to.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// What this key seals: access tokens or refresh tokens.
    pub fn purpose(&self) -> KeyPurpose {
        self.purpose
    }

    /// The token format this key serves.
    pub fn format(&self) -> Format {
        self.alg.format()
    }

    /// Whether the key holds secret material (can mint), rather than only a public key.
    pub fn has_secret(&self) -> bool {
        self.material.has_secret()
    }

    /// A public-only copy of an asymmetric key (same kid and algorithm); `None` for HS256 and
    /// `v4.local`, which have no public half.
    pub fn to_public(&self) -> Option<Key> {
        let mut public = Key::assemble(self.kid.clone(), self.alg, self.material.to_public()?);
        public.purpose = self.purpose;
        Some(public)
    }

    /// A public-only copy of this asymmetric JWT key marked as another issuer's
    /// ([`KeyPurpose::Foreign`]): it verifies access tokens with `typ` `JWT`, `at+jwt` or none,
    /// and never signs.
    pub fn to_foreign(&self) -> Result<Key> {
        self.to_public()
            .ok_or(Error::InvalidKey(
                "another issuer's key is the public key of an asymmetric JWT algorithm",
            ))?
            .with_purpose(KeyPurpose::Foreign)
    }

    /// The raw public key: 32 bytes for Ed25519, the 65-byte uncompressed point for P-256.
    pub fn public_key_bytes(&self) -> Option<&[u8]> {
        self.material.public_bytes()
    }

    pub(crate) fn material(&self) -> &Material {
        &self.material
    }

    pub(crate) fn secret_bytes(&self) -> Option<Zeroizing<Vec<u8>>> {
        self.material.secret_bytes()
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("purpose", &self.purpose)
            .field(
                "material",
                &if self.has_secret() {
                    "secret (redacted)"
                } else {
                    "public"
                },
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_secret_bytes() {
        for alg in Algorithm::MINTED {
            let key = Key::generate(alg).unwrap();
            let shown = format!("{key:?}");
            assert!(shown.contains("redacted"), "{shown}");
            let secret = key.secret_bytes().unwrap();
            let as_b64 = crate::encoding::b64::encode(&secret);
            let as_hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
            assert!(!shown.contains(&as_b64) && !shown.contains(&as_hex));
            assert!(!shown.contains(&format!("{:?}", &secret[..4])));
        }
    }

    #[test]
    fn paseto_kids_are_paserk_ids() {
        let k = Key::generate(Algorithm::V4Public).unwrap();
        assert!(k.kid().as_str().starts_with("k4.pid."));
        let k = Key::generate(Algorithm::V4Local).unwrap();
        assert!(k.kid().as_str().starts_with("k4.lid."));
        assert!(Key::generate_with_kid(Algorithm::V4Local, Kid::new("x").unwrap()).is_err());
        let k = Key::generate_with_kid(Algorithm::EdDSA, Kid::new("main").unwrap()).unwrap();
        assert_eq!(k.kid().as_str(), "main");
    }

    #[test]
    fn public_copies_cannot_sign() {
        let k = Key::generate(Algorithm::EdDSA).unwrap();
        let p = k.to_public().unwrap();
        assert!(!p.has_secret());
        assert_eq!(p.kid(), k.kid());
        assert_eq!(p.public_key_bytes(), k.public_key_bytes());
        assert_eq!(p.material().sign(&[b"x"]).err().unwrap().kind(), "config");
        assert!(
            Key::generate(Algorithm::HS256)
                .unwrap()
                .to_public()
                .is_none()
        );
    }
}
