//! Access and refresh tokens: different Rust types, and a difference signed into every token.
//!
//! | format | access token | refresh token |
//! |---|---|---|
//! | JWT | header `typ: "at+jwt"` (RFC 9068) | header `typ: "rt+jwt"` |
//! | PASETO v4 | empty implicit assertion, footer `{"kid"}` | implicit assertion `keycard:refresh-token:v1`, footer `{"kid","typ":"rt"}` |
//!
//! The marker is inside what the signature (or the `v4.local` tag) covers, so stripping or
//! editing it breaks the token instead of turning one kind into the other. PASETO access tokens
//! keep an empty implicit assertion so any PASETO v4 library holding the key can verify them; the
//! footer `typ` is only a hint telling the verifier which assertion to try, and a lying hint can
//! only make verification fail.

use std::fmt;
use std::marker::PhantomData;

use super::{SessionId, TokenId};
use crate::clock::Timestamp;
use crate::keys::{Format, Kid};

/// Which kind a token is, at run time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenType {
    /// An access token.
    Access,
    /// A refresh token.
    Refresh,
}

impl TokenType {
    /// `"access token"` or `"refresh token"`.
    pub const fn name(self) -> &'static str {
        match self {
            TokenType::Access => "access token",
            TokenType::Refresh => "refresh token",
        }
    }

    /// The JWT `typ` header value written for this kind.
    pub(crate) const fn jwt_typ(self) -> &'static str {
        match self {
            TokenType::Access => "at+jwt",
            TokenType::Refresh => "rt+jwt",
        }
    }

    /// The kind a JWT `typ` header names (media-type comparison is case-insensitive and the
    /// `application/` prefix is optional, RFC 7515 §4.1.9); `None` for anything else.
    pub(crate) fn from_jwt_typ(typ: &str) -> Option<TokenType> {
        let t = typ
            .get(..12)
            .filter(|p| p.eq_ignore_ascii_case("application/"))
            .map_or(typ, |_| &typ[12..]);
        if t.eq_ignore_ascii_case("at+jwt") {
            Some(TokenType::Access)
        } else if t.eq_ignore_ascii_case("rt+jwt") {
            Some(TokenType::Refresh)
        } else {
            None
        }
    }

    /// The PASETO implicit assertion of this kind.
    pub(crate) const fn implicit_assertion(self) -> &'static [u8] {
        match self {
            TokenType::Access => b"",
            TokenType::Refresh => b"keycard:refresh-token:v1",
        }
    }

    /// The PASETO footer `typ` hint of this kind.
    pub(crate) const fn footer_typ(self) -> Option<&'static str> {
        match self {
            TokenType::Access => None,
            TokenType::Refresh => Some("rt"),
        }
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Access {}
    impl Sealed for super::Refresh {}
}

/// The kind of a token: [`Access`] or [`Refresh`]. Sealed.
pub trait TokenKind: sealed::Sealed + Send + Sync + 'static {
    /// The kind, as a value.
    const TYPE: TokenType;
}

/// Marker for access tokens: short-lived, presented on every request.
#[derive(Debug)]
pub enum Access {}

/// Marker for refresh tokens: presented only to obtain a new pair.
#[derive(Debug)]
pub enum Refresh {}

impl TokenKind for Access {
    const TYPE: TokenType = TokenType::Access;
}
impl TokenKind for Refresh {
    const TYPE: TokenType = TokenType::Refresh;
}

/// A minted token of kind `K`: the wire text plus what the issuer knows about it.
///
/// `Debug` does not print the wire text: a token is a bearer credential.
pub struct Token<K: TokenKind> {
    pub(crate) wire: String,
    pub(crate) format: Format,
    pub(crate) kid: Kid,
    pub(crate) jti: TokenId,
    pub(crate) sid: Option<SessionId>,
    pub(crate) exp: Timestamp,
    pub(crate) _kind: PhantomData<K>,
}

/// A minted access token.
pub type AccessToken = Token<Access>;
/// A minted refresh token.
pub type RefreshToken = Token<Refresh>;

impl<K: TokenKind> Token<K> {
    /// The token as sent on the wire.
    pub fn as_str(&self) -> &str {
        &self.wire
    }
    /// Takes the wire text.
    pub fn into_string(self) -> String {
        self.wire
    }
    /// The token's format.
    pub fn format(&self) -> Format {
        self.format
    }
    /// The key that signed (or encrypted) it.
    pub fn kid(&self) -> &Kid {
        &self.kid
    }
    /// Its `jti`.
    pub fn token_id(&self) -> &TokenId {
        &self.jti
    }
    /// Its `sid`, when minted for a session.
    pub fn session_id(&self) -> Option<&SessionId> {
        self.sid.as_ref()
    }
    /// Its `exp`.
    pub fn expires_at(&self) -> Timestamp {
        self.exp
    }
}

impl<K: TokenKind> fmt::Debug for Token<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(match K::TYPE {
            TokenType::Access => "AccessToken",
            TokenType::Refresh => "RefreshToken",
        })
        .field("format", &self.format)
        .field("kid", &self.kid)
        .field("jti", &self.jti)
        .field("exp", &self.exp)
        .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwt_typ_parsing() {
        for t in [
            "at+jwt",
            "AT+JWT",
            "application/at+jwt",
            "Application/At+Jwt",
        ] {
            assert_eq!(TokenType::from_jwt_typ(t), Some(TokenType::Access), "{t}");
        }
        assert_eq!(TokenType::from_jwt_typ("rt+jwt"), Some(TokenType::Refresh));
        for t in [
            "JWT",
            "",
            "at+jwt ",
            "application/",
            "xapplication/at+jwt",
            "at",
        ] {
            assert_eq!(TokenType::from_jwt_typ(t), None, "{t}");
        }
    }
}
