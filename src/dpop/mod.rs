//! DPoP (RFC 9449): sender-constrained tokens. A client holds a key pair; at login and refresh it
//! proves possession with a signed proof, and keycard binds the session to the key's RFC 7638
//! thumbprint (`jkt`): every access token of the session carries `cnf: {"jkt": …}`, and every
//! later refresh needs a proof by the same key. A stolen token is useless without the key.
//!
//! A proof is a JWT the client signs for one request. [`ProofChecker::check`] checks, in order,
//! stopping at the first failure (each `invalid_dpop_proof` unless said otherwise):
//!
//! 1. size (at most 8 KiB) and shape (three base64url segments);
//! 2. the header: `typ` `dpop+jwt`; `alg` an allowed one (EdDSA, ES256); `jwk` a public key of
//!    that algorithm (`OKP`/`Ed25519` or `EC`/`P-256`), with no private member; no `crit`,
//!    `kid`, `jku`, `x5u`, `x5c`;
//! 3. the signature, by that key;
//! 4. the claims: `jti` (1 to 256 characters), `htm` equal to the request's method, `htu` equal
//!    to the request's URL (both normalized: scheme and host lower-case, default port dropped,
//!    no query or fragment), `iat` within the window (default 60 s back, 5 s ahead), and, when
//!    an access token comes with the proof, `ath` equal to the base64url SHA-256 of that token;
//! 5. with server nonces on, `nonce` equal to a current one (`use_dpop_nonce`, carrying the nonce
//!    to retry with).
//!
//! One-time use (`jti` seen once within the window, per key) needs state, kept in a
//! [`ProofLog`]: on a full node the session store
//! ([`Keycard::check_dpop_async`](crate::Keycard::check_dpop_async) and
//! [`Keycard::verify_dpop_async`](crate::Keycard::verify_dpop_async); atomic across nodes on
//! Redis), on a verify-only service a [`LocalProofLog`](crate::stores::LocalProofLog) given to
//! [`Verifier::verify_dpop_async`](crate::Verifier::verify_dpop_async).

use std::time::Duration;

use ring::hmac;
use serde_json::Value;

use crate::clock::Timestamp;
use crate::encoding::{b64, json as strict_json};
use crate::error::{Error, Result};
use crate::keys::{Algorithm, JwkOverrides, Kid, key_from_jwk_value};

/// The largest proof accepted, in bytes.
pub const MAX_PROOF_BYTES: usize = 8 * 1024;

/// Whether sessions must, may or may not be bound to a DPoP key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum DpopPolicy {
    /// Proofs are ignored and DPoP-bound requests refused.
    Off,
    /// A login with a proof binds the session; without one, the session is a bearer session
    /// (the default).
    #[default]
    Optional,
    /// Every login must come with a proof.
    Required,
}

/// What a valid proof says.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Proof {
    /// The RFC 7638 SHA-256 thumbprint of the proof's key, base64url.
    pub jkt: String,
    /// The proof's `jti`.
    pub jti: String,
    /// The proof's `iat`.
    pub issued_at: Timestamp,
}

impl Proof {
    /// The id under which the store remembers this proof was used: a hash of the key and the
    /// `jti` (so two clients' `jti`s never collide, and no client text reaches a store key).
    pub(crate) fn replay_id(&self) -> String {
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        ctx.update(b"keycard dpop jti\0");
        ctx.update(self.jkt.as_bytes());
        ctx.update(b"\0");
        ctx.update(self.jti.as_bytes());
        b64::encode(&ctx.finish().as_ref()[..16])
    }
}

/// Where a proof's one-time use is recorded: the session store on a full node (every
/// [`SessionStore`](crate::refresh::SessionStore) is one, atomic across nodes on Redis), or a
/// [`LocalProofLog`](crate::stores::LocalProofLog) in a verify-only process.
pub trait ProofLog: Send + Sync + std::fmt::Debug {
    /// Records that the proof `id` was used, unless it already was, until `until`; `true` for
    /// its first use.
    fn claim_once<'a>(
        &'a self,
        id: &'a str,
        until: Timestamp,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<bool>> + Send + 'a>>;
}

/// Every proof check but one-time use, then one-time use in `log`: the one rule both a full
/// node and a verify-only one follow.
pub(crate) async fn check_and_claim(
    checker: &ProofChecker,
    log: &dyn ProofLog,
    proof: &str,
    request: &ProofRequest<'_>,
    now: Timestamp,
    bound_to: Option<&str>,
) -> Result<Proof> {
    let proof = checker.check(proof, request, now)?;
    if let Some(jkt) = bound_to
        && proof.jkt != jkt
    {
        return Err(invalid("the proof is by another key than the token's"));
    }
    let until = proof
        .issued_at
        .max(now)
        .saturating_add(checker.replay_window());
    if !log.claim_once(&proof.replay_id(), until).await? {
        return Err(invalid("the proof was used before"));
    }
    Ok(proof)
}

