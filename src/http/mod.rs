//! In front of an HTTP API (feature `axum`): the glue every keycard user otherwise writes by hand,
//! for axum 0.8 and tower.
//!
//! - [`Authenticated`]: an extractor that reads the access token from `Authorization: Bearer` or
//!   from the session cookie, verifies it (signature, claims, revocation, awaited so a compact
//!   replica never blocks a runtime thread) and hands the handler typed claims. `Option<…>` and
//!   `Result<…, Rejection>` forms come with it.
//! - [`RequireAuth`]: a tower layer that authenticates every request of a router and puts the
//!   [`Authenticated`] value into the request's extensions.
//! - Rejections follow RFC 6750: 401 with `WWW-Authenticate: Bearer error="invalid_token"` and a
//!   JSON body `{"error": "<kind>"}` that helps no attacker (the reason goes to `tracing`); a
//!   step-up failure is 401 `error="insufficient_user_authentication"` (RFC 9470); a stale
//!   revocation replica or an unreachable store is 503. [`keycard::Error`](crate::Error)
//!   implements `IntoResponse` with the same mapping.
//! - Cookies for browsers ([`KeycardHttp::login_cookies`]): `__Host-access` and
//!   `__Host-refresh`, `HttpOnly`, `Secure`, `SameSite=Strict` (Lax on request), `Path=/`,
//!   `Max-Age` equal to each token's lifetime; a logout clears them with cookies that keep
//!   `Secure` and `Path=/` (browsers ignore a `__Host-` clear otherwise).
//! - CSRF for cookie mode: a token bound to the session (HMAC-SHA-256 of the `sid` under a key
//!   derived from the refresh-token key), issued at login and refresh, required in
//!   `X-CSRF-Token` on unsafe methods (POST, PUT, PATCH, DELETE), compared in constant time.
//!   Bearer requests need none (a browser never adds an `Authorization` header by itself).
//! - [`KeycardHttp::jwks`]: `/.well-known/jwks.json` with a `Cache-Control: max-age` a quarter
//!   of the key ring's grace period (at most an hour).
//! - [`Maintenance`]: the background task a service needs (`maintain()`, and key-set reloads
//!   from a file), on an interval, stopped with the service.
//! - [`KeycardHttp::client_context`]: the peer address (or a configured trusted proxy header,
//!   never `X-Forwarded-For` by default) and the `User-Agent`, for anomaly detection.
//!
//! ```no_run
//! use std::sync::Arc;
//! use axum::{Json, Router, routing::get};
//! use keycard::http::{Authenticated, KeycardHttp};
//! use keycard::{Algorithm, KeyRing, Keycard, NoCustomClaims};
//!
//! async fn me(user: Authenticated) -> Json<serde_json::Value> {
//!     Json(serde_json::json!({ "sub": user.subject() }))
//! }
//!
//! # async fn run() -> keycard::Result<()> {
//! let keys = Arc::new(KeyRing::new());
//! keys.rotate(Algorithm::EdDSA)?;
//! let http = KeycardHttp::new(Arc::new(Keycard::builder(keys).build()?));
//! let app: Router = Router::new()
//!     .route("/me", get(me))
//!     .route("/.well-known/jwks.json", get(KeycardHttp::jwks))
//!     .with_state(http);
//! # Ok(()) }
//! ```

mod extract;
mod response;
#[cfg(test)]
mod tests;

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use ring::hmac;

pub use extract::{Authenticated, RequireAuth, RequireAuthService, TokenSource};
pub use response::{DPOP_NONCE, Rejection, token_endpoint_error};

use crate::claims::SessionId;
use crate::dpop::{DpopPolicy, ProofChecker, ProofLog};
use crate::encoding::b64;
use crate::error::{Error, Result};
use crate::keycard::{Keycard, TokenPair};
use crate::keys::{KeyPurpose, KeyRing};
use crate::refresh::ClientContext;
use crate::verify::Verifier;

