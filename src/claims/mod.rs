//! Claims: the registered ones (`iss`, `sub`, `aud`, `exp`, `nbf`, `iat`, `jti`, `sid`,
//! `auth_time`) and typed custom claims, plus the access/refresh token kinds.
//!
//! Custom claims are any `T: Serialize + DeserializeOwned` that serializes to a JSON object; its
//! members sit beside the registered ones in the token and may not reuse their names.

pub(crate) mod kind;
pub(crate) mod time_claim;
mod wire;

use std::fmt;

use rand::Rng as _;
use serde::{Deserialize, Serialize};

pub use kind::{Access, AccessToken, Refresh, RefreshToken, Token, TokenKind, TokenType};
pub(crate) use wire::{RawClaims, custom_members};

use crate::clock::Timestamp;
use crate::encoding::b64;

/// The names of the registered claims keycard reads and writes itself; custom claims may not use
/// them.
pub const REGISTERED: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "sid",
    "auth_time",
    "status",
    "cnf",
];

/// Longest status list `uri` accepted, in bytes.
pub(crate) const MAX_URI_LEN: usize = 2048;

/// Where a token's status lives (IETF Token Status List): bit `idx` of the Status List Token at
/// `uri`. keycard gives every session one index, so a logout sets one bit for all its tokens.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StatusRef {
    /// The index of the token's status in the list.
    pub idx: u64,
    /// The URI of the Status List Token (its `sub`).
    pub uri: String,
}

/// Longest `sub`, `iss` or `aud` entry accepted, in bytes.
pub(crate) const MAX_NAME_LEN: usize = 1024;
/// Most entries in an `aud` array.
pub(crate) const MAX_AUDIENCES: usize = 32;

/// Checks the text of an identifier claim (`jti`, `sid`): 1 to 128 visible ASCII characters.
pub(crate) fn valid_id(text: &str) -> bool {
    !text.is_empty() && text.len() <= 128 && text.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

/// 16 bytes from the thread-local CSPRNG (ChaCha, seeded and periodically reseeded from the OS),
/// base64url: 22 characters, 128 bits.
fn random_id() -> Box<str> {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    b64::encode(&bytes).into()
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Box<str>);

        impl $name {
            /// A fresh random id: 128 bits from a CSPRNG, base64url (22 characters).
            pub fn random() -> $name {
                $name(random_id())
            }

            /// An id from text: 1 to 128 visible ASCII characters.
            pub fn new(text: &str) -> Option<$name> {
                valid_id(text).then(|| $name(text.into()))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({:?})"), &*self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                $name::new(&text).ok_or_else(|| {
                    serde::de::Error::custom("an id is 1 to 128 visible ASCII characters")
                })
            }
        }
    };
}

id_type!(
    /// A token id (`jti`): names one token, for revocation and replay detection.
    TokenId
);
id_type!(
    /// A session id (`sid`): shared by every token of one login session (one refresh family).
    SessionId
);

/// The `aud` claim: one audience or several.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Audience {
    /// `"aud": "api"`.
    One(String),
    /// `"aud": ["api", "admin"]`.
    Many(Vec<String>),
}

impl Audience {
    /// Whether `name` is one of the audiences (exact, case-sensitive comparison).
    pub fn contains(&self, name: &str) -> bool {
        match self {
            Audience::One(a) => a == name,
            Audience::Many(all) => all.iter().any(|a| a == name),
        }
    }

    /// The audiences as a slice.
    pub fn as_slice(&self) -> &[String] {
        match self {
            Audience::One(a) => std::slice::from_ref(a),
            Audience::Many(all) => all,
        }
    }
}

/// No custom claims: the default type parameter of [`Claims`]. Unknown members of a token are
/// still checked (strict JSON) and then ignored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoCustomClaims {}

/// The claims of a verified (or about to be minted) token.
#[derive(Clone, Debug, PartialEq)]
pub struct Claims<C = NoCustomClaims> {
    pub(crate) iss: Option<String>,
    pub(crate) sub: String,
    pub(crate) aud: Option<Audience>,
    pub(crate) exp: Timestamp,
    pub(crate) nbf: Option<Timestamp>,
    pub(crate) iat: Timestamp,
    pub(crate) jti: TokenId,
    pub(crate) sid: Option<SessionId>,
    pub(crate) auth_time: Option<Timestamp>,
    pub(crate) status: Option<StatusRef>,
    pub(crate) cnf_jkt: Option<String>,
    pub(crate) custom: C,
}

impl<C> Claims<C> {
    /// `iss`: who issued the token.
    pub fn issuer(&self) -> Option<&str> {
        self.iss.as_deref()
    }
    /// `sub`: whom the token is about (the user).
    pub fn subject(&self) -> &str {
        &self.sub
    }
    /// `aud`: whom the token is for.
    pub fn audience(&self) -> Option<&Audience> {
        self.aud.as_ref()
    }
    /// `exp`: the token is invalid from this instant (plus leeway).
    pub fn expires_at(&self) -> Timestamp {
        self.exp
    }
    /// `nbf`: the token is invalid before this instant (minus leeway).
    pub fn not_before(&self) -> Option<Timestamp> {
        self.nbf
    }
    /// `iat`: when the token was minted.
    pub fn issued_at(&self) -> Timestamp {
        self.iat
    }
    /// `jti`: the token's unique id.
    pub fn token_id(&self) -> &TokenId {
        &self.jti
    }
    /// `sid`: the session the token belongs to (absent in tokens minted without a session).
    pub fn session_id(&self) -> Option<&SessionId> {
        self.sid.as_ref()
    }
    /// `auth_time`: when the user last proved their credentials (OpenID Connect Core §2).
    pub fn auth_time(&self) -> Option<Timestamp> {
        self.auth_time
    }
    /// `status.status_list`: where the token's revocation status is published (IETF Token
    /// Status List), for tokens minted with one.
    pub fn status(&self) -> Option<&StatusRef> {
        self.status.as_ref()
    }
    /// `cnf.jkt`: the RFC 7638 thumbprint of the DPoP key the token is bound to (RFC 9449), for
    /// sender-constrained tokens. Such a token is only good with a proof by that key.
    pub fn dpop_jkt(&self) -> Option<&str> {
        self.cnf_jkt.as_deref()
    }
    /// The custom claims.
    pub fn custom(&self) -> &C {
        &self.custom
    }
    /// Takes the custom claims out.
    pub fn into_custom(self) -> C {
        self.custom
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_random_128_bit() {
        let a = TokenId::random();
        assert_eq!(a.as_str().len(), 22);
        assert_eq!(b64::decode(a.as_str()).unwrap().len(), 16);
        assert_ne!(a, TokenId::random());
        assert_ne!(SessionId::random(), SessionId::random());
        assert!(TokenId::new("").is_none());
        assert!(TokenId::new("has space").is_none());
        assert!(TokenId::new(&"a".repeat(129)).is_none());
        assert!(SessionId::new("550e8400-e29b-41d4-a716-446655440000").is_some());
    }

    #[test]
    fn audience_matching_is_exact() {
        let one = Audience::One("api".into());
        assert!(one.contains("api"));
        assert!(!one.contains("ap") && !one.contains("API") && !one.contains("api "));
        let many = Audience::Many(vec!["a".into(), "api".into()]);
        assert!(many.contains("api") && !many.contains("pi"));
    }
}
