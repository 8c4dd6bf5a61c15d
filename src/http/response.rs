//! Errors as HTTP responses, decided in one place: the status, the RFC 6750 / RFC 9470 challenge,
//! and a JSON body `{"error": "<kind>"}` that names the stable kind and nothing else. The reason
//! (key ids, instants) goes to `tracing`, never to the client.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::Error;

/// The `WWW-Authenticate` challenge a failure calls for, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Challenge {
    /// `Bearer` alone: no credentials were sent (RFC 6750 §3.1: no error code then).
    Missing,
    /// `Bearer error="invalid_request"`: the credentials are not even well formed.
    InvalidRequest,
    /// `Bearer error="invalid_token"`.
    InvalidToken,
    /// `Bearer error="insufficient_user_authentication"` (RFC 9470): authenticate again.
    StepUp,
    /// `DPoP error="invalid_token"`: the token of a DPoP request was refused (RFC 9449 §7.1).
    DpopInvalidToken,
    /// `DPoP error="invalid_dpop_proof"`: the proof was missing or refused, or a DPoP-bound
    /// token came as a bearer token.
    DpopInvalidProof,
    /// `DPoP error="use_dpop_nonce"`: retry with the nonce in `DPoP-Nonce` (RFC 9449 §9).
    DpopNonce,
}

impl Challenge {
    fn header(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Challenge::Missing => r#"Bearer realm="api""#,
            Challenge::InvalidRequest => r#"Bearer realm="api", error="invalid_request""#,
            Challenge::InvalidToken => r#"Bearer realm="api", error="invalid_token""#,
            Challenge::StepUp => {
                r#"Bearer realm="api", error="insufficient_user_authentication", error_description="a more recent authentication is required""#
            }
            Challenge::DpopInvalidToken => {
                r#"DPoP realm="api", error="invalid_token", algs="EdDSA ES256""#
            }
            Challenge::DpopInvalidProof => {
                r#"DPoP realm="api", error="invalid_dpop_proof", algs="EdDSA ES256""#
            }
            Challenge::DpopNonce => {
                r#"DPoP realm="api", error="use_dpop_nonce", algs="EdDSA ES256""#
            }
        })
    }
}

/// The status and challenge of a keycard error: the mapping every route shares.
pub(crate) fn status_of(e: &Error) -> (StatusCode, Option<Challenge>) {
    use Error as E;
    match e {
        E::ReauthRequired => (StatusCode::UNAUTHORIZED, Some(Challenge::StepUp)),
        E::RevocationUnavailable { .. } | E::StoreUnavailable(_) | E::JwksUnavailable(_) => {
            (StatusCode::SERVICE_UNAVAILABLE, None)
        }
        E::SessionLimit => (StatusCode::TOO_MANY_REQUESTS, None),
        E::InvalidDpopProof(_) => (StatusCode::UNAUTHORIZED, Some(Challenge::DpopInvalidProof)),
        E::UseDpopNonce { .. } => (StatusCode::UNAUTHORIZED, Some(Challenge::DpopNonce)),
        E::Config(_) | E::Crypto(_) | E::Io(_) | E::Corrupt(_) | E::InvalidKey(_) => {
            (StatusCode::INTERNAL_SERVER_ERROR, None)
        }
        // Everything about the token itself, the session it belongs to included
        // (`unknown_session` too: a route that deletes sessions by id answers 404 itself).
        _ => (StatusCode::UNAUTHORIZED, Some(Challenge::InvalidToken)),
    }
}

/// A JSON error response: `{"error": kind}` with `status` and, when given, a challenge.
pub(crate) fn error_response(
    status: StatusCode,
    kind: &'static str,
    challenge: Option<Challenge>,
) -> Response {
    let mut r = (status, Json(serde_json::json!({ "error": kind }))).into_response();
    if let Some(c) = challenge {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, c.header());
    }
    if status == StatusCode::SERVICE_UNAVAILABLE {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// Any keycard error as a response (use `?` on keycard calls in handlers returning
/// `Result<_, keycard::Error>`). `use_dpop_nonce` carries the nonce in `DPoP-Nonce`.
impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, challenge) = status_of(&self);
        respond(self, status, challenge)
    }
}

fn respond(e: Error, status: StatusCode, challenge: Option<Challenge>) -> Response {
    if status.is_server_error() {
        tracing::warn!(target: "keycard::http", kind = e.kind(), error = %e, "request failed");
    } else {
        tracing::debug!(target: "keycard::http", kind = e.kind(), error = %e, "request refused");
    }
    let mut r = error_response(status, e.kind(), challenge);
    if let Error::UseDpopNonce { nonce } = &e
        && let Ok(v) = HeaderValue::from_str(nonce)
    {
        r.headers_mut().insert(DPOP_NONCE, v);
    }
    r
}

/// The `DPoP-Nonce` response header (RFC 9449 §8).
pub const DPOP_NONCE: &str = "dpop-nonce";

