//! Verification: untrusted text in, [`Verified`] claims out, or one typed [`Error`].
//!
//! The checks run cheapest and safest first, and a failure of an earlier stage always wins:
//!
//! 1. size (default limit 8 KiB), before any decoding: `token_too_large`;
//! 2. format, from the token's shape, against the formats this verifier accepts:
//!    `malformed` / `unsupported_format`;
//! 3. key by `kid` (`unknown_key`), algorithm bound to the key (`algorithm_mismatch`),
//!    signature or authentication tag (`bad_signature`);
//! 4. claims, read once and strictly (`malformed`, `missing_claim`), then `exp`, `nbf`, `iat`
//!    with the leeway (default 60 s), `iss` and `aud` when configured, and the token type;
//! 5. the revocation list, when one is attached (`revoked`);
//! 6. last, the application's custom claims type is built from the remaining members
//!    (`malformed` if they do not fit it).
//!
//! A forged token therefore reports `bad_signature` even when its claims are also expired
//! (CVE-2024-51744 in golang-jwt returned both), and no claims ever leave with an error.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::claims::time_claim::TimeEncoding;
use crate::claims::{
    Access, Claims, NoCustomClaims, RawClaims, Refresh, SessionId, StatusRef, TokenId, TokenKind,
    TokenType,
};
use crate::clock::{SharedClock, Timestamp};
use crate::dpop::{Proof, ProofChecker, ProofLog, ProofRequest};
use crate::error::{Error, Result};
use crate::format::{self, Opened, jwt, paseto};
use crate::keys::{Format, KeyPurpose, KeyRing, Kid};

mod cache;
use cache::{Entry, VerifiedCache};

/// What a revocation check learns about a token that passed every other check.
#[derive(Clone, Copy, Debug)]
pub struct TokenFacts<'a> {
    /// `jti`.
    pub token_id: &'a TokenId,
    /// `sid`, when present.
    pub session_id: Option<&'a SessionId>,
    /// `sub`.
    pub subject: &'a str,
    /// `iat`.
    pub issued_at: Timestamp,
    /// `exp`.
    pub expires_at: Timestamp,
    /// `status.status_list`, when present: where the token's status is published.
    pub status: Option<&'a StatusRef>,
}

/// The future of [`RevocationCheck::check_async`].
pub type CheckFuture<'a> = Pin<Box<dyn Future<Output = Result<bool>> + Send + 'a>>;

/// A deny-list the verifier consults after the signature, claims and type checks, so an
/// unauthenticated token never costs a lookup. Implemented by
/// [`RevocationList`](crate::revocation::RevocationList) and by the replicas of distributed
/// stores; declared here so that verification does not depend on how revocations are stored.
pub trait RevocationCheck: Send + Sync + std::fmt::Debug {
    /// Whether the token is revoked. An error when this check cannot answer (a replica that has
    /// not synchronized within its staleness bound: `revocation_unavailable`): the verification
    /// fails closed with it.
    fn check(&self, token: &TokenFacts<'_>) -> Result<bool>;

    /// [`check`](RevocationCheck::check) without blocking a thread where the answer needs the
    /// network (a compact replica confirms a filter hit in Redis). Local checks need not
    /// override it.
    fn check_async<'a>(&'a self, token: TokenFacts<'a>) -> CheckFuture<'a> {
        Box::pin(std::future::ready(self.check(&token)))
    }

    /// The longest leeway this check tolerates: entries are kept this long past the expiry of
    /// the tokens they revoke. A verifier with a larger leeway refuses to run (`config`), since
    /// an entry pruned too early would let a revoked token through.
    fn max_leeway(&self) -> Duration;
}

/// Checks tokens against a key ring and a validation policy.
///
/// Defaults are the safe ones: every format keycard mints is accepted (each only with keys of
/// that format), 8 KiB size limit, 60 s leeway, `iss` not checked, and a token carrying `aud`
/// rejected unless an audience is configured (RFC 7519 §4.1.3). Relax or tighten with the
/// `with_*` methods.
///
/// ```
/// use std::sync::Arc;
/// use keycard::{Algorithm, Issuer, KeyRing, Verifier};
/// let keys = Arc::new(KeyRing::new());
/// keys.rotate(Algorithm::EdDSA)?;
/// let token = Issuer::new(keys.clone()).with_audience("api").access("alice").mint()?;
/// let verifier = Verifier::new(keys).with_audience("api");
/// let verified = verifier.verify_access::<keycard::NoCustomClaims>(token.as_str())?;
/// assert_eq!(verified.claims().subject(), "alice");
/// # Ok::<(), keycard::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Verifier {
    keys: Arc<KeyRing>,
    clock: SharedClock,
    formats: [bool; 3],
    max_token_bytes: usize,
    leeway: Duration,
    issuer: Option<String>,
    audience: Option<String>,
    revocations: Option<Arc<dyn RevocationCheck>>,
    cache: Option<Arc<VerifiedCache>>,
    #[cfg(feature = "jwks-remote")]
    remote: Option<Arc<crate::keys::RemoteJwks>>,
}