/// The name of the access-token cookie.
pub const ACCESS_COOKIE: &str = "__Host-access";
/// The name of the refresh-token cookie.
pub const REFRESH_COOKIE: &str = "__Host-refresh";
/// The header carrying the CSRF token on unsafe cookie-authenticated requests.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// `SameSite` of the session cookies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SameSite {
    /// Never sent on cross-site requests (the default).
    Strict,
    /// Sent on top-level cross-site navigations (links into the app), not on subrequests.
    Lax,
}

struct Inner {
    /// The sessions, on a full node; `None` on a verify-only node.
    keycard: Option<Arc<Keycard>>,
    /// What the extractor verifies with: the keycard's verifier, or a verify-only one.
    verifier: Verifier,
    same_site: SameSite,
    proxy_header: Option<HeaderName>,
    /// The origin clients reach the service at, for a DPoP proof's `htu`; `None`: `https://`
    /// and the request's `Host`.
    public_origin: Option<String>,
    /// A verify-only service's DPoP checks and proof log (a full node uses its keycard's).
    dpop: Option<(ProofChecker, Arc<dyn ProofLog>)>,
}

/// The HTTP side of a [`Keycard`]: what handlers and extractors reach through the router's state
/// (directly, or from an application state through `FromRef`). Cheap to clone.
#[derive(Clone)]
pub struct KeycardHttp {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for KeycardHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeycardHttp")
            .field("keycard", &self.inner.keycard)
            .field("verify_only", &self.inner.keycard.is_none())
            .field("same_site", &self.inner.same_site)
            .field("proxy_header", &self.inner.proxy_header)
            .field("public_origin", &self.inner.public_origin)
            .finish()
    }
}

impl KeycardHttp {
    /// Over a keycard, with the secure defaults: `SameSite=Strict`, the peer address as the
    /// client's address.
    pub fn new(keycard: Arc<Keycard>) -> KeycardHttp {
        KeycardHttp {
            inner: Arc::new(Inner {
                verifier: keycard.verifier().clone(),
                keycard: Some(keycard),
                same_site: SameSite::Strict,
                proxy_header: None,
                public_origin: None,
                dpop: None,
            }),
        }
    }

    /// For a verify-only service: no sessions, no keys of its own, only `verifier` (for
    /// example [`Verifier::with_remote_keys`] with a
    /// [`StatusListClient`](crate::status::StatusListClient) as its revocation check). The
    /// extractor and the layer work as on a full node, for bearer tokens; cookie-authenticated
    /// unsafe requests are refused (there is no refresh-token key to check CSRF tokens with),
    /// and the session methods ([`refresh_with_cookie`](KeycardHttp::refresh_with_cookie), the
    /// status list) answer `config`.
    pub fn verify_only(verifier: Verifier) -> KeycardHttp {
        KeycardHttp {
            inner: Arc::new(Inner {
                keycard: None,
                verifier,
                same_site: SameSite::Strict,
                proxy_header: None,
                public_origin: None,
                dpop: None,
            }),
        }
    }

    fn with(self, change: impl FnOnce(&mut Inner)) -> KeycardHttp {
        let mut inner = Inner {
            keycard: self.inner.keycard.clone(),
            verifier: self.inner.verifier.clone(),
            same_site: self.inner.same_site,
            proxy_header: self.inner.proxy_header.clone(),
            public_origin: self.inner.public_origin.clone(),
            dpop: self.inner.dpop.clone(),
        };
        change(&mut inner);
        KeycardHttp {
            inner: Arc::new(inner),
        }
    }

    /// `SameSite=Lax` session cookies (links from other sites arrive logged in; CSRF tokens
    /// still guard every unsafe request).
    pub fn with_same_site(self, same_site: SameSite) -> KeycardHttp {
        self.with(|i| i.same_site = same_site)
    }