/// An error of a token endpoint (login, refresh) as RFC 9449 §5 and §8 answer it: a refused or
/// missing DPoP proof is 400 `invalid_dpop_proof`, a missing nonce 400 `use_dpop_nonce` with
/// `DPoP-Nonce`, no challenge (the client is not presenting an access token); every other
/// error as its own `IntoResponse`.
pub fn token_endpoint_error(e: Error) -> Response {
    match e {
        Error::InvalidDpopProof(_) | Error::UseDpopNonce { .. } => {
            respond(e, StatusCode::BAD_REQUEST, None)
        }
        other => other.into_response(),
    }
}

/// The response to a DPoP request (`Authorization: DPoP`) whose token or proof was refused:
/// the same status as [`Error`]'s own response, with the `DPoP` challenge.
fn dpop_response(e: Error) -> Response {
    let (status, challenge) = status_of(&e);
    let challenge = match challenge {
        Some(Challenge::InvalidToken) => Some(Challenge::DpopInvalidToken),
        other => other,
    };
    respond(e, status, challenge)
}

/// Why an authenticated request was refused: a keycard error, no credentials, or a CSRF failure.
/// Each variant documents its response; `Token` answers as the error's own `IntoResponse` does.
#[derive(Debug)]
#[non_exhaustive]
pub enum Rejection {
    /// No access token in `Authorization` or in the session cookie: 401 `Bearer`.
    Missing,
    /// The access token (or the session) was refused.
    Token(Error),
    /// A cookie-authenticated unsafe request without the session's `X-CSRF-Token`: 403.
    Csrf,
    /// An `Authorization` header that is not one well-formed `Bearer` credential: 400
    /// `invalid_request` (RFC 6750 §3.1). The reason is for logs only.
    InvalidRequest(&'static str),
    /// A DPoP request (`Authorization: DPoP`) whose token or proof was refused: the error's own
    /// status, with a `DPoP` challenge (`invalid_token`, `invalid_dpop_proof` or
    /// `use_dpop_nonce` with `DPoP-Nonce`).
    Dpop(Error),
}

impl Rejection {
    /// The stable code of the rejection: the error's kind, `missing_token` or `csrf`.
    pub fn kind(&self) -> &'static str {
        match self {
            Rejection::Missing => "missing_token",
            Rejection::Token(e) | Rejection::Dpop(e) => e.kind(),
            Rejection::Csrf => "csrf",
            Rejection::InvalidRequest(_) => "invalid_request",
        }
    }
}

impl From<Error> for Rejection {
    fn from(e: Error) -> Rejection {
        Rejection::Token(e)
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        match self {
            Rejection::Missing => error_response(
                StatusCode::UNAUTHORIZED,
                "missing_token",
                Some(Challenge::Missing),
            ),
            Rejection::Csrf => {
                tracing::debug!(target: "keycard::http", "missing or wrong X-CSRF-Token");
                error_response(StatusCode::FORBIDDEN, "csrf", None)
            }
            Rejection::InvalidRequest(why) => {
                tracing::debug!(target: "keycard::http", why, "malformed credentials");
                error_response(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    Some(Challenge::InvalidRequest),
                )
            }
            Rejection::Token(e) => e.into_response(),
            Rejection::Dpop(e) => dpop_response(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_mapping_for_every_kind() {
        assert_eq!(status_of(&Error::Revoked).0, StatusCode::UNAUTHORIZED);
        assert_eq!(status_of(&Error::ReauthRequired).1, Some(Challenge::StepUp));
        assert_eq!(
            status_of(&Error::RevocationUnavailable { stale_for_secs: 40 }).0,
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            status_of(&Error::SessionLimit).0,
            StatusCode::TOO_MANY_REQUESTS
        );
        assert_eq!(
            status_of(&Error::Config("x".into())).0,
            StatusCode::INTERNAL_SERVER_ERROR
        );
        // DPoP: the proof refused on a protected route, at a token endpoint, and a nonce asked.
        let r = Error::InvalidDpopProof("replayed").into_response();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert!(
            r.headers()[header::WWW_AUTHENTICATE]
                .to_str()
                .unwrap()
                .starts_with(r#"DPoP realm="api", error="invalid_dpop_proof""#)
        );
        let r = token_endpoint_error(Error::UseDpopNonce { nonce: "n1".into() });
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert_eq!(r.headers()[DPOP_NONCE], "n1");
        assert!(r.headers().get(header::WWW_AUTHENTICATE).is_none());
        let r = Rejection::Dpop(Error::UseDpopNonce { nonce: "n2".into() }).into_response();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(r.headers()[DPOP_NONCE], "n2");
        // A DPoP request whose token (not proof) is bad gets the DPoP scheme's invalid_token.
        let r = Rejection::Dpop(Error::Revoked).into_response();
        assert!(
            r.headers()[header::WWW_AUTHENTICATE]
                .to_str()
                .unwrap()
                .starts_with(r#"DPoP realm="api", error="invalid_token""#)
        );
        assert_eq!(
            token_endpoint_error(Error::SessionLimit).status(),
            StatusCode::TOO_MANY_REQUESTS
        );
        let r = Error::BadSignature.into_response();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert!(
            r.headers()[header::WWW_AUTHENTICATE]
                .to_str()
                .unwrap()
                .contains(r#"error="invalid_token""#)
        );
    }
}
