//! Key material, key ids, and the key ring with rotation.
//!
//! Every key is bound to exactly one [`Algorithm`] when it is created or imported; the algorithm is
//! never read from a token. Secret material is zeroized on drop and redacted from `Debug`.
//!
//! - [`Key`]: one key (secret or public-only) with its [`Kid`] and [`Algorithm`].
//! - [`KeyRing`]: the keys in use, one active signing key per [`Format`] (plus one refresh-token
//!   key), older keys verifying through a grace period, then retired.
//! - [`KeyPurpose`]: what a key may seal. Access-token keys are the ones gateways may be given;
//!   refresh-token keys are symmetric `v4.local` keys that are never published, so no other
//!   library holding keycard's published keys can ever accept a refresh token.
//! - JWK / JWK Set (RFC 7517, RFC 8037) and PASERK (`k4.*`) import and export live on [`Key`] and
//!   [`KeyRing`]; see `jwk.rs` and `paserk.rs`.

mod jwk;
mod key;
mod keyring;
pub(crate) mod material;
mod paserk;
#[cfg(feature = "jwks-remote")]
mod remote;

use std::fmt;

pub use jwk::SkippedKey;
pub(crate) use jwk::{JwkOverrides, key_from_jwk_value};
pub use key::Key;
pub(crate) use keyring::KeySet;
pub use keyring::{KeyRing, KeyState, KeyStatus};
#[cfg(feature = "jwks-remote")]
pub use remote::{RemoteJwks, RemoteJwksOptions};

use crate::error::{Error, Result};

/// The signature or encryption algorithm a key is bound to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// JWT, Ed25519 signatures (RFC 8037).
    EdDSA,
    /// JWT, ECDSA over P-256 with SHA-256 (RFC 7518).
    ES256,
    /// JWT, HMAC-SHA-256 with a secret of at least 32 bytes.
    HS256,
    /// PASETO `v4.public`: Ed25519 signatures.
    V4Public,
    /// PASETO `v4.local`: XChaCha20 + BLAKE2b-MAC authenticated encryption.
    V4Local,
    /// JWT, RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518), modulus of 2048 to 8192 bits. Verify only:
    /// for tokens of other issuers (identity providers); keycard never mints it.
    RS256,
    /// JWT, RSASSA-PSS with SHA-256 and MGF1-SHA-256 (RFC 7518), modulus of 2048 to 8192 bits.
    /// Verify only.
    PS256,
    /// JWT, ECDSA over P-384 with SHA-384 (RFC 7518). Verify only.
    ES384,
}

impl Algorithm {
    /// Every algorithm keycard supports: the five it mints, then the three it only verifies.
    pub const ALL: [Algorithm; 8] = [
        Algorithm::EdDSA,
        Algorithm::ES256,
        Algorithm::HS256,
        Algorithm::V4Public,
        Algorithm::V4Local,
        Algorithm::RS256,
        Algorithm::PS256,
        Algorithm::ES384,
    ];

    /// The algorithms keycard generates keys for and mints with.
    pub const MINTED: [Algorithm; 5] = [
        Algorithm::EdDSA,
        Algorithm::ES256,
        Algorithm::HS256,
        Algorithm::V4Public,
        Algorithm::V4Local,
    ];

    /// Whether keycard generates keys of this algorithm and mints with them (`false` for RS256,
    /// PS256 and ES384, which it only verifies, for tokens of other issuers).
    pub const fn can_mint(self) -> bool {
        !matches!(self, Algorithm::RS256 | Algorithm::PS256 | Algorithm::ES384)
    }

    /// The name used in JWK `alg` members and on the command line: `EdDSA`, `ES256`, `HS256`,
    /// `v4.public`, `v4.local`.
    pub const fn name(self) -> &'static str {
        match self {
            Algorithm::EdDSA => "EdDSA",
            Algorithm::ES256 => "ES256",
            Algorithm::HS256 => "HS256",
            Algorithm::V4Public => "v4.public",
            Algorithm::V4Local => "v4.local",
            Algorithm::RS256 => "RS256",
            Algorithm::PS256 => "PS256",
            Algorithm::ES384 => "ES384",
        }
    }

    /// The algorithm with this exact (case-sensitive) name.
    pub fn from_name(name: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The token format this algorithm produces.
    pub const fn format(self) -> Format {
        match self {
            Algorithm::EdDSA
            | Algorithm::ES256
            | Algorithm::HS256
            | Algorithm::RS256
            | Algorithm::PS256
            | Algorithm::ES384 => Format::Jwt,
            Algorithm::V4Public => Format::V4Public,
            Algorithm::V4Local => Format::V4Local,
        }
    }

    /// Whether keys of this algorithm have a public half that can be shared.
    pub const fn is_asymmetric(self) -> bool {
        !matches!(self, Algorithm::HS256 | Algorithm::V4Local)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a key seals: access tokens or refresh tokens, never both.
///
/// Refresh tokens are only ever read by keycard itself, so they need no public-key signature: they
/// are `v4.local` tokens sealed with a dedicated symmetric key that is never published (not in the
/// JWK Set, not shared with gateways). A verifier holding keycard's published keys therefore cannot
/// accept a refresh token as an access token, whatever library it uses (RFC 8725 §3.12), and a
/// refresh costs a symmetric open and seal instead of a signature check and a signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyPurpose {
    /// Mints and verifies access tokens (every algorithm).
    Access,
    /// Seals and opens refresh tokens: always a `v4.local` key, never published.
    Refresh,
    /// Verifies access tokens of another issuer (an identity provider, or a keycard auth service
    /// whose keys were fetched or imported from a JWK Set); never signs. Such a token may carry
    /// `typ: "JWT"` or no `typ` (what identity providers mint); a `typ` naming another kind of
    /// token is still refused.
    Foreign,
}

impl KeyPurpose {
    /// `access` or `refresh`, as written in key-set files (`keycard_purpose`) and by the CLI.
    pub const fn name(self) -> &'static str {
        match self {
            KeyPurpose::Access => "access",
            KeyPurpose::Refresh => "refresh",
            KeyPurpose::Foreign => "foreign",
        }
    }
}

