//! The one error type, with a stable machine-readable [`Error::kind`] code.
//!
//! Messages carry non-secret context (key ids, instants, sizes) and never token text or key bytes.
//! Values read from an untrusted token (a `kid`, an `alg`) appear only after `sanitize` has
//! bounded and filtered them, so an error message cannot be used to inject into logs.

use crate::clock::Timestamp;

/// Every way keycard can refuse a token, a key or a request.
///
/// Match on [`Error::kind`] for a stable code (it is what the CLI prints and what other languages'
/// test suites compare); the variants may gain fields or siblings in minor releases.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The token is not well formed: bad base64, bad JSON, a forbidden header, a claim of the wrong
    /// type. The reason is a fixed text; the token itself is never echoed.
    #[error("malformed token: {0}")]
    Malformed(&'static str),

    /// The token is longer than the configured limit; it was rejected before any decoding.
    #[error("token is {size} bytes, over the limit of {limit}")]
    TokenTooLarge {
        /// Length of the presented token in bytes.
        size: usize,
        /// The configured limit.
        limit: usize,
    },

    /// The token is of a format this verifier does not accept (for example `v4.local` where only
    /// `v4.public` is configured, a JWE, or a PASETO v2/v3 token).
    #[error("unsupported token format: {0}")]
    UnsupportedFormat(&'static str),

    /// The token names no key, or a key that is not in the key ring (or has been retired).
    #[error("unknown key{}", kid.as_deref().map(|k| format!(" `{k}`")).unwrap_or_default())]
    UnknownKey {
        /// The key id the token named, sanitized; `None` when it named none.
        kid: Option<String>,
    },

    /// The token's algorithm does not match the algorithm bound to the key it names.
    #[error("algorithm mismatch: key `{kid}` is {expected}, token says `{found}`")]
    AlgorithmMismatch {
        /// The key that was named.
        kid: String,
        /// The algorithm bound to that key.
        expected: &'static str,
        /// What the token claimed, sanitized.
        found: String,
    },

    /// The signature (or, for `v4.local`, the authentication tag) does not verify.
    #[error("bad signature")]
    BadSignature,

    /// `exp` is in the past (beyond the leeway).
    #[error("token expired at {exp} (now {now})")]
    Expired {
        /// The token's `exp`.
        exp: Timestamp,
        /// The verifier's clock.
        now: Timestamp,
    },

    /// `nbf` is in the future (beyond the leeway).
    #[error("token not valid before {nbf} (now {now})")]
    NotYetValid {
        /// The token's `nbf`.
        nbf: Timestamp,
        /// The verifier's clock.
        now: Timestamp,
    },

    /// `iat` is in the future (beyond the leeway).
    #[error("token issued in the future at {iat} (now {now})")]
    IssuedInFuture {
        /// The token's `iat`.
        iat: Timestamp,
        /// The verifier's clock.
        now: Timestamp,
    },

    /// A required claim is absent.
    #[error("missing claim `{0}`")]
    MissingClaim(&'static str),

    /// `iss` does not equal the configured issuer.
    #[error("wrong issuer: expected `{expected}`, the token says `{found}`")]
    WrongIssuer {
        /// The configured issuer.
        expected: String,
        /// The token's `iss`, sanitized.
        found: String,
    },

    /// `aud` does not contain the configured audience (or is present when none is configured).
    #[error("wrong audience: {}", audience_detail(expected.as_deref(), found))]
    WrongAudience {
        /// The configured audience; `None` when the verifier names none.
        expected: Option<String>,
        /// The token's audiences, sanitized (at most four).
        found: Vec<String>,
    },

    /// An access token was presented where a refresh token is expected, or the reverse.
    #[error("wrong token type: expected {expected}, found {found}")]
    WrongTokenType {
        /// What the caller asked for.
        expected: &'static str,
        /// What the token is.
        found: &'static str,
    },

    /// The token, its session, or its subject has been revoked.
    #[error("token revoked")]
    Revoked,

    /// Key material could not be imported or generated (bad JWK or PASERK, wrong size, a point not
    /// on the curve, an HMAC secret shorter than 32 bytes).
    #[error("invalid key: {0}")]
    InvalidKey(&'static str),

    /// The caller asked for something the configuration does not allow (no active key for a
    /// format, a grace period shorter than the token lifetime, a custom claim colliding with a
    /// registered one). This is a programming or deployment error, never a hostile-input one.
    #[error("configuration error: {0}")]
    Config(String),

    /// The cryptographic backend failed (for example the OS random generator).
    #[error("cryptographic failure: {0}")]
    Crypto(&'static str),

    /// The session is over: its idle or absolute timeout passed (or it was cleaned up), so the
    /// refresh token cannot be redeemed. The user must log in again.
    #[error("session expired")]
    SessionExpired,

    /// A refresh token that was already rotated away was presented again, outside the retry
    /// grace interval: treated as theft, the whole session family has been revoked.
    #[error("refresh token reuse detected; the session has been revoked")]
    RefreshReuseDetected,

    /// The subject already has the maximum number of concurrent sessions and the policy is to
    /// reject new logins.
    #[error("too many concurrent sessions")]
    SessionLimit,

    /// The user last proved their credentials too long ago for this action; ask again (step-up).
    #[error("recent authentication required")]
    ReauthRequired,

    /// No such session for this subject (never existed, ended, or belongs to someone else).
    #[error("unknown session")]
    UnknownSession,

    /// Stored or replicated data (a revocation snapshot or delta, a store record) is corrupt,
    /// truncated, of an unknown version, or fails its checksum.
    #[error("corrupt data: {0}")]
    Corrupt(&'static str),

    /// Reading or writing a file or a store failed.
    #[error("I/O error: {0}")]
    Io(String),

    /// The session store cannot be reached (a Redis outage, a timeout). Nothing was changed that
    /// the caller was told about: retry later (HTTP 503).
    #[error("session store unavailable: {0}")]
    StoreUnavailable(String),

    /// This node's revocation replica has not synchronized within its staleness bound, so it
    /// cannot say whether the token was revoked: verification fails closed (HTTP 503).
    #[error("revocation data unavailable: not synchronized for {stale_for_secs} s")]
    RevocationUnavailable {
        /// How long the replica has gone without a successful synchronization, in seconds.
        stale_for_secs: u64,
    },

    /// A remote JWK Set (or the OpenID Connect discovery document that names it) could not be
    /// fetched or read: connection, timeout, status, size, JSON, or a discovery `issuer` other
    /// than the configured one. Verification goes on with the last good set; retry later.
    #[error("remote key set unavailable: {0}")]
    JwksUnavailable(String),

    /// A DPoP proof (RFC 9449) is missing, malformed, for another request, too old, replayed, by
    /// another key than the session's, or a DPoP-bound token came without one (or as a plain
    /// bearer token).
    #[error("invalid DPoP proof: {0}")]
    InvalidDpopProof(&'static str),

    /// The server requires a DPoP nonce and the proof lacks the current one: retry with `nonce`
    /// (sent in the `DPoP-Nonce` header).
    #[error("use the DPoP nonce the server gives")]
    UseDpopNonce {
        /// The nonce to put in the next proof.
        nonce: String,
    },
}

impl Error {
    /// The stable snake_case code of this error, as listed in the README and printed by the CLI.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Malformed(_) => "malformed",
            Error::TokenTooLarge { .. } => "token_too_large",
            Error::UnsupportedFormat(_) => "unsupported_format",
            Error::UnknownKey { .. } => "unknown_key",
            Error::AlgorithmMismatch { .. } => "algorithm_mismatch",
            Error::BadSignature => "bad_signature",
            Error::Expired { .. } => "expired",
            Error::NotYetValid { .. } => "not_yet_valid",
            Error::IssuedInFuture { .. } => "issued_in_future",
            Error::MissingClaim(_) => "missing_claim",
            Error::WrongIssuer { .. } => "wrong_issuer",
            Error::WrongAudience { .. } => "wrong_audience",
            Error::WrongTokenType { .. } => "wrong_token_type",
            Error::Revoked => "revoked",
            Error::InvalidKey(_) => "invalid_key",
            Error::Config(_) => "config",
            Error::Crypto(_) => "crypto",
            Error::SessionExpired => "session_expired",
            Error::RefreshReuseDetected => "refresh_reuse_detected",
            Error::SessionLimit => "session_limit",
            Error::ReauthRequired => "reauth_required",
            Error::UnknownSession => "unknown_session",
            Error::Corrupt(_) => "corrupt_data",
            Error::Io(_) => "io",
            Error::StoreUnavailable(_) => "store_unavailable",
            Error::RevocationUnavailable { .. } => "revocation_unavailable",
            Error::JwksUnavailable(_) => "jwks_unavailable",
            Error::InvalidDpopProof(_) => "invalid_dpop_proof",
            Error::UseDpopNonce { .. } => "use_dpop_nonce",
        }
    }

    /// Whether retrying the same call later can succeed: the store or the revocation data was
    /// unavailable, not the request wrong.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Error::StoreUnavailable(_)
                | Error::RevocationUnavailable { .. }
                | Error::JwksUnavailable(_)
        )
    }

    /// Every code [`Error::kind`] can return, in documentation order.
    pub const KINDS: &'static [&'static str] = &[
        "malformed",
        "token_too_large",
        "unsupported_format",
        "unknown_key",
        "algorithm_mismatch",
        "bad_signature",
        "expired",
        "not_yet_valid",
        "issued_in_future",
        "missing_claim",
        "wrong_issuer",
        "wrong_audience",
        "wrong_token_type",
        "revoked",
        "invalid_key",
        "config",
        "crypto",
        "session_expired",
        "refresh_reuse_detected",
        "session_limit",
        "reauth_required",
        "unknown_session",
        "corrupt_data",
        "io",
        "store_unavailable",
        "revocation_unavailable",
        "jwks_unavailable",
        "invalid_dpop_proof",
        "use_dpop_nonce",
    ];

    /// The message without the category its [`kind`](Error::kind) already names: what the CLI
    /// prints after `error: KIND: `, so a line never says the same thing twice.
    pub fn detail(&self) -> String {
        match self {
            Error::UseDpopNonce { .. } => "retry with the nonce in DPoP-Nonce".to_owned(),
            Error::Malformed(r)
            | Error::InvalidDpopProof(r)
            | Error::UnsupportedFormat(r)
            | Error::InvalidKey(r)
            | Error::Crypto(r)
            | Error::Corrupt(r) => (*r).to_owned(),
            Error::Config(m)
            | Error::Io(m)
            | Error::StoreUnavailable(m)
            | Error::JwksUnavailable(m) => m.clone(),
            Error::RevocationUnavailable { stale_for_secs } => {
                format!("the revocation replica has not synchronized for {stale_for_secs} s")
            }
            Error::TokenTooLarge { size, limit } => {
                format!("{size} bytes, over the limit of {limit}")
            }
            Error::UnknownKey { kid: Some(k) } => format!("no key `{k}` (never known, or retired)"),
            Error::UnknownKey { kid: None } => "the token names no key".into(),
            Error::AlgorithmMismatch {
                kid,
                expected,
                found,
            } => format!("key `{kid}` is {expected}, the token says `{found}`"),
            Error::BadSignature => "the signature or authentication tag does not verify".into(),
            Error::Expired { exp, now } => format!("expired at {exp} (now {now})"),
            Error::NotYetValid { nbf, now } => format!("not valid before {nbf} (now {now})"),
            Error::IssuedInFuture { iat, now } => {
                format!("issued at {iat}, in the future (now {now})")
            }
            Error::MissingClaim(c) => format!("no `{c}` claim"),
            Error::WrongIssuer { expected, found } => {
                format!("expected `{expected}`, the token says `{found}`")
            }
            Error::WrongAudience { expected, found } => audience_detail(expected.as_deref(), found),
            Error::WrongTokenType { expected, found } => {
                format!("expected {expected}, found {found}")
            }
            Error::Revoked => "the token, its session or its subject was revoked".into(),
            Error::SessionExpired => "the session's idle or absolute timeout passed".into(),
            Error::RefreshReuseDetected => {
                "a retired refresh token came back; the session was revoked".into()
            }
            Error::SessionLimit => "the subject has the most sessions allowed".into(),
            Error::ReauthRequired => "the last authentication is too old".into(),
            Error::UnknownSession => "no such session for this subject".into(),
        }
    }

    pub(crate) fn wrong_issuer(expected: &str, found: &str) -> Error {
        Error::WrongIssuer {
            expected: expected.to_owned(),
            found: sanitize_name(found),
        }
    }

    pub(crate) fn wrong_audience(expected: Option<&str>, found: &[String]) -> Error {
        Error::WrongAudience {
            expected: expected.map(str::to_owned),
            found: found.iter().take(4).map(|a| sanitize_name(a)).collect(),
        }
    }

    pub(crate) fn unknown_key(kid: Option<&str>) -> Error {
        Error::UnknownKey {
            kid: kid.map(sanitize),
        }
    }
}

fn audience_detail(expected: Option<&str>, found: &[String]) -> String {
    let list = found
        .iter()
        .map(|a| format!("`{a}`"))
        .collect::<Vec<_>>()
        .join(", ");
    match expected {
        Some(e) => format!("expected `{e}`, the token is for {list}"),
        None => format!("the token is for {list}, and no audience is configured"),
    }
}

/// A `Result` with keycard's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Bounds and filters a value taken from an untrusted token before it appears in an error: at most
/// 64 characters from `[A-Za-z0-9._~:+-]`; anything else is replaced by `?`, and longer values are
/// cut with `…`.
pub(crate) fn sanitize(untrusted: &str) -> String {
    bounded(untrusted, &[])
}

/// [`sanitize`] for names that are often URLs (`iss`, `aud`): `/` is kept too.
pub(crate) fn sanitize_name(untrusted: &str) -> String {
    bounded(untrusted, &['/'])
}

fn bounded(untrusted: &str, also: &[char]) -> String {
    const MAX: usize = 64;
    let mut out = String::with_capacity(untrusted.len().min(MAX + 3));
    for (i, c) in untrusted.chars().enumerate() {
        if i == MAX {
            out.push('…');
            break;
        }
        let ok = c.is_ascii_alphanumeric()
            || matches!(c, '.' | '_' | '~' | ':' | '+' | '-')
            || also.contains(&c);
        out.push(if ok { c } else { '?' });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_bounds_and_filters() {
        assert_eq!(sanitize("k4.pid.abc-_"), "k4.pid.abc-_");
        assert_eq!(sanitize("../../etc/passwd"), "..?..?etc?passwd");
        assert_eq!(sanitize("a\nb\u{1b}[31m"), "a?b??31m");
        let long = "x".repeat(1000);
        assert_eq!(sanitize(&long).chars().count(), 65);
    }

    #[test]
    fn details_do_not_repeat_the_kind() {
        let e = Error::Config("no active jwt key".into());
        assert_eq!(e.detail(), "no active jwt key");
        let e = Error::wrong_audience(Some("api"), &["https://other.example/x\n".into()]);
        assert_eq!(e.kind(), "wrong_audience");
        assert_eq!(
            e.detail(),
            "expected `api`, the token is for `https://other.example/x?`"
        );
        assert_eq!(e.to_string(), format!("wrong audience: {}", e.detail()));
        let e = Error::wrong_issuer("https://a", "https://b");
        assert_eq!(
            e.detail(),
            "expected `https://a`, the token says `https://b`"
        );
    }

    #[test]
    fn kinds_are_unique_and_listed() {
        let mut seen = std::collections::HashSet::new();
        for k in Error::KINDS {
            assert!(seen.insert(*k), "duplicate kind {k}");
            assert!(k.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        }
    }
}