    /// Takes the client's address from this header, which a trusted reverse proxy in front of
    /// the service sets (for example `x-real-ip`; for `x-forwarded-for`, the last entry, the
    /// one the proxy appended). Never configure it without such a proxy: any client can send it.
    pub fn trust_proxy_header(self, name: &str) -> Result<KeycardHttp> {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| Error::Config(format!("`{name}` is not a header name")))?;
        Ok(self.with(|i| i.proxy_header = Some(name)))
    }

    /// The origin clients reach this service at (`https://api.example`, no path), from which
    /// the URL a DPoP proof must name (`htu`) is made: this origin and the request's path.
    /// Without it, `https://` and the request's `Host` header: set it whenever the service sits
    /// behind a proxy that rewrites the host or terminates TLS elsewhere, and to pin the origin
    /// so a proof made for another host is never taken for this one.
    pub fn with_public_origin(self, origin: &str) -> Result<KeycardHttp> {
        let origin = origin.trim_end_matches('/');
        let normalized = crate::dpop::normalize_url(origin)
            .filter(|n| n.ends_with('/') && n.matches('/').count() == 3)
            .ok_or_else(|| Error::Config(format!("`{origin}` is not an http(s) origin")))?;
        let origin = normalized.trim_end_matches('/').to_owned();
        Ok(self.with(|i| i.public_origin = Some(origin)))
    }

    /// Lets a verify-only service accept DPoP-bound tokens (`Authorization: DPoP`): proofs are
    /// checked by `checker` and their one-time use recorded in `log`, for example a
    /// [`LocalProofLog`](crate::stores::LocalProofLog) (one process: behind a load balancer, a
    /// proof could be used once at each instance, within its minute) or a shared store. Without
    /// it a verify-only service refuses the `DPoP` scheme; a full node always uses its keycard's
    /// checks and store.
    pub fn with_dpop(self, checker: ProofChecker, log: Arc<dyn ProofLog>) -> KeycardHttp {
        self.with(|i| i.dpop = Some((checker, log)))
    }

    /// Verifies a DPoP request's token and proof: with the keycard on a full node, with
    /// [`KeycardHttp::with_dpop`]'s checks on a verify-only one.
    pub(crate) async fn verify_dpop<C: serde::de::DeserializeOwned>(
        &self,
        token: &str,
        proof: &str,
        method: &str,
        url: &str,
    ) -> Result<crate::verify::Verified<crate::claims::Access, C>> {
        let verified = match (self.keycard(), &self.inner.dpop) {
            (Some(keycard), _) => keycard.verify_dpop_async(token, proof, method, url).await?,
            (None, Some((checker, log))) => {
                self.verifier()
                    .verify_dpop_async(token, proof, method, url, checker, log.as_ref())
                    .await?
            }
            (None, None) => {
                return Err(Error::InvalidDpopProof(
                    "this verify-only service does not accept DPoP",
                ));
            }
        };
        Ok(verified.0)
    }

    /// The absolute URL of a request, as a DPoP proof's `htu` must name it.
    pub(crate) fn request_url(&self, parts: &Parts) -> Option<String> {
        let path = parts.uri.path();
        match &self.inner.public_origin {
            Some(origin) => Some(format!("{origin}{path}")),
            None => {
                let host = parts.headers.get(header::HOST)?.to_str().ok()?;
                Some(format!("https://{host}{path}"))
            }
        }
    }

    /// The DPoP key a token-endpoint request (login, refresh) proves, to bind the session to:
    /// `None` when the request has no `DPoP` header (or DPoP is [`DpopPolicy::Off`]); otherwise its proof checked for this
    /// request's method and URL and claimed (one use), and the key's thumbprint returned for
    /// [`Keycard::login_dpop_async`] or [`Keycard::refresh_dpop_async`]. Refusals are
    /// `invalid_dpop_proof` or `use_dpop_nonce`; answer them with [`token_endpoint_error`].
    ///
    /// ```no_run
    /// # use axum::{extract::{Request, State}, response::{IntoResponse, Response}};
    /// # use keycard::{NoCustomClaims, http::{KeycardHttp, token_endpoint_error}};
    /// async fn login(State(http): State<KeycardHttp>, request: Request) -> Response {
    ///     let (parts, _body) = request.into_parts();
    ///     // … check the user's credentials first …
    ///     let keycard = http.keycard().unwrap();
    ///     let jkt = match http.dpop_binding(&parts).await {
    ///         Ok(jkt) => jkt,
    ///         Err(e) => return token_endpoint_error(e),
    ///     };
    ///     match keycard.login_dpop_async("alice", &NoCustomClaims {}, None, jkt).await {
    ///         Ok(pair) => pair.access.as_str().to_owned().into_response(),
    ///         Err(e) => token_endpoint_error(e),
    ///     }
    /// }
    /// ```
    pub async fn dpop_binding(&self, parts: &Parts) -> Result<Option<String>> {
        let keycard = self.sessions()?;
        if !parts.headers.contains_key(extract::DPOP_HEADER)
            || keycard.dpop_policy() == DpopPolicy::Off
        {
            return Ok(None);
        }
        let proof = extract::dpop_proof(parts)?;
        let url = self.request_url(parts).ok_or(Error::InvalidDpopProof(
            "a DPoP request without a Host header",
        ))?;
        let request = crate::dpop::ProofRequest {
            method: parts.method.as_str(),
            url: &url,
            access_token: None,
        };
        let proof = keycard.check_dpop_async(proof, &request).await?;
        Ok(Some(proof.jkt))
    }

    /// The keycard (`None` on a verify-only service).
    pub fn keycard(&self) -> Option<&Arc<Keycard>> {
        self.inner.keycard.as_ref()
    }

    /// The keycard, or `config` on a verify-only service.
    fn sessions(&self) -> Result<&Arc<Keycard>> {
        self.keycard()
            .ok_or_else(|| Error::Config("a verify-only service keeps no sessions".into()))
    }

    /// The verifier the extractor uses.
    pub fn verifier(&self) -> &Verifier {
        &self.inner.verifier
    }

    /// The client context of a request: its address (the peer's, from axum's `ConnectInfo`, or
    /// the trusted proxy header's) and its `User-Agent`.
    pub fn client_context(&self, parts: &Parts) -> ClientContext {
        let mut ctx = ClientContext::new();
        let ip = match &self.inner.proxy_header {
            Some(name) => parts
                .headers
                .get_all(name)
                .iter()
                .next_back()
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .and_then(|v| v.trim().parse::<IpAddr>().ok()),
            None => parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip()),
        };
        if let Some(ip) = ip {
            ctx = ctx.with_ip(ip);
        }
        if let Some(ua) = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
        {
            ctx = ctx.with_user_agent(ua);
        }
        ctx
    }

    // --- CSRF.

    /// The CSRF key derived from a refresh-token key (secret, shared by the nodes, never
    /// published).
    fn csrf_key(secret: &[u8]) -> hmac::Key {
        let base = hmac::Key::new(hmac::HMAC_SHA256, secret);
        let derived = hmac::sign(&base, b"keycard:http:csrf:v1");
        hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref())
    }

    fn csrf_with(key: &hmac::Key, sid: &SessionId) -> String {
        b64::encode(hmac::sign(key, sid.as_str().as_bytes()).as_ref())
    }

    /// The CSRF token of a session: what a cookie-mode client sends in `X-CSRF-Token`.
    pub fn csrf_token(&self, sid: &SessionId) -> Result<String> {
        let key = self
            .inner
            .verifier
            .keys()
            .active_refresh()
            .and_then(|k| k.secret_bytes())
            .ok_or_else(|| Error::Config("no refresh-token key for CSRF tokens".into()))?;
        Ok(KeycardHttp::csrf_with(&KeycardHttp::csrf_key(&key), sid))
    }

    /// The request's `X-CSRF-Token` must be the CSRF token of `sid` (a token without a session
    /// has none, and fails).
    pub(crate) fn check_csrf(
        &self,
        parts: &Parts,
        sid: Option<&SessionId>,
    ) -> Result<(), Rejection> {
        let given = parts
            .headers
            .get(CSRF_HEADER)
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        match sid {
            Some(sid) if self.csrf_ok(sid, given) => Ok(()),
            _ => Err(Rejection::Csrf),
        }
    }

    /// Whether `given` is the CSRF token of `sid` under a refresh-token key the ring still
    /// verifies with (so a key rotation does not break pages already loaded). Constant time.
    pub(crate) fn csrf_ok(&self, sid: &SessionId, given: &[u8]) -> bool {
        let ring: &KeyRing = self.inner.verifier.keys();
        ring.statuses()
            .iter()
            .filter(|s| s.purpose == KeyPurpose::Refresh)
            .filter_map(|s| ring.get(s.kid.as_str()))
            .filter_map(|k| k.secret_bytes())
            .any(|secret| {
                let expected = KeycardHttp::csrf_with(&KeycardHttp::csrf_key(&secret), sid);
                subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), given).into()
            })
    }

    // --- Cookies.

    fn cookie(&self, name: &'static str, value: &str, max_age: Duration) -> HeaderValue {
        let same_site = match self.inner.same_site {
            SameSite::Strict => cookie::SameSite::Strict,
            SameSite::Lax => cookie::SameSite::Lax,
        };
        let secs = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
        let c = cookie::Cookie::build((name, value))
            .http_only(true)
            .secure(true)
            .same_site(same_site)
            .path("/")
            .max_age(cookie::time::Duration::seconds(secs))
            .build();
        // Tokens are base64url and dots: always a valid header value.
        HeaderValue::from_str(&c.to_string()).unwrap_or(HeaderValue::from_static(""))
    }

    /// The `Set-Cookie` headers for a new token pair (login, refresh, step-up), and the
    /// session's CSRF token for the page to send in `X-CSRF-Token`.
    pub fn login_cookies(&self, pair: &TokenPair) -> Result<(HeaderMap, String)> {
        let now = self.sessions()?.now();
        let mut h = HeaderMap::new();
        h.append(
            header::SET_COOKIE,
            self.cookie(
                ACCESS_COOKIE,
                pair.access.as_str(),
                pair.access.expires_at().duration_since(now),
            ),
        );
        h.append(
            header::SET_COOKIE,
            self.cookie(
                REFRESH_COOKIE,
                pair.refresh.as_str(),
                pair.refresh.expires_at().duration_since(now),
            ),
        );
        Ok((h, self.csrf_token(&pair.session)?))
    }

    /// A cookie-mode refresh: the refresh token from the `__Host-refresh` cookie, the CSRF token
    /// of its session from `X-CSRF-Token` (checked before the token is redeemed, so a forged
    /// request burns nothing), then [`Keycard::refresh_async`] with the request's client
    /// context. Answer with [`login_cookies`](KeycardHttp::login_cookies) of the new pair.
    pub async fn refresh_with_cookie(&self, parts: &Parts) -> Result<TokenPair, Rejection> {
        let token = KeycardHttp::cookie_value(&parts.headers, REFRESH_COOKIE)
            .filter(|t| !t.is_empty())
            .ok_or(Rejection::Missing)?;
        let keycard = self.sessions()?;
        let verified = keycard
            .verifier()
            .verify_refresh_async::<crate::claims::NoCustomClaims>(token)
            .await?;
        self.check_csrf(parts, verified.session_id())?;
        let context = self.client_context(parts);
        Ok(keycard.refresh_async(token, Some(&context)).await?)
    }

    /// The `Set-Cookie` headers that clear both session cookies (a logout). They keep `Secure`
    /// and `Path=/`, or a browser would ignore them for `__Host-` cookies.
    pub fn clear_cookies(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        for name in [ACCESS_COOKIE, REFRESH_COOKIE] {
            h.append(header::SET_COOKIE, self.cookie(name, "", Duration::ZERO));
        }
        h
    }

    /// The value of a cookie of the request, if present.
    pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    }

    // --- JWKS.

    /// `GET /.well-known/jwks.json`: the public JWK Set, cacheable for a quarter of the key
    /// ring's grace period (at most an hour), so caches refetch well before a demoted key stops
    /// verifying. Use it as a handler: `get(KeycardHttp::jwks)`.
    pub async fn jwks(State(http): State<KeycardHttp>) -> Response {
        let ring = http.inner.verifier.keys();
        let max_age = (ring.grace() / 4).min(Duration::from_secs(3600)).as_secs();
        let mut r = (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/jwk-set+json"),
            )],
            ring.public_jwks(),
        )
            .into_response();
        if let Ok(v) = HeaderValue::from_str(&format!("public, max-age={max_age}")) {
            r.headers_mut().insert(header::CACHE_CONTROL, v);
        }
        r
    }

    /// `GET` the Token Status List (the URI given to
    /// [`KeycardBuilder::status_list`](crate::KeycardBuilder::status_list)): the Status List
    /// Token, `Content-Type: application/statuslist+jwt`, cacheable for its `ttl`. Use it as a
    /// handler: `get(KeycardHttp::status_list)`.
    pub async fn status_list(State(http): State<KeycardHttp>) -> Response {
        let keycard = match http.sessions() {
            Ok(k) => k,
            Err(e) => return e.into_response(),
        };
        match keycard.status_list_token_async().await {
            Ok(token) => {
                let ttl = keycard.status_list_ttl().unwrap_or_default().as_secs();
                let mut r = (
                    [(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static(crate::status::STATUS_LIST_MEDIA_TYPE),
                    )],
                    token,
                )
                    .into_response();
                if let Ok(v) = HeaderValue::from_str(&format!("public, max-age={ttl}")) {
                    r.headers_mut().insert(header::CACHE_CONTROL, v);
                }
                r
            }
            Err(e) => e.into_response(),
        }
    }

    /// The background maintenance of this service; see [`Maintenance`]. On a verify-only
    /// service it only reloads keys (when asked to).
    pub fn maintenance(&self) -> Maintenance {
        Maintenance {
            keycard: self.keycard().cloned(),
            ring: self.inner.verifier.keys().clone(),
            every: Duration::from_secs(5),
            reload: None,
        }
    }
}