/// The request a proof must be for.
#[derive(Clone, Copy, Debug)]
pub struct ProofRequest<'a> {
    /// The HTTP method (`GET`, `POST`, …).
    pub method: &'a str,
    /// The request's absolute URL (`https://api.example/path`; a query is ignored).
    pub url: &'a str,
    /// The access token sent with the proof, for `ath`; `None` at login and refresh.
    pub access_token: Option<&'a str>,
}

/// Checks DPoP proofs (everything but one-time use; see the module docs).
#[derive(Clone)]
pub struct ProofChecker {
    window_back: Duration,
    window_ahead: Duration,
    nonces: Option<Nonces>,
}

impl std::fmt::Debug for ProofChecker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProofChecker")
            .field("window_back", &self.window_back)
            .field("window_ahead", &self.window_ahead)
            .field("nonces", &self.nonces.is_some())
            .finish()
    }
}

/// Server nonces: an HMAC of the period's number under a key shared by the nodes, so any node
/// issues and accepts the same nonces without state. The current and the previous period's are
/// accepted.
#[derive(Clone)]
pub(crate) struct Nonces {
    key: hmac::Key,
    period: Duration,
}

impl Nonces {
    /// From a secret the nodes share (the refresh-token key), rotating every `period`.
    pub(crate) fn new(secret: &[u8], period: Duration) -> Nonces {
        let base = hmac::Key::new(hmac::HMAC_SHA256, secret);
        let derived = hmac::sign(&base, b"keycard:dpop:nonce:v1");
        Nonces {
            key: hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()),
            period: period.max(Duration::from_secs(1)),
        }
    }

    fn at(&self, epoch: u64) -> String {
        b64::encode(&hmac::sign(&self.key, &epoch.to_be_bytes()).as_ref()[..18])
    }

    fn epoch(&self, now: Timestamp) -> u64 {
        u64::try_from(now.as_unix()).unwrap_or(0) / self.period.as_secs()
    }

    /// The nonce to hand out now.
    pub(crate) fn current(&self, now: Timestamp) -> String {
        self.at(self.epoch(now))
    }

    fn accepts(&self, given: &str, now: Timestamp) -> bool {
        let e = self.epoch(now);
        [e, e.saturating_sub(1)].iter().any(|epoch| {
            let want = self.at(*epoch);
            subtle::ConstantTimeEq::ct_eq(want.as_bytes(), given.as_bytes()).into()
        })
    }
}

impl Default for ProofChecker {
    fn default() -> Self {
        ProofChecker {
            window_back: Duration::from_secs(60),
            window_ahead: Duration::from_secs(5),
            nonces: None,
        }
    }
}

fn invalid(why: &'static str) -> Error {
    Error::InvalidDpopProof(why)
}

/// `htu` and request URLs compared the way RFC 9449 §4.3 asks: scheme and host lower-case, the
/// scheme's default port dropped, no query or fragment, an empty path as `/`. `None` for
/// anything but an absolute `http`/`https` URL of printable ASCII with a plain host and an
/// optional numeric port (no user info).
pub fn normalize_url(url: &str) -> Option<String> {
    if !url.bytes().all(|b| b.is_ascii_graphic()) {
        return None;
    }
    let url = url.split(['#', '?']).next()?;
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => "443",
        "http" => "80",
        _ => return None,
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    // host, or host:port; an IPv6 host is bracketed.
    let (host, port) = match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => (&authority[..i], Some(&authority[i + 1..])),
        _ => (authority, None),
    };
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~');
    let host_ok = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => {
            !v6.is_empty()
                && v6
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() || matches!(c, ':' | '.'))
        }
        None => !host.is_empty() && host.chars().all(plain),
    };
    let port_ok =
        port.is_none_or(|p| (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()));
    if !host_ok || !port_ok {
        return None;
    }
    let host = host.to_ascii_lowercase();
    Some(match port {
        Some(p) if p != default_port => format!("{scheme}://{host}:{p}{path}"),
        _ => format!("{scheme}://{host}{path}"),
    })
}

/// The base64url SHA-256 of an access token: a proof's `ath`.
pub fn access_token_hash(token: &str) -> String {
    b64::encode(ring::digest::digest(&ring::digest::SHA256, token.as_bytes()).as_ref())
}

impl ProofChecker {
    /// How far back and ahead of now a proof's `iat` may be (default 60 s and 5 s).
    pub fn window(mut self, back: Duration, ahead: Duration) -> Self {
        self.window_back = back;
        self.window_ahead = ahead;
        self
    }

    pub(crate) fn with_nonces(mut self, nonces: Option<Nonces>) -> Self {
        self.nonces = nonces;
        self
    }

    /// How long a proof's one-time use must be remembered: its whole window.
    pub fn replay_window(&self) -> Duration {
        self.window_back + self.window_ahead
    }

    /// The nonce a client should send now, when nonces are on.
    pub(crate) fn nonce(&self, now: Timestamp) -> Option<String> {
        self.nonces.as_ref().map(|n| n.current(now))
    }

