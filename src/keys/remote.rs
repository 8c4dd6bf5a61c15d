//! Another issuer's keys, fetched from its JWK Set (feature `jwks-remote`): what a verify-only
//! service uses instead of a key file.
//!
//! The cache behaves like node `jose`'s `createRemoteJWKSet` and PyJWT's `PyJWKClient`:
//!
//! - a token naming a kid the set does not hold triggers a refetch, at most once per **cooldown**
//!   (default 30 s), so a flood of tokens with made-up kids costs one fetch per cooldown;
//! - concurrent verifications that need a refetch share **one** fetch (single flight): the others
//!   wait for it, then look again;
//! - the set is refetched when older than its **maximum age** (default 10 min), in the
//!   background: no request waits for it;
//! - a failed fetch (connection, timeout, status, size, JSON, a malformed key) keeps the **last
//!   good set**; it is logged and reported as `jwks_unavailable` only to whoever asked for it;
//! - a key the issuer stops publishing keeps verifying for the ring's grace period (default
//!   10 min), so tokens it signed just before a rotation stay valid;
//! - keys keycard cannot use (other key types, `use: enc`, unknown `alg`) are skipped with a
//!   warning; RS256, PS256, ES384, EdDSA and ES256 keys are used, each bound to its `alg`;
//! - HTTPS only (plain http only when allowed explicitly), a request timeout (default 10 s), a
//!   size limit (default 1 MiB), no redirects; the URL comes from configuration or from the
//!   issuer's discovery document, never from a token.
//!
//! ```no_run
//! # async fn run() -> keycard::Result<()> {
//! use std::sync::Arc;
//! use keycard::Verifier;
//! use keycard::keys::{RemoteJwks, RemoteJwksOptions};
//!
//! let jwks = Arc::new(
//!     RemoteJwks::discover("https://idp.example", RemoteJwksOptions::default()).await?,
//! );
//! let verifier = Verifier::with_remote_keys(jwks)
//!     .with_issuer("https://idp.example")
//!     .with_audience("api");
//! # let token = "";
//! let ok = verifier.verify_access_async::<keycard::NoCustomClaims>(token).await?;
//! # Ok(()) }
//! ```

use std::sync::Arc;
use std::sync::Mutex as StdMutex;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::KeyRing;
use crate::clock::SharedClock;
use crate::encoding::json as strict_json;
use crate::error::{Error, Result};
use crate::fetch::{FetchError, Fetcher};

/// How a [`RemoteJwks`] fetches and caches.
#[derive(Clone, Debug)]
pub struct RemoteJwksOptions {
    cooldown: Duration,
    max_age: Duration,
    timeout: Duration,
    max_bytes: usize,
    allow_http: bool,
    grace: Duration,
    clock: Option<SharedClock>,
}

impl Default for RemoteJwksOptions {
    fn default() -> Self {
        RemoteJwksOptions {
            cooldown: Duration::from_secs(30),
            max_age: Duration::from_secs(600),
            timeout: Duration::from_secs(10),
            max_bytes: 1 << 20,
            allow_http: false,
            grace: Duration::from_secs(600),
            clock: None,
        }
    }
}

impl RemoteJwksOptions {
    /// The shortest time between two fetches triggered by unknown kids (default 30 s).
    pub fn cooldown(mut self, d: Duration) -> Self {
        self.cooldown = d;
        self
    }
    /// The age after which the set is refetched in the background (default 10 min).
    pub fn max_age(mut self, d: Duration) -> Self {
        self.max_age = d;
        self
    }
    /// The whole-request timeout (default 10 s).
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }
    /// The largest response accepted (default 1 MiB).
    pub fn max_bytes(mut self, n: usize) -> Self {
        self.max_bytes = n;
        self
    }
    /// How long a key the issuer stopped publishing keeps verifying (default 10 min).
    pub fn grace(mut self, d: Duration) -> Self {
        self.grace = d;
        self
    }
    /// The clock of the key ring (for the grace of keys the issuer stopped publishing); the
    /// system clock by default. Cooldowns and maximum ages always run on the monotonic clock.
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Permits plain `http` URLs: for loopback demos and tests only (a key set fetched over plain
    /// http can be replaced by anyone on the path).
    pub fn allow_http(mut self) -> Self {
        self.allow_http = true;
        self
    }
}

#[derive(Default)]
struct Times {
    /// When the last fetch started.
    attempt: Option<Instant>,
    /// When the last successful fetch ended.
    success: Option<Instant>,
}

/// Another issuer's JWK Set, fetched and cached (see the module docs).
pub struct RemoteJwks {
    url: String,
    issuer: Option<String>,
    fetcher: Fetcher,
    ring: Arc<KeyRing>,
    opts: RemoteJwksOptions,
    /// Held for the whole of a fetch: the single flight.
    flight: tokio::sync::Mutex<()>,
    times: StdMutex<Times>,
}

impl std::fmt::Debug for RemoteJwks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteJwks")
            .field("url", &self.url)
            .field("issuer", &self.issuer)
            .field("keys", &self.ring.statuses().len())
            .finish_non_exhaustive()
    }
}

fn unavailable(what: &str, e: FetchError) -> Error {
    Error::JwksUnavailable(format!("{what}: {e}"))
}

impl RemoteJwks {
    /// A cache of the JWK Set at `jwks_url`, fetched once now (an issuer that cannot be reached
    /// at start is an error: a verify-only service should not start without keys).
    pub async fn connect(jwks_url: &str, opts: RemoteJwksOptions) -> Result<RemoteJwks> {
        let jwks = RemoteJwks::unfetched(jwks_url, None, opts)?;
        jwks.fetch().await?;
        Ok(jwks)
    }