impl Verifier {
    /// Default size limit: 8 KiB.
    pub const DEFAULT_MAX_TOKEN_BYTES: usize = 8 * 1024;
    /// Default clock-skew allowance: 60 seconds.
    pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);

    /// A verifier over `keys`, using the ring's clock.
    pub fn new(keys: Arc<KeyRing>) -> Verifier {
        Verifier {
            clock: Arc::clone(keys.clock()),
            keys,
            formats: [true; 3],
            max_token_bytes: Verifier::DEFAULT_MAX_TOKEN_BYTES,
            leeway: Verifier::DEFAULT_LEEWAY,
            issuer: None,
            audience: None,
            revocations: None,
            cache: None,
            #[cfg(feature = "jwks-remote")]
            remote: None,
        }
    }

    /// A verifier over another issuer's keys, fetched from its JWK Set (feature
    /// `jwks-remote`). [`verify_access_async`](Verifier::verify_access_async) refetches the set
    /// when a token names a kid it does not hold (at most once per cooldown, one fetch for all
    /// waiting verifications) and in the background when the set is older than its maximum age;
    /// the blocking [`verify_access`](Verifier::verify_access) uses the keys already fetched and
    /// never fetches. Set the issuer and audience you expect, as always.
    #[cfg(feature = "jwks-remote")]
    pub fn with_remote_keys(remote: Arc<crate::keys::RemoteJwks>) -> Verifier {
        let mut v = Verifier::new(remote.keys().clone());
        v.remote = Some(remote);
        v
    }

    /// Remembers up to about `capacity` verified access tokens, so a token sent again is not
    /// verified cryptographically again (an Ed25519 check costs about 40 µs; a hit, about 1).
    ///
    /// A hit is keyed by the whole token string and still runs every check that depends on
    /// time or state: the key must still be in the ring, verifying, and the very key that
    /// verified the token; `exp`, `nbf`, `iat`, `iss`, `aud` and the token type are checked again;
    /// the revocation list is consulted. Only the signature and the parsing are skipped. Refresh
    /// tokens are never cached. An entry costs the token's length plus its claims (about 1 KiB
    /// for a typical token); at capacity, expired entries go first, then half of a shard.
    /// Clones of this verifier share the cache.
    pub fn with_cache(mut self, capacity: usize) -> Verifier {
        self.cache = (capacity > 0).then(|| Arc::new(VerifiedCache::new(capacity)));
        self
    }

    /// Consults `list` after every other check; a listed token fails with `revoked`.
    pub fn with_revocations(mut self, list: Arc<dyn RevocationCheck>) -> Verifier {
        self.revocations = Some(list);
        self
    }

    /// Accepts only these formats; a token of any other is `unsupported_format`.
    pub fn with_formats(mut self, formats: &[Format]) -> Verifier {
        self.formats = [false; 3];
        for f in formats {
            self.formats[f.index()] = true;
        }
        self
    }

    /// Requires `iss` to equal `iss` exactly.
    pub fn with_issuer(mut self, iss: impl Into<String>) -> Verifier {
        self.issuer = Some(iss.into());
        self
    }

    /// Requires `aud` to be, or to contain, `aud` exactly.
    pub fn with_audience(mut self, aud: impl Into<String>) -> Verifier {
        self.audience = Some(aud.into());
        self
    }

    /// Clock-skew allowance for `exp`, `nbf` and `iat` (default 60 s).
    pub fn with_leeway(mut self, leeway: Duration) -> Verifier {
        self.leeway = leeway;
        self
    }

    /// Size limit in bytes (default 8 KiB); longer tokens are rejected before decoding.
    pub fn with_max_token_bytes(mut self, limit: usize) -> Verifier {
        self.max_token_bytes = limit;
        self
    }

    /// Uses `clock` instead of the key ring's.
    pub fn with_clock(mut self, clock: SharedClock) -> Verifier {
        self.clock = clock;
        self
    }

    /// The key ring.
    pub fn keys(&self) -> &Arc<KeyRing> {
        &self.keys
    }

    /// The clock.
    #[cfg(feature = "status-list")]
    pub(crate) fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// The clock-skew allowance.
    pub(crate) fn leeway(&self) -> Duration {
        self.leeway
    }

    /// Verifies an access token and reads its claims, custom ones as `C`.
    ///
    /// A DPoP-bound token (one with `cnf.jkt`) is refused here (`invalid_dpop_proof`): it is
    /// only good with a proof by its key, which
    /// [`Keycard::verify_dpop_async`](crate::Keycard::verify_dpop_async) checks. So a bound
    /// token stolen and replayed as a bearer token fails on every path that does not check a
    /// proof.
    pub fn verify_access<C: DeserializeOwned>(&self, token: &str) -> Result<Verified<Access, C>> {
        self.verify(token)
    }

    /// Verifies a refresh token and reads its claims, custom ones as `C`.
    pub fn verify_refresh<C: DeserializeOwned>(&self, token: &str) -> Result<Verified<Refresh, C>> {
        self.verify(token)
    }

    /// [`verify_access`](Verifier::verify_access) for async code: the same checks, with the
    /// revocation check awaited (a compact replica may confirm a filter hit over the network).
    pub async fn verify_access_async<C: DeserializeOwned>(
        &self,
        token: &str,
    ) -> Result<Verified<Access, C>> {
        self.verify_async(token, Binding::Bearer).await
    }

    /// Verifies a DPoP-bound access token sent with its proof (`Authorization: DPoP <token>`
    /// plus `DPoP: <proof>`, RFC 9449 §7): the token as
    /// [`verify_access_async`](Verifier::verify_access_async) does, then the proof for this
    /// request (`method`, the absolute `url`, `ath` the token's hash) with `checker`, then that
    /// the proof's key is the one the token is bound to (`cnf.jkt`), and last the proof's
    /// one-time use in `log`. A token that is not bound is refused (`invalid_dpop_proof`): it
    /// is a bearer token and goes with `Bearer`.
    ///
    /// A full node calls this through [`Keycard::verify_dpop_async`](crate::Keycard::verify_dpop_async)
    /// (the session store is the log); a verify-only service passes a
    /// [`LocalProofLog`](crate::stores::LocalProofLog).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use keycard::{NoCustomClaims, Verifier, dpop::ProofChecker, stores::LocalProofLog};
    /// # async fn f(verifier: &Verifier, token: &str, proof: &str) -> keycard::Result<()> {
    /// let log = LocalProofLog::new(Arc::new(keycard::SystemClock));
    /// let checker = ProofChecker::default();
    /// let (verified, _proof) = verifier
    ///     .verify_dpop_async::<NoCustomClaims>(token, proof, "GET", "https://api.example/me", &checker, &log)
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn verify_dpop_async<C: DeserializeOwned>(
        &self,
        token: &str,
        proof: &str,
        method: &str,
        url: &str,
        checker: &ProofChecker,
        log: &dyn ProofLog,
    ) -> Result<(Verified<Access, C>, Proof)> {
        let verified: Verified<Access, C> = self.verify_async(token, Binding::Proven).await?;
        let Some(bound) = verified.claims().dpop_jkt().map(str::to_owned) else {
            return Err(Error::InvalidDpopProof(
                "the token is not DPoP-bound: send it as a Bearer token",
            ));
        };
        let request = ProofRequest {
            method,
            url,
            access_token: Some(token),
        };
        let now = self.clock.now();
        let proof =
            crate::dpop::check_and_claim(checker, log, proof, &request, now, Some(&bound)).await?;
        Ok((verified, proof))
    }

    /// [`verify_refresh`](Verifier::verify_refresh) for async code.
    pub async fn verify_refresh_async<C: DeserializeOwned>(
        &self,
        token: &str,
    ) -> Result<Verified<Refresh, C>> {
        self.verify_async(token, Binding::Bearer).await
    }

    /// The blocking verify: a token alone, so a DPoP-bound one is refused (proofs are checked
    /// only on the async path).
    fn verify<K: TokenKind, C: DeserializeOwned>(&self, token: &str) -> Result<Verified<K, C>> {
        let checked = self.check_token::<K>(token)?;
        Binding::Bearer.admits(&checked.claims)?;
        if let Some(list) = self.revocation_check()?
            && list.check(&checked.facts())?
        {
            return Err(Error::Revoked);
        }
        checked.finish()
    }

    async fn verify_async<K: TokenKind, C: DeserializeOwned>(
        &self,
        token: &str,
        binding: Binding,
    ) -> Result<Verified<K, C>> {
        #[cfg(feature = "jwks-remote")]
        let checked = match (&self.remote, self.check_token::<K>(token)) {
            (Some(remote), Err(e)) if matches!(e, Error::UnknownKey { kid: Some(_) }) => {
                if remote.refresh_for_unknown_kid().await {
                    self.check_token::<K>(token)?
                } else {
                    return Err(e);
                }
            }
            (remote, other) => {
                if let Some(remote) = remote {
                    remote.refresh_if_old();
                }
                other?
            }
        };
        #[cfg(not(feature = "jwks-remote"))]
        let checked = self.check_token::<K>(token)?;
        binding.admits(&checked.claims)?;
        if let Some(list) = self.revocation_check()?
            && list.check_async(checked.facts()).await?
        {
            return Err(Error::Revoked);
        }
        checked.finish()
    }

    /// The revocation check, once the leeway is known to fit it.
    fn revocation_check(&self) -> Result<Option<&dyn RevocationCheck>> {
        match &self.revocations {
            Some(list) if self.leeway > list.max_leeway() => Err(Error::Config(
                "the verifier's leeway exceeds the revocation list's prune margin".into(),
            )),
            Some(list) => Ok(Some(list.as_ref())),
            None => Ok(None),
        }
    }

    /// Every check but revocation, in order: size, format, key, algorithm, signature, claims,
    /// token type.
    fn check_token<K: TokenKind>(&self, token: &str) -> Result<Checked> {
        if token.len() > self.max_token_bytes {
            return Err(Error::TokenTooLarge {
                size: token.len(),
                limit: self.max_token_bytes,
            });
        }
        let format = format::detect(token)?;
        // The accepted formats are those of access tokens; refresh tokens are always `v4.local`
        // under a refresh-token key, checked below.
        if K::TYPE == TokenType::Access && !self.formats[format.index()] {
            return Err(Error::UnsupportedFormat(match format {
                Format::Jwt => "JWT is not accepted here",
                Format::V4Public => "v4.public is not accepted here",
                Format::V4Local => "v4.local is not accepted here",
            }));
        }
        let now = self.clock.now();
        let keys = self.keys.snapshot();
        let cache = self
            .cache
            .as_deref()
            .filter(|_| K::TYPE == TokenType::Access);
        if let Some(cache) = cache
            && let Some(hit) = cache.get(token)
        {
            match keys.find(hit.kid.as_str(), now) {
                Some(key) if hit.same_key(key) => return self.check_hit::<K>(hit, now),
                // Retired, dropped or replaced: verify from scratch, for the same error an
                // uncached verifier reports.
                _ => cache.remove(token),
            }
        }
        let Opened { key, kind, payload } = match format {
            Format::Jwt => jwt::open(token, &keys, now)?,
            Format::V4Public => paseto::open_public(token, &keys, now)?,
            Format::V4Local => paseto::open_local(token, &keys, now)?,
        };
        let claims = RawClaims::read(&payload, TimeEncoding::of(format))?.require()?;
        self.check_claims(&claims, now)?;
        let kind = Verifier::check_type::<K>(key.purpose(), kind)?;
        if let Some(cache) = cache
            && let Some(arc) = keys.find(key.kid().as_str(), now)
        {
            let entry = Entry {
                claims: claims.clone(),
                format,
                kind,
                kid: key.kid().clone(),
                key: Arc::downgrade(arc),
            };
            cache.insert(token, entry, now);
        }
        Ok(Checked {
            claims,
            format,
            kid: key.kid().clone(),
        })
    }

    /// The checks a cached token still needs: everything but the signature and the parsing.
    fn check_hit<K: TokenKind>(&self, hit: Entry, now: Timestamp) -> Result<Checked> {
        self.check_claims(&hit.claims, now)?;
        if hit.kind != K::TYPE {
            return Err(Error::WrongTokenType {
                expected: K::TYPE.name(),
                found: hit.kind.name(),
            });
        }
        Ok(Checked {
            claims: hit.claims,
            format: hit.format,
            kid: hit.kid,
        })
    }

    /// The token type from the key's purpose and the token's own marker; `K`'s or an error.
    fn check_type<K: TokenKind>(
        purpose: KeyPurpose,
        marked: Option<TokenType>,
    ) -> Result<TokenType> {
        match token_type(purpose, marked) {
            Ok(kind) if kind == K::TYPE => Ok(kind),
            Ok(other) => Err(Error::WrongTokenType {
                expected: K::TYPE.name(),
                found: other.name(),
            }),
            Err(found) => Err(Error::WrongTokenType {
                expected: K::TYPE.name(),
                found,
            }),
        }
    }

    fn check_claims<C>(&self, c: &Claims<C>, now: Timestamp) -> Result<()> {
        if c.exp.saturating_add(self.leeway) <= now {
            return Err(Error::Expired { exp: c.exp, now });
        }
        let late_now = now.saturating_add(self.leeway);
        if let Some(nbf) = c.nbf
            && nbf > late_now
        {
            return Err(Error::NotYetValid { nbf, now });
        }
        if c.iat > late_now {
            return Err(Error::IssuedInFuture { iat: c.iat, now });
        }
        if let Some(want) = &self.issuer {
            match &c.iss {
                Some(iss) if iss == want => {}
                Some(iss) => return Err(Error::wrong_issuer(want, iss)),
                None => return Err(Error::MissingClaim("iss")),
            }
        }
        match (&self.audience, &c.aud) {
            (Some(want), Some(aud)) if aud.contains(want) => {}
            (Some(_), None) => return Err(Error::MissingClaim("aud")),
            (want, Some(aud)) => {
                return Err(Error::wrong_audience(want.as_deref(), aud.as_slice()));
            }
            (None, None) => {}
        }
        Ok(())
    }
}