    /// Checks `proof` for `request` at `now` (see the module docs for the order).
    pub fn check(&self, proof: &str, request: &ProofRequest<'_>, now: Timestamp) -> Result<Proof> {
        if proof.len() > MAX_PROOF_BYTES {
            return Err(invalid("the proof is too large"));
        }
        let mut parts = proof.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid("a proof is a JWS in compact form"));
        };
        let header_bytes =
            b64::decode(h).map_err(|_| invalid("the proof header is not base64url"))?;
        let header = strict_json::parse_strict(&header_bytes)
            .map_err(|_| invalid("the proof header is not a JSON object"))?;
        let header = header
            .as_object()
            .ok_or(invalid("the proof header is not a JSON object"))?;
        let typ = header.get("typ").and_then(Value::as_str);
        if !typ.is_some_and(|t| t.eq_ignore_ascii_case("dpop+jwt")) {
            return Err(invalid("the proof's typ is not dpop+jwt"));
        }
        if ["crit", "jku", "x5u", "x5c", "kid"]
            .iter()
            .any(|m| header.contains_key(*m))
        {
            return Err(invalid("the proof header has a member it must not"));
        }
        let alg = match header.get("alg").and_then(Value::as_str) {
            Some("EdDSA") => Algorithm::EdDSA,
            Some("ES256") => Algorithm::ES256,
            _ => return Err(invalid("the proof's alg is not EdDSA or ES256")),
        };
        let jwk = header
            .get("jwk")
            .and_then(Value::as_object)
            .ok_or(invalid("the proof has no jwk"))?;
        if ["d", "p", "q", "dp", "dq", "qi", "k"]
            .iter()
            .any(|m| jwk.contains_key(*m))
        {
            return Err(invalid("the proof's jwk holds a private key"));
        }
        let mut jwk = jwk.clone();
        // The proof's alg binds the key; a different alg in the jwk is a contradiction.
        if jwk
            .get("alg")
            .is_some_and(|a| a.as_str() != Some(alg.name()))
        {
            return Err(invalid("the proof's jwk names another algorithm"));
        }
        jwk.remove("alg");
        jwk.remove("kid");
        jwk.remove("use");
        jwk.remove("key_ops");
        // Already parsed strictly with the header: imported as the value it is.
        let over = JwkOverrides {
            alg: Some(alg),
            kid: Some(Kid::new("dpop").map_err(|_| invalid("kid"))?),
        };
        let (key, _) = key_from_jwk_value(Value::Object(jwk), &over)
            .map_err(|_| invalid("the proof's jwk is not a public key of its alg"))?;
        let sig = b64::decode(s).map_err(|_| invalid("the proof signature is not base64url"))?;
        let input = &proof[..h.len() + 1 + p.len()];
        if sig.len() != 64 || !key.material().verify(&[input.as_bytes()], &sig) {
            return Err(invalid("the proof's signature does not verify"));
        }
        let jkt = key
            .jwk_thumbprint()
            .ok_or(invalid("the proof's key has no thumbprint"))?;
        let claims_bytes =
            b64::decode(p).map_err(|_| invalid("the proof claims are not base64url"))?;
        let claims = strict_json::parse_strict(&claims_bytes)
            .map_err(|_| invalid("the proof claims are not a JSON object"))?;
        let text = |name: &str| claims.get(name).and_then(Value::as_str);
        let jti = text("jti")
            .filter(|j| !j.is_empty() && j.len() <= 256)
            .ok_or(invalid("the proof has no usable jti"))?;
        if text("htm") != Some(request.method) {
            return Err(invalid("the proof is for another method (htm)"));
        }
        let htu = text("htu")
            .and_then(normalize_url)
            .ok_or(invalid("the proof has no usable htu"))?;
        if Some(htu) != normalize_url(request.url) {
            return Err(invalid("the proof is for another URL (htu)"));
        }
        let iat = claims
            .get("iat")
            .and_then(Value::as_i64)
            .and_then(Timestamp::from_unix)
            .ok_or(invalid("the proof has no iat"))?;
        if iat > now.saturating_add(self.window_ahead) {
            return Err(invalid("the proof is issued in the future"));
        }
        if now.duration_since(iat) > self.window_back {
            return Err(invalid("the proof is too old"));
        }
        match (request.access_token, text("ath")) {
            (Some(token), Some(ath)) => {
                let want = access_token_hash(token);
                if !bool::from(subtle::ConstantTimeEq::ct_eq(
                    want.as_bytes(),
                    ath.as_bytes(),
                )) {
                    return Err(invalid("the proof's ath is not the access token's hash"));
                }
            }
            (Some(_), None) => return Err(invalid("the proof has no ath")),
            (None, _) => {}
        }
        if let Some(nonces) = &self.nonces
            && !text("nonce").is_some_and(|n| nonces.accepts(n, now))
        {
            return Err(Error::UseDpopNonce {
                nonce: nonces.current(now),
            });
        }
        Ok(Proof {
            jkt,
            jti: jti.to_owned(),
            issued_at: iat,
        })
    }
}

#[cfg(test)]
mod tests;