/// The periodic work a service runs: [`Keycard::maintain_async`] (revocation pruning, expired
/// sessions, and for the Redis store its snapshots and trimming) and, when configured, reloading
/// the key set from its file when it changes (so `keycard keygen` on the file rotates a running
/// service). Every 5 seconds by default; spawned on the current tokio runtime; stops when its
/// [`MaintenanceHandle`] is dropped or [`MaintenanceHandle::stop`] is called.
#[must_use = "call .spawn()"]
pub struct Maintenance {
    keycard: Option<Arc<Keycard>>,
    ring: Arc<KeyRing>,
    every: Duration,
    reload: Option<PathBuf>,
}

impl Maintenance {
    /// How often (default 5 s).
    pub fn every(mut self, every: Duration) -> Self {
        self.every = every.max(Duration::from_millis(10));
        self
    }

    /// Reload the key set from `path` whenever the file changes.
    pub fn reload_keys_from(mut self, path: impl Into<PathBuf>) -> Self {
        self.reload = Some(path.into());
        self
    }

    /// Starts it on the current tokio runtime.
    pub fn spawn(self) -> MaintenanceHandle {
        let task = tokio::spawn(async move {
            let mut seen: Option<SystemTime> = None;
            loop {
                tokio::time::sleep(self.every).await;
                if let Some(keycard) = &self.keycard
                    && let Err(e) = keycard.maintain_async().await
                {
                    tracing::warn!(target: "keycard::http", error = %e, "maintenance failed");
                }
                if let Some(path) = &self.reload {
                    let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
                    if modified.is_some() && modified != seen {
                        match KeyRing::load(path) {
                            Ok(fresh) => {
                                if seen.is_some() {
                                    tracing::info!(target: "keycard::http", "key set reloaded");
                                }
                                self.ring.replace_keys(&fresh);
                                seen = modified;
                            }
                            Err(e) => tracing::warn!(
                                target: "keycard::http",
                                error = %e,
                                "cannot reload the key set; keeping the current keys"
                            ),
                        }
                    }
                }
            }
        });
        MaintenanceHandle { task: Some(task) }
    }
}

/// A running [`Maintenance`]; dropping it stops the task.
#[derive(Debug)]
pub struct MaintenanceHandle {
    task: Option<tokio::task::JoinHandle<()>>,
}

impl MaintenanceHandle {
    /// Stops the task and waits until it has ended.
    pub async fn stop(mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for MaintenanceHandle {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}