/// A token wire format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// JSON Web Token, JWS compact serialization (RFC 7519, RFC 7515).
    Jwt,
    /// PASETO version 4, `public` purpose (signed, readable by anyone).
    V4Public,
    /// PASETO version 4, `local` purpose (encrypted: the client cannot read the payload).
    V4Local,
}

impl Format {
    /// Every format keycard supports.
    pub const ALL: [Format; 3] = [Format::Jwt, Format::V4Public, Format::V4Local];

    /// The name used on the command line: `jwt`, `v4.public`, `v4.local`.
    pub const fn name(self) -> &'static str {
        match self {
            Format::Jwt => "jwt",
            Format::V4Public => "v4.public",
            Format::V4Local => "v4.local",
        }
    }

    /// The format with this exact name.
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }

    pub(crate) const fn index(self) -> usize {
        match self {
            Format::Jwt => 0,
            Format::V4Public => 1,
            Format::V4Local => 2,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A key id: only ever a lookup key into a [`KeyRing`], never a path, URL or anything fetched.
///
/// 1 to 128 bytes of visible ASCII (`!` to `~`) other than `"` and `\`. For PASETO keys the kid is
/// the key's PASERK id (`k4.pid.…` / `k4.lid.…`), which is what PASETO footers carry.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Kid(Box<str>);

impl Kid {
    /// The longest key id accepted, in bytes.
    pub const MAX_LEN: usize = 128;

    /// A key id from text, checked against the rules above.
    pub fn new(text: &str) -> Result<Kid> {
        if Kid::is_valid(text) {
            Ok(Kid(text.into()))
        } else {
            Err(Error::InvalidKey(
                "a kid is 1 to 128 visible ASCII characters, without quotes or backslashes",
            ))
        }
    }

    pub(crate) fn is_valid(text: &str) -> bool {
        !text.is_empty()
            && text.len() <= Kid::MAX_LEN
            && text
                .bytes()
                .all(|b| (0x21..=0x7e).contains(&b) && b != b'"' && b != b'\\')
    }

    /// A fresh random key id: 16 bytes from the OS generator, base64url (22 characters), never
    /// starting with `-` (so it cannot be mistaken for a flag on a command line).
    pub fn random() -> Result<Kid> {
        loop {
            let mut bytes = [0u8; 16];
            material::os_random(&mut bytes)?;
            let text = crate::encoding::b64::encode(&bytes);
            if !text.starts_with('-') {
                return Ok(Kid(text.into()));
            }
        }
    }

    /// The key id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Kid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Kid({:?})", &*self.0)
    }
}

impl fmt::Display for Kid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Kid {
    type Err = Error;
    fn from_str(s: &str) -> Result<Kid> {
        Kid::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kid_rules() {
        assert!(Kid::new("k4.pid.S_XQmeEwHbbvRmiyfXfHYpLGjXGzjTRSDoT1YtTakWFE").is_ok());
        assert!(Kid::new("2024-01/ed25519+main=").is_ok());
        for bad in ["", " a", "a b", "a\"b", "a\\b", "é", "a\n"] {
            assert_eq!(Kid::new(bad).unwrap_err().kind(), "invalid_key", "{bad:?}");
        }
        assert!(Kid::new(&"a".repeat(128)).is_ok());
        assert!(Kid::new(&"a".repeat(129)).is_err());
        let r = Kid::random().unwrap();
        assert_eq!(r.as_str().len(), 22);
        assert_ne!(r, Kid::random().unwrap());
    }

    #[test]
    fn names_round_trip() {
        for a in Algorithm::ALL {
            assert_eq!(Algorithm::from_name(a.name()), Some(a));
        }
        for f in Format::ALL {
            assert_eq!(Format::from_name(f.name()), Some(f));
            assert_eq!(Format::ALL[f.index()], f);
        }
        assert_eq!(Algorithm::from_name("eddsa"), None);
        assert_eq!(Algorithm::from_name("none"), None);
    }
}