/// How a token was presented: alone (a bearer token), or with a DPoP proof its caller checks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Binding {
    Bearer,
    Proven,
}

impl Binding {
    /// A token bound to a DPoP key is good only with a proof.
    fn admits<C>(self, claims: &Claims<C>) -> Result<()> {
        if self == Binding::Bearer && claims.cnf_jkt.is_some() {
            return Err(Error::InvalidDpopProof(
                "a DPoP-bound token was presented without its proof",
            ));
        }
        Ok(())
    }
}

/// A token that passed every check but revocation; custom claims still as JSON.
struct Checked {
    claims: Claims<Map<String, Value>>,
    format: Format,
    kid: Kid,
}

impl Checked {
    fn facts(&self) -> TokenFacts<'_> {
        TokenFacts {
            token_id: &self.claims.jti,
            session_id: self.claims.sid.as_ref(),
            subject: &self.claims.sub,
            issued_at: self.claims.iat,
            expires_at: self.claims.exp,
            status: self.claims.status.as_ref(),
        }
    }

    /// Last: the application's own schema for its custom claims.
    fn finish<K: TokenKind, C: DeserializeOwned>(self) -> Result<Verified<K, C>> {
        Ok(Verified {
            claims: self.claims.into_typed::<C>()?,
            format: self.format,
            kid: self.kid,
            _kind: PhantomData,
        })
    }
}