    /// OpenID Connect discovery: reads `ISSUER/.well-known/openid-configuration` (appended to
    /// the issuer, path included), requires its `issuer` to equal `issuer` exactly, and caches the
    /// JWK Set its `jwks_uri` names (fetched once now).
    pub async fn discover(issuer: &str, opts: RemoteJwksOptions) -> Result<RemoteJwks> {
        let fetcher = Fetcher::new(opts.timeout, opts.max_bytes, opts.allow_http)
            .map_err(|e| unavailable("HTTP client", e))?;
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let body = fetcher
            .get(&url, "application/json")
            .await
            .map_err(|e| unavailable("discovery", e))?;
        let doc = strict_json::parse_strict(&body)
            .map_err(|_| Error::JwksUnavailable("discovery: not a JSON document".into()))?;
        match doc.get("issuer").and_then(Value::as_str) {
            Some(found) if found == issuer => {}
            Some(found) => {
                return Err(Error::JwksUnavailable(format!(
                    "discovery: the document's issuer is `{}`, not `{}`",
                    crate::error::sanitize(found),
                    crate::error::sanitize(issuer)
                )));
            }
            None => {
                return Err(Error::JwksUnavailable(
                    "discovery: the document has no issuer".into(),
                ));
            }
        }
        let jwks_uri = doc.get("jwks_uri").and_then(Value::as_str).ok_or_else(|| {
            Error::JwksUnavailable("discovery: the document has no jwks_uri".into())
        })?;
        let jwks = RemoteJwks::unfetched(jwks_uri, Some(issuer.to_owned()), opts)?;
        jwks.fetch().await?;
        Ok(jwks)
    }

    fn unfetched(url: &str, issuer: Option<String>, opts: RemoteJwksOptions) -> Result<RemoteJwks> {
        let fetcher = Fetcher::new(opts.timeout, opts.max_bytes, opts.allow_http)
            .map_err(|e| unavailable("HTTP client", e))?;
        fetcher
            .check_url(url)
            .map_err(|e| unavailable("JWK Set URL", e))?;
        Ok(RemoteJwks {
            url: url.to_owned(),
            issuer,
            fetcher,
            ring: Arc::new(match &opts.clock {
                Some(c) => KeyRing::new().with_grace(opts.grace).with_clock(c.clone()),
                None => KeyRing::new().with_grace(opts.grace),
            }),
            opts,
            flight: tokio::sync::Mutex::new(()),
            times: StdMutex::new(Times::default()),
        })
    }

    /// The key ring the fetched keys live in (foreign keys only).
    pub fn keys(&self) -> &Arc<KeyRing> {
        &self.ring
    }

    /// The JWK Set URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The issuer, when found by discovery.
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    fn times(&self) -> std::sync::MutexGuard<'_, Times> {
        self.times.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Fetches the set now (waiting for a fetch already under way rather than starting a
    /// second), and makes the ring's keys those of the set. On failure the ring is unchanged.
    /// Returns the number of keys skipped as unusable.
    pub async fn fetch(&self) -> Result<usize> {
        let _flight = self.flight.lock().await;
        self.fetch_locked().await
    }

    async fn fetch_locked(&self) -> Result<usize> {
        self.times().attempt = Some(Instant::now());
        let result = async {
            let body = self
                .fetcher
                .get(&self.url, "application/jwk-set+json, application/json")
                .await
                .map_err(|e| unavailable("JWK Set", e))?;
            let text = std::str::from_utf8(&body)
                .map_err(|_| Error::JwksUnavailable("JWK Set: not UTF-8".into()))?;
            self.ring
                .sync_foreign_jwk_set(text)
                .map_err(|e| Error::JwksUnavailable(format!("JWK Set: {e}")))
        }
        .await;
        match result {
            Ok(skipped) => {
                self.times().success = Some(Instant::now());
                for s in &skipped {
                    tracing::warn!(target: "keycard::keys", url = %self.url, kid = s.kid.as_deref().unwrap_or("-"), reason = s.reason, "JWK Set key skipped");
                }
                Ok(skipped.len())
            }
            Err(e) => {
                tracing::warn!(target: "keycard::keys", url = %self.url, error = %e, "JWK Set fetch failed; keeping the last good set");
                Err(e)
            }
        }
    }

    /// After a token named a kid the set does not hold: refetches unless the cooldown forbids
    /// it. Returns whether the set may now hold more keys than when the caller looked (a fetch
    /// ran, by this caller or by another while it waited), so the caller should look again.
    pub(crate) async fn refresh_for_unknown_kid(&self) -> bool {
        let before = self.times().success;
        let _flight = self.flight.lock().await;
        let (attempt, success) = {
            let t = self.times();
            (t.attempt, t.success)
        };
        if success != before {
            // Another caller's fetch succeeded while this one waited for the flight.
            return true;
        }
        if attempt.is_some_and(|t| t.elapsed() < self.opts.cooldown) {
            return false;
        }
        self.fetch_locked().await.is_ok()
    }

    /// Whether the set is past its maximum age (and no fetch was tried within the cooldown).
    fn is_old(&self) -> bool {
        let t = self.times();
        let old = t.success.is_none_or(|s| s.elapsed() >= self.opts.max_age);
        let resting = t.attempt.is_some_and(|a| a.elapsed() < self.opts.cooldown);
        old && !resting
    }

    /// Refetches in the background when the set is past its maximum age; never waits.
    pub(crate) fn refresh_if_old(self: &Arc<Self>) {
        if !self.is_old() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let me = self.clone();
        runtime.spawn(async move {
            // Whoever gets the flight first fetches; a fetch already under way is enough.
            if let Ok(_flight) = me.flight.try_lock()
                && me.is_old()
            {
                let _ = me.fetch_locked().await;
            }
        });
    }
}
