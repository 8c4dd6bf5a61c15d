//! The extractor and the layer: where a request's credentials are found, verified, and checked
//! against CSRF, in one function both share.

use std::convert::Infallible;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::{FromRef, FromRequestParts, OptionalFromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::response::Rejection;
use super::{ACCESS_COOKIE, KeycardHttp};
use crate::claims::{Access, Claims, NoCustomClaims, SessionId};
use crate::error::Error;
use crate::verify::Verified;

/// Where the access token of a request came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenSource {
    /// `Authorization: Bearer <token>`.
    Bearer,
    /// The `__Host-access` cookie (browsers); unsafe methods also carried a valid CSRF token.
    Cookie,
    /// `Authorization: DPoP <token>` with a `DPoP` proof by the key the token is bound to, for
    /// this request (RFC 9449).
    Dpop,
}

/// A request whose access token was verified: signature, claims, revocation, and for a cookie
/// on an unsafe method (anything but GET, HEAD, OPTIONS, TRACE) the session's `X-CSRF-Token`.
///
/// As an extractor it rejects with a [`Rejection`] (401 `invalid_token` or `invalid_dpop_proof`,
/// 401 with no error code when no credentials were sent, 403 `csrf`, 503 when the revocation
/// state is unavailable).
/// `Option<Authenticated>` is `None` when the request carries no credentials at all, and still
/// rejects a request whose credentials are bad (a bad token is never silently anonymous); use
/// `Result<Authenticated, Rejection>` to handle every case yourself.
///
/// `C` is the application's custom claims type. The token is read from `Authorization`
/// (`Bearer <token>`, or `DPoP <token>` with one `DPoP` proof header, RFC 9449) first; the
/// cookie only when there is no `Authorization` header. A DPoP request needs a full node (the
/// proof's one-time use is recorded in the session store) or a verify-only service given
/// [`KeycardHttp::with_dpop`], and answers its refusals with a
/// `DPoP` challenge ([`Rejection::Dpop`]); a DPoP-bound token sent as `Bearer` or in the
/// cookie is refused with `invalid_dpop_proof`. The URL a proof must name is
/// [`KeycardHttp::with_public_origin`] and the request's path. If a [`RequireAuth`] layer
/// already authenticated the request, the extractor takes its result from the request's
/// extensions instead of verifying again.
pub struct Authenticated<C = NoCustomClaims> {
    verified: Verified<Access, C>,
    source: TokenSource,
    token: String,
}

impl<C: Clone> Clone for Authenticated<C> {
    fn clone(&self) -> Self {
        Authenticated {
            verified: self.verified.clone(),
            source: self.source,
            token: self.token.clone(),
        }
    }
}

/// Redacted like [`Verified`]; the token string is never printed.
impl<C> std::fmt::Debug for Authenticated<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticated")
            .field("source", &self.source)
            .field("verified", &self.verified)
            .finish_non_exhaustive()
    }
}

impl<C> Authenticated<C> {
    /// The verified token.
    pub fn verified(&self) -> &Verified<Access, C> {
        &self.verified
    }
    /// Takes the verified token (for [`Keycard::logout`](crate::Keycard::logout) and friends).
    pub fn into_verified(self) -> Verified<Access, C> {
        self.verified
    }
    /// The claims.
    pub fn claims(&self) -> &Claims<C> {
        self.verified.claims()
    }
    /// The subject (`sub`).
    pub fn subject(&self) -> &str {
        self.verified.subject()
    }
    /// The session (`sid`), for tokens minted by a [`Keycard`](crate::Keycard).
    pub fn session_id(&self) -> Option<&SessionId> {
        self.verified.session_id()
    }
    /// Where the token came from.
    pub fn source(&self) -> TokenSource {
        self.source
    }
    /// The access token as sent (a bearer credential: never log it).
    pub fn token(&self) -> &str {
        &self.token
    }
}