/// What an authenticated token is: the key's purpose and the token's own signed marker must
/// agree. A refresh-token key seals only refresh tokens; an access-token key only access tokens,
/// so a token marked as a refresh token but sealed with an access-token key (a JWT `rt+jwt`, or a
/// PASETO token with the refresh assertion) is neither, and no verification accepts it.
fn token_type(purpose: KeyPurpose, marked: Option<TokenType>) -> Result<TokenType, &'static str> {
    match (purpose, marked) {
        (KeyPurpose::Refresh, _) => Ok(TokenType::Refresh),
        (KeyPurpose::Access, Some(TokenType::Access)) => Ok(TokenType::Access),
        (KeyPurpose::Access, Some(TokenType::Refresh)) => {
            Err("a refresh token sealed with an access-token key")
        }
        (KeyPurpose::Access, None) => Err("a JWT without an at+jwt typ"),
        // Another issuer's key: `jwt::open` marks `typ` JWT, at+jwt or none as an access token.
        (KeyPurpose::Foreign, Some(TokenType::Access)) => Ok(TokenType::Access),
        (KeyPurpose::Foreign, Some(TokenType::Refresh)) => {
            Err("a refresh token under another issuer's key")
        }
        (KeyPurpose::Foreign, None) => Err("a JWT whose typ names another kind of token"),
    }
}

