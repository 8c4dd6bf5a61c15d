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
/// `Result<_, keycard::Error>`).
impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, challenge) = status_of(&self);
        if status.is_server_error() {
            tracing::warn!(target: "keycard::http", kind = self.kind(), error = %self, "request failed");
        } else {
            tracing::debug!(target: "keycard::http", kind = self.kind(), error = %self, "request refused");
        }
        error_response(status, self.kind(), challenge)
    }
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
}

impl Rejection {
    /// The stable code of the rejection: the error's kind, `missing_token` or `csrf`.
    pub fn kind(&self) -> &'static str {
        match self {
            Rejection::Missing => "missing_token",
            Rejection::Token(e) => e.kind(),
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