/// Methods that change nothing, so need no CSRF token (RFC 9110 §9.2.1).
fn is_safe(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// The one `DPoP` header of a request.
pub(crate) fn dpop_proof(parts: &Parts) -> crate::error::Result<&str> {
    let mut proofs = parts.headers.get_all(DPOP_HEADER).iter();
    let proof = proofs.next().ok_or(Error::InvalidDpopProof(
        "a DPoP request without a DPoP header",
    ))?;
    if proofs.next().is_some() {
        return Err(Error::InvalidDpopProof("more than one DPoP header"));
    }
    proof
        .to_str()
        .map_err(|_| Error::InvalidDpopProof("a DPoP header that is not ASCII"))
}

/// The `DPoP` request header.
pub(crate) const DPOP_HEADER: &str = "dpop";

/// The access token of a request and where it came from; `None` when there is none.
fn credentials(parts: &Parts) -> Result<Option<(TokenSource, String)>, Rejection> {
    let mut auth = parts.headers.get_all(header::AUTHORIZATION).iter();
    if let Some(value) = auth.next() {
        if auth.next().is_some() {
            return Err(Rejection::InvalidRequest(
                "more than one Authorization header",
            ));
        }
        let value = value
            .to_str()
            .map_err(|_| Rejection::InvalidRequest("an Authorization header that is not ASCII"))?;
        let (scheme, token) = value.split_once(' ').ok_or(Rejection::InvalidRequest(
            "an Authorization header without a scheme",
        ))?;
        let source = if scheme.eq_ignore_ascii_case("bearer") {
            TokenSource::Bearer
        } else if scheme.eq_ignore_ascii_case("dpop") {
            TokenSource::Dpop
        } else {
            return Err(Rejection::InvalidRequest(
                "an authorization scheme other than Bearer or DPoP",
            ));
        };
        let token = token.trim_start_matches(' ');
        if token.is_empty() {
            return Err(Rejection::InvalidRequest("an empty access token"));
        }
        return Ok(Some((source, token.to_owned())));
    }
    Ok(KeycardHttp::cookie_value(&parts.headers, ACCESS_COOKIE)
        .filter(|v| !v.is_empty())
        .map(|v| (TokenSource::Cookie, v.to_owned())))
}

/// Authenticates a request: `Ok(None)` when it carries no credentials.
async fn authenticate<C: DeserializeOwned + Send>(
    http: &KeycardHttp,
    parts: &Parts,
) -> Result<Option<Authenticated<C>>, Rejection> {
    let Some((source, token)) = credentials(parts)? else {
        return Ok(None);
    };
    let verified = match source {
        TokenSource::Dpop => verify_dpop(http, parts, &token).await?,
        _ => http.verifier().verify_access_async::<C>(&token).await?,
    };
    if source == TokenSource::Cookie && !is_safe(&parts.method) {
        http.check_csrf(parts, verified.session_id())?;
    }
    Ok(Some(Authenticated {
        verified,
        source,
        token,
    }))
}

/// A DPoP request: the token, and its proof for this request's method and URL.
async fn verify_dpop<C: DeserializeOwned>(
    http: &KeycardHttp,
    parts: &Parts,
    token: &str,
) -> Result<Verified<Access, C>, Rejection> {
    let refuse = |e| Rejection::Dpop(e);
    let proof = dpop_proof(parts).map_err(refuse)?;
    let url = http
        .request_url(parts)
        .ok_or(refuse(Error::InvalidDpopProof(
            "a DPoP request without a Host header",
        )))?;
    http.verify_dpop::<C>(token, proof, parts.method.as_str(), &url)
        .await
        .map_err(refuse)
}

impl<S, C> FromRequestParts<S> for Authenticated<C>
where
    KeycardHttp: FromRef<S>,
    S: Send + Sync,
    C: DeserializeOwned + Clone + Send + Sync + 'static,
{
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Rejection> {
        if let Some(done) = parts.extensions.get::<Authenticated<C>>() {
            return Ok(done.clone());
        }
        let http = KeycardHttp::from_ref(state);
        authenticate(&http, parts).await?.ok_or(Rejection::Missing)
    }
}

impl<S, C> OptionalFromRequestParts<S> for Authenticated<C>
where
    KeycardHttp: FromRef<S>,
    S: Send + Sync,
    C: DeserializeOwned + Clone + Send + Sync + 'static,
{
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Option<Self>, Rejection> {
        if let Some(done) = parts.extensions.get::<Authenticated<C>>() {
            return Ok(Some(done.clone()));
        }
        let http = KeycardHttp::from_ref(state);
        authenticate(&http, parts).await
    }
}

/// A tower layer that authenticates every request of the service it wraps, refusing the rest
/// with the same responses as [`Authenticated`], and puts the [`Authenticated<C>`] value into the
/// request's extensions (where the extractor, or `Extension<Authenticated<C>>`, finds it).
///
/// ```no_run
/// # use std::sync::Arc;
/// use axum::{Router, routing::get};
/// use keycard::http::{Authenticated, KeycardHttp, RequireAuth};
/// # fn app(http: KeycardHttp) -> Router {
/// let api: Router = Router::new()
///     .route("/me", get(|user: Authenticated| async move { user.subject().to_owned() }))
///     .route_layer(RequireAuth::<keycard::NoCustomClaims>::new(http.clone()))
///     .with_state(http);
/// # api }
/// ```
pub struct RequireAuth<C = NoCustomClaims> {
    http: KeycardHttp,
    _claims: PhantomData<fn() -> C>,
}

impl<C> RequireAuth<C> {
    /// Over the given keycard state.
    pub fn new(http: KeycardHttp) -> RequireAuth<C> {
        RequireAuth {
            http,
            _claims: PhantomData,
        }
    }
}

impl<C> Clone for RequireAuth<C> {
    fn clone(&self) -> Self {
        RequireAuth::new(self.http.clone())
    }
}

impl<C> std::fmt::Debug for RequireAuth<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequireAuth").finish_non_exhaustive()
    }
}

impl<S, C> tower::Layer<S> for RequireAuth<C> {
    type Service = RequireAuthService<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireAuthService {
            inner,
            http: self.http.clone(),
            _claims: PhantomData,
        }
    }
}

/// The service [`RequireAuth`] makes.
pub struct RequireAuthService<S, C = NoCustomClaims> {
    inner: S,
    http: KeycardHttp,
    _claims: PhantomData<fn() -> C>,
}

impl<S: Clone, C> Clone for RequireAuthService<S, C> {
    fn clone(&self) -> Self {
        RequireAuthService {
            inner: self.inner.clone(),
            http: self.http.clone(),
            _claims: PhantomData,
        }
    }
}

impl<S, C> std::fmt::Debug for RequireAuthService<S, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequireAuthService").finish_non_exhaustive()
    }
}

impl<S, C> tower::Service<Request> for RequireAuthService<S, C>
where
    S: tower::Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
    C: DeserializeOwned + Clone + Send + Sync + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        // The service that was polled ready serves this request; a fresh clone takes its place.
        let fresh = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, fresh);
        let http = self.http.clone();
        Box::pin(async move {
            let (mut parts, body) = request.into_parts();
            match authenticate::<C>(&http, &parts).await {
                Ok(Some(user)) => {
                    parts.extensions.insert(user);
                    inner.call(Request::from_parts(parts, body)).await
                }
                Ok(None) => Ok(Rejection::Missing.into_response()),
                Err(rejection) => Ok(rejection.into_response()),
            }
        })
    }
}
