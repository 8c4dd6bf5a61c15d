//! Minting: the [`Issuer`] fills in the registered claims and seals them with the active key of
//! the chosen format.

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::claims::StatusRef;
use crate::claims::time_claim::TimeEncoding;
use crate::claims::{
    Access, Audience, Claims, MAX_AUDIENCES, MAX_NAME_LEN, NoCustomClaims, Refresh, SessionId,
    Token, TokenId, TokenKind, TokenType,
};
use crate::clock::{SharedClock, Timestamp};
use crate::error::{Error, Result};
use crate::format::{jwt, paseto};
use crate::keys::{Format, Key, KeyPurpose, KeyRing, Kid};

/// Mints access and refresh tokens with the key ring's active keys.
///
/// ```
/// use std::sync::Arc;
/// use keycard::{Algorithm, Format, Issuer, KeyRing};
/// let keys = Arc::new(KeyRing::new());
/// keys.rotate(Algorithm::EdDSA)?;
/// let issuer = Issuer::new(keys).with_issuer("https://auth.example").with_audience("api");
/// let token = issuer.access("alice").mint()?;
/// assert_eq!(token.format(), Format::Jwt);
/// # Ok::<(), keycard::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Issuer {
    keys: Arc<KeyRing>,
    clock: SharedClock,
    issuer: Option<String>,
    audience: Option<Audience>,
    access_ttl: Duration,
    refresh_ttl: Duration,
    format: Format,
}

impl Issuer {
    /// Default access-token lifetime: 5 minutes.
    pub const DEFAULT_ACCESS_TTL: Duration = Duration::from_secs(5 * 60);
    /// Default refresh-token lifetime: 30 minutes (the default session idle timeout).
    pub const DEFAULT_REFRESH_TTL: Duration = Duration::from_secs(30 * 60);

    /// An issuer minting JWTs with `keys`, using the ring's clock.
    pub fn new(keys: Arc<KeyRing>) -> Issuer {
        Issuer {
            clock: Arc::clone(keys.clock()),
            keys,
            issuer: None,
            audience: None,
            access_ttl: Issuer::DEFAULT_ACCESS_TTL,
            refresh_ttl: Issuer::DEFAULT_REFRESH_TTL,
            format: Format::Jwt,
        }
    }

    /// Writes `iss` into every token.
    pub fn with_issuer(mut self, iss: impl Into<String>) -> Issuer {
        self.issuer = Some(iss.into());
        self
    }

    /// Writes `aud` (one audience) into every token.
    pub fn with_audience(mut self, aud: impl Into<String>) -> Issuer {
        self.audience = Some(Audience::One(aud.into()));
        self
    }

    /// Writes `aud` as an array into every token.
    pub fn with_audiences<I: IntoIterator<Item = S>, S: Into<String>>(mut self, aud: I) -> Issuer {
        self.audience = Some(Audience::Many(aud.into_iter().map(Into::into).collect()));
        self
    }

    /// Access-token lifetime (default 5 minutes). It must not exceed the key ring's grace period,
    /// or tokens would outlive the key that verifies them; minting checks this.
    pub fn with_access_ttl(mut self, ttl: Duration) -> Issuer {
        self.access_ttl = ttl;
        self
    }

    /// Refresh-token lifetime (default 30 minutes); same rule as the access-token lifetime.
    pub fn with_refresh_ttl(mut self, ttl: Duration) -> Issuer {
        self.refresh_ttl = ttl;
        self
    }

    /// The default format (JWT unless changed).
    pub fn with_format(mut self, format: Format) -> Issuer {
        self.format = format;
        self
    }

    /// Uses `clock` instead of the key ring's.
    pub fn with_clock(mut self, clock: SharedClock) -> Issuer {
        self.clock = clock;
        self
    }