/// A token that passed every check. Only a [`Verifier`] can make one, so code that takes a
/// `Verified<Access, C>` knows the token was verified as an access token.
pub struct Verified<K: TokenKind, C = NoCustomClaims> {
    claims: Claims<C>,
    format: Format,
    kid: Kid,
    _kind: PhantomData<K>,
}

impl<K: TokenKind, C> Verified<K, C> {
    /// The claims.
    pub fn claims(&self) -> &Claims<C> {
        &self.claims
    }
    /// Takes the claims.
    pub fn into_claims(self) -> Claims<C> {
        self.claims
    }
    /// The token's format.
    pub fn format(&self) -> Format {
        self.format
    }
    /// The key that verified it.
    pub fn kid(&self) -> &Kid {
        &self.kid
    }
    /// Shorthand for `claims().subject()`.
    pub fn subject(&self) -> &str {
        self.claims.subject()
    }
    /// Shorthand for `claims().token_id()`.
    pub fn token_id(&self) -> &TokenId {
        self.claims.token_id()
    }
    /// Shorthand for `claims().session_id()`.
    pub fn session_id(&self) -> Option<&SessionId> {
        self.claims.session_id()
    }
}

impl<K: TokenKind, C: Clone> Clone for Verified<K, C> {
    fn clone(&self) -> Self {
        Verified {
            claims: self.claims.clone(),
            format: self.format,
            kid: self.kid.clone(),
            _kind: PhantomData,
        }
    }
}

/// Redacted: the format, the key, the subject, the session, the token id and the expiry, never
/// the custom claims (which may hold personal data that has no place in logs).
impl<K: TokenKind, C> std::fmt::Debug for Verified<K, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verified")
            .field("format", &self.format)
            .field("kid", &self.kid)
            .field("sub", &self.claims.sub)
            .field("sid", &self.claims.sid)
            .field("jti", &self.claims.jti)
            .field("exp", &self.claims.exp)
            .finish_non_exhaustive()
    }
}