    /// The `iss` minted tokens carry, if any.
    pub fn iss(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// The key ring.
    pub fn keys(&self) -> &Arc<KeyRing> {
        &self.keys
    }

    /// The access-token lifetime.
    pub fn access_ttl(&self) -> Duration {
        self.access_ttl
    }

    /// Starts an access token for `subject`.
    pub fn access<'a>(&'a self, subject: &'a str) -> MintRequest<'a, Access, NoCustomClaims> {
        MintRequest::new(self, subject, self.access_ttl)
    }

    /// Starts a refresh token for `subject`: always `v4.local`, sealed with the ring's active
    /// refresh-token key ([`KeyRing::rotate_refresh_key`]), which is never published.
    pub fn refresh<'a>(&'a self, subject: &'a str) -> MintRequest<'a, Refresh, NoCustomClaims> {
        MintRequest::new(self, subject, self.refresh_ttl)
    }
}

/// One token being minted; finish with [`MintRequest::mint`].
#[must_use = "nothing is minted until .mint() is called"]
pub struct MintRequest<'a, K: TokenKind, C> {
    issuer: &'a Issuer,
    sub: &'a str,
    custom: Option<&'a C>,
    sid: Option<SessionId>,
    format: Format,
    ttl: Duration,
    auth_time: Option<Timestamp>,
    status: Option<StatusRef>,
    jkt: Option<String>,
    kid: Option<&'a Kid>,
    /// Set by the session layer to re-derive a refresh token exactly: (jti, iat, exp).
    fixed: Option<(TokenId, Timestamp, Timestamp)>,
    _kind: PhantomData<K>,
}

impl<'a, K: TokenKind> MintRequest<'a, K, NoCustomClaims> {
    fn new(issuer: &'a Issuer, sub: &'a str, ttl: Duration) -> Self {
        MintRequest {
            issuer,
            sub,
            custom: None,
            sid: None,
            format: match K::TYPE {
                TokenType::Access => issuer.format,
                TokenType::Refresh => Format::V4Local,
            },
            ttl,
            auth_time: None,
            status: None,
            jkt: None,
            kid: None,
            fixed: None,
            _kind: PhantomData,
        }
    }
}

impl<'a, K: TokenKind, C: Serialize> MintRequest<'a, K, C> {
    /// Adds typed custom claims (a type serializing to a JSON object whose member names are not
    /// registered claim names).
    pub fn claims<C2: Serialize>(self, custom: &'a C2) -> MintRequest<'a, K, C2> {
        MintRequest {
            issuer: self.issuer,
            sub: self.sub,
            custom: Some(custom),
            sid: self.sid,
            format: self.format,
            ttl: self.ttl,
            auth_time: self.auth_time,
            status: self.status,
            jkt: self.jkt,
            kid: self.kid,
            fixed: self.fixed,
            _kind: PhantomData,
        }
    }

    /// Fixes `jti`, `iat` and `exp` (the session layer re-derives a family's current refresh
    /// token this way, so a retried refresh gets the same token, not a second one).
    pub(crate) fn fixed(mut self, jti: TokenId, iat: Timestamp, exp: Timestamp) -> Self {
        self.fixed = Some((jti, iat, exp));
        self
    }

    /// The session the token belongs to; by default a fresh random session id.
    pub fn session(mut self, sid: SessionId) -> Self {
        self.sid = Some(sid);
        self
    }

    /// The lifetime of this token.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// `auth_time`: when the user last proved their credentials.
    pub fn auth_time(mut self, t: Timestamp) -> Self {
        self.auth_time = Some(t);
        self
    }

    /// `status`: where this token's revocation status is published (IETF Token Status List).
    pub fn status(mut self, status: StatusRef) -> Self {
        self.status = Some(status);
        self
    }

    /// `cnf.jkt`: binds the token to the DPoP key with this RFC 7638 thumbprint (RFC 9449).
    pub fn dpop_jkt(mut self, jkt: impl Into<String>) -> Self {
        self.jkt = Some(jkt.into());
        self
    }

    /// Signs with this key instead of the format's active key.
    pub fn kid(mut self, kid: &'a Kid) -> Self {
        self.kid = Some(kid);
        self
    }

    /// Mints the token.
    pub fn mint(self) -> Result<Token<K>> {
        let issuer = self.issuer;
        if self.sub.is_empty() || self.sub.len() > MAX_NAME_LEN {
            return Err(Error::Config("sub must be 1 to 1024 bytes".into()));
        }
        let now = issuer.clock.now();
        let (jti, iat, exp) = match self.fixed.clone() {
            Some(fixed) => fixed,
            None => (TokenId::random(), now, now.saturating_add(self.ttl)),
        };
        let ttl = exp.duration_since(iat);
        if ttl.is_zero() {
            return Err(Error::Config("a token lifetime must be positive".into()));
        }
        if ttl > issuer.keys.grace() {
            return Err(Error::Config(format!(
                "a {}s token lifetime exceeds the key ring's {}s grace period: tokens would outlive their key",
                ttl.as_secs(),
                issuer.keys.grace().as_secs()
            )));
        }
        if let Some(Audience::Many(all)) = &issuer.audience
            && (all.is_empty() || all.len() > MAX_AUDIENCES)
        {
            return Err(Error::Config("aud holds 1 to 32 audiences".into()));
        }
        let key = self.signing_key()?;
        let claims = Claims {
            iss: issuer.issuer.clone(),
            sub: self.sub.to_owned(),
            aud: issuer.audience.clone(),
            exp,
            nbf: Some(iat),
            iat,
            jti,
            sid: Some(self.sid.unwrap_or_else(SessionId::random)),
            auth_time: self.auth_time,
            status: self.status.clone(),
            cnf_jkt: self.jkt.clone(),
            custom: CustomRef(self.custom),
        };
        let payload = claims.to_json(TimeEncoding::of(self.format))?;
        let kind: TokenType = K::TYPE;
        let wire = match self.format {
            Format::Jwt => jwt::seal(&key, kind, &payload)?,
            Format::V4Public => paseto::seal_public(&key, kind, &payload)?,
            Format::V4Local => paseto::seal_local(&key, kind, &payload)?,
        };
        Ok(Token {
            wire,
            format: self.format,
            kid: key.kid().clone(),
            jti: claims.jti,
            sid: claims.sid,
            exp: claims.exp,
            _kind: PhantomData,
        })
    }

    fn signing_key(&self) -> Result<Arc<Key>> {
        let keys = &self.issuer.keys;
        let purpose = match K::TYPE {
            TokenType::Access => KeyPurpose::Access,
            TokenType::Refresh => KeyPurpose::Refresh,
        };
        let key = match (self.kid, purpose) {
            (None, KeyPurpose::Refresh) => keys.active_refresh().ok_or_else(|| {
                Error::Config(
                    "no refresh-token key in the key ring (KeyRing::rotate_refresh_key)".into(),
                )
            })?,
            (None, _) => keys.active(self.format).ok_or_else(|| {
                Error::Config(format!("no active {} key in the key ring", self.format))
            })?,
            (Some(kid), _) => keys
                .get(kid.as_str())
                .ok_or_else(|| Error::Config(format!("no usable key `{kid}` in the key ring")))?,
        };
        if key.purpose() != purpose {
            return Err(Error::Config(format!(
                "key `{}` seals {} tokens, not {}",
                key.kid(),
                key.purpose().name(),
                K::TYPE.name()
            )));
        }
        if key.format() != self.format {
            return Err(Error::Config(format!(
                "key `{}` is a {} key, not {}",
                key.kid(),
                key.algorithm(),
                self.format
            )));
        }
        if !key.has_secret() {
            return Err(Error::Config(format!(
                "key `{}` is public-only and cannot mint",
                key.kid()
            )));
        }
        Ok(key)
    }
}

impl<C: Serialize> MintRequest<'_, Access, C> {
    /// The format for this access token (refresh tokens are always `v4.local`).
    pub fn format(mut self, format: Format) -> Self {
        self.format = format;
        self
    }
}

/// Borrowed custom claims, serialized in place (absent means none).
struct CustomRef<'a, C>(Option<&'a C>);

impl<C: Serialize> Serialize for CustomRef<'_, C> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self.0 {
            Some(c) => c.serialize(s),
            None => NoCustomClaims {}.serialize(s),
        }
    }
}
